// Package registrytest provides test registries, ways to fill them with what real build
// tools push, a fault-injecting proxy, and the conformance suite every registry backend runs.
//
// It is imported by tests only; the shipshape binary never links it (nor the
// go-containerregistry code it uses to push).
package registrytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// RequireRegistryEnv is the environment variable that, set to 1, turns a missing
// docker-registry binary from a skipped test into a failed one. CI sets it.
const RequireRegistryEnv = "SHIPSHAPE_REQUIRE_REGISTRY"

// distributionStartTimeout bounds how long StartDistribution waits for /v2/ to answer;
// the registry usually answers within a second.
const distributionStartTimeout = 15 * time.Second

// NewInProcess starts go-containerregistry's in-memory registry, with the referrers API,
// on a loopback port, and returns its host ("127.0.0.1:PORT"). It is closed when the test
// ends.
//
// Unlike real registries, that registry keeps the tags of a manifest deleted by digest; a
// small middleware deletes them too, as the Distribution spec and every real registry do.
// Its tag listing is left as it is: it honours n and last but sends no Link header, and
// answers a last at or past the final tag with the first page again. So is its catalog: it
// ignores last and sends at most n repositories (10,000 without n), in no order.
func NewInProcess(t testing.TB) string {
	t.Helper()
	reg := ggcrregistry.New(
		ggcrregistry.WithReferrersSupport(true),
		ggcrregistry.Logger(log.New(io.Discard, "", 0)),
	)
	srv := httptest.NewServer(&untagOnDelete{next: reg})
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// untagOnDelete deletes the tags of a manifest deleted by digest.
type untagOnDelete struct {
	next http.Handler
	mu   sync.Mutex // one delete at a time, so that its tags are deleted with it
}

func (h *untagOnDelete) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	repo, ref, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/manifests/")
	if req.Method != http.MethodDelete || !ok || !strings.HasPrefix(ref, "sha256:") {
		h.next.ServeHTTP(w, req)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	tags := h.tagsOf(repo, ref)
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, req)
	if rec.Code == http.StatusAccepted {
		for _, tag := range tags {
			h.next.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodDelete, "/v2/"+repo+"/manifests/"+tag, nil))
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// tagsOf returns the tags of repo that point at digest.
func (h *untagOnDelete) tagsOf(repo, digest string) []string {
	rec := httptest.NewRecorder()
	h.next.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/"+repo+"/tags/list", nil))
	var list struct {
		Tags []string `json:"tags"`
	}
	if rec.Code != http.StatusOK || json.NewDecoder(rec.Body).Decode(&list) != nil {
		return nil
	}
	var tags []string
	for _, tag := range list.Tags {
		rec := httptest.NewRecorder()
		h.next.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/v2/"+repo+"/manifests/"+tag, nil))
		if rec.Header().Get("Docker-Content-Digest") == digest {
			tags = append(tags, tag)
		}
	}
	return tags
}

// StartDistribution starts the CNCF distribution registry (Debian's docker-registry
// package) on a free loopback port, storing in a temporary directory with deletion
// enabled, and returns its host ("127.0.0.1:PORT"). The registry is killed when the test
// ends. Without the binary the test is skipped, or fails when SHIPSHAPE_REQUIRE_REGISTRY=1.
//
// Distribution has no referrers API (clients use the referrers tag schema), and its tag
// listing ignores n and last: every tag comes in one page. Its catalog pages as the spec
// says, with n, last and a Link header to the next page.
func StartDistribution(t testing.TB) string {
	t.Helper()
	return StartDistributionGC(t).Host
}

// pingV2 reports whether the registry at host answers /v2/.
func pingV2(host string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freeLoopbackAddr returns a loopback address with a port that was free a moment ago.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// lockedBuffer collects a process's output, written and read from different goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
