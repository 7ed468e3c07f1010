// Package ecrtest is an in-memory Amazon ECR and STS for tests, served over HTTP with the
// wire protocols of the real services, so that code under test uses the real AWS SDK client.
//
// The server speaks ECR's JSON 1.1 protocol (POST / with X-Amz-Target and
// application/x-amz-json-1.1 bodies, epoch-second timestamps, errors as HTTP 400 with
// __type and message) and STS's query protocol (form-encoded Action=AssumeRole, XML
// answers), on one URL. It checks every request's Signature Version 4 signature against the
// keys it knows: AccessKeyID with SecretAccessKey, and the temporary keys it issued through
// AssumeRole, with their session tokens.
//
// ECR's semantics are reproduced where AWS documents them, with ECR's error codes and
// messages; where AWS does not, the server chooses, and each operation's comment says what:
//
//   - DescribeImages and ListImages list ACTIVE images unless filter.imageStatus says
//     otherwise, in digest order, with opaque page tokens.
//   - BatchGetImage records a pull (lastRecordedPullTime), as real ECR does, and serves no
//     manifests of archived images.
//   - BatchDeleteImage refuses to delete a manifest that an index in the repository lists
//     (ImageReferencedByManifestList), and processes identifiers in request order.
//   - UpdateImageStorageClass archives at once and restores over two listings (ACTIVATING,
//     then ACTIVE); an index archives without its children, which cannot be archived while
//     an active index lists them.
//   - GetLifecyclePolicy returns the text compact, with rules ordered by priority.
//   - PutLifecyclePolicy and StartLifecyclePolicyPreview check the policy text's length and
//     the shape of its JSON, not ECR's rules between fields and between rules.
//   - A lifecycle policy preview evaluates nothing: it reports what the test scripted with
//     SetPreview. It is IN_PROGRESS to the first GetLifecyclePolicyPreview and COMPLETE
//     after, or, between HoldPreviews and ReleasePreviews, IN_PROGRESS for as long as the
//     test holds it.
//
// A server is the registry of one account: Account, or the one NewWithAccount names. A
// request whose registryId names another account is refused with AccessDeniedException, as
// ECR refuses a caller that no repository policy lets in (the server keeps none). Tests of
// several accounts start a server for each.
//
// Not reproduced: pushing through the OCI Distribution API, image scanning results,
// replication, repository policies, pull-through caches, OCI referrer cascades of lifecycle
// actions, ECR's lifecycle runs themselves (lastEvaluatedAt is only what a test sets), the
// lag of up to a day in lastRecordedPullTime, and expiry of temporary credentials.
//
// The package is imported by tests only.
package ecrtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/shipshape-dev/shipshape/internal/awstest"
)

// The account, region and base credentials of the server.
const (
	// Account is the registry ID of the server New starts.
	Account = "123456789012"
	// Region is the region AWSConfig names; the server accepts signatures for any region.
	Region = "us-east-1"
	// AccessKeyID and SecretAccessKey are the long-term key the server knows. Code that
	// builds its configuration from the environment should be given these.
	AccessKeyID     = "AKIDBASE"
	SecretAccessKey = "secret"
)

// Client retry settings of AWSConfig: as many attempts as the SDK's standard mode allows by
// default plus two, with backoffs short enough to keep tests fast.
const (
	clientMaxAttempts = 5
	clientMaxBackoff  = 50 * time.Millisecond
)

// maxBodyBytes bounds a request body. ECR's largest request is a PutImage of a 4 MiB
// manifest; nothing this server accepts comes near.
const maxBodyBytes = 8 << 20

// ecrTargetPrefix is the X-Amz-Target prefix of every ECR operation.
const ecrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// Server is an in-memory ECR registry and STS endpoint. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string

	t       testing.TB
	account string

	mu       sync.Mutex
	clock    func() time.Time
	repos    map[string]*repository
	scanning ScanningConfig
	calls    map[string]int
	replays  awstest.Replays // answers given, for the SDK's re-sends of them
	writes   int
	faults   map[string]*fault
	keys     map[string][]string // operation → access keys that signed its calls
	secrets  map[string]secret   // access key → what signs with it
	assumed  []AssumeRoleCall
	serial   int // for generated IDs
	waiters  []callWaiter
	// op and signer are the operation and access key of the ECR request being served.
	op, signer string
}

// callWaiter is a channel CallsReached closes once op has been called n times.
type callWaiter struct {
	op   string
	n    int
	done chan struct{}
}

// secret is what the holder of an access key signs with; for temporary credentials also the
// role session they belong to.
type secret struct {
	key           string
	token         string // session token of temporary credentials
	role, session string
}

type fault struct {
	n             int
	code, message string
}

