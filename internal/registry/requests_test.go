package registry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/registry"
)

// send sends a request through rt and returns the status of the answer; 0 after an error,
// which it reports. It may be called from any goroutine.
func send(t *testing.T, rt http.RoundTripper, method, url string, header http.Header) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCounterTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	const target = "AmazonEC2ContainerRegistry_V20150921."
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		want               registry.Requests
	}{
		{name: "tag list", method: "GET", path: "/v2/team/app/tags/list?n=1000",
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindTagList: 1}}},
		{name: "manifest GET", method: "GET", path: "/v2/team/app/manifests/v1",
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindManifestGET: 1}}},
		{name: "manifest HEAD", method: "HEAD", path: "/v2/team/app/manifests/sha256:" + strings.Repeat("0", 64),
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindManifestHEAD: 1}}},
		{name: "manifest DELETE", method: "DELETE", path: "/v2/team/app/manifests/sha256:" + strings.Repeat("0", 64),
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindManifestDELETE: 1}}},
		{name: "blob GET", method: "GET", path: "/v2/team/app/blobs/sha256:" + strings.Repeat("0", 64),
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindBlobGET: 1}}},
		{name: "referrers", method: "GET", path: "/v2/team/app/referrers/sha256:" + strings.Repeat("0", 64),
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindReferrers: 1}}},
		{name: "ping", method: "GET", path: "/v2/",
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindOther: 1}}},
		{name: "manifest PUT", method: "PUT", path: "/v2/team/app/manifests/sha256-" + strings.Repeat("0", 64),
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindOther: 1}}},
		{name: "token", method: "GET", path: "/token?scope=repository:team/app:pull",
			want: registry.Requests{ByKind: map[registry.Kind]int{registry.KindOther: 1}}},
		{name: "AWS call", method: "POST", path: "/",
			header: http.Header{"X-Amz-Target": {target + "DescribeImages"}, "Amz-Sdk-Request": {"attempt=1; max=8"}},
			want:   registry.Requests{ByKind: map[registry.Kind]int{"DescribeImages": 1}}},
		{name: "AWS call without attempt header", method: "POST", path: "/",
			header: http.Header{"X-Amz-Target": {target + "BatchGetImage"}},
			want:   registry.Requests{ByKind: map[registry.Kind]int{"BatchGetImage": 1}}},
		{name: "AWS retry", method: "POST", path: "/",
			header: http.Header{"X-Amz-Target": {target + "DescribeImages"}, "Amz-Sdk-Request": {"attempt=2; max=8; ttl=20260601T120000Z"}},
			want:   registry.Requests{Retries: 1}},
		{name: "AWS query protocol", method: "POST", path: "/",
			header: http.Header{"Amz-Sdk-Request": {"attempt=1; max=8"}},
			want:   registry.Requests{ByKind: map[registry.Kind]int{registry.KindOther: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var c registry.Counter
			send(t, c.Transport(srv.Client().Transport), tc.method, srv.URL+tc.path, tc.header)
			if diff := cmp.Diff(tc.want, c.Snapshot()); diff != "" {
				t.Errorf("Snapshot() after %s %s (-want +got):\n%s", tc.method, tc.path, diff)
			}
		})
	}
}

// retrier sends a request again, up to three times, while the answer is 503.
type retrier struct{ next http.RoundTripper }

func (t retrier) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || attempt == 3 {
			return resp, err
		}
		resp.Body.Close()
	}
}

// TestCounterAttempts checks the layering of a retrying transport between Transport and
// Attempts: each request counted once, each attempt after the first as a retry.
func TestCounterAttempts(t *testing.T) {
	t.Parallel()
	var fails atomic.Int32
	fails.Store(2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/flaky") && fails.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	var c registry.Counter
	rt := c.Transport(retrier{next: c.Attempts(srv.Client().Transport)})

	if code := send(t, rt, "GET", srv.URL+"/v2/app/manifests/flaky", nil); code != http.StatusOK {
		t.Errorf("GET flaky = %d, want 200 after two retries", code)
	}
	send(t, rt, "HEAD", srv.URL+"/v2/app/manifests/v1", nil)
	send(t, rt, "HEAD", srv.URL+"/v2/app/manifests/v2", nil)
	// A request that did not pass through Transport is not counted.
	send(t, c.Attempts(srv.Client().Transport), "GET", srv.URL+"/v2/app/manifests/v3", nil)
	c.CacheHit()

	want := registry.Requests{
		ByKind:    map[registry.Kind]int{registry.KindManifestGET: 1, registry.KindManifestHEAD: 2},
		Retries:   2,
		CacheHits: 1,
	}
	if diff := cmp.Diff(want, c.Snapshot()); diff != "" {
		t.Errorf("Snapshot() (-want +got):\n%s", diff)
	}
}

func TestCounterConcurrent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	var c registry.Counter
	rt := c.Transport(c.Attempts(srv.Client().Transport))
	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			send(t, rt, "HEAD", srv.URL+"/v2/app/manifests/v1", nil)
			c.CacheHit()
		})
	}
	wg.Wait()
	want := registry.Requests{ByKind: map[registry.Kind]int{registry.KindManifestHEAD: n}, CacheHits: n}
	if diff := cmp.Diff(want, c.Snapshot()); diff != "" {
		t.Errorf("Snapshot() after %d concurrent requests (-want +got):\n%s", n, diff)
	}
}

func TestRequestsString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   registry.Requests
		want string
	}{
		{name: "none", want: "0 requests"},
		{name: "one", in: registry.Requests{ByKind: map[registry.Kind]int{registry.KindTagList: 1}},
			want: "1 request (1 tag list page)"},
		{
			name: "OCI",
			in: registry.Requests{
				ByKind: map[registry.Kind]int{
					registry.KindOther: 3, registry.KindManifestDELETE: 1, registry.KindReferrers: 4,
					registry.KindBlobGET: 5, registry.KindManifestHEAD: 100, registry.KindManifestGET: 0, registry.KindTagList: 2,
				},
				Retries:   3,
				CacheHits: 5,
			},
			want: "115 requests (2 tag list pages, 100 manifest HEADs, 5 blob GETs, 4 referrers pages, 1 manifest DELETE, 3 other), 3 retries, 5 cache hits",
		},
		{
			name: "ECR",
			in:   registry.Requests{ByKind: map[registry.Kind]int{"DescribeImages": 3, "BatchGetImage": 25, "BatchDeleteImage": 1}, Retries: 1},
			want: "29 requests (1 BatchDeleteImage, 25 BatchGetImage, 3 DescribeImages), 1 retry",
		},
		{
			name: "mixed",
			in:   registry.Requests{ByKind: map[registry.Kind]int{registry.KindOther: 2, "DescribeImages": 1, registry.KindManifestGET: 1}, CacheHits: 1},
			want: "4 requests (1 manifest GET, 1 DescribeImages, 2 other), 1 cache hit",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.in.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
