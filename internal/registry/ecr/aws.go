package ecr

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// Account says how to reach one ECR registry: where, and as whom.
type Account struct {
	// Region of the registry, e.g. "us-east-2"; empty takes the SDK's default chain.
	Region string
	// Profile names a shared-config profile; empty takes the SDK's default chain.
	Profile string
	// RoleARN, when set, is assumed (with ExternalID, when set) for every call: the usual
	// way to reach a registry in another account.
	RoleARN    string
	ExternalID string
	// SessionName names the assumed-role session; empty means "shipshape".
	SessionName string
	// Endpoint overrides the AWS endpoint URL of every service (tests, VPC endpoints).
	Endpoint string
	// MaxAttempts and MaxBackoff bound the SDK's retries of one call; zero means 8 attempts
	// and 20 s. A publish step (ensure) wants a smaller budget than a cleanup.
	MaxAttempts int
	MaxBackoff  time.Duration
	// ConnectTimeout bounds each connection attempt; zero means the SDK's (30 s). An
	// unreachable endpoint then fails in seconds instead of holding a publish step.
	ConnectTimeout time.Duration
}

// maxAttempts bounds the SDK's attempts per call. ECR throttles per account and API with no
// published rates; adaptive retry backs off on throttling and shares the budget between
// concurrent calls.
const maxAttempts = 8

// LoadAWSConfig builds the AWS configuration for an account: the SDK's default credential
// chain (environment, shared config and credentials files, SSO, web identity, instance
// role), the account's region and profile, and its role to assume, if any.
func LoadAWSConfig(ctx context.Context, a Account) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if a.Region != "" {
		opts = append(opts, config.WithRegion(a.Region))
	}
	if a.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.Profile))
	}
	attempts, backoff := a.MaxAttempts, a.MaxBackoff
	if attempts <= 0 {
		attempts = maxAttempts
	}
	if backoff <= 0 {
		backoff = 20 * time.Second
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
			o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = backoff
			})
		})
	}))
	if a.ConnectTimeout > 0 {
		opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithDialerOptions(func(d *net.Dialer) {
			d.Timeout = a.ConnectTimeout
		})))
	}
	// The SDK's own log lines ("WARN failed to discard …") go to shipshape's logger, at
	// debug level, instead of standard error.
	opts = append(opts, config.WithLogger(logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		slog.Debug(fmt.Sprintf(format, v...), "source", "aws-sdk", "level", string(c))
	})))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if a.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(a.Endpoint)
	}
	if a.RoleARN != "" {
		name := a.SessionName
		if name == "" {
			name = "shipshape"
		}
		stsClient := sts.NewFromConfig(cfg)
		provider := stscreds.NewAssumeRoleProvider(stsClient, a.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			if a.ExternalID != "" {
				o.ExternalID = aws.String(a.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: give --region, set AWS_REGION, or configure one for the profile")
	}
	return cfg, nil
}

var hostRE = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ParseHost recognises an ECR registry host, "<account>.dkr.ecr.<region>.amazonaws.com",
// and returns its account ID and region.
func ParseHost(host string) (account, region string, ok bool) {
	m := hostRE.FindStringSubmatch(host)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// Dial loads the AWS configuration of a (see LoadAWSConfig) and returns a client of the
// registry it names, as NewFromConfig does.
func Dial(ctx context.Context, a Account, opts Options) (*Client, error) {
	cfg, err := LoadAWSConfig(ctx, a)
	if err != nil {
		return nil, err
	}
	return NewFromConfig(cfg, opts), nil
}

// NewFromConfig returns a client that calls ECR with an SDK client of cfg, whose HTTP
// requests pass through opts.Counter (a new Counter when nil), so that Stats counts them.
// The HTTP client the SDK would use keeps its settings (timeouts, transport); only the
// ECR client's requests are counted, not those of cfg's credential providers (STS).
func NewFromConfig(cfg aws.Config, opts Options) *Client {
	if opts.Counter == nil {
		opts.Counter = &registry.Counter{}
	}
	api := ecrsdk.NewFromConfig(cfg, func(o *ecrsdk.Options) {
		// o.HTTPClient is resolved by now: cfg's, or the SDK's default with the timeouts
		// of the defaults mode.
		o.HTTPClient = countedClient{opts.Counter.Transport(sdkTransport{o.HTTPClient})}
	})
	return New(api, opts)
}

// sdkTransport is an AWS SDK HTTP client seen as an http.RoundTripper, for a Counter to
// wrap. It sends each request once: the SDK's retries happen above it.
type sdkTransport struct {
	client aws.HTTPClient
}

func (t sdkTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.client.Do(req) }

// countedClient is an http.RoundTripper seen as an AWS SDK HTTP client.
type countedClient struct {
	rt http.RoundTripper
}

func (c countedClient) Do(req *http.Request) (*http.Response, error) { return c.rt.RoundTrip(req) }
