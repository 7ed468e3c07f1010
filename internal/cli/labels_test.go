package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

func TestLabelsCheck(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	rev := strings.Repeat("5", 40)
	labels := map[string]string{
		"org.opencontainers.image.revision": rev,
		"org.opencontainers.image.source":   "https://github.com/org/app",
		"org.opencontainers.image.created":  "2026-05-01T10:00:00Z",
	}
	good := registrytest.PushImage(t, host, "org/app", "good", registrytest.ImageOptions{Labels: labels})
	registrytest.PushImage(t, host, "org/app", "bare", registrytest.ImageOptions{Base: "bare"})
	registrytest.PushBuild(t, host, "org/app", "multi", registrytest.BuildOptions{
		Platforms: []string{"linux/arm64", "linux/amd64"}, Labels: labels, Created: time.Now(),
	})
	repo := host + "/org/app"

	tests := []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"by digest", []string{repo + "@" + good, "--revision", rev}, 0, []string{"labels ok"}},
		{"by tag", []string{repo + ":good", "--revision", rev}, 0, []string{"labels ok", good}},
		{"index", []string{repo + ":multi", "--revision", rev}, 0, []string{"checked image", "labels ok"}},
		{"no revision given", []string{repo + ":good"}, 0, []string{"labels ok"}},
		{"other revision", []string{repo + ":good", "--revision", strings.Repeat("6", 40)}, 1,
			[]string{"FAIL  org.opencontainers.image.revision  is " + rev + ", want " + strings.Repeat("6", 40), "1 label problem(s)"}},
		{"no labels", []string{repo + ":bare", "--revision", rev}, 1,
			[]string{"revision  missing, want " + rev, "source    missing", "created   missing", "3 label problem(s)"}},
		{"json", []string{repo + ":bare", "-o", "json"}, 1, []string{`"label": "org.opencontainers.image.source"`}},
		{"short revision", []string{repo + ":good", "--revision", "abc"}, 2, nil},
		{"missing tag", []string{repo + ":nope"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, "", append([]string{"labels", "check"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("labels check %v = %d, want %d\nstdout %s\nstderr %s", tt.args, r.code, tt.code, r.stdout, r.err)
			}
			for _, want := range tt.out {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("labels check %v stdout lacks %q:\n%s", tt.args, want, r.stdout)
				}
			}
		})
	}
}
