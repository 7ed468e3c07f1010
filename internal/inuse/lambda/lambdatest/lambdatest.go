// Package lambdatest is an in-memory AWS Lambda control plane for tests, served over HTTP
// with Lambda's REST-JSON protocol, so that code under test uses the real AWS SDK client.
//
// It answers the read operations the in-use source makes:
//
//	GET /2015-03-31/functions?FunctionVersion=ALL&Marker=…&MaxItems=…   ListFunctions
//	GET /2015-03-31/functions/NAME?Qualifier=…                         GetFunction
//	GET /2015-03-31/functions/NAME/aliases?FunctionVersion=…&Marker=…   ListAliases
//
// Lists are ordered (functions by name, each with $LATEST then its published versions
// when FunctionVersion is ALL; aliases by name) and paged with opaque markers;
// ListFunctions returns at most 50 entries whatever MaxItems asks, as Lambda does. Errors
// carry their code in the X-Amzn-ErrorType header and {"Type": …, "message": …} as the
// body, with Lambda's statuses: 403 for AccessDeniedException, 404 for
// ResourceNotFoundException, 429 for TooManyRequestsException (which the SDK retries),
// 500 for ServiceException, 400 otherwise.
//
// Requests must carry a Signature Version 4 Authorization header by AccessKeyID for the
// service "lambda"; the signature itself is not verified.
//
// Tests set the state with CreateFunction, UpdateFunctionCode, PublishVersion and
// CreateAlias, and make calls fail with Fail.
//
// The package is imported by tests only.
package lambdatest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/shipshape-dev/shipshape/internal/awstest"
)

// The account, region and credentials of the server.
const (
	Account         = "123456789012"
	Region          = "us-east-1"
	AccessKeyID     = "AKIDLAMBDATEST"
	SecretAccessKey = "secret"
)

// ClientMaxAttempts is how many attempts AWSConfig makes a call (awstest.Config).
const ClientMaxAttempts = awstest.ClientMaxAttempts

// Latest is the version that names a function's unpublished code.
const Latest = "$LATEST"

// Server is an in-memory Lambda endpoint. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string

	t testing.TB

	mu        sync.Mutex
	functions map[string]*function
	faults    []*Fault
	calls     map[string]int
	replays   awstest.Replays
	serial    int
}

type function struct {
	name      string
	image     bool
	versions  map[string]Code // Latest and the published versions
	published int
	aliases   map[string]alias
}

type alias struct {
	version string
	weights map[string]float64
}

// Code is the code of a function version.
type Code struct {
	// ImageURI is the image of a function packaged as an image, "REPO:TAG" or
	// "REPO@DIGEST". Empty makes CreateFunction create a .zip function.
	ImageURI string
	// ResolvedImageURI is "REPO@sha256:…", what Lambda resolved ImageURI to when the code
	// was deployed.
	ResolvedImageURI string
}

// Fault makes the server answer matching requests with an error instead of serving them.
type Fault struct {
	// Op is the operation: ListFunctions, GetFunction or ListAliases.
	Op string
	// Function, when set, limits the fault to requests about this function (by name).
	Function string
	// Times is how many matching requests fail; 0 means every one.
	Times int
	// Code and Message make the answer: AccessDeniedException, TooManyRequestsException,
	// ResourceNotFoundException, ServiceException …
	Code, Message string
}

// New starts a server without functions. It is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, functions: make(map[string]*function), calls: make(map[string]int)}
	srv := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AWSConfig returns a configuration that reaches this server: region Region, the static
// key AccessKeyID, and fast retries (standard mode, ClientMaxAttempts attempts, at most
// 20 ms apart, no retry quota).
func (s *Server) AWSConfig() aws.Config {
	return awstest.Config(s.URL, Region, AccessKeyID, SecretAccessKey)
}

// Lambda returns a Lambda client of AWSConfig.
func (s *Server) Lambda() *lambda.Client {
	return lambda.NewFromConfig(s.AWSConfig())
}

// FunctionARN returns the ARN of a function.
func FunctionARN(name string) string {
	return "arn:aws:lambda:" + Region + ":" + Account + ":function:" + name
}

// CreateFunction creates a function whose $LATEST has code: packaged as an image when
// code.ImageURI is set, as a .zip archive otherwise.
func (s *Server) CreateFunction(name string, code Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.functions[name]; ok {
		s.t.Fatalf("lambdatest: function %s exists", name)
	}
	s.functions[name] = &function{
		name:     name,
		image:    code.ImageURI != "",
		versions: map[string]Code{Latest: code},
		aliases:  make(map[string]alias),
	}
}

