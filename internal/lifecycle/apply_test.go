package lifecycle_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress/progresstest"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// keepNewestBuild expires every sha- build but the newest.
const keepNewestBuild = `{"rules": [{"rulePriority": 1, "description": "keep the newest sha- build",
  "selection": {"tagStatus": "tagged", "tagPrefixList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 1},
  "action": {"type": "expire"}}]}`

// pushShaImages pushes n single-platform images to host/repo, tagged sha-000 … and created
// a day apart up to a day before exampleNow, sha-000 the oldest; it returns their digests
// in that order.
func pushShaImages(t *testing.T, host, repo string, n int) []string {
	t.Helper()
	now, _ := time.Parse(time.RFC3339, exampleNow)
	digests := make([]string, n)
	for i := range n {
		digests[i] = registrytest.PushImage(t, host, repo, fmt.Sprintf("sha-%03d", i), registrytest.ImageOptions{
			Created: now.Add(-time.Duration(n-i) * 24 * time.Hour), Base: "debian"})
	}
	return digests
}

// contents reads host/repo through a client of its own: each digest with its tags.
func contents(t *testing.T, host, repo string) map[string][]string {
	t.Helper()
	c, err := oci.New(host, oci.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.Inventory(context.Background(), repo)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]string, len(inv.Images))
	for _, img := range inv.Images {
		out[img.Digest] = slices.Sorted(slices.Values(img.Tags))
	}
	return out
}

