package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/apply"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// keepAll selects nothing: no repository has 10,000 images here.
const keepAll = `{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10000}, "action": {"type": "expire"}}]}`

// digestSet lists what a repository holds now.
func digestSet(t *testing.T, host, repo string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, img := range inventoryOf(t, host, repo).Images {
		out[img.Digest] = true
	}
	return out
}

// killedApply starts a real apply process and kills it with SIGKILL once some deletions are
// journalled; it returns the journal's state.
func killedApply(t *testing.T, bin string, env []string, journal string, args ...string) *apply.State {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for lines(journal) < 8 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("apply journalled nothing in time; stderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	st, err := apply.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if st.Done || st.Finished >= st.Targets {
		t.Fatalf("apply finished before it was killed (%d of %d)", st.Finished, st.Targets)
	}
	return st
}

// runBin runs the shipshape binary and returns its exit code and combined output.
func runBin(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("running shipshape: %v", err)
	return 0, ""
}

// TestInterruptedJournalIsBoundAndRechecked reproduces issue 8's first two failures with a
// real process killed mid-run: the journal of promo/a must not act on promo/b, and
// finishing promo/a must honour pins and protected tags given after the interruption.
func TestInterruptedJournalIsBoundAndRechecked(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host := registrytest.StartDistribution(t)
	pushBuilds(t, host, "promo/a", 12)
	pushBuilds(t, host, "promo/b", 6)
	dir := t.TempDir()
	pol := writeFile(t, "policy.json", keepNewest)
	keep := writeFile(t, "keep-all.json", keepAll)
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	journal := filepath.Join(dir, "state", "shipshape", "journal", strings.ReplaceAll(host, ":", "_"), "promo", "a.jsonl")
	before := inventoryOf(t, host, "promo/a")
	p, err := policy.Load([]byte(keepNewest))
	if err != nil {
		t.Fatal(err)
	}
	want := plan.Build(p, before, time.Now(), plan.Options{})

	st := killedApply(t, bin, env, journal, "apply", "--policy", pol, host+"/promo/a", "--yes", "--concurrency", "1", "--rps", "15")

	// 1. The journal of promo/a never acts on promo/b.
	bBefore := digestSet(t, host, "promo/b")
	code, out := runBin(t, bin, env, "apply", "--policy", keep, host+"/promo/b", "--yes", "--journal", journal)
	if code != 1 || !strings.Contains(out, host+"/promo/a") || !strings.Contains(out, host+"/promo/b") {
		t.Errorf("apply on promo/b with promo/a's journal = exit %d, want 1 naming both repositories:\n%s", code, out)
	}
	if got := digestSet(t, host, "promo/b"); len(got) != len(bBefore) {
		t.Errorf("promo/b holds %d manifests after the refused apply, want all %d", len(got), len(bBefore))
	}

	// --status shows the pending journal; plan warns about it.
	code, out = runBin(t, bin, env, "apply", "--status", host+"/promo/a")
	if code != 0 || !strings.Contains(out, "interrupted apply is pending") || !strings.Contains(out, st.PlanDigest) {
		t.Errorf("apply --status = exit %d:\n%s", code, out)
	}
	code, out = runBin(t, bin, env, "plan", "--policy", pol, host+"/promo/a", "-o", "json")
	if code != 0 || !strings.Contains(out, "interrupted apply on "+host+"/promo/a is pending") {
		t.Errorf("plan with a pending journal = exit %d, want a warning:\n%s", code, out)
	}

	// 2. Finishing promo/a applies the safety in force now: a remaining index pinned by
	// digest, and one protected by tag, stay with their children.
	// The journal's remaining targets include any whose DELETE was in flight when the
	// process was killed, which the registry may have carried out: pick among those still
	// there.
	var pinned, tagged *apply.Record
	remaining := st.Remaining()
	still := digestSet(t, host, "promo/a")
	for i := range remaining {
		r := &remaining[i]
		switch {
		case len(r.Tags) == 0 || !still[r.Digest]:
		case pinned == nil:
			pinned = r
		case tagged == nil:
			tagged = r
		}
	}
	if pinned == nil || tagged == nil {
		t.Fatalf("fewer than two tagged targets remain after the kill: %v", remaining)
	}
	pins := writeFile(t, "pins.txt", "# pinned since the interruption\n"+pinned.Digest+"\n")
	code, out = runBin(t, bin, env, "apply", "--policy", pol, host+"/promo/a", "--yes", "--protect-digests", pins, "--protect-tag", tagged.Tags[0])
	if code != 0 || !strings.Contains(out, "interrupted apply") {
		t.Fatalf("second apply = exit %d:\n%s", code, out)
	}
	have := digestSet(t, host, "promo/a")
	protected := map[string]bool{pinned.Digest: true, tagged.Digest: true}
	for _, img := range before.Images {
		if protected[img.Digest] {
			for _, c := range img.Children {
				protected[c.Digest] = true
			}
		}
	}
	for _, it := range want.Images {
		gone := !have[it.Digest]
		switch {
		case protected[it.Digest] && gone:
			t.Errorf("PROTECTED %s %v was deleted", inventory.ShortDigest(it.Digest), it.Tags)
		case it.Action == policy.Expire && !protected[it.Digest] && !gone:
			t.Errorf("planned deletion %s %v is still there", inventory.ShortDigest(it.Digest), it.Tags)
		case it.Action != policy.Expire && gone:
			t.Errorf("UNPLANNED deletion: %s %v", inventory.ShortDigest(it.Digest), it.Tags)
		}
	}
	code, out = runBin(t, bin, env, "apply", "--status", host+"/promo/a", "-o", "json")
	var status struct {
		Pending bool `json:"pending"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &status) != nil || status.Pending {
		t.Errorf("apply --status after the finished run = exit %d:\n%s", code, out)
	}
}

// TestInterruptedBySIGINT: Ctrl-C stops an apply with exit 130, says how far it got and how
// to finish or abandon it; --abandon then discards the journal without deleting anything.
func TestInterruptedBySIGINT(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host := registrytest.StartDistribution(t)
	pushBuilds(t, host, "team/app", 12)
	dir := t.TempDir()
	pol := writeFile(t, "policy.json", keepNewest)
	journal := filepath.Join(dir, "journal.jsonl")
	env := append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"), "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	cmd := exec.Command(bin, "apply", "--policy", pol, host+"/team/app", "--yes", "--journal", journal, "--concurrency", "1", "--rps", "10")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for lines(journal) < 4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("apply journalled nothing in time; output:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("interrupted apply = %v, want exit status 130; output:\n%s", err, stderr.String())
	}
	out := stderr.String()
	if !strings.Contains(out, "incomplete") || !strings.Contains(out, "of 30 done") || !strings.Contains(out, "apply --abandon "+host+"/team/app") {
		t.Errorf("interrupted apply does not say how far it got and what to do:\n%s", out)
	}
	before := digestSet(t, host, "team/app")
	code, msg := runBin(t, bin, env, "apply", "--abandon", host+"/team/app", "--journal", journal)
	if code != 0 || !strings.Contains(msg, "discarded the interrupted apply") {
		t.Errorf("apply --abandon = exit %d:\n%s", code, msg)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the journal is still there after --abandon: %v", err)
	}
	if after := digestSet(t, host, "team/app"); len(after) != len(before) {
		t.Errorf("--abandon changed the repository: %d manifests, then %d", len(before), len(after))
	}
}

// TestSavedPlan: plan --out, then apply PLANFILE carries out exactly that plan, re-checked:
// an image tagged since is kept; a plan for another repository or too old is refused; the
// JSON records carry tags, rule and reason.
func TestSavedPlan(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	repo := "team/saved"
	pushBuilds(t, host, repo, 6)
	dir := t.TempDir()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	pol := writeFile(t, "policy.json", keepNewest)
	planFile := filepath.Join(dir, "plan.json")
	cache := filepath.Join(dir, "cache")
	r := run(t, env, "", "plan", "--policy", pol, host+"/"+repo, "--out", planFile, "--cache-dir", cache, "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan --out = %d\n%s", r.code, r.err)
	}
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := plan.ReadSaved(data)
	if err != nil {
		t.Fatalf("ReadSaved() = %v", err)
	}
	if saved.Host != host || saved.Repository != repo || saved.Plan.Summary.Expire != 12 || !strings.HasPrefix(saved.PolicyDigest, "sha256:") || !strings.HasPrefix(saved.Inventory.Fingerprint, "sha256:") {
		t.Fatalf("saved plan = host %q repo %q, %d expire, policy %q, fingerprint %q; want 12 expired in %s/%s",
			saved.Host, saved.Repository, saved.Plan.Summary.Expire, saved.PolicyDigest, saved.Inventory.Fingerprint, host, repo)
	}

	// Refusals first: another repository, too old, --policy with a plan.
	if r := run(t, env, "", "apply", planFile, host+"/team/other", "--yes"); r.code != 1 || !strings.Contains(r.err, "not "+host+"/team/other") {
		t.Errorf("apply PLANFILE for another repository = %d\n%s", r.code, r.err)
	}
	later := time.Now().Add(25 * time.Hour).UTC().Format(time.RFC3339)
	if r := run(t, env, "", "apply", planFile, "--yes", "--now", later); r.code != 1 || !strings.Contains(r.err, "--max-plan-age") {
		t.Errorf("apply of a 25-hour-old plan = %d\n%s", r.code, r.err)
	}
	if r := run(t, env, "", "apply", planFile, "--yes", "--recheck-interval", "soon"); r.code != 2 || !strings.Contains(r.err, "--recheck-interval") {
		t.Errorf("apply --recheck-interval soon = %d, want a usage error\n%s", r.code, r.err)
	}
	if len(digestSet(t, host, repo)) != len(inventoryOf(t, host, repo).Images) {
		t.Fatal("a refused apply changed the repository")
	}

	// A target tagged since the plan is kept, with its children.
	var retagged plan.Item
	for _, it := range saved.Plan.Images {
		if it.Action == policy.Expire && len(it.Tags) > 0 {
			retagged = it
			break
		}
	}
	registrytest.Tag(t, host, repo, retagged.Digest, "hotfix")
	r = run(t, env, "", "apply", planFile, "--yes", "--cache-dir", cache, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply PLANFILE = %d\n%s", r.code, r.err)
	}
	if !strings.Contains(r.err, `tagged "hotfix" since the plan`) || !strings.Contains(r.err, "rule 2 (builds)") {
		t.Errorf("apply PLANFILE does not show the re-check and the rules:\n%s", r.err)
	}
	var res struct {
		Deleted int            `json:"deleted"`
		Records []apply.Record `json:"records"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("apply -o json: %v\n%s", err, r.stdout)
	}
	if res.Deleted != 9 {
		t.Errorf("apply PLANFILE deleted %d, want 9 (three builds of three)", res.Deleted)
	}
	for _, rec := range res.Records {
		if rec.Tags == nil || rec.Reason == "" || rec.RulePriority == 0 {
			t.Errorf("record %+v lacks tags, rule or reason", rec)
		}
	}
	have := digestSet(t, host, repo)
	if !have[retagged.Digest] {
		t.Errorf("the index tagged since the plan was deleted")
	}
	for _, it := range saved.Plan.Images {
		if it.Action != policy.Expire && !have[it.Digest] {
			t.Errorf("UNPLANNED deletion: %s %v", inventory.ShortDigest(it.Digest), it.Tags)
		}
	}
}

