// Package ecr is the registry backend for Amazon ECR, which it reads and changes through the
// ECR API rather than the OCI Distribution API.
//
// The ECR API lists every image of a repository, tagged or not, with the push, pull, archive
// and restore times the lifecycle evaluation needs; BatchGetImage supplies the manifests that
// hold the index → child edges and layer sizes. ECR records every BatchGetImage as a pull of
// the image (aws/containers-roadmap#2390), so Inventory and Manifest move the
// lastRecordedPullTime that sinceImagePulled rules measure from, unless the calling role is
// registered as a pull-time update exclusion (RegisterPullTimeUpdateExclusion). Image
// configs are not read: labels come from manifest annotations only.
package ecr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// API is the narrow interface of the ECR SDK calls the backend makes; *ecr.Client from
// github.com/aws/aws-sdk-go-v2/service/ecr satisfies it.
type API interface {
	DescribeRepositories(ctx context.Context, in *ecrsdk.DescribeRepositoriesInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.DescribeRepositoriesOutput, error)
	DescribeImages(ctx context.Context, in *ecrsdk.DescribeImagesInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.DescribeImagesOutput, error)
	BatchGetImage(ctx context.Context, in *ecrsdk.BatchGetImageInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.BatchGetImageOutput, error)
	BatchDeleteImage(ctx context.Context, in *ecrsdk.BatchDeleteImageInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.BatchDeleteImageOutput, error)
	UpdateImageStorageClass(ctx context.Context, in *ecrsdk.UpdateImageStorageClassInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.UpdateImageStorageClassOutput, error)
	GetLifecyclePolicy(ctx context.Context, in *ecrsdk.GetLifecyclePolicyInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.GetLifecyclePolicyOutput, error)
	PutLifecyclePolicy(ctx context.Context, in *ecrsdk.PutLifecyclePolicyInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.PutLifecyclePolicyOutput, error)
	StartLifecyclePolicyPreview(ctx context.Context, in *ecrsdk.StartLifecyclePolicyPreviewInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.StartLifecyclePolicyPreviewOutput, error)
	GetLifecyclePolicyPreview(ctx context.Context, in *ecrsdk.GetLifecyclePolicyPreviewInput, optFns ...func(*ecrsdk.Options)) (*ecrsdk.GetLifecyclePolicyPreviewOutput, error)
}

var (
	_ API = (*ecrsdk.Client)(nil)

	_ registry.Registry          = (*Client)(nil)
	_ registry.BatchDeleter      = (*Client)(nil)
	_ registry.Transitioner      = (*Client)(nil)
	_ registry.LifecyclePolicies = (*Client)(nil)
	_ registry.Previewer         = (*Client)(nil)
	_ registry.Cataloger         = (*Client)(nil)
)

// Defaults of Options.
const (
	// DefaultPreviewPoll is how often PreviewLifecyclePolicy asks whether a preview is
	// done: the interval of the SDK's LifecyclePolicyPreviewComplete waiter.
	DefaultPreviewPoll = 5 * time.Second
	// DefaultPreviewTimeout bounds one preview, from its start to its last page. The SDK's
	// waiter gives up after about 100 s; large repositories take longer.
	DefaultPreviewTimeout = 5 * time.Minute
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// RegistryID is the account ID of the registry; empty means the caller's own.
	RegistryID string
	// Logger receives debug messages; nil logs nothing.
	Logger *slog.Logger
	// Host is the registry's host, "<account>.dkr.ecr.<region>.amazonaws.com", which
	// Inventory puts before the repository name. Empty leaves the name alone.
	Host string
	// PreviewPoll and PreviewTimeout default to DefaultPreviewPoll and
	// DefaultPreviewTimeout.
	PreviewPoll    time.Duration
	PreviewTimeout time.Duration
	// Layers makes Inventory read every image manifest too, for layer digests and so
	// deduplicated sizes. By default it reads only index manifests, for their children:
	// ECR counts every manifest read as a pull and sets the image's lastRecordedPullTime,
	// which sinceImagePulled rules measure from.
	Layers bool
	// Counter is what Stats reads. It counts the requests of the SDK client only when that
	// client's HTTP traffic passes through it, as it does in a client from NewFromConfig
	// or Dial. nil means a Counter of the Client's own.
	Counter *registry.Counter
}

