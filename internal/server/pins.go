package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// PutRequest is the body of PUT /v1/pins/{name}.
type PutRequest struct {
	// Repository is where the image lives ("ghcr.io/org/app"); omitted, the pin keeps the
	// repository it has.
	Repository string `json:"repository,omitempty"`
	Digest     string `json:"digest"`
	SourceSHA  string `json:"sourceSha"`
	// ExpectedDigest, if set, makes the write a compare-and-swap: it succeeds only while
	// the pin holds that digest.
	ExpectedDigest string `json:"expectedDigest,omitempty"`
}

// RuntimePinRequest is the body of POST /cp/admin/runtime-image-pins, the route existing
// pipelines call: it sets the pin named Runtime.
type RuntimePinRequest struct {
	Runtime   string `json:"runtime"`
	Digest    string `json:"digest"`
	SourceSHA string `json:"source_sha"`
}

// ListResponse is the body of GET /v1/pins.
type ListResponse struct {
	Pins []pins.Pin `json:"pins"`
}

// HistoryResponse is the body of GET /v1/pins/{name}/history.
type HistoryResponse struct {
	Name    string        `json:"name"`
	Changes []pins.Change `json:"changes"`
}

// fields names the fields of a write request as its route spells them, for errors.
type fields struct{ name, digest, sourceSHA, expected string }

var (
	putFields     = fields{name: "name", digest: "digest", sourceSHA: "sourceSha", expected: "expectedDigest"}
	runtimeFields = fields{name: "runtime", digest: "digest", sourceSHA: "source_sha"}
)

func (s *server) putPin(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var req PutRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p := pins.Pin{Name: name, Repository: req.Repository, Digest: req.Digest, SourceSHA: req.SourceSHA}
	stored, err := s.setPin(r.Context(), p, req.ExpectedDigest, putFields)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stored)
	return nil
}

func (s *server) postRuntimePin(w http.ResponseWriter, r *http.Request) error {
	var req RuntimePinRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p := pins.Pin{Name: req.Runtime, Digest: req.Digest, SourceSHA: req.SourceSHA}
	stored, err := s.setPin(r.Context(), p, "", runtimeFields)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stored)
	return nil
}

// setPin validates, verifies and stores p.
func (s *server) setPin(ctx context.Context, p pins.Pin, expected string, f fields) (pins.Pin, error) {
	if field, problem := pins.CheckWrite(p, expected); field != "" {
		return pins.Pin{}, invalid(map[string]string{pins.FieldName: f.name, pins.FieldDigest: f.digest,
			pins.FieldSourceSHA: f.sourceSHA, pins.FieldExpected: f.expected}[field], "%s", problem)
	}
	if p.Repository != "" {
		if _, _, err := registry.ParseReference(p.Repository); err != nil {
			return pins.Pin{}, invalid("repository", "%v", err)
		}
	} else if cur, err := s.store.Get(ctx, p.Name); err == nil {
		p.Repository = cur.Repository
	} else if !errors.Is(err, pins.ErrNotFound) {
		return pins.Pin{}, fmt.Errorf("reading pin %s: %w", p.Name, err)
	}
	if err := s.verify(ctx, &p); err != nil {
		return pins.Pin{}, err
	}
	p.UpdatedBy = tokenName(ctx)
	stored, err := s.store.Set(ctx, p, expected)
	if errors.Is(err, pins.ErrConflict) {
		msg := fmt.Sprintf("pin %s does not exist; expected it to hold %s", p.Name, expected)
		if cur, gerr := s.store.Get(ctx, p.Name); gerr == nil {
			msg = fmt.Sprintf("pin %s holds %s, not the expected %s", p.Name, cur.Digest, expected)
		}
		return pins.Pin{}, &Error{Status: http.StatusConflict, Code: CodeConflict, Message: msg}
	}
	if err != nil {
		return pins.Pin{}, fmt.Errorf("setting pin %s: %w", p.Name, err)
	}
	return stored, nil
}