// New starts the registry of the account Account with no repositories and the scanning
// configuration of a new account: BASIC, with no registry rules, so that each repository's
// own scanOnPush applies. It is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	return NewWithAccount(t, Account)
}

// NewWithAccount starts a server as New does, for the registry of account (12 digits), on
// a URL of its own.
func NewWithAccount(t testing.TB, account string) *Server {
	t.Helper()
	if !registryIDPattern.MatchString(account) {
		t.Fatalf("ecrtest: account %q is not 12 digits", account)
	}
	s := &Server{
		t:        t,
		account:  account,
		clock:    time.Now,
		repos:    make(map[string]*repository),
		calls:    make(map[string]int),
		faults:   make(map[string]*fault),
		keys:     make(map[string][]string),
		secrets:  map[string]secret{AccessKeyID: {key: SecretAccessKey}},
		scanning: ScanningConfig{ScanType: "BASIC"},
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AWSConfig returns a configuration that reaches this server for every service (ECR and
// STS): region us-east-1, the static key AccessKeyID, and fast retries (standard mode, 5
// attempts, at most 50 ms between them).
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")),
		BaseEndpoint: aws.String(s.URL),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = clientMaxAttempts
				o.MaxBackoff = clientMaxBackoff
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// RegistryID returns the account of the server's registry.
func (s *Server) RegistryID() string { return s.account }

// Host returns the registry's host, "<account>.dkr.ecr.us-east-1.amazonaws.com", as
// repository URIs name it.
func (s *Server) Host() string { return s.account + ".dkr.ecr." + Region + ".amazonaws.com" }

// ECR returns an ECR client of AWSConfig.
func (s *Server) ECR() *ecr.Client {
	return ecr.NewFromConfig(s.AWSConfig())
}

// SetRegistryScanning sets the registry's scanning configuration, as
// PutRegistryScanningConfiguration would, without validating it.
func (s *Server) SetRegistryScanning(c ScanningConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scanning = ScanningConfig{ScanType: c.ScanType}
	for _, r := range c.Rules {
		s.scanning.Rules = append(s.scanning.Rules, ScanningRule{ScanFrequency: r.ScanFrequency, Filters: slices.Clone(r.Filters)})
	}
}

// SetClock makes the server read the time from now instead of time.Now: it stamps
// repository creation, push times not given (PushBuild callers give theirs), archive and
// restore times, pulls, and the expiry of authorization tokens and temporary credentials.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// Calls returns how many requests named op the server received, whatever their outcome
// (injected faults and refused signatures included). op is an ECR operation
// ("BatchDeleteImage") or an STS action ("AssumeRole").
// The SDK's re-send of a call already answered (awstest.Replays) is not counted.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// CallsReached returns a channel that is closed once the server has received n requests
// named op, counted as Calls counts them: at once if it already has. A test waits on it,
// beside whatever else may happen first, instead of sleeping.
func (s *Server) CallsReached(op string, n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := callWaiter{op: op, n: n, done: make(chan struct{})}
	if s.calls[op] >= n {
		close(w.done)
		return w.done
	}
	s.waiters = append(s.waiters, w)
	return w.done
}

// called counts a request named op and wakes the waiters it satisfies. s.mu is held.
func (s *Server) called(op string) {
	s.calls[op]++
	s.waiters = slices.DeleteFunc(s.waiters, func(w callWaiter) bool {
		if w.op == op && s.calls[op] >= w.n {
			close(w.done)
			return true
		}
		return false
	})
}

// Writes returns how many requests the server received for operations that change state
// (CreateRepository, Put*, DeleteLifecyclePolicy, BatchDeleteImage,
// UpdateImageStorageClass), whatever their outcome. Previews and reads are not writes,
// though BatchGetImage records a pull.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Fail makes the next n requests of op fail with the error code and message: HTTP 400 with
// {"__type": code, "message": message}, as ECR answers client errors and throttling
// (ThrottlingException, which the SDK retries); HTTP 500 for ServerException and 503 for
// ServiceUnavailableException. For STS actions the error is STS's XML, with HTTP 403 for
// AccessDenied. A later call of Fail for the same op replaces the earlier one.
func (s *Server) Fail(op string, n int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = &fault{n: n, code: code, message: message}
}

// AccessKeys returns the access key IDs that signed the requests named op, in order.
func (s *Server) AccessKeys(op string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys[op]...)
}

// AssumeRoleCall is one AssumeRole request the server answered.
type AssumeRoleCall struct {
	RoleARN, ExternalID, SessionName string
	// AccessKey is the key that signed the request.
	AccessKey string
}

// AssumeRoles returns the AssumeRole requests the server answered, in order.
func (s *Server) AssumeRoles() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.assumed...)
}

func (s *Server) now() time.Time { return s.clock().UTC() }

