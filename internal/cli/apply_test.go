package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// keepNewest keeps the newest sha- build and expires untagged images after a day.
const keepNewest = `{"rules": [
  {"rulePriority": 1, "description": "untagged", "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}},
  {"rulePriority": 2, "description": "builds", "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 2}, "action": {"type": "expire"}}]}`

// buildBinary compiles shipshape once for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shipshape")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/shipshape").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func pushBuilds(t *testing.T, host, repo string, n int) {
	t.Helper()
	for i := range n {
		registrytest.PushBuild(t, host, repo, fmt.Sprintf("sha-%03d", i), registrytest.BuildOptions{
			Created: time.Now().Add(-time.Duration(n-i) * time.Hour * 24), Base: "debian"})
	}
}

func inventoryOf(t *testing.T, host, repo string) *inventory.Inventory {
	t.Helper()
	c, err := oci.New(host, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Inventory(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestApplyKilledAndResumed kills a real apply process midway, then runs apply again: the
// second run finishes the first one's plan, and the registry ends up exactly as planned.
func TestApplyKilledAndResumed(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host := registrytest.StartDistribution(t)
	repo := "team/app"
	pushBuilds(t, host, repo, 12)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(keepNewest), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load([]byte(keepNewest))
	if err != nil {
		t.Fatal(err)
	}
	before := inventoryOf(t, host, repo)
	want := plan.Build(p, before, time.Now(), plan.Options{})
	if want.Summary.Expire != 30 {
		t.Fatalf("the plan expires %d manifests, want 30 (10 builds of 3)", want.Summary.Expire)
	}
	journal := filepath.Join(dir, "journal.jsonl")
	args := []string{"apply", "--policy", pol, host + "/" + repo, "--yes", "--journal", journal,
		"--cache-dir", filepath.Join(dir, "cache"), "--concurrency", "1", "--rps", "15"}

	st := killedApply(t, bin, append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state")), journal, args...)
	done := st.Finished

	second := exec.Command(bin, args[:len(args)-2]...)
	second.Env = append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "interrupted apply of "+host+"/"+repo) {
		t.Errorf("second apply did not resume:\n%s", out)
	}
	after := inventoryOf(t, host, repo)
	have := map[string]bool{}
	for _, img := range after.Images {
		have[img.Digest] = true
	}
	for _, it := range want.Images {
		gone := !have[it.Digest]
		switch {
		case it.Action == policy.Expire && !gone:
			t.Errorf("planned deletion %s %v is still there", inventory.ShortDigest(it.Digest), it.Tags)
		case it.Action != policy.Expire && gone:
			t.Errorf("UNPLANNED deletion: %s %v", inventory.ShortDigest(it.Digest), it.Tags)
		}
	}
	t.Logf("killed after %d deletions; second run:\n%s", done, out)
}

func lines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	n := 0
	for sc.Scan() {
		n++
	}
	return n
}
