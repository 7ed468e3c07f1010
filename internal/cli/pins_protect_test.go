package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestPinnedDigestSurvives pins a digest the policy would expire: plan keeps it, with its
// children, and apply leaves it in the registry.
func TestPinnedDigestSurvives(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := host + "/team/app"
	pushBuilds(t, host, "team/app", 4)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(keepNewest), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "plan", "--policy", pol, repo, "-o", "json", "--no-cache")
	var before planJSON
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, it := range before.Images {
		if it.Action == "expire" && len(it.Tags) > 0 {
			pinned = it.Digest
			break
		}
	}
	if pinned == "" {
		t.Fatal("the policy expires no tagged image to pin")
	}
	// The pins as "shipshape pin list -o json" prints them.
	pinsFile := filepath.Join(dir, "pins.json")
	doc := `[{"name": "api", "digest": "` + pinned + `", "sourceSha": "0123456789abcdef0123456789abcdef01234567", "version": 1}]`
	if err := os.WriteFile(pinsFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	r = run(t, nil, "", "plan", "--policy", pol, repo, "-o", "json", "--no-cache", "--pins", pinsFile)
	var after planJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatal(err)
	}
	if after.Summary.Expire != before.Summary.Expire-3 {
		t.Errorf("with the pin the plan expires %d, want %d (the pinned index and its two children kept)", after.Summary.Expire, before.Summary.Expire-3)
	}
	for _, it := range after.Images {
		if it.Digest == pinned && (it.Action != "keep" || !strings.Contains(it.Reason, "pin api @ 0123456789ab")) {
			t.Errorf("pinned digest: %s, %q", it.Action, it.Reason)
		}
	}

	r = run(t, nil, "", "apply", "--policy", pol, repo, "--yes", "--no-cache", "--pins", pinsFile, "--journal", filepath.Join(dir, "j"))
	if r.code != 0 {
		t.Fatalf("apply = %d: %s", r.code, r.err)
	}
	have := inventoryOf(t, host, "team/app")
	found := false
	for _, img := range have.Images {
		found = found || img.Digest == pinned
	}
	if !found {
		t.Errorf("apply deleted the pinned digest %s", pinned)
	}
	if len(have.Images) != 9 {
		t.Errorf("after apply %d images remain, want 9 (2 kept builds and the pinned one, 3 manifests each)", len(have.Images))
	}
}