// TestPlanOutHabits: Terraform's -out is read as -o ut; the error points to --out.
func TestPlanOutHabits(t *testing.T) {
	t.Parallel()
	pol := writeFile(t, "policy.json", keepNewest)
	r := run(t, nil, "", "plan", "--policy", pol, "--images", "../../examples/inventory.json", "-out", "plan.json")
	if r.code != 2 || !strings.Contains(r.err, "--out") || r.stdout != "" {
		t.Errorf("plan -out = %d, stdout %q\n%s", r.code, r.stdout, r.err)
	}
	r = run(t, nil, "", "plan", "--policy", pol, "--images", "../../examples/inventory.json", "--out", "plan.json")
	if r.code != 2 || !strings.Contains(r.err, "needs a REPOSITORY") {
		t.Errorf("plan --images --out = %d\n%s", r.code, r.err)
	}
}

// TestRefusedPlanAnnotates: a plan over --max-delete-percent exits 1, with a workflow
// error under GitHub Actions, and deletes nothing.
func TestRefusedPlanAnnotates(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := "team/limit"
	pushBuilds(t, host, repo, 4)
	pol := writeFile(t, "policy.json", keepNewest)
	before := digestSet(t, host, repo)
	env := map[string]string{"GITHUB_ACTIONS": "true", "XDG_STATE_HOME": t.TempDir()}
	r := run(t, env, "", "apply", "--policy", pol, host+"/"+repo, "--yes", "--max-delete-percent", "10", "--no-cache")
	if r.code != 1 || !strings.Contains(r.err, "::error::") || !strings.Contains(r.err, "limit") {
		t.Errorf("apply over the limit = %d\n%s", r.code, r.err)
	}
	if after := digestSet(t, host, repo); len(after) != len(before) {
		t.Errorf("a refused apply deleted %d manifests", len(before)-len(after))
	}
}