// open is lifecycle.Open with a configuration given (so that no ./shipshape.yaml is read)
// and a cache of the test's own, failing the test on an error.
func open(t *testing.T, ref string) *lifecycle.Target {
	t.Helper()
	tg, err := lifecycle.Open(context.Background(), ref, &config.Config{}, lifecycle.RegistryOptions{Concurrency: 4, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open(%s) = %v", ref, err)
	}
	return tg
}

// mustLoad parses a policy text, failing the test on an error.
func mustLoad(t *testing.T, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Load([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// expired lists, for each proposal, the digests its plan expires, sorted.
func expired(items []lifecycle.Proposal) [][]string {
	var out [][]string
	for _, p := range items {
		var ds []string
		for _, it := range p.Plan.Images {
			if it.Action == policy.Expire {
				ds = append(ds, it.Digest)
			}
		}
		slices.Sort(ds)
		out = append(out, ds)
	}
	return out
}

// TestApplyConfirm proves Apply deletes nothing when Confirm says no and exactly the expired, unprotected images when it says yes.
func TestApplyConfirm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	d := pushShaImages(t, host, "team/app", 4)
	ref := host + "/team/app"
	cfg := writeFile(t, "shipshape.yaml", "safety:\n  protectTags: [\"release-*\"]\n")
	in := resolve(t, lifecycle.Flags{ConfigFile: cfg, ProtectTags: []string{"sha-001"}, Now: exampleNow})
	target := open(t, ref)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	before := contents(t, host, "team/app")

	var asked []lifecycle.Proposal
	req := lifecycle.ApplyRequest{Target: target, Inputs: in, Policy: mustLoad(t, keepNewestBuild), Journal: journal,
		Confirm: func(p *lifecycle.Proposal) bool { asked = append(asked, *p); return false }}
	out, err := lifecycle.Apply(ctx, req)
	if !errors.Is(err, lifecycle.ErrNotConfirmed) || out == nil || out.Result != nil {
		t.Fatalf("Apply() told no = %+v, %v; want no result and ErrNotConfirmed", out, err)
	}
	if len(asked) != 1 {
		t.Fatalf("Confirm was asked %d times, want once", len(asked))
	}
	p := asked[0]
	s := p.Plan.Summary
	if got, want := fmt.Sprint(p.Ref, s.Images, s.Expire, s.Keep, len(p.Inventory.Images)), fmt.Sprint(ref, 4, 2, 2, 4); got != want {
		t.Errorf("Proposal ref, images, expire, keep, inventory = %s, want %s", got, want)
	}
	// sha-003 is the newest; sha-001 is protected by --protect-tag.
	wantExpired := slices.Sorted(slices.Values([]string{d[0], d[2]}))
	if diff := cmp.Diff([][]string{wantExpired}, expired(asked)); diff != "" {
		t.Errorf("proposed deletions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, contents(t, host, "team/app")); diff != "" {
		t.Fatalf("the registry changed though Confirm said no (-before +after):\n%s", diff)
	}
	if st, err := lifecycle.JournalStatus(nil, ref, journal); err != nil || st.Started != nil || st.Pending {
		t.Errorf("JournalStatus() after a refused confirmation = %+v, %v; want no journal", st, err)
	}

	var progress progresstest.Recorder
	req.Confirm = func(p *lifecycle.Proposal) bool { asked = append(asked, *p); return true }
	req.Progress = &progress
	out, err = lifecycle.Apply(ctx, req)
	if err != nil {
		t.Fatalf("Apply() told yes = %v", err)
	}
	if r := out.Result; r == nil || r.Deleted != 2 || r.Failed != 0 || r.Skipped != 0 || r.Total != 2 {
		t.Fatalf("Apply() told yes: result %+v, want 2 of 2 deleted", r)
	}
	if diff := cmp.Diff(wantExpired, slices.Sorted(maps.Keys(out.Result.Removed()))); diff != "" {
		t.Errorf("removed digests (-want +got):\n%s", diff)
	}
	// The target reports to no Reporter: the re-check counts nothing, the deletions count.
	wantPhases := []progresstest.Phase{{Name: "re-check", Ended: true}, {Name: "delete", StartTotal: 2, Done: 2, Total: 2, Ended: true}}
	if diff := cmp.Diff(wantPhases, progress.Phases()); diff != "" {
		t.Errorf("Progress phases (-want +got):\n%s", diff)
	}
	want := map[string][]string{d[1]: {"sha-001"}, d[3]: {"sha-003"}}
	if diff := cmp.Diff(want, contents(t, host, "team/app")); diff != "" {
		t.Errorf("the registry after apply (-want +got):\n%s", diff)
	}
	st, err := lifecycle.JournalStatus(nil, ref, journal)
	if err != nil || !st.Done || st.Pending || st.Targets != 2 || st.Finished != 2 || st.Journal != journal {
		t.Errorf("JournalStatus() after apply = %+v, %v; want a finished run of 2 targets at %s", st, err, journal)
	}

	// Nothing is left to delete: no question, no run.
	n := len(asked)
	out, err = lifecycle.Apply(ctx, req)
	if err != nil || out.Result != nil || out.Plan.Summary.Expire != 0 || len(asked) != n {
		t.Errorf("a second Apply() = %+v, %v, asked %d more times; want nothing to do, nothing asked", out, err, len(asked)-n)
	}

	// The journal is bound to its repository, and abandoning it deletes nothing.
	if _, err := lifecycle.JournalStatus(nil, host+"/team/other", journal); err == nil {
		t.Errorf("JournalStatus() of another repository's journal = nil error, want one")
	}
	msg, err := lifecycle.AbandonJournal(nil, ref, journal)
	if err != nil || msg != ref+": discarded the journal of a finished apply" {
		t.Errorf("AbandonJournal() = %q, %v", msg, err)
	}
	if st, err := lifecycle.JournalStatus(nil, ref, journal); err != nil || st.Started != nil {
		t.Errorf("JournalStatus() after AbandonJournal() = %+v, %v; want no journal", st, err)
	}
	if diff := cmp.Diff(want, contents(t, host, "team/app")); diff != "" {
		t.Errorf("the registry after AbandonJournal() (-want +got):\n%s", diff)
	}
}

// TestApplyBlastRadius proves a plan over maxDeletePercent is refused before Confirm with nothing deleted, unless Force.
func TestApplyBlastRadius(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	d := pushShaImages(t, host, "team/app", 4)
	ref := host + "/team/app"
	cfg := writeFile(t, "shipshape.yaml", "safety:\n  maxDeletePercent: 50\n")
	in := resolve(t, lifecycle.Flags{ConfigFile: cfg, Now: exampleNow})
	before := contents(t, host, "team/app")

	confirmed := 0
	var log bytes.Buffer
	state := t.TempDir()
	getenv := func(k string) string {
		if k == "XDG_STATE_HOME" {
			return state
		}
		return ""
	}
	req := lifecycle.ApplyRequest{Target: open(t, ref), Inputs: in, Policy: mustLoad(t, keepNewestBuild), Getenv: getenv, Log: &log,
		Confirm: func(*lifecycle.Proposal) bool { confirmed++; return true }}
	out, err := lifecycle.Apply(ctx, req)
	var refused *lifecycle.RefusedError
	if !errors.As(err, &refused) || refused.Ref != ref || !strings.Contains(refused.Reason, "expires 3 of 4 images (75%), more than the 50% limit") {
		t.Fatalf("Apply() over the limit = %v; want a *RefusedError for %s naming 3 of 4 images over 50%%", err, ref)
	}
	if out == nil || out.Result != nil || out.Plan.Refusal != refused.Reason || confirmed != 0 {
		t.Errorf("refused Apply(): outcome %+v, Confirm asked %d times; want the plan with its refusal, no result, nothing asked", out, confirmed)
	}
	if diff := cmp.Diff(before, contents(t, host, "team/app")); diff != "" {
		t.Fatalf("a refused apply changed the registry (-before +after):\n%s", diff)
	}

	req.Force = true
	out, err = lifecycle.Apply(ctx, req)
	if err != nil || out.Result == nil || out.Result.Deleted != 3 || confirmed != 1 {
		t.Fatalf("Apply(Force) = %+v, %v, Confirm asked %d times; want 3 deleted after one question", out, err, confirmed)
	}
	if !strings.Contains(log.String(), "warning: applying despite the limit (--force): the plan expires 3 of 4 images") {
		t.Errorf("Apply(Force) logged %q, want the warning about the limit", log.String())
	}
	if diff := cmp.Diff(map[string][]string{d[3]: {"sha-003"}}, contents(t, host, "team/app")); diff != "" {
		t.Errorf("the registry after a forced apply (-want +got):\n%s", diff)
	}
	// Without Journal, the journal goes under $XDG_STATE_HOME, where JournalStatus looks.
	path := filepath.Join(state, "shipshape", "journal", strings.ReplaceAll(host, ":", "_"), "team", "app.jsonl")
	if st, err := lifecycle.JournalStatus(getenv, ref, ""); err != nil || st.Journal != path || !st.Done || st.Finished != 3 {
		t.Errorf("JournalStatus(default path) = %+v, %v; want a finished run of 3 at %s", st, err, path)
	}
}

// TestSavedPlan proves SavePlan/ReadSavedPlan round-trip a plan, tell other files apart, and that Apply binds it to its repository and age.
func TestSavedPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	d := pushShaImages(t, host, "team/app", 4)
	ref := host + "/team/app"
	target := open(t, ref)
	in := resolve(t, lifecycle.Flags{ConfigFile: writeFile(t, "shipshape.yaml", "{}\n"), Now: exampleNow})
	out, err := lifecycle.Plan(ctx, lifecycle.PlanRequest{Target: target, Inputs: in, Policy: mustLoad(t, keepNewestBuild)})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Saved
	if s == nil || s.Ref() != ref || s.Inventory.Images != 4 || !s.CreatedAt.Equal(in.Now) || s.Plan.Summary.Expire != 3 {
		t.Fatalf("Plan() of %s saved %+v; want a plan of %s, 4 images, made at %v, expiring 3", ref, s, ref, in.Now)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.json")
	if err := lifecycle.SavePlan(file, s); err != nil {
		t.Fatal(err)
	}
	got, err := lifecycle.ReadSavedPlan(file, false)
	if err != nil {
		t.Fatalf("ReadSavedPlan(%s) = %v", file, err)
	}
	if got.Digest() != s.Digest() {
		t.Errorf("the saved plan read back has digest %s, want %s (what was saved)", got.Digest(), s.Digest())
	}
	if diff := cmp.Diff(s.Plan.Summary, got.Plan.Summary); diff != "" {
		t.Errorf("saved plan summary (-saved +read):\n%s", diff)
	}

	t.Run("ReadSavedPlan", func(t *testing.T) {
		t.Parallel()
		var fe *lifecycle.FlagError
		if s, err := lifecycle.ReadSavedPlan(file, true); !errors.As(err, &fe) || s != nil {
			t.Errorf("ReadSavedPlan(plan file, policy given) = %v, %v; want a *FlagError", s, err)
		}
		if s, err := lifecycle.ReadSavedPlan(ref, true); err != nil || s != nil {
			t.Errorf("ReadSavedPlan(repository, policy given) = %v, %v; want nil, nil", s, err)
		}
		if s, err := lifecycle.ReadSavedPlan(exampleInventory, false); err == nil || s != nil || errors.As(err, &fe) ||
			!strings.Contains(err.Error(), exampleInventory+" is not a saved plan") {
			t.Errorf("ReadSavedPlan(a snapshot) = %v, %v; want an error saying it is not a saved plan", s, err)
		}
		missing := filepath.Join(dir, "missing.json")
		if s, err := lifecycle.ReadSavedPlan(missing, false); !errors.As(err, &fe) || fe.Flag != "" || s != nil ||
			!strings.Contains(err.Error(), missing+" is no file") {
			t.Errorf("ReadSavedPlan(missing file, no policy) = %v, %v; want a *FlagError of the argument", s, err)
		}
	})

	journal := filepath.Join(dir, "journal.jsonl")
	yes := func(*lifecycle.Proposal) bool { return true }
	other := open(t, host+"/team/other")
	if _, err := lifecycle.Apply(ctx, lifecycle.ApplyRequest{Target: other, Inputs: in, Saved: got, Journal: journal, Confirm: yes}); err == nil ||
		!strings.Contains(err.Error(), "the saved plan is for "+ref+", not "+host+"/team/other") {
		t.Errorf("Apply(saved plan) on another repository = %v, want a refusal naming both", err)
	}
	later := *in
	later.Now = in.Now.Add(2 * time.Hour)
	if _, err := lifecycle.Apply(ctx, lifecycle.ApplyRequest{Target: target, Inputs: &later, Saved: got, MaxPlanAge: time.Hour, Journal: journal, Confirm: yes}); err == nil ||
		!strings.Contains(err.Error(), "the plan was made 2h0m0s ago") {
		t.Errorf("Apply(saved plan 2h old, MaxPlanAge 1h) = %v, want a refusal for its age", err)
	}
	if n := len(contents(t, host, "team/app")); n != 4 {
		t.Fatalf("refused applies of the saved plan left %d images, want 4", n)
	}
	var log bytes.Buffer
	res, err := lifecycle.Apply(ctx, lifecycle.ApplyRequest{Target: target, Inputs: &later, Saved: got, MaxPlanAge: 3 * time.Hour, Journal: journal, Confirm: yes, Log: &log})
	if err != nil || res.Result == nil || res.Result.Deleted != 3 {
		t.Fatalf("Apply(saved plan) = %+v, %v; want 3 deleted", res, err)
	}
	if !strings.Contains(log.String(), "applying the plan made 2h0m0s ago for "+ref) {
		t.Errorf("Apply(saved plan) logged %q, want the plan's age and repository", log.String())
	}
	if diff := cmp.Diff(map[string][]string{d[3]: {"sha-003"}}, contents(t, host, "team/app")); diff != "" {
		t.Errorf("the registry after the saved plan (-want +got):\n%s", diff)
	}
}

// TestSnapshot proves Snapshot encodes every manifest of a repository in a form inventory.Read and ReadInventory read back.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	for _, tag := range []string{"v1", "v2"} {
		registrytest.PushBuild(t, host, "team/app", tag, registrytest.BuildOptions{Platforms: []string{"linux/amd64", "linux/arm64"}, Base: "debian"})
	}
	img := registrytest.PushImage(t, host, "team/app", "latest", registrytest.ImageOptions{})
	registrytest.PushReferrer(t, host, "team/app", img, "application/spdx+json")
	ref := host + "/team/app"
	want := slices.Sorted(maps.Keys(contents(t, host, "team/app")))
	if len(want) != 12 {
		t.Fatalf("pushed %d manifests, want 12 (2 builds of an index, 2 images and 2 attestations; an image and its SBOM)", len(want))
	}

	data, err := lifecycle.Snapshot(ctx, open(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	inv, err := inventory.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("inventory.Read(snapshot) = %v", err)
	}
	var got []string
	for _, img := range inv.Images {
		got = append(got, img.Digest)
	}
	slices.Sort(got)
	if inv.Repository != ref || inv.CapturedAt.IsZero() {
		t.Errorf("snapshot of %q captured at %v, want %q and a time", inv.Repository, inv.CapturedAt, ref)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot digests (-registry +snapshot):\n%s", diff)
	}

	file := filepath.Join(t.TempDir(), "snapshot.json")
	if err := lifecycle.WriteFile(file, data); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{file, "-"} {
		back, err := lifecycle.ReadInventory(bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("ReadInventory(%s) = %v", name, err)
		}
		if len(back.Images) != 12 || back.Repository != ref {
			t.Errorf("ReadInventory(%s) = %d images of %q; want 12 of %q", name, len(back.Images), back.Repository, ref)
		}
	}
}

// TestOpenAndPlanErrors proves Open reports unusable options as *FlagError and Plan refuses ECR's preview off ECR.
func TestOpenAndPlanErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	for _, tt := range []struct {
		name, ref, flag, msg string
		o                    lifecycle.RegistryOptions
	}{
		{"no concurrency", host + "/team/app", "concurrency", "must be at least 1", lifecycle.RegistryOptions{}},
		{"a bad reference", "no/such repo!", "", "", lifecycle.RegistryOptions{Concurrency: 1}},
		{"a region for a registry that is not ECR", host + "/team/app", "", "apply to Amazon ECR repositories only",
			lifecycle.RegistryOptions{Concurrency: 1, Region: "us-east-2"}},
	} {
		tg, err := lifecycle.Open(ctx, tt.ref, &config.Config{}, tt.o)
		var fe *lifecycle.FlagError
		if !errors.As(err, &fe) || fe.Flag != tt.flag || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Open(%q) = %v, %v; want a *FlagError of --%s saying %q", tt.name, tt.ref, tg, err, tt.flag, tt.msg)
		}
	}

	pushShaImages(t, host, "team/app", 1)
	in := resolve(t, lifecycle.Flags{ConfigFile: writeFile(t, "shipshape.yaml", "{}\n"), Now: exampleNow})
	_, err := lifecycle.Plan(ctx, lifecycle.PlanRequest{Target: open(t, host+"/team/app"), Inputs: in,
		Policy: mustLoad(t, keepNewestBuild), PolicyText: []byte(keepNewestBuild), ECRPreview: true})
	if !errors.Is(err, lifecycle.ErrNoPreview) {
		t.Errorf("Plan(ECRPreview) on %s = %v, want ErrNoPreview", host, err)
	}
}

// TestInUse proves an image shipshape.yaml's in-use directory runs is kept by Plan, Audit, InUse and Apply, and an unreadable source refuses Apply.
func TestInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	host := registrytest.NewInProcess(t)
	d := pushShaImages(t, host, "team/app", 4)
	ref := host + "/team/app"
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\nspec:\n  template:\n    spec:\n      containers:\n" +
		"        - name: api\n          image: " + ref + ":sha-000\n"
	cfg := filepath.Join(dir, "shipshape.yaml")
	for _, f := range [][2]string{
		{filepath.Join(dir, "deploy", "api.yaml"), deployment},
		{cfg, "safety:\n  inUse: [\"manifests:deploy\"]\n"},
	} {
		if err := os.WriteFile(f[0], []byte(f[1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := resolve(t, lifecycle.Flags{ConfigFile: cfg, Now: exampleNow})
	pol := mustLoad(t, keepNewestBuild)
	openRef := func(ctx context.Context, ref string) (*lifecycle.Target, error) {
		return lifecycle.Open(ctx, ref, in.Config, lifecycle.RegistryOptions{Concurrency: 2, NoCache: true})
	}

	var warnings []string
	warn := func(w string) { warnings = append(warnings, w) }
	out, err := lifecycle.Plan(ctx, lifecycle.PlanRequest{Target: open(t, ref), Inputs: in, Policy: pol, Warn: warn})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]string{}
	for _, it := range out.Plan.Images {
		actions[it.Digest] = string(it.Action) + ": " + it.Reason
	}
	if got := actions[d[0]]; !strings.HasPrefix(got, "keep: in use: manifests:api.yaml Deployment/api container api") {
		t.Errorf("sha-000, which deploy/api.yaml runs: %q, want kept as in use", got)
	}
	if s := out.Plan.Summary; s.Expire != 2 || len(warnings) > 0 {
		t.Errorf("Plan() expires %d with warnings %q; want 2 (sha-001, sha-002) and none", s.Expire, warnings)
	}

	var opened []string
	reports, err := lifecycle.Audit(ctx, lifecycle.AuditRequest{Refs: []string{ref}, Open: openRef,
		Opened: func(t *lifecycle.Target) { opened = append(opened, t.Ref) }, Inputs: in, Policy: pol, Warn: warn})
	if err != nil || len(reports) != 1 {
		t.Fatalf("Audit(%s) = %d reports, %v", ref, len(reports), err)
	}
	if r := reports[0]; r.Counts.Images != 4 || r.Counts.InUse != 1 || r.Policy.Expire != 2 || !slices.Equal(opened, []string{ref}) {
		t.Errorf("Audit(%s): %d images, %d in use, %d expire, opened %q; want 4, 1, 2, [%s]", ref, r.Counts.Images, r.Counts.InUse, r.Policy.Expire, opened, ref)
	}

	list, err := lifecycle.InUse(ctx, lifecycle.InUseRequest{ConfigFile: cfg, Repository: ref,
		Open: func(ctx context.Context, c *config.Config, ref string) (*lifecycle.Target, error) {
			return openRef(ctx, ref)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rows) != 1 || list.Rows[0].Digest != d[0] || list.Rows[0].Tag != "sha-000" || len(list.Failures) > 0 {
		t.Errorf("InUse() = %+v, want one row of sha-000 at %s", list, d[0])
	}

	// A source that cannot be read stops the apply: what runs is not completely known.
	broken := resolve(t, lifecycle.Flags{ConfigFile: writeFile(t, "shipshape.yaml", "{}\n"), InUse: []string{"manifests:" + filepath.Join(dir, "missing")}, Now: exampleNow})
	yes := func(*lifecycle.Proposal) bool { return true }
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	_, err = lifecycle.Apply(ctx, lifecycle.ApplyRequest{Target: open(t, ref), Inputs: broken, Policy: pol, Journal: journal, Confirm: yes})
	var refused *lifecycle.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(refused.Reason, "what runs there is not completely known") {
		t.Errorf("Apply() with an unreadable in-use source = %v, want a *RefusedError", err)
	}
	if n := len(contents(t, host, "team/app")); n != 4 {
		t.Fatalf("a refused apply left %d of 4 images", n)
	}

	res, err := lifecycle.Apply(ctx, lifecycle.ApplyRequest{Target: open(t, ref), Inputs: in, Policy: pol, Journal: journal, Confirm: yes})
	if err != nil || res.Result == nil || res.Result.Deleted != 2 {
		t.Fatalf("Apply() = %+v, %v; want 2 deleted", res, err)
	}
	want := map[string][]string{d[0]: {"sha-000"}, d[3]: {"sha-003"}}
	if diff := cmp.Diff(want, contents(t, host, "team/app")); diff != "" {
		t.Errorf("the registry after apply (-want +got):\n%s", diff)
	}
}

// TestApplyReportsToTheTargetsProgress proves that, with no Progress of its own, an apply
// reports to the Reporter the target was opened with: the inventory's phases, then the
// re-check, in which the backend counts the tags it resolves, and the deletions.
func TestApplyReportsToTheTargetsProgress(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		interval time.Duration
		// rechecked: the tags the re-check resolves.
		rechecked int
	}{
		// The tags of the batch's targets (3), not the kept one.
		{"default interval", 0, 3},
		// Every tag.
		{"every time", -1, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testApplyReportsToTheTargetsProgress(t, tt.interval, tt.rechecked)
		})
	}
}

func testApplyReportsToTheTargetsProgress(t *testing.T, interval time.Duration, rechecked int) {
	host := registrytest.NewInProcess(t)
	pushShaImages(t, host, "team/app", 4)
	ref := host + "/team/app"
	in := resolve(t, lifecycle.Flags{Now: exampleNow})
	var rec progresstest.Recorder
	target, err := lifecycle.Open(context.Background(), ref, &config.Config{}, lifecycle.RegistryOptions{Concurrency: 4, CacheDir: t.TempDir(), Progress: &rec})
	if err != nil {
		t.Fatal(err)
	}
	req := lifecycle.ApplyRequest{Target: target, Inputs: in, Policy: mustLoad(t, keepNewestBuild), RecheckInterval: interval,
		Journal: filepath.Join(t.TempDir(), "journal.jsonl"), Confirm: func(*lifecycle.Proposal) bool { return true }}
	out, err := lifecycle.Apply(context.Background(), req)
	if err != nil || out.Result == nil || out.Result.Deleted != 3 {
		t.Fatalf("Apply() = %+v, %v; want 3 deleted", out, err)
	}
	want := []progresstest.Phase{
		{Name: "tags", Done: 4, Ended: true},
		{Name: "manifests", StartTotal: 4, Done: 4, Total: 4, Ended: true},
		{Name: "images", Done: 4, Total: 4, Ended: true},
		{Name: "re-check", Done: rechecked, Total: rechecked, Ended: true},
		{Name: "delete", StartTotal: 3, Done: 3, Total: 3, Ended: true},
	}
	if diff := cmp.Diff(want, rec.Phases()); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
}
