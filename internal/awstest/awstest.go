// Package awstest holds what shipshape's AWS protocol test servers share: reading the
// Signature Version 4 credential a request is signed with. Tests only.
package awstest

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credential is the scope of a request's Signature Version 4 credential.
type Credential struct {
	AccessKeyID, Date, Region, Service string
}

// Errors of ParseCredential, which servers map onto their protocol's error codes.
var (
	// ErrUnsigned: the request has no Authorization header.
	ErrUnsigned = errors.New("missing authentication token")
	// ErrMalformed: the header is not a Signature Version 4 authorization.
	ErrMalformed = errors.New("authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters")
)

// ParseCredential reads the credential scope of r's Signature Version 4 Authorization
// header, without verifying the signature.
func ParseCredential(r *http.Request) (Credential, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Credential{}, ErrUnsigned
	}
	algorithm, params, _ := strings.Cut(auth, " ")
	credential := ""
	for _, f := range strings.Split(params, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(f), "Credential="); ok {
			credential = v
		}
	}
	scope := strings.Split(credential, "/")
	if algorithm != "AWS4-HMAC-SHA256" || len(scope) != 5 || scope[4] != "aws4_request" || r.Header.Get("X-Amz-Date") == "" {
		return Credential{}, ErrMalformed
	}
	return Credential{AccessKeyID: scope[0], Date: scope[1], Region: scope[2], Service: scope[3]}, nil
}

// Retries of Config: the standard mode's default attempts plus two, with backoffs short
// enough that a test of throttling takes milliseconds.
const (
	ClientMaxAttempts = 5
	clientMaxBackoff  = 20 * time.Millisecond
)

// Config returns an AWS configuration that reaches a test server at url in region, signing
// with a static key, and retrying fast (standard mode, ClientMaxAttempts attempts, at most
// 20 ms apart, no retry quota).
func Config(url, region, accessKeyID, secretAccessKey string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, "")),
		BaseEndpoint: aws.String(url),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = ClientMaxAttempts
				o.MaxBackoff = clientMaxBackoff
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// Authenticate checks that r is signed with Signature Version 4 by accessKeyID for
// service, without verifying the signature. It returns the error code and message AWS
// services answer, or "" when the request passes.
func Authenticate(r *http.Request, accessKeyID, service string) (code, message string) {
	cred, err := ParseCredential(r)
	switch {
	case errors.Is(err, ErrUnsigned):
		return "MissingAuthenticationTokenException", "Missing Authentication Token"
	case err != nil:
		return "IncompleteSignatureException", err.Error()
	case cred.AccessKeyID != accessKeyID:
		return "UnrecognizedClientException", "The security token included in the request is invalid."
	case cred.Service != service:
		return "InvalidSignatureException", "Credential should be scoped to correct service: '" + service + "'."
	}
	return "", ""
}

// Fire reports whether a scripted fault answers one more request, and counts it: times is
// how many requests it may still answer, 0 meaning every one and -1 none left.
func Fire(times *int) bool {
	switch {
	case *times == 0:
		return true
	case *times > 0:
		if *times--; *times == 0 {
			*times = -1 // run out
		}
		return true
	}
	return false
}
