// Package awstest holds what shipshape's AWS protocol test servers share: reading the
// Signature Version 4 credential a request is signed with. Tests only.
package awstest

import (
	"errors"
	"net/http"
	"strings"
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
