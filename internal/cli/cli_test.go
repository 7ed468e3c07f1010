package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/cli"
)

const (
	examplePolicy = "../../examples/policies/keep-streams.json"
	andTrap       = "../../examples/policies/and-trap.json"
	exampleImages = "../../examples/inventory.json"
	exampleAWS    = "../../examples/describe-images.json"
	exampleNow    = "2026-06-01T12:00:00Z"
)

type result struct {
	code        int
	stdout, err string
}

// run runs the command line args with env as the environment. Unless env says otherwise,
// $XDG_STATE_HOME is a directory of the test's own, so that journals and the deletion log
// stay out of the home directory.
func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	if _, ok := env["XDG_STATE_HOME"]; !ok {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["XDG_STATE_HOME"] = t.TempDir()
	}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, cli.IO{
		In: strings.NewReader(stdin), Out: &out, Err: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, out.String(), errb.String()}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const invalidPolicy = `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "keep three untagged images",
      "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3},
      "action": {"type": "expire"}
    },
    {
      "rulePriority": 2,
      "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 3},
      "action": {"type": "Expire"}
    }
  ]
}
`

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "policy.json", invalidPolicy)
	malformed := writeFile(t, "broken.json", "{\n  \"rules\": [\n    {\"rulePriority\": 1\n  ]\n}\n")

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "policy", "validate", examplePolicy, andTrap)
		want := examplePolicy + ": valid (5 rules)\n" + andTrap + ": valid (2 rules)\n"
		if r.code != 0 || r.stdout != want {
			t.Errorf("validate = %d %q, want 0 %q", r.code, r.stdout, want)
		}
	})
	t.Run("invalid names file and path", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "policy", "validate", examplePolicy, bad)
		want := examplePolicy + ": valid (5 rules)\n" +
			bad + ": rules[1].selection.countUnit: must be omitted when countType is imageCountMoreThan\n" +
			bad + `: rules[1].action.type: must be one of "expire", "transition", found "Expire"; values are case-sensitive: write "expire"` + "\n"
		if r.code != 1 {
			t.Errorf("validate exit = %d, want 1", r.code)
		}
		if diff := cmp.Diff(want, r.stdout); diff != "" {
			t.Errorf("validate output (-want +got):\n%s", diff)
		}
	})
	t.Run("malformed JSON gives line and column", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "policy", "validate", malformed)
		if r.code != 1 || !strings.HasPrefix(r.stdout, malformed+":4:3: invalid JSON: ") {
			t.Errorf("validate = %d %q, want 1 and %s:4:3: invalid JSON", r.code, r.stdout, malformed)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "policy", "validate", "no-such.json")
		if r.code != 1 || r.stdout != "no-such.json: reading no-such.json: no such file or directory\n" {
			t.Errorf("validate = %d %q", r.code, r.stdout)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		t.Parallel()
		text, _ := os.ReadFile(examplePolicy)
		r := run(t, nil, string(text), "policy", "validate", "-")
		if r.code != 0 || r.stdout != "-: valid (5 rules)\n" {
			t.Errorf("validate - = %d %q", r.code, r.stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		r := run(t, nil, "", "policy", "validate", "-o", "json", bad)
		var got []struct {
			File   string `json:"file"`
			Valid  bool   `json:"valid"`
			Errors []struct {
				Path    string `json:"path"`
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("validate -o json: %v\n%s", err, r.stdout)
		}
		if r.code != 1 || len(got) != 1 || got[0].Valid || len(got[0].Errors) != 2 ||
			got[0].Errors[0].Path != "rules[1].selection.countUnit" || got[0].Errors[0].Line != 11 {
			t.Errorf("validate -o json = %d %+v", r.code, got)
		}
	})
	t.Run("github actions annotations", func(t *testing.T) {
		t.Parallel()
		r := run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "", "policy", "validate", bad)
		if !strings.Contains(r.stdout, "::error file="+bad+",line=11,col=") {
			t.Errorf("validate under Actions printed no ::error annotation:\n%s", r.stdout)
		}
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		if r := run(t, nil, "", "policy", "validate"); r.code != 2 {
			t.Errorf("validate with no files = %d, want 2", r.code)
		}
		if r := run(t, nil, "", "policy", "validate", "--bogus", "x"); r.code != 2 {
			t.Errorf("validate --bogus = %d, want 2", r.code)
		}
	})
}

