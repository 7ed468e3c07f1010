package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// TestRegistryCommands runs inventory, audit, plan and apply against a live registry, as a
// user would.
func TestRegistryCommands(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := host + "/team/app"
	pushBuilds(t, host, "team/app", 5)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(keepNewest), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--cache-dir", filepath.Join(dir, "cache")}

	r := run(t, nil, "", append([]string{"inventory", repo}, common...)...)
	if r.code != 0 {
		t.Fatalf("inventory = %d: %s", r.code, r.err)
	}
	inv, err := inventory.ReadSnapshot(strings.NewReader(r.stdout))
	if err != nil || len(inv.Images) != 15 || inv.Repository != repo || len(inv.Notes) == 0 {
		t.Fatalf("inventory wrote %d images of %q, notes %q, err %v; want 15 (5 builds of 3)", len(inv.Images), inv.Repository, inv.Notes, err)
	}

	snap := filepath.Join(dir, "app.json")
	if r := run(t, nil, "", append([]string{"inventory", repo, "--out", snap}, common...)...); r.code != 0 || r.stdout != "" {
		t.Errorf("inventory --out = %d, stdout %q: %s", r.code, r.stdout, r.err)
	} else if f, err := os.Open(snap); err != nil {
		t.Error(err)
	} else if saved, err := inventory.ReadSnapshot(f); f.Close() != nil || err != nil || len(saved.Images) != len(inv.Images) {
		t.Errorf("inventory --out wrote a snapshot that reads back as %v, want %d images", err, len(inv.Images))
	}
	if r := run(t, nil, "", append([]string{"inventory", repo, "-o", "app.json"}, common...)...); r.code != 2 || !strings.Contains(r.err, "use --out app.json") {
		t.Errorf("inventory -o app.json = %d %q, want a usage error pointing to --out", r.code, r.err)
	}

	r = run(t, nil, "", append([]string{"audit", repo, "-o", "json"}, common...)...)
	var reports []struct {
		Repository string `json:"repository"`
		Counts     struct {
			Images               int `json:"images"`
			AttestationManifests int `json:"attestationManifests"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &reports); err != nil || r.code != 0 || len(reports) != 1 ||
		reports[0].Counts.Images != 15 || reports[0].Counts.AttestationManifests != 5 {
		t.Errorf("audit = %d %+v (%v): %s", r.code, reports, err, r.err)
	}

	r = run(t, nil, "", append([]string{"plan", "--policy", pol, repo, "-o", "json", "--detailed-exitcode"}, common...)...)
	var p planJSON
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != 3 || p.Summary.Expire != 9 {
		t.Fatalf("plan = %d, %d to expire (%v): %s", r.code, p.Summary.Expire, err, r.err)
	}

	journal := filepath.Join(dir, "journal.jsonl")
	applyArgs := append([]string{"apply", "--policy", pol, repo, "--journal", journal}, common...)
	if r := run(t, nil, "", applyArgs...); r.code != 1 || !strings.Contains(r.err, "nothing deleted") {
		t.Errorf("apply without --yes = %d %q, want 1 and nothing deleted", r.code, r.err)
	}
	if r := run(t, nil, "", append(applyArgs, "--yes", "--max-delete-percent", "10")...); r.code != 1 || !strings.Contains(r.err, "refusing to apply") {
		t.Errorf("apply over the limit = %d %q, want a refusal", r.code, r.err)
	}
	r = run(t, nil, "", append(applyArgs, "--yes", "--max-delete-percent", "10", "--force", "-o", "json")...)
	var res struct {
		Deleted        int   `json:"deleted"`
		Failed         int   `json:"failed"`
		ReclaimedBytes int64 `json:"reclaimedBytes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Deleted != 9 || res.ReclaimedBytes <= 0 {
		t.Fatalf("apply --force = %d %+v (%v): %s", r.code, res, err, r.err)
	}
	r = run(t, nil, "", append([]string{"plan", "--policy", pol, repo, "--detailed-exitcode"}, common...)...)
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte("6 images: 0 expire")) {
		t.Errorf("plan after apply = %d:\n%s", r.code, r.stdout)
	}
	if r := run(t, nil, "", "plan", "--policy", pol, "no/such repo!"); r.code != 2 {
		t.Errorf("plan with a bad reference = %d, want 2: %s", r.code, r.err)
	}
}
