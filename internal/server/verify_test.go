package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/shipshape-dev/shipshape/internal/pins"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
	"github.com/shipshape-dev/shipshape/internal/server"
	"github.com/shipshape-dev/shipshape/internal/verify"
)

func buildLabels(revision string) map[string]string {
	return map[string]string{
		verify.LabelRevision: revision,
		verify.LabelSource:   "https://github.com/org/app",
		verify.LabelCreated:  "2026-05-01T10:00:00Z",
	}
}

func TestVerificationModes(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := host + "/org/app"
	good := registrytest.PushImage(t, host, "org/app", "good", registrytest.ImageOptions{Labels: buildLabels(sha(1))})
	other := registrytest.PushImage(t, host, "org/app", "other", registrytest.ImageOptions{Labels: buildLabels(sha(2))})
	bare := registrytest.PushImage(t, host, "org/app", "bare", registrytest.ImageOptions{Base: "bare"})
	verifier := verify.NewOCI(oci.Options{Credentials: noCredentials})

	tests := []struct {
		mode, digest string
		status       int
		verified     string
		reason       string // a part of the recorded reason or of the error message
	}{
		{server.ModeOff, other, http.StatusOK, pins.VerifyNone, ""},
		{server.ModeLog, good, http.StatusOK, pins.VerifyVerified, ""},
		{server.ModeLog, other, http.StatusOK, pins.VerifyUnverified, "is " + sha(2) + ", want " + sha(1)},
		{server.ModeLog, bare, http.StatusOK, pins.VerifyUnverified, verify.LabelSource + ": missing"},
		{server.ModeLog, digest(99), http.StatusOK, pins.VerifyUnverified, "not found"},
		{server.ModeEnforce, good, http.StatusOK, pins.VerifyVerified, ""},
		{server.ModeEnforce, other, http.StatusUnprocessableEntity, "", "is " + sha(2) + ", want " + sha(1)},
		{server.ModeEnforce, bare, http.StatusUnprocessableEntity, "", verify.LabelCreated + ": missing"},
	}
	for _, tt := range tests {
		t.Run(tt.mode+" "+tt.digest[:12], func(t *testing.T) {
			t.Parallel()
			url := start(t, server.Config{Mode: tt.mode, Verifier: verifier})
			body := fmt.Sprintf(`{"repository": %q, "digest": %q, "sourceSha": %q}`, repo, tt.digest, sha(1))
			r := call(t, "PUT", url+"/v1/pins/app", writeToken, body)
			if r.status != tt.status {
				t.Fatalf("PUT = %d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.status != http.StatusOK {
				e := decodeAs[errorBody](t, r)
				if e.Error.Code != server.CodeUnverified || !strings.Contains(e.Error.Message, tt.reason) {
					t.Errorf("error = %s, want unverified with %q", r.body, tt.reason)
				}
				if r := call(t, "GET", url+"/v1/pins/app", readToken, ""); r.status != http.StatusNotFound {
					t.Errorf("GET after a refused PUT = %d, want 404", r.status)
				}
				return
			}
			p := decodeAs[pins.Pin](t, r)
			if p.Verified != tt.verified || !strings.Contains(p.Reason, tt.reason) || (tt.reason == "") != (p.Reason == "") {
				t.Errorf("pin verification = %q %q, want %q with %q", p.Verified, p.Reason, tt.verified, tt.reason)
			}
			h := decodeAs[server.HistoryResponse](t, call(t, "GET", url+"/v1/pins/app/history", readToken, ""))
			if len(h.Changes) != 1 || h.Changes[0].Verified != tt.verified || h.Changes[0].Reason != p.Reason {
				t.Errorf("history = %+v, want the verification recorded", h.Changes)
			}
		})
	}
}

// TestVerificationRegistryDown: a registry that does not answer refuses the write in
// enforce mode (502) and records it as unverified in log mode.
func TestVerificationRegistryDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close() // nothing listens there now
	verifier := verify.NewOCI(oci.Options{Credentials: noCredentials, Transport: &http.Transport{}})
	body := fmt.Sprintf(`{"repository": %q, "digest": %q, "sourceSha": %q}`, down+"/org/app", digest(1), sha(1))

	t.Run("enforce", func(t *testing.T) {
		t.Parallel()
		url := start(t, server.Config{Mode: server.ModeEnforce, Verifier: verifier})
		r := call(t, "PUT", url+"/v1/pins/app", writeToken, body)
		if e := decodeAs[errorBody](t, r); r.status != http.StatusBadGateway || e.Error.Code != server.CodeRegistry {
			t.Errorf("PUT = %d %s, want 502 %s", r.status, r.body, server.CodeRegistry)
		}
	})
	t.Run("log", func(t *testing.T) {
		t.Parallel()
		url := start(t, server.Config{Mode: server.ModeLog, Verifier: verifier})
		r := call(t, "PUT", url+"/v1/pins/app", writeToken, body)
		p := decodeAs[pins.Pin](t, r)
		if r.status != http.StatusOK || p.Verified != pins.VerifyUnverified || !strings.HasPrefix(p.Reason, "verification failed: ") {
			t.Errorf("PUT = %d %s, want 200 unverified with the failure", r.status, r.body)
		}
	})
}

func TestVerifyIndex(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	b := registrytest.PushBuild(t, host, "org/app", "v1", registrytest.BuildOptions{
		Platforms: []string{"linux/arm64", "linux/amd64"},
		Labels:    buildLabels(sha(3)),
		Created:   time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC),
	})
	v := verify.NewOCI(oci.Options{Credentials: noCredentials})
	ok, reason, err := v.Verify(t.Context(), host+"/org/app", b.Index, sha(3))
	if err != nil || !ok {
		t.Errorf("Verify(index) = %v %q %v, want verified", ok, reason, err)
	}
	ok, reason, err = v.Verify(t.Context(), host+"/org/app", b.Index, sha(4))
	if err != nil || ok || !strings.Contains(reason, "want "+sha(4)) {
		t.Errorf("Verify(index, other sha) = %v %q %v, want unverified", ok, reason, err)
	}
}

// noCredentials keeps the tests away from the Docker configuration of the machine.
func noCredentials(context.Context, string) (auth.Credential, error) {
	return auth.EmptyCredential, nil
}