// UpdateFunctionCode replaces the code of a function's $LATEST.
func (s *Server) UpdateFunctionCode(name string, code Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.function(name)
	if f.image != (code.ImageURI != "") {
		s.t.Fatalf("lambdatest: function %s cannot change its package type", name)
	}
	f.versions[Latest] = code
}

// PublishVersion publishes the code of a function's $LATEST as its next version, and
// returns the version.
func (s *Server) PublishVersion(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.function(name)
	f.published++
	v := fmt.Sprint(f.published)
	f.versions[v] = f.versions[Latest]
	return v
}

// CreateAlias points an alias of a function at version, and sends the shares of
// traffic in weights to other versions; it replaces any alias of the same name.
func (s *Server) CreateAlias(functionName, name, version string, weights map[string]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.function(functionName)
	for _, v := range append([]string{version}, slices.Collect(maps.Keys(weights))...) {
		if _, ok := f.versions[v]; !ok {
			s.t.Fatalf("lambdatest: function %s has no version %s", functionName, v)
		}
	}
	f.aliases[name] = alias{version: version, weights: maps.Clone(weights)}
}

// function returns the function a test names, failing the test when there is none. s.mu
// is held.
func (s *Server) function(name string) *function {
	f, ok := s.functions[name]
	if !ok {
		s.t.Fatalf("lambdatest: no function %s", name)
	}
	return f
}

// Fail adds a fault. Faults are tried in the order they were added; the first that
// matches a request and has not run out answers it.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Calls returns how many requests of op the server received, whatever their outcome. The SDK's
// re-send of a call already answered (awstest.Replays) is not counted.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// apiError is a Lambda error answer.
type apiError struct {
	code, message string
}

func (e *apiError) status() int {
	switch e.code {
	case "AccessDeniedException", "MissingAuthenticationTokenException", "UnrecognizedClientException", "InvalidSignatureException":
		return http.StatusForbidden
	case "ResourceNotFoundException", "UnknownOperationException":
		return http.StatusNotFound
	case "TooManyRequestsException":
		return http.StatusTooManyRequests
	case "ServiceException":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(map[string]string{"Type": "User", "message": e.message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

const functionsPath = "/2015-03-31/functions"

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, fn, ok := route(r)
	if !ok {
		writeError(w, &apiError{code: "UnknownOperationException", message: "Unknown operation " + r.Method + " " + r.URL.Path})
		return
	}
	q := r.URL.Query()

	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.replays.Lookup(r); ok {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	}
	s.calls[op]++
	if aerr := authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	if f := s.fault(op, functionName(fn)); f != nil {
		writeError(w, &apiError{code: f.Code, message: f.Message})
		return
	}
	var out any
	var aerr *apiError
	switch op {
	case "ListFunctions":
		out, aerr = s.listFunctions(q)
	case "GetFunction":
		out, aerr = s.getFunction(fn, q)
	case "ListAliases":
		out, aerr = s.listAliases(fn, q)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{code: "ServiceException", message: err.Error()})
		return
	}
	s.serial++
	s.replays.Store(r, b)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("00000000-0000-4000-8000-%012d", s.serial))
	_, _ = w.Write(b)
}

// route returns the operation of a request and the function its path names.
func route(r *http.Request) (op, fn string, ok bool) {
	if r.Method != http.MethodGet {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), functionsPath)
	if !ok {
		return "", "", false
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return "ListFunctions", "", true
	}
	parts := strings.Split(rest, "/")
	name, err := url.PathUnescape(parts[0])
	if err != nil || name == "" {
		return "", "", false
	}
	switch {
	case len(parts) == 1:
		return "GetFunction", name, true
	case len(parts) == 2 && parts[1] == "aliases":
		return "ListAliases", name, true
	}
	return "", "", false
}

// fault returns the fault that answers a request of op about function fn, counting it,
// or nil. s.mu is held.
func (s *Server) fault(op, fn string) *Fault {
	for _, f := range s.faults {
		if f.Op != op || (f.Function != "" && f.Function != fn) {
			continue
		}
		if awstest.Fire(&f.Times) {
			return f
		}
	}
	return nil
}

// authenticate checks that the request is signed with Signature Version 4 by AccessKeyID
// for Lambda, without verifying the signature.
func authenticate(r *http.Request) *apiError {
	if code, msg := awstest.Authenticate(r, AccessKeyID, "lambda"); code != "" {
		return &apiError{code: code, message: msg}
	}
	return nil
}