// TestUnreadableIndexBlocksApply reproduces issue 8's fourth failure end to end: the
// registry answers 404 to GET of the tagged index prod while HEAD answers 200. prod shares
// its platform image and attestation with the expired index old; apply must delete nothing
// and say which manifest it could not read.
func TestUnreadableIndexBlocksApply(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	repo := "team/shared"
	old := registrytest.PushBuild(t, host, repo, "old", registrytest.BuildOptions{Created: time.Now().Add(-30 * 24 * time.Hour)})
	prod := registrytest.PushIndex(t, host, repo, "prod", old.Images["linux/amd64"], old.Attestations["linux/amd64"])
	proxy := registrytest.FaultProxy(t, host, registrytest.FaultConfig{NotFound: func(req *http.Request) bool {
		ref, ok := strings.CutPrefix(req.URL.Path, "/v2/"+repo+"/manifests/")
		return req.Method == http.MethodGet && ok && (ref == "prod" || ref == prod)
	}})
	pol := writeFile(t, "expire-old.json", `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["old"],"countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`)
	before := digestSet(t, host, repo)
	env := map[string]string{"XDG_STATE_HOME": t.TempDir()}
	for _, args := range [][]string{
		{"plan", "--policy", pol, proxy.Host + "/" + repo, "--no-cache", "-o", "json"},
		{"apply", "--policy", pol, proxy.Host + "/" + repo, "--yes", "--no-cache"},
	} {
		r := run(t, env, "", args...)
		if r.code != 1 || !strings.Contains(r.err, "could not be read") || !strings.Contains(r.err+r.stdout, prod) {
			t.Errorf("%s with an unreadable prod = exit %d, want 1 naming %s\nstdout:\n%s\nstderr:\n%s", args[0], r.code, prod, r.stdout, r.err)
		}
	}
	after := digestSet(t, host, repo)
	for d := range before {
		if !after[d] {
			t.Errorf("%s was deleted although prod could not be read", inventory.ShortDigest(d))
		}
	}
	if !after[old.Images["linux/amd64"]] || !after[old.Attestations["linux/amd64"]] {
		t.Error("prod lost its platform image or attestation")
	}
}