// Client is the ECR backend. It is safe for concurrent use.
type Client struct {
	api            API
	registryID     *string
	log            *slog.Logger
	host           string
	previewPoll    time.Duration
	previewTimeout time.Duration
	layers         bool
	requests       *registry.Counter
}

// New returns a backend that calls ECR through api. Its Stats counts nothing unless api's
// HTTP client passes through opts.Counter: NewFromConfig builds such a client.
func New(api API, opts Options) *Client {
	c := &Client{
		api:            api,
		log:            opts.Logger,
		host:           opts.Host,
		previewPoll:    opts.PreviewPoll,
		previewTimeout: opts.PreviewTimeout,
		layers:         opts.Layers,
		requests:       opts.Counter,
	}
	if opts.RegistryID != "" {
		c.registryID = aws.String(opts.RegistryID)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.requests == nil {
		c.requests = &registry.Counter{}
	}
	if c.previewPoll <= 0 {
		c.previewPoll = DefaultPreviewPoll
	}
	if c.previewTimeout <= 0 {
		c.previewTimeout = DefaultPreviewTimeout
	}
	return c
}

// Stats returns the ECR API calls the client has made, by operation name
// ("DescribeImages"), and the SDK's retries of them: what its Counter counted.
func (c *Client) Stats() registry.Requests { return c.requests.Snapshot() }

// ecrError is an error from ECR that also matches one of the registry package's sentinels
// under errors.Is. Its message is the SDK's.
type ecrError struct {
	sentinel error
	err      error
}

func (e *ecrError) Error() string {
	if NoCredentials(e.err) {
		op := "ECR"
		var oe *smithy.OperationError
		if errors.As(e.err, &oe) {
			op = oe.Service() + " " + oe.Operation()
		}
		return op + ": " + NoCredentialsHelp
	}
	return e.err.Error()
}

// NoCredentialsHelp says what to do when the AWS SDK found no credentials to sign with.
const NoCredentialsHelp = "no AWS credentials found: tried the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), " +
	"the shared config and credentials files (AWS_PROFILE or --profile), SSO, web identity (AWS_WEB_IDENTITY_TOKEN_FILE) " +
	"and the instance or task role; set one of them, e.g. export AWS_PROFILE=NAME, or run aws sso login --profile NAME"

// NoCredentials reports whether err is the SDK's failure to find credentials: every
// generated client wraps the credential chain's failure in "get identity".
func NoCredentials(err error) bool {
	return err != nil && errorCode(err) == "" && strings.Contains(err.Error(), "get identity: ")
}
func (e *ecrError) Unwrap() []error { return []error{e.sentinel, e.err} }

// mapError makes err match the registry sentinel its ECR or STS error code corresponds to.
// It returns nil for nil.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if s := sentinel(err); s != nil {
		return &ecrError{sentinel: s, err: err}
	}
	return err
}

func sentinel(err error) error {
	switch errorCode(err) {
	case "RepositoryNotFoundException", "ImageNotFoundException",
		"LifecyclePolicyNotFoundException", "LifecyclePolicyPreviewNotFoundException":
		return registry.ErrNotFound
	case "AccessDeniedException", "AccessDenied":
		return registry.ErrDenied
	case "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException",
		"MissingAuthenticationTokenException", "ExpiredTokenException",
		"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken":
		return registry.ErrUnauthorized
	case "ImageStorageClassUpdateNotSupportedException":
		return registry.ErrUnsupported
	case "":
		if NoCredentials(err) {
			return registry.ErrUnauthorized
		}
	}
	return nil
}

// errorCode returns the API error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// callError wraps the error of one ECR call on repo.
func callError(doing, repo string, err error) error {
	return fmt.Errorf("%s %s: %w", doing, repo, mapError(err))
}
