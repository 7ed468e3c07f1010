// Package server is shipshape's HTTP API over a pin store: bearer-token auth, JSON errors,
// label verification of every write, health and Prometheus metrics.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shipshape-dev/shipshape/internal/pins"
)

// Defaults and bounds.
const (
	// DefaultMaxBody bounds a request body: a pin is a few hundred bytes.
	DefaultMaxBody = 64 << 10
	// VerifyTimeout bounds the verification of one write, so that a slow registry cannot
	// hold a request (and the server's write timeout) hostage.
	VerifyTimeout = 20 * time.Second
	// healthTimeout bounds the store check of /healthz.
	healthTimeout = 2 * time.Second
)

// Verification modes.
const (
	ModeOff     = "off"     // record nothing
	ModeLog     = "log"     // verify and record the outcome, never reject
	ModeEnforce = "enforce" // verify and reject what does not verify
)

// ParseMode checks a verification mode; "" means ModeOff.
func ParseMode(s string) (string, error) {
	switch s {
	case "", ModeOff:
		return ModeOff, nil
	case ModeLog, ModeEnforce:
		return s, nil
	}
	return "", fmt.Errorf("verification mode %q is not off, log or enforce", s)
}

// Verifier checks that the image digest in repository carries the labels of a build of
// sourceSHA. verified false comes with a reason a person can read; err means the check
// could not be made (the registry did not answer).
type Verifier interface {
	Verify(ctx context.Context, repository, digest, sourceSHA string) (verified bool, reason string, err error)
}

// Config is what the API serves from. Store and Tokens are required; Verifier is required
// unless Mode is off.
type Config struct {
	Store    pins.Store
	Tokens   *Tokens
	Verifier Verifier
	// Mode is ModeOff (""), ModeLog or ModeEnforce.
	Mode string
	// Logger receives the access log and internal errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the API's metrics; nil means a registry of its own. /metrics
	// serves it when it is also a prometheus.Gatherer.
	Registerer prometheus.Registerer
	// MaxBody bounds request bodies; 0 means DefaultMaxBody.
	MaxBody int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

type server struct {
	store    pins.Store
	tokens   *Tokens
	verifier Verifier
	mode     string
	log      *slog.Logger
	metrics  *metrics
	maxBody  int64
	now      func() time.Time
}

// New returns the API handler. It panics on an unknown Mode, or a Mode other than off
// without a Verifier: both are mistakes of the caller, who validates flags first.
func New(cfg Config) http.Handler {
	mode, err := ParseMode(cfg.Mode)
	if err != nil {
		panic("server.New: " + err.Error())
	}
	if mode != ModeOff && cfg.Verifier == nil {
		panic("server.New: verification mode " + mode + " needs a Verifier")
	}
	s := &server{
		store: cfg.Store, tokens: cfg.Tokens, verifier: cfg.Verifier, mode: mode,
		log: cfg.Logger, maxBody: cfg.MaxBody, now: cfg.Now,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.now == nil {
		s.now = time.Now
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg, s.countPins)

	mux := http.NewServeMux()
	// Every route, with the scope it needs (0: no token).
	s.handle(mux, "PUT /v1/pins/{name}", ScopeWrite, s.putPin)
	s.handle(mux, "GET /v1/pins", ScopeRead, s.listPins)
	s.handle(mux, "GET /v1/pins/{name}", ScopeRead, s.getPin)
	s.handle(mux, "GET /v1/pins/{name}/history", ScopeRead, s.pinHistory)
	s.handle(mux, "DELETE /v1/pins/{name}", ScopeWrite, s.deletePin)
	s.handle(mux, "POST /cp/admin/runtime-image-pins", ScopeWrite, s.postRuntimePin)
	s.handle(mux, "GET /healthz", 0, s.healthz)
	if g, ok := reg.(prometheus.Gatherer); ok {
		mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethod,
				Message: r.Method + " is not allowed on " + r.URL.Path + "; allowed: " + strings.Join(allow, ", ")})
			return
		}
		s.writeError(w, r, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no such route: " + r.Method + " " + r.URL.Path})
	})
	return s.observe(mux)
}

// allowed lists the methods mux has a route for at r's path (with HEAD where GET is), for
// the Allow header of a 405.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// handlerFunc is a route's handler; the error it returns becomes the JSON error response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(mux *http.ServeMux, pattern string, scope Scope, h handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if scope != 0 {
			name, err := s.authorize(r, scope)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), tokenNameKey{}, name))
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authorize returns the name of the request's bearer token, if it grants scope.
func (s *server) authorize(r *http.Request, scope Scope) (string, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return "", &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "missing bearer token"}
	}
	name, granted, ok := s.tokens.lookup(strings.TrimSpace(token))
	if !ok {
		return "", &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "unknown token"}
	}
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.token = name
	}
	if granted < scope {
		return "", &Error{Status: http.StatusForbidden, Code: CodeForbidden,
			Message: fmt.Sprintf("token %s has scope %s; this route needs %s", name, granted, scope)}
	}
	return name, nil
}

type tokenNameKey struct{}

func tokenName(ctx context.Context) string {
	name, _ := ctx.Value(tokenNameKey{}).(string)
	return name
}

// requestInfo carries what the access log needs out of the handlers.
type requestInfo struct{ token string }

type requestInfoKey struct{}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs every request (method, route pattern, status, duration, token name; never
// a token or a body) and counts it in the metrics.
func (s *server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := r.Pattern // set by the ServeMux on this request
		if route == "" || route == "/" {
			route = "unmatched"
		}
		s.metrics.observe(route, rec.status, elapsed)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Duration("duration", elapsed),
			slog.String("token", info.token))
	})
}
