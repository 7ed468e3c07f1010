package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyProblemsOnStderr checks that a command whose standard output is a plan, a report
// or a policy writes the problems of an invalid policy to standard error only, so that
// "shipshape plan -o json ... > plan.json" never leaves them in the file.
func TestPolicyProblemsOnStderr(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.json", invalidPolicy)
	want := bad + ": rules[1].selection.countUnit: must be omitted when countType is imageCountMoreThan\n"
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"plan json", nil, []string{"plan", "-o", "json", "--policy", bad, "--images", exampleImages}, want},
		{"plan table", nil, []string{"plan", "--policy", bad, "--images", exampleImages}, want},
		{"plan markdown", nil, []string{"plan", "-o", "markdown", "--policy", bad, "--images", exampleAWS}, want},
		{"plan under Actions", map[string]string{"GITHUB_ACTIONS": "true"}, []string{"plan", "-o", "json", "--policy", bad, "--images", exampleImages}, "::error file="},
		{"plan, missing policy", nil, []string{"plan", "-o", "json", "--policy", "no-such.json", "--images", exampleImages}, "no-such.json: reading no-such.json: no such file or directory\n"},
		{"apply json", nil, []string{"apply", "-o", "json", "--policy", bad, "localhost:5000/team/app", "--yes"}, want},
		{"audit json", nil, []string{"audit", "-o", "json", "--policy", bad, "--images", exampleImages}, want},
		{"policy fmt", nil, []string{"policy", "fmt", bad}, want},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tt.env, "", tt.args...)
			if r.code != 1 || r.stdout != "" || !strings.Contains(r.err, tt.want) {
				t.Errorf("%s = %d, stdout %q, stderr %q; want 1, nothing on stdout and %q on stderr", strings.Join(tt.args, " "), r.code, r.stdout, r.err, tt.want)
			}
		})
	}
}

// TestPolicyValidateProblemsOnStdout checks the other side: for policy validate and lint the
// problems are the report, on standard output.
func TestPolicyValidateProblemsOnStdout(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.json", invalidPolicy)
	want := bad + ": rules[1].selection.countUnit: must be omitted when countType is imageCountMoreThan\n"
	for _, args := range [][]string{
		{"policy", "validate", bad},
		{"policy", "lint", bad},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, nil, "", args...)
			if r.code != 1 || !strings.HasPrefix(r.stdout, want) {
				t.Errorf("%s = %d, stdout %q; want 1 and stdout starting %q", strings.Join(args, " "), r.code, r.stdout, want)
			}
		})
	}
	r := run(t, nil, "", "policy", "validate", "-o", "json", bad)
	if r.code != 1 || !strings.HasPrefix(r.stdout, "[\n") || !strings.Contains(r.stdout, `"valid": false`) || r.err != "" {
		t.Errorf("policy validate -o json = %d, stdout %q, stderr %q; want 1 and the JSON report on stdout", r.code, r.stdout, r.err)
	}
}

// TestExamplePoliciesAreNormalised keeps the bundled policies in the form policy fmt
// writes, so that users who copy them pass fmt --check.
func TestExamplePoliciesAreNormalised(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "policies", "*.json"))
	if err != nil || len(files) < 3 {
		t.Fatalf("example policies: %v %v", files, err)
	}
	if r := run(t, nil, "", append([]string{"policy", "fmt", "--check"}, files...)...); r.code != 0 || r.stdout != "" {
		t.Errorf("policy fmt --check examples = %d\n%s%s", r.code, r.stdout, r.err)
	}
}

// TestFmtManyFiles: fmt takes several files as gofmt does; --check lists each file that is
// not normalised, --write fixes each, and an invalid file fails without stopping the rest.
func TestFmtManyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	messy := `{"rules":[{"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}},` +
		`{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["v","b"],"countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}`
	a, b, bad := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json"), filepath.Join(dir, "bad.json")
	for name, text := range map[string]string{a: messy, b: messy, bad: `{"rules": []}`} {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, nil, "", "policy", "fmt", "--check", a, b)
	if r.code != 1 || strings.Count(r.stdout, "not in normalised form") != 2 {
		t.Fatalf("fmt --check a b = %d %q, want both listed", r.code, r.stdout)
	}
	if r := run(t, nil, "", "policy", "fmt", a, b); r.code != 0 || strings.Count(r.stdout, `"rules"`) != 2 {
		t.Errorf("fmt a b = %d, want both printed:\n%s", r.code, r.stdout)
	}
	r = run(t, nil, "", "policy", "fmt", "--write", a, bad, b)
	if r.code != 1 || !strings.Contains(r.err, "bad.json") {
		t.Errorf("fmt --write a bad b = %d %q, want exit 1 naming bad.json", r.code, r.err)
	}
	if r := run(t, nil, "", "policy", "fmt", "--check", a, b); r.code != 0 {
		t.Errorf("after --write, fmt --check = %d %q", r.code, r.stdout)
	}
	if data, _ := os.ReadFile(bad); string(data) != `{"rules": []}` {
		t.Errorf("the invalid file was changed: %s", data)
	}
}
