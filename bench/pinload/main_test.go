package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// accessLog writes lines as shipshape serve does: its address, then slog's text handler.
func accessLog(t *testing.T, reqs []request) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("shipshape: serving pins on http://127.0.0.1:8080 (verification off)\n")
	log := slog.New(slog.NewTextHandler(&b, nil))
	for _, r := range reqs {
		log.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("method", strings.Fields(r.route)[0]), slog.String("route", r.route),
			slog.String("status", r.status), slog.Duration("duration", r.duration), slog.String("token", "ci"))
	}
	log.Error("request failed", "method", "PUT", "route", "PUT /v1/pins/{name}", "error", `setting pin a: context canceled "quoted"`)
	return b.String()
}

func TestReadAccessLog(t *testing.T) {
	want := []request{
		{route: "PUT /v1/pins/{name}", status: "200", duration: 1500 * time.Microsecond},
		{route: "GET /v1/pins/{name}", status: "200", duration: 42 * time.Microsecond},
		{route: "PUT /v1/pins/{name}", status: "500", duration: 2*time.Second + 3*time.Millisecond},
		{route: "GET /v1/pins", status: "401", duration: 800 * time.Nanosecond},
	}
	got, err := readAccessLog(strings.NewReader(accessLog(t, want)))
	if err != nil {
		t.Fatalf("readAccessLog() error = %v", err)
	}
	for i := range got {
		if got[i].time == "" {
			t.Errorf("request %d has no time", i)
		}
		got[i].time = ""
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(request{})); diff != "" {
		t.Errorf("readAccessLog() mismatch (-want +got):\n%s", diff)
	}
}

func TestSummarise(t *testing.T) {
	var reqs []request
	for i := range 1000 {
		reqs = append(reqs, request{route: "PUT /v1/pins/{name}", status: "200", duration: time.Duration(i+1) * time.Millisecond})
	}
	path := t.TempDir() + "/serve.log"
	if err := os.WriteFile(path, []byte(accessLog(t, reqs)), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := summarise(&out, path, 2); err != nil {
		t.Fatalf("summarise() error = %v", err)
	}
	for _, want := range []string{
		"PUT /v1/pins/{name}      1000 requests (200×1000): p50 501.00  p99 991.00  p99.9 1000.00  max  1000.00 ms; over 50 ms: 950, over 250 ms: 750",
		"slowest write:  1000.00 ms",
		"slowest write:   999.00 ms",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summarise() = %q, want it to contain %q", out.String(), want)
		}
	}
	if strings.Count(out.String(), "slowest write") != 2 {
		t.Errorf("summarise() = %q, want 2 slowest writes", out.String())
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {50, 6}, {99, 10}, {99.9, 10}, {100, 10}} {
		if got := percentile(d, tc.p); got != tc.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil, 99) = %v, want 0", got)
	}
}