func TestPolicyFmt(t *testing.T) {
	t.Parallel()
	messy := `{"rules": [
	  {"rulePriority": 2, "selection": {"tagStatus": "tagged", "tagPrefixList": ["v", "release"], "countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}},
	  {"rulePriority": 1, "selection": {"tagStatus": "untagged", "storageClass": "standard", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}}]}`
	file := writeFile(t, "p.json", messy)

	r := run(t, nil, "", "policy", "fmt", file)
	if r.code != 0 || !strings.Contains(r.stdout, "\"release\",\n          \"v\"") || strings.Contains(r.stdout, "standard") {
		t.Fatalf("fmt = %d\n%s", r.code, r.stdout)
	}
	formatted := r.stdout
	if r := run(t, nil, "", "policy", "fmt", "--check", file); r.code != 1 || !strings.Contains(r.stdout, "not in normalised form") {
		t.Errorf("fmt --check on a messy file = %d %q, want 1", r.code, r.stdout)
	}
	if r := run(t, nil, "", "policy", "fmt", "-w", file); r.code != 0 {
		t.Fatalf("fmt -w = %d %s", r.code, r.err)
	}
	got, _ := os.ReadFile(file)
	if string(got) != formatted {
		t.Errorf("fmt -w wrote\n%s\nwant\n%s", got, formatted)
	}
	if r := run(t, nil, "", "policy", "fmt", "--check", file); r.code != 0 {
		t.Errorf("fmt --check after -w = %d %q, want 0", r.code, r.stdout)
	}
	bad := writeFile(t, "bad.json", invalidPolicy)
	if r := run(t, nil, "", "policy", "fmt", "-w", bad); r.code != 1 {
		t.Errorf("fmt on an invalid policy = %d, want 1", r.code)
	}
	if after, _ := os.ReadFile(bad); string(after) != invalidPolicy {
		t.Errorf("fmt -w changed an invalid policy")
	}
}

func TestPolicyLint(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "policy", "lint", andTrap, examplePolicy)
	if r.code != 0 {
		t.Errorf("lint = %d, want 0 (warnings do not fail without --strict)", r.code)
	}
	if !strings.HasPrefix(r.stdout, andTrap+": rules[0].selection.tagPrefixList: 5 prefixes in one list are ANDed") ||
		!strings.HasSuffix(r.stdout, "[and-trap]\n") || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("lint output:\n%s", r.stdout)
	}
	if r.err != "2 files, 0 invalid, 1 warning\n" {
		t.Errorf("lint stderr = %q", r.err)
	}
	if r := run(t, nil, "", "policy", "lint", "--strict", andTrap); r.code != 1 {
		t.Errorf("lint --strict with a warning = %d, want 1", r.code)
	}
	if r := run(t, nil, "", "policy", "lint", "--strict", examplePolicy); r.code != 0 {
		t.Errorf("lint --strict on a clean policy = %d, want 0: %s", r.code, r.stdout)
	}
	r = run(t, map[string]string{"GITHUB_ACTIONS": "true"}, "", "policy", "lint", andTrap)
	if !strings.Contains(r.stdout, "::warning file="+strings.ReplaceAll(andTrap, ":", "%3A")+",line=8,col=") {
		t.Errorf("lint under Actions printed no ::warning annotation:\n%s", r.stdout)
	}
	bad := writeFile(t, "bad.json", invalidPolicy)
	if r := run(t, nil, "", "policy", "lint", bad); r.code != 1 {
		t.Errorf("lint on an invalid policy = %d, want 1", r.code)
	}
}

type planJSON struct {
	Repository string    `json:"repository"`
	Now        time.Time `json:"now"`
	Summary    struct {
		Images            int     `json:"images"`
		Expire            int     `json:"expire"`
		Transition        int     `json:"transition"`
		Keep              int     `json:"keep"`
		ReclaimedBytes    int64   `json:"reclaimedBytes"`
		MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	} `json:"summary"`
	Images []struct {
		Digest       string     `json:"digest"`
		Tags         []string   `json:"tags"`
		PushedAt     *time.Time `json:"pushedAt"`
		StorageClass string     `json:"storageClass"`
		Action       string     `json:"action"`
		RulePriority int        `json:"rulePriority"`
		Reason       string     `json:"reason"`
	} `json:"images"`
	Warnings []string `json:"warnings"`
}

func TestPlanJSON(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan = %d: %s", r.code, r.err)
	}
	var p planJSON
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p.Repository != "123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app" || !p.Now.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("plan repository/now = %q %v", p.Repository, p.Now)
	}
	s := p.Summary
	if s.Images != len(p.Images) || s.Expire+s.Transition+s.Keep != s.Images || s.Expire == 0 || s.Keep == 0 {
		t.Errorf("plan summary %+v does not add up over %d images", s, len(p.Images))
	}
	if s.ReclaimedBytes <= 0 || s.MonthlySavingsUSD <= 0 {
		t.Errorf("plan reclaims %d bytes, $%v", s.ReclaimedBytes, s.MonthlySavingsUSD)
	}
	counts := map[string]int{}
	for i, img := range p.Images {
		counts[img.Action]++
		if img.Reason == "" || img.StorageClass == "" || img.Tags == nil {
			t.Errorf("image %d %s lacks reason, storage class or tags", i, img.Digest)
		}
		if img.Action != "keep" && img.RulePriority == 0 {
			t.Errorf("image %s is %s without a rule", img.Digest, img.Action)
		}
		if i > 0 && img.PushedAt != nil && p.Images[i-1].PushedAt != nil && img.PushedAt.After(*p.Images[i-1].PushedAt) {
			t.Errorf("images are not ordered newest first at %d", i)
		}
	}
	if counts["expire"] != s.Expire || counts["keep"] != s.Keep {
		t.Errorf("summary %+v disagrees with images %v", s, counts)
	}
	// The main tag's image survives; nothing tagged main or latest is expired.
	for _, img := range p.Images {
		for _, tag := range img.Tags {
			if (tag == "main" || tag == "latest") && img.Action != "keep" {
				t.Errorf("plan expires %s tagged %s", img.Digest, tag)
			}
		}
	}
	again := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json")
	if again.stdout != r.stdout {
		t.Errorf("plan output differs between two runs")
	}
}

