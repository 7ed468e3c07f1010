package fleet_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/htmlreport"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func loadPolicy(t *testing.T, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Load([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const keepTwo = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`

// Two rules: the first identifies nothing in a repository without "nightly-" tags.
const idle = `{"rules":[
 {"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["nightly-"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
 {"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}}]}`

func example(t *testing.T) *inventory.Inventory {
	t.Helper()
	f, err := os.Open("../../examples/inventory.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := inventory.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// TestBuild: totals are the sums of the rows, each row's figures are the plan's and the
// audit's for that repository, failures are reported and in no total, and the flags
// (no policy, near quota, idle rules, top offenders) point at the right repositories.
func TestBuild(t *testing.T) {
	t.Parallel()
	big := example(t)
	small := synth.Large(300, 7, now)
	repos := []fleet.Repo{
		{Registry: "prod", Ref: "r.example/team/big", Inventory: big, Policy: loadPolicy(t, idle), PolicyState: fleet.PolicyOwn},
		{Registry: "prod", Ref: "r.example/team/small", Inventory: small, PolicyState: fleet.PolicyNone},
		{Registry: "dev", Ref: "d.example/broken", Err: "listing tags: 500 Internal Server Error"},
	}
	rep := fleet.Build(repos, fleet.Options{Now: now, QuotaImages: 1000})

	if rep.Totals.Repositories != 2 || rep.Totals.Failed != 1 || rep.Totals.Registries != 2 {
		t.Fatalf("totals = %+v", rep.Totals)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Repository != "d.example/broken" || !strings.Contains(rep.Failures[0].Error, "500") {
		t.Errorf("failures = %+v", rep.Failures)
	}
	want := plan.Build(loadPolicy(t, idle), big, now, plan.Options{})
	var bigRow, smallRow fleet.Row
	for _, r := range rep.Repositories {
		switch r.Repository {
		case "r.example/team/big":
			bigRow = r
		case "r.example/team/small":
			smallRow = r
		}
	}
	if bigRow.Expire != want.Summary.Expire || bigRow.ReclaimableBytes != want.Summary.ReclaimedBytes || bigRow.Policy != fleet.PolicyOwn || bigRow.Expire == 0 {
		t.Errorf("big row = %+v, want the plan's %d expire, %d bytes", bigRow, want.Summary.Expire, want.Summary.ReclaimedBytes)
	}
	if smallRow.Policy != fleet.PolicyNone || smallRow.Expire != 0 || smallRow.Images != len(small.Images) {
		t.Errorf("small row = %+v", smallRow)
	}
	if rep.Totals.Images != bigRow.Images+smallRow.Images || rep.Totals.StoredBytes != bigRow.StoredBytes+smallRow.StoredBytes ||
		rep.Totals.ReclaimableBytes != bigRow.ReclaimableBytes || rep.Totals.WithoutPolicy != 1 {
		t.Errorf("totals %+v are not the sums of %+v and %+v", rep.Totals, bigRow, smallRow)
	}
	// The example holds 1,183 images: over 80% of a 1,000-image quota.
	if rep.Totals.NearQuota != 1 || bigRow.QuotaHeadroom != 0 || smallRow.QuotaHeadroom != 1000-smallRow.Images {
		t.Errorf("quota: near %d, big headroom %d, small headroom %d", rep.Totals.NearQuota, bigRow.QuotaHeadroom, smallRow.QuotaHeadroom)
	}
	if len(rep.IdleRules) != 1 || rep.IdleRules[0].RulePriority != 1 || rep.IdleRules[0].Why != "identifies nothing" {
		t.Errorf("idle rules = %+v, want priority 1 identifying nothing", rep.IdleRules)
	}
	if len(rep.TopOffenders) != 2 || rep.TopOffenders[0] != "r.example/team/big" {
		t.Errorf("top offenders = %v", rep.TopOffenders)
	}

	// A policy given for the fleet replaces each repository's own.
	given := fleet.Build(repos, fleet.Options{Now: now, Policy: loadPolicy(t, keepTwo)})
	for _, r := range given.Repositories {
		if r.Policy != fleet.PolicyGiven || r.Expire == 0 {
			t.Errorf("with a given policy, %s = %+v", r.Repository, r)
		}
	}
	if given.Totals.WithoutPolicy != 0 {
		t.Errorf("with a given policy, %d repositories without one", given.Totals.WithoutPolicy)
	}
}

// TestRender: every format carries the figures; JSON round-trips; Markdown stays under
// 1 MiB with 20,000 repositories and says how many it left out.
func TestRender(t *testing.T) {
	t.Parallel()
	repos := []fleet.Repo{{Registry: "prod", Ref: "r.example/<b>app</b>", Inventory: synth.Large(200, 1, now), Policy: loadPolicy(t, keepTwo), PolicyState: fleet.PolicyOwn}}
	rep := fleet.Build(repos, fleet.Options{Now: now})
	var table, md, js bytes.Buffer
	if err := fleet.Write(&table, rep, "table"); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Write(&md, rep, "markdown"); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Write(&js, rep, "json"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "1 repository in 1 registry: 200 images") || !strings.Contains(table.String(), "r.example/<b>app</b>") {
		t.Errorf("table:\n%s", table.String())
	}
	if strings.Contains(md.String(), "<b>app") {
		t.Errorf("markdown does not escape a repository name:\n%s", md.String())
	}
	var back fleet.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Totals != rep.Totals || len(back.Repositories) != 1 {
		t.Errorf("JSON round trip: %v %+v", err, back.Totals)
	}

	many := make([]fleet.Repo, 20_000)
	small := synth.Large(3, 1, now)
	for i := range many {
		many[i] = fleet.Repo{Registry: "prod", Ref: fmt.Sprintf("r.example/team-%05d/%s", i, strings.Repeat("x", 60)), Inventory: small, PolicyState: fleet.PolicyNone}
	}
	md.Reset()
	if err := fleet.WriteMarkdown(&md, fleet.Build(many, fleet.Options{Now: now})); err != nil {
		t.Fatal(err)
	}
	if md.Len() >= 1<<20 || !strings.Contains(md.String(), "more repositories (run shipshape audit --all -o json for the full list)") {
		t.Errorf("markdown of 20,000 repositories: %d bytes, tail %q", md.Len(), md.String()[max(0, md.Len()-200):])
	}
}

// TestHTML: the document renders (htmlreport validates every chart) with the fleet's
// sections, and the ages are counted by tag stream.
func TestHTML(t *testing.T) {
	t.Parallel()
	repos := []fleet.Repo{
		{Registry: "prod", Ref: "r.example/team/big", Inventory: example(t), Policy: loadPolicy(t, keepTwo), PolicyState: fleet.PolicyOwn},
		{Registry: "prod", Ref: "r.example/team/small", Inventory: synth.Large(300, 7, now), PolicyState: fleet.PolicyNone},
		{Registry: "dev", Ref: "d.example/broken", Err: "boom"},
	}
	rep := fleet.Build(repos, fleet.Options{Now: now})
	var b bytes.Buffer
	if err := htmlreport.Write(&b, fleet.HTML(rep, repos)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Where the bytes are", "Age of images", "What the policies do", "Repositories that could not be read", "r.example/team/big", "sha-*", "untagged"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	for tags, want := range map[string]string{"": "untagged", "v1.2.3": "releases", "1.4": "releases", "sha-abc123": "sha-*", "pr-42": "pr-*", "latest": "latest", "main,sha-1": "main"} {
		var list []string
		if tags != "" {
			list = strings.Split(tags, ",")
		}
		if got := fleet.Stream(list); got != want {
			t.Errorf("Stream(%q) = %q, want %q", tags, got, want)
		}
	}
}
