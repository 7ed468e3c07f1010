package oci

import (
	"errors"
	"net/http"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// registryError is an error from the registry that also matches one of the registry
// package's sentinels under errors.Is. Its message is the original one.
type registryError struct {
	sentinel error
	err      error
}

func (e *registryError) Error() string   { return e.err.Error() }
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