func TestPlanFormatsAndExitCodes(t *testing.T) {
	t.Parallel()
	base := []string{"plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow}

	r := run(t, nil, "", base...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Plan for 123456789012.dkr.ecr.us-east-2.amazonaws.com/team/app at 2026-06-01T12:00:00Z\n\nRULE  IDENTIFIED") ||
		!strings.Contains(r.stdout, "\nSummary: ") || !strings.Contains(r.stdout, "saving $") || strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("plan table = %d\n%.600s", r.code, r.stdout)
	}
	r = run(t, nil, "", append(base, "-o", "markdown")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "### shipshape plan: `") || !strings.Contains(r.stdout, "| Rule | Identified |") {
		t.Errorf("plan markdown = %d\n%.400s", r.code, r.stdout)
	}
	if r := run(t, nil, "", append(base, "--detailed-exitcode", "-o", "json")...); r.code != 3 {
		t.Errorf("plan --detailed-exitcode with changes = %d, want 3", r.code)
	}
	keepAll := writeFile(t, "keep.json", `{"rules": [{"rulePriority": 1, "description": "keep nearly everything",
	  "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100000}, "action": {"type": "expire"}}]}`)
	if r := run(t, nil, "", "plan", "--policy", keepAll, "--images", exampleImages, "--now", exampleNow, "--detailed-exitcode"); r.code != 0 {
		t.Errorf("plan --detailed-exitcode without changes = %d, want 0", r.code)
	}
	for _, args := range [][]string{
		append(base[:len(base):len(base)], "--now", "yesterday"),
		append(base[:len(base):len(base)], "-o", "yaml"),
		{"plan", "--policy", examplePolicy},
		{"plan", "--policy", "-", "--images", "-"},
		append(base[:len(base):len(base)], "extra-arg"),
	} {
		if r := run(t, nil, "", args...); r.code != 2 {
			t.Errorf("plan %v = %d, want usage error 2 (%s)", args[1:], r.code, r.err)
		}
	}
	bad := writeFile(t, "bad.json", invalidPolicy)
	if r := run(t, nil, "", "plan", "--policy", bad, "--images", exampleImages); r.code != 1 || r.stdout != "" || !strings.Contains(r.err, bad+": rules[1].selection.countUnit") {
		t.Errorf("plan with an invalid policy = %d %q %q, want 1, nothing on stdout and the problems on stderr", r.code, r.stdout, r.err)
	}
	garbage := writeFile(t, "images.json", `{"imageDetails": [{"imageDigest": "sha256:a", "imagePushedAt": "yesterday"}]}`)
	if r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", garbage); r.code != 1 || !strings.Contains(r.err, garbage+": ") {
		t.Errorf("plan with bad images = %d %q", r.code, r.err)
	}
}

func TestPlanColourAndLintWarnings(t *testing.T) {
	t.Parallel()
	args := []string{"plan", "--policy", andTrap, "--images", exampleImages, "--now", exampleNow}
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, cli.IO{Out: &out, Err: &errb, OutTTY: true, Getenv: func(string) string { return "" }})
	if code != 0 || !strings.Contains(out.String(), "\x1b[31mexpire") {
		t.Errorf("plan on a terminal = %d, want coloured actions", code)
	}
	if !strings.Contains(errb.String(), andTrap+": warning: rules[0].selection.tagPrefixList: 5 prefixes in one list are ANDed") {
		t.Errorf("plan stderr lacks the policy's lint warning:\n%s", errb.String())
	}
	out.Reset()
	cli.Run(context.Background(), args, cli.IO{Out: &out, Err: &errb, OutTTY: true, Getenv: func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}})
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("plan with NO_COLOR set printed colour")
	}
}

func TestPlanFromDescribeImages(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleAWS, "--now", exampleNow, "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan = %d: %s", r.code, r.err)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatal(err)
	}
	if p.Summary.Images == 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "indexes have no list of children") {
		t.Errorf("plan from describe-images: %d images, warnings %q", p.Summary.Images, p.Warnings)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "shipshape ") {
		t.Errorf("version = %d %q", r.code, r.stdout)
	}
	if r := run(t, nil, "", "no-such-command"); r.code != 2 {
		t.Errorf("unknown command = %d, want 2", r.code)
	}
}

// TestEveryCommandHasHelp runs --help on every command: each long description is read from
// its text file, and a missing one would panic.
func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "shipshape")), "--help")
		if r := run(t, nil, "", args...); r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%v = %d\n%s%s", args, r.code, r.stdout, r.err)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.NewRoot(cli.IO{Getenv: func(string) string { return "" }}))
}
