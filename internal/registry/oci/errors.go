package oci

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// registryError is an error from the registry that also matches one of the registry
// package's sentinels under errors.Is. Its message says what it means and what to do where
// that is known (explain), and is the original one otherwise.
type registryError struct {
	sentinel error
	err      error
}

func (e *registryError) Error() string {
	if msg := explain(e.err); msg != "" {
		return msg
	}
	return e.err.Error()
}

// explain says in one line what a registry error means and what to do about it, or ""
// when it has nothing to add: no credentials, credentials refused, access denied, a
// repository that does not exist.
func explain(err error) string {
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		// The auth client names the request it could not authorise: GET "https://…".
		host := "the registry"
		if m := quotedURL.FindStringSubmatch(err.Error()); m != nil {
			if u, perr := url.Parse(m[1]); perr == nil {
				host = displayHost(u.Host)
			}
		}
		return fmt.Sprintf("%s asks for credentials and none were found: run docker login %s (shipshape reads the Docker configuration and its credential helpers)", host, host)
	}
	resp, ok := errors.AsType[*errcode.ErrorResponse](err)
	if !ok || resp.URL == nil {
		return ""
	}
	host, repo := displayHost(resp.URL.Host), repositoryOf(resp.URL.Path)
	what := http.StatusText(resp.StatusCode)
	if len(resp.Errors) > 0 && resp.Errors[0].Message != "" {
		what = resp.Errors[0].Message
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Sprintf("%s refused the credentials for %s (401: %s): check them with docker login %s", host, repo, what, host)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Sprintf("%s denied %s on %s (403: %s): the credentials are valid but may not do this", host, resp.Method, repo, what)
	case isNameUnknown(resp):
		return fmt.Sprintf("repository %s not found on %s", repo, host)
	}
	return ""
}

var quotedURL = regexp.MustCompile(`"(https?://[^"]+)"`)

// repositoryOf returns the repository name of a Distribution API path
// ("/v2/team/app/manifests/latest" gives "team/app").
func repositoryOf(path string) string {
	name := strings.TrimPrefix(path, "/v2/")
	for _, part := range []string{"/tags/", "/manifests/", "/blobs/", "/referrers/"} {
		if i := strings.LastIndex(name, part); i >= 0 {
			return name[:i]
		}
	}
	return name
}
func (e *registryError) Unwrap() []error { return []error{e.sentinel, e.err} }

// mapError makes err match the registry sentinel it corresponds to, if any. It returns nil
// for nil.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if s := sentinel(err); s != nil && !errors.Is(err, s) {
		return &registryError{sentinel: s, err: err}
	}
	return err
}

// sentinel returns the registry sentinel err corresponds to, or nil.
func sentinel(err error) error {
	if errors.Is(err, errdef.ErrNotFound) {
		return registry.ErrNotFound
	}
	if errors.Is(err, auth.ErrBasicCredentialNotFound) {
		return registry.ErrUnauthorized
	}
	if resp, ok := errors.AsType[*errcode.ErrorResponse](err); ok {
		switch resp.StatusCode {
		case http.StatusNotFound:
			return registry.ErrNotFound
		case http.StatusUnauthorized:
			return registry.ErrUnauthorized
		case http.StatusForbidden:
			return registry.ErrDenied
		case http.StatusMethodNotAllowed:
			return registry.ErrUnsupported
		}
		for _, e := range resp.Errors {
			switch e.Code {
			case errcode.ErrorCodeNameUnknown, errcode.ErrorCodeManifestUnknown, errcode.ErrorCodeBlobUnknown:
				return registry.ErrNotFound
			case errcode.ErrorCodeUnauthorized:
				return registry.ErrUnauthorized
			case errcode.ErrorCodeDenied:
				return registry.ErrDenied
			case errcode.ErrorCodeUnsupported:
				return registry.ErrUnsupported
			}
		}
	}
	if errors.Is(err, errdef.ErrUnsupported) {
		return registry.ErrUnsupported
	}
	return nil
}

// isNotFound reports whether err says the manifest, blob or repository does not exist.
func isNotFound(err error) bool {
	return errors.Is(mapError(err), registry.ErrNotFound)
}
