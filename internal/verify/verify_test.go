package verify_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/verify"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	rev := strings.Repeat("a", 40)
	full := map[string]string{
		verify.LabelRevision: rev,
		verify.LabelSource:   "https://github.com/org/app",
		verify.LabelCreated:  "2026-05-01T10:00:00Z",
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range full {
			m[kk] = vv
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name     string
		labels   map[string]string
		revision string
		want     []verify.Problem
	}{
		{"all present", full, rev, nil},
		{"revision not asked", full, "", nil},
		{"uppercase revision label", with(verify.LabelRevision, strings.ToUpper(rev)), rev, nil},
		{"other revision", with(verify.LabelRevision, strings.Repeat("b", 40)), rev, []verify.Problem{
			{Label: verify.LabelRevision, Want: rev, Found: strings.Repeat("b", 40), Message: "is " + strings.Repeat("b", 40) + ", want " + rev},
		}},
		{"no revision", with(verify.LabelRevision, ""), rev, []verify.Problem{
			{Label: verify.LabelRevision, Want: rev, Message: "missing, want " + rev},
		}},
		{"bad created", with(verify.LabelCreated, "yesterday"), rev, []verify.Problem{
			{Label: verify.LabelCreated, Found: "yesterday", Message: `is "yesterday", not an RFC 3339 time`},
		}},
		{"nothing", nil, "", []verify.Problem{
			{Label: verify.LabelRevision, Message: "missing"},
			{Label: verify.LabelSource, Message: "missing"},
			{Label: verify.LabelCreated, Message: "missing"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, verify.Check(tt.labels, tt.revision)); diff != "" {
				t.Errorf("Check() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitImage(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("0", 64)
	tests := []struct{ in, repo, tag, digest string }{
		{"ghcr.io/org/app@" + d, "ghcr.io/org/app", "", d},
		{"ghcr.io/org/app:v1", "ghcr.io/org/app", "v1", ""},
		{"localhost:5000/app", "localhost:5000/app", "latest", ""},
		{"localhost:5000/app:v2", "localhost:5000/app", "v2", ""},
		{"alpine", "alpine", "latest", ""},
	}
	for _, tt := range tests {
		repo, tag, digest := verify.SplitImage(tt.in)
		if repo != tt.repo || tag != tt.tag || digest != tt.digest {
			t.Errorf("SplitImage(%q) = %q, %q, %q, want %q, %q, %q", tt.in, repo, tag, digest, tt.repo, tt.tag, tt.digest)
		}
	}
}