// serveHTTP authenticates a request, applies injected faults and dispatches it to ECR or
// STS.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		s.serveECR(w, r, target, body)
		return
	}
	s.serveSTS(w, r, body)
}

func (s *Server) serveECR(w http.ResponseWriter, r *http.Request, target string, body []byte) {
	op, ok := strings.CutPrefix(target, ecrTargetPrefix)
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		writeError(w, &apiError{code: "UnknownOperationException", message: "Unknown operation " + target})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, &apiError{code: "SerializationException", message: "Unsupported Content-Type " + ct})
		return
	}
	handler, known := lookupOperation(op)

	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.replays.Lookup(r); ok {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(b)
		return
	}
	s.called(op)
	if known && handler.write {
		s.writes++
	}
	key, aerr := s.authenticate(r, body, "ecr")
	if key != "" {
		s.keys[op] = append(s.keys[op], key)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s.op, s.signer = op, key
	if f := s.faults[op]; f != nil && f.n > 0 {
		f.n--
		writeError(w, &apiError{code: f.code, message: f.message})
		return
	}
	if !known {
		writeError(w, &apiError{code: "UnknownOperationException", message: "Unknown operation " + op})
		return
	}
	out, aerr := handler.serve(s, body)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{code: "ServerException", message: err.Error()})
		return
	}
	s.replays.Store(r, b)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", s.requestID())
	_, _ = w.Write(b)
}

// operation is one ECR operation: its handler, and whether it changes state.
type operation struct {
	serve func(s *Server, body []byte) (any, *apiError)
	write bool
}

// lookupOperation returns the handler of the ECR operation op.
func lookupOperation(op string) (operation, bool) {
	switch op {
	case "BatchDeleteImage":
		return operation{(*Server).batchDeleteImage, true}, true
	case "BatchGetImage":
		return operation{(*Server).batchGetImage, false}, true
	case "BatchGetRepositoryScanningConfiguration":
		return operation{(*Server).batchGetRepositoryScanningConfiguration, false}, true
	case "CreateRepository":
		return operation{(*Server).createRepository, true}, true
	case "DeleteLifecyclePolicy":
		return operation{(*Server).deleteLifecyclePolicy, true}, true
	case "DescribeImages":
		return operation{(*Server).describeImages, false}, true
	case "DescribeRepositories":
		return operation{(*Server).describeRepositories, false}, true
	case "GetAuthorizationToken":
		return operation{(*Server).getAuthorizationToken, false}, true
	case "GetLifecyclePolicy":
		return operation{(*Server).getLifecyclePolicy, false}, true
	case "GetLifecyclePolicyPreview":
		return operation{(*Server).getLifecyclePolicyPreview, false}, true
	case "GetRegistryScanningConfiguration":
		return operation{(*Server).getRegistryScanningConfiguration, false}, true
	case "ListImages":
		return operation{(*Server).listImages, false}, true
	case "PutImageScanningConfiguration":
		return operation{(*Server).putImageScanningConfiguration, true}, true
	case "PutImageTagMutability":
		return operation{(*Server).putImageTagMutability, true}, true
	case "PutLifecyclePolicy":
		return operation{(*Server).putLifecyclePolicy, true}, true
	case "PutRegistryScanningConfiguration":
		return operation{(*Server).putRegistryScanningConfiguration, true}, true
	case "StartLifecyclePolicyPreview":
		return operation{(*Server).startLifecyclePolicyPreview, false}, true
	case "UpdateImageStorageClass":
		return operation{(*Server).updateImageStorageClass, true}, true
	}
	return operation{}, false
}

// apiError is an ECR error response.
type apiError struct {
	code, message string
}

func (e *apiError) status() int {
	switch e.code {
	case "ServerException":
		return http.StatusInternalServerError
	case "ServiceUnavailableException":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// decode reads a request body into v, strictly: ECR rejects what it cannot map onto the
// operation's input shape, and an unknown member here means the server lags the SDK.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{code: "SerializationException", message: err.Error()}
	}
	return nil
}

func (s *Server) requestID() string {
	s.serial++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", s.serial)
}

// invalidParameter is ECR's answer to a request that breaks a constraint of the API model.
func invalidParameter(format string, args ...any) *apiError {
	return &apiError{code: "InvalidParameterException", message: fmt.Sprintf(format, args...)}
}

// modelViolation is the message AWS gives for a request that breaks a constraint of the
// API model, e.g. a list that is too long.
func modelViolation(member, constraint string) *apiError {
	return invalidParameter("1 validation error detected: Value at '%s' failed to satisfy constraint: %s", member, constraint)
}

// formValues parses a form-encoded body.
func formValues(body []byte) (url.Values, error) {
	return url.ParseQuery(string(body))
}
