package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

type auditJSON struct {
	Repository string `json:"repository"`
	Counts     struct {
		Images                        int `json:"images"`
		SinglePlatformWithAttestation int `json:"singlePlatformWithAttestation"`
		Superseded                    int `json:"superseded"`
		Unattributed                  int `json:"unattributed"`
	} `json:"counts"`
	Storage struct {
		StoredBytes     int64   `json:"storedBytes"`
		MonthlyCostUSD  float64 `json:"monthlyCostUSD"`
		PricePerGBMonth float64 `json:"pricePerGBMonth"`
	} `json:"storage"`
	Policy *struct {
		Expire            int     `json:"expire"`
		ReclaimedBytes    int64   `json:"reclaimedBytes"`
		MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	} `json:"policy"`
	Diagnoses []struct {
		Code     string `json:"code"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
		Fix      string `json:"fix"`
	} `json:"diagnoses"`
}

func decodeAudit(t *testing.T, out string) []auditJSON {
	t.Helper()
	var got []auditJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("audit -o json: %v\n%.400s", err, out)
	}
	return got
}

func TestAuditTable(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "audit", "--images", exampleImages)
	if r.code != 0 {
		t.Fatalf("audit = %d: %s", r.code, r.err)
	}
	for _, want := range []string{
		"Audit of 123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app captured 2026-06-01T12:00:00Z\n\nWHAT ",
		"\nwarning: 385 single-platform images are pushed as an index plus an untagged attestation manifest (770 extra manifests) [single-platform-attestations]\n  fix: build with --provenance=false",
		"\nSummary: 1,183 images, 9.4 GiB stored, $0.94 a month at $0.10 per GB-month; 2 warnings, 0 info\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit table lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") || strings.Contains(r.stdout, "Policy at") || r.err != "" {
		t.Errorf("audit without a terminal or policy printed colour, a policy line or errors:\n%s\nstderr: %s", r.stdout, r.err)
	}
}

func TestAuditJSONWithPolicy(t *testing.T) {
	t.Parallel()
	args := []string{"audit", "--images", exampleImages, "--policy", examplePolicy, "--now", exampleNow, "-o", "json"}
	r := run(t, nil, "", args...)
	if r.code != 0 {
		t.Fatalf("audit = %d: %s", r.code, r.err)
	}
	got := decodeAudit(t, r.stdout)
	if len(got) != 1 || got[0].Policy == nil {
		t.Fatalf("audit -o json = %+v, want one report with a policy", got)
	}
	a := got[0]
	if a.Counts.Images != 1183 || a.Counts.SinglePlatformWithAttestation != 385 || a.Storage.PricePerGBMonth != 0.1 {
		t.Errorf("audit counts %+v, storage %+v", a.Counts, a.Storage)
	}
	// The policy figures are those of the policy's plan.
	if a.Policy.Expire != 1037 || a.Policy.ReclaimedBytes != 8073681856 || a.Policy.MonthlySavingsUSD != 0.75 {
		t.Errorf("audit policy = %+v, want the example plan's 1037 expired, 8073681856 bytes, $0.75", *a.Policy)
	}
	for _, d := range a.Diagnoses {
		if d.Code == "" || d.Message == "" || d.Fix == "" || (d.Severity != "warning" && d.Severity != "info") {
			t.Errorf("diagnosis %+v is incomplete", d)
		}
	}
	if again := run(t, nil, "", args...); again.stdout != r.stdout {
		t.Errorf("audit output differs between two runs")
	}
}

func TestAuditSeveralFilesAndStdin(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "audit", "--images", exampleImages, "--images", exampleAWS, "-o", "json", "--price-per-gb-month", "0.2")
	if r.code != 0 {
		t.Fatalf("audit = %d: %s", r.code, r.err)
	}
	got := decodeAudit(t, r.stdout)
	if len(got) != 2 || got[0].Counts.Unattributed != 0 || got[1].Counts.Unattributed == 0 || got[1].Repository != "team/app" {
		t.Errorf("audit of a snapshot and describe-images = %+v, want them in order, the second with unattributed images", got)
	}
	if got[0].Storage.PricePerGBMonth != 0.2 || got[0].Storage.MonthlyCostUSD != 1.88 {
		t.Errorf("audit storage at $0.20 = %+v", got[0].Storage)
	}

	text, err := os.ReadFile(exampleImages)
	if err != nil {
		t.Fatal(err)
	}
	in := run(t, nil, string(text), "audit", "--images", "-", "-o", "json")
	if in.code != 0 || len(decodeAudit(t, in.stdout)) != 1 {
		t.Errorf("audit --images - = %d: %s", in.code, in.err)
	}
}

func TestAuditMarkdownAndActions(t *testing.T) {
	t.Parallel()
	r := run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "", "audit", "--images", exampleImages, "-o", "markdown")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "### shipshape audit: `123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app`\n") ||
		!strings.Contains(r.stdout, "> [!WARNING]\n> **385 single-platform images") || !strings.Contains(r.stdout, "| What | Count | Meaning |") {
		t.Errorf("audit markdown = %d\n%.800s", r.code, r.stdout)
	}
	want := "::warning::123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app: 385 single-platform images are pushed as an index plus an untagged attestation manifest (770 extra manifests). Fix: build with --provenance=false"
	if !strings.Contains(r.err, want) || strings.Count(r.err, "::warning::") != 2 {
		t.Errorf("audit under Actions printed these annotations, want 2 starting with %q:\n%s", want, r.err)
	}
	if r := run(t, nil, "", "audit", "--images", exampleImages); strings.Contains(r.err, "::warning::") {
		t.Errorf("audit outside Actions printed annotations:\n%s", r.err)
	}
}

func TestAuditColourAndLintWarnings(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), []string{"audit", "--images", exampleImages, "--policy", andTrap, "--now", exampleNow},
		cli.IO{Out: &out, Err: &errb, OutTTY: true, Getenv: func(string) string { return "" }})
	if code != 0 || !strings.Contains(out.String(), "\x1b[33mwarning\x1b[0m: ") {
		t.Errorf("audit on a terminal = %d, want coloured severities:\n%s", code, out.String())
	}
	if !strings.Contains(errb.String(), andTrap+": warning: rules[0].selection.tagPrefixList: 5 prefixes in one list are ANDed") {
		t.Errorf("audit stderr lacks the policy's lint warning:\n%s", errb.String())
	}
	if !strings.Contains(out.String(), "\nPolicy at 2026-06-01T12:00:00Z: ") {
		t.Errorf("audit with a policy printed no policy line:\n%s", out.String())
	}
}

func TestAuditErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"audit"},
		{"audit", "--policy", examplePolicy},
		{"audit", "--images", exampleImages, "-o", "yaml"},
		{"audit", "--images", exampleImages, "--now", "yesterday"},
		{"audit", "--images", exampleImages, "--price-per-gb-month", "-1"},
		{"audit", "--images", exampleImages, "team/app"},
		{"audit", "--images", "-", "--policy", "-"},
		{"audit", "--images", "-", "--images", "-"},
		{"audit", "--images"},
		{"audit", "--bogus"},
	} {
		if r := run(t, nil, "", args...); r.code != 2 || !strings.Contains(r.err, "Run 'shipshape audit --help' for usage.") {
			t.Errorf("%v = %d %q, want usage error 2", args[1:], r.code, r.err)
		}
	}
	bad := writeFile(t, "bad.json", invalidPolicy)
	if r := run(t, nil, "", "audit", "--images", exampleImages, "--policy", bad); r.code != 1 || r.stdout != "" || !strings.Contains(r.err, bad+": rules[1].selection.countUnit") {
		t.Errorf("audit with an invalid policy = %d %q %q", r.code, r.stdout, r.err)
	}
	if r := run(t, nil, "", "audit", "--images", exampleImages, "--images", "no-such.json"); r.code != 1 ||
		r.err != "shipshape: reading no-such.json: no such file or directory\n" || r.stdout != "" {
		t.Errorf("audit of a missing file = %d %q %q", r.code, r.stdout, r.err)
	}
	garbage := writeFile(t, "images.json", `{"imageDetails": [{"imageDigest": "sha256:a", "imagePushedAt": "yesterday"}]}`)
	if r := run(t, nil, "", "audit", "--images", garbage); r.code != 1 || !strings.Contains(r.err, garbage+": ") {
		t.Errorf("audit of bad images = %d %q", r.code, r.err)
	}
}

func TestAuditHelp(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "audit", "--help")
	for _, want := range []string{"What the counts mean:", "superseded ", "orphans ", "::warning::", "Exit status: 0", "--images FILE", "--price-per-gb-month USD"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("audit --help = %d, lacks %q", r.code, want)
		}
	}
	if r := run(t, nil, "", "--help"); !strings.Contains(r.stdout, "\n  audit ") {
		t.Errorf("shipshape --help does not list audit:\n%s", r.stdout)
	}
}

// TestAuditAndPlanAgree: given the same inputs and shipshape.yaml (safety settings and
// price), audit --policy and plan report the same figures.
func TestAuditAndPlanAgree(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "shipshape.yaml", "pricePerGBMonth: 0.25\nsafety:\n  protectTags: [\"pr-*\"]\n  grace: 3d\n")
	common := []string{"--images", exampleImages, "--policy", examplePolicy, "--now", "2026-06-01T12:00:00Z", "--config", cfg, "-o", "json"}
	p := run(t, nil, "", append([]string{"plan"}, common...)...)
	a := run(t, nil, "", append([]string{"audit"}, common...)...)
	if p.code != 0 || a.code != 0 {
		t.Fatalf("plan = %d %s; audit = %d %s", p.code, p.err, a.code, a.err)
	}
	var pl struct {
		Summary struct {
			Expire            int     `json:"expire"`
			ReclaimedBytes    int64   `json:"reclaimedBytes"`
			MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
			PricePerGBMonth   float64 `json:"pricePerGBMonth"`
		} `json:"summary"`
	}
	var au []struct {
		Policy struct {
			Expire            int     `json:"expire"`
			ReclaimedBytes    int64   `json:"reclaimedBytes"`
			MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
		} `json:"policy"`
	}
	if err := json.Unmarshal([]byte(p.stdout), &pl); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(a.stdout), &au); err != nil || len(au) != 1 {
		t.Fatalf("audit -o json: %v\n%s", err, a.stdout)
	}
	s, r := pl.Summary, au[0].Policy
	if s.PricePerGBMonth != 0.25 || s.Expire != r.Expire || s.ReclaimedBytes != r.ReclaimedBytes || s.MonthlySavingsUSD != r.MonthlySavingsUSD {
		t.Errorf("plan: %d expire, %d bytes, $%.2f at $%.2f; audit: %d expire, %d bytes, $%.2f",
			s.Expire, s.ReclaimedBytes, s.MonthlySavingsUSD, s.PricePerGBMonth, r.Expire, r.ReclaimedBytes, r.MonthlySavingsUSD)
	}
}