// verify checks p's image according to the mode and records the outcome on p. In enforce
// mode it refuses an image that does not verify (422) or cannot be checked (502).
func (s *server) verify(ctx context.Context, p *pins.Pin) error {
	if s.mode == ModeOff {
		return nil
	}
	verified, reason := false, "no repository to check the image in: set repository on the pin"
	if p.Repository != "" {
		vctx, cancel := context.WithTimeout(ctx, VerifyTimeout)
		var err error
		verified, reason, err = s.verifier.Verify(vctx, p.Repository, p.Digest, p.SourceSHA)
		cancel()
		if err != nil {
			s.metrics.verifications.WithLabelValues("error").Inc()
			if s.mode == ModeEnforce {
				return &Error{Status: http.StatusBadGateway, Code: CodeRegistry,
					Message: fmt.Sprintf("verifying %s@%s: %v", p.Repository, p.Digest, err)}
			}
			verified, reason = false, "verification failed: "+err.Error()
		}
	}
	if verified {
		s.metrics.verifications.WithLabelValues("verified").Inc()
		p.Verified, p.Reason = pins.VerifyVerified, ""
		return nil
	}
	s.metrics.verifications.WithLabelValues("unverified").Inc()
	if s.mode == ModeEnforce {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeUnverified, Message: reason}
	}
	p.Verified, p.Reason = pins.VerifyUnverified, reason
	return nil
}

func (s *server) listPins(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.store.List(r.Context())
	if err != nil {
		return fmt.Errorf("listing pins: %w", err)
	}
	if ps == nil {
		ps = []pins.Pin{}
	}
	writeJSON(w, http.StatusOK, ListResponse{Pins: ps})
	return nil
}

func (s *server) getPin(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	p, err := s.store.Get(r.Context(), name)
	if err != nil {
		return fmt.Errorf("pin %s: %w", name, err)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *server) pinHistory(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	changes, err := s.store.History(r.Context(), name)
	if err != nil {
		return fmt.Errorf("history of pin %s: %w", name, err)
	}
	writeJSON(w, http.StatusOK, HistoryResponse{Name: name, Changes: changes})
	return nil
}

func (s *server) deletePin(w http.ResponseWriter, r *http.Request) error {
	name, err := pathName(r)
	if err != nil {
		return err
	}
	if err := s.store.Delete(r.Context(), name, tokenName(r.Context())); err != nil {
		return fmt.Errorf("deleting pin %s: %w", name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pinger is a store that can check its connection cheaply.
type pinger interface {
	Ping(ctx context.Context) error
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	var err error
	if p, ok := s.store.(pinger); ok {
		err = p.Ping(ctx)
	} else if _, err = s.store.Get(ctx, "healthz"); errors.Is(err, pins.ErrNotFound) {
		err = nil
	}
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "health check failed", slog.String("error", err.Error()))
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "pin store does not answer"}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *server) countPins(ctx context.Context) (int, error) {
	ps, err := s.store.List(ctx)
	return len(ps), err
}

func pathName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if !pins.ValidName(name) {
		return "", invalid("name", "must be 1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit; found %s", pins.Quote(name))
	}
	return name, nil
}

// decode reads the request's JSON object into dst, refusing unknown fields and trailing
// data.
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
		if err == nil {
			return invalid("", "unexpected data after the JSON object")
		}
	}
	var (
		maxBytes  *http.MaxBytesError
		syntax    *json.SyntaxError
		typeError *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxBytes):
		return err
	case errors.Is(err, io.EOF):
		return invalid("", "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "truncated JSON")
	case errors.As(err, &syntax):
		return invalid("", "malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typeError):
		if typeError.Field == "" {
			return invalid("", "want a JSON object, found %s", typeError.Value)
		}
		return invalid(typeError.Field, "must be a %s, found %s", typeError.Type, typeError.Value)
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return invalid(strings.Trim(field, `"`), "unknown field")
	}
	return invalid("", "%v", err)
}
