package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/shipshape-dev/shipshape/internal/pins"
)

// Error codes of the API's JSON errors.
const (
	CodeInvalid      = "invalid"              // 400: a malformed body or field; Field names it
	CodeUnauthorized = "unauthorized"         // 401: no token, or an unknown one
	CodeForbidden    = "forbidden"            // 403: a read token on a write route
	CodeNotFound     = "not_found"            // 404: no such pin
	CodeMethod       = "method_not_allowed"   // 405: the route exists, not with this method; Allow lists those it has
	CodeConflict     = "conflict"             // 409: compare-and-swap found another digest
	CodeTooLarge     = "too_large"            // 413: the body exceeds the limit
	CodeUnverified   = "unverified"           // 422: enforce mode, the image's labels do not match
	CodeInternal     = "internal"             // 500
	CodeRegistry     = "registry_unavailable" // 502: enforce mode, the registry could not be read
	CodeUnavailable  = "unavailable"          // 503: the pin store does not answer (healthz)
	CodeClosed       = "client_closed"        // 499: the client went away before the answer; logged, never read
)

// statusClientClosed is the status the access log records for a request its client
// abandoned (nginx's 499): not a failure of the server.
const statusClientClosed = 499

// Error is the body of every error response, {"error": {...}}, and what Client returns
// for one. It wraps pins.ErrNotFound and pins.ErrConflict for 404 and 409.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Unwrap maps the codes that have a pins sentinel onto it.
func (e *Error) Unwrap() error {
	switch e.Code {
	case CodeNotFound:
		return pins.ErrNotFound
	case CodeConflict:
		return pins.ErrConflict
	}
	return nil
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// toError maps every error a handler returns onto its status and JSON error: this is the
// one place that decides statuses.
func toError(err error) (e *Error, internal bool) {
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e, false
	case errors.Is(err, pins.ErrNotFound):
		return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: err.Error()}, false
	case errors.Is(err, pins.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: err.Error()}, false
	case errors.As(err, &maxBytes):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("request body exceeds %d bytes", maxBytes.Limit)}, false
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}, true
}

func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := toError(err)
	if internal && r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		e, internal = &Error{Status: statusClientClosed, Code: CodeClosed, Message: "the client closed the request"}, false
	}
	if internal {
		// The cause goes to the log, not to the client.
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("route", r.Pattern), slog.String("error", err.Error()))
	}
	switch e.Status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="shipshape"`)
	case http.StatusRequestEntityTooLarge:
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to tell it
}
