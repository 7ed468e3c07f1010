package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/pins"
)

func TestPinCommandsOnStore(t *testing.T) {
	t.Parallel()
	store := "sqlite://" + filepath.Join(t.TempDir(), "pins.db")
	env := map[string]string{"USER": "alice"}
	d1, d2 := "sha256:"+strings.Repeat("1", 64), "sha256:"+strings.Repeat("2", 64)
	sha := strings.Repeat("a", 40)

	steps := []struct {
		name string
		args []string
		code int
		out  string // a part of stdout
		err  string // a part of stderr
	}{
		{"set", []string{"pin", "set", "api", "--digest", d1, "--source-sha", sha, "--repository", "ghcr.io/org/api"}, 0, "version:       1", ""},
		{"get", []string{"pin", "get", "api"}, 0, "by:            alice", ""},
		{"compare-and-swap", []string{"pin", "set", "api", "--digest", d2, "--source-sha", sha, "--expect", d1}, 0, "version:       2", ""},
		{"stale compare-and-swap", []string{"pin", "set", "api", "--digest", d1, "--source-sha", sha, "--expect", d1}, 1, "", "compare-and-swap conflict, nothing changed: pin api does not hold " + d1},
		{"list", []string{"pin", "list"}, 0, "api   " + d2, ""},
		{"bad digest", []string{"pin", "set", "api", "--digest", "latest", "--source-sha", sha}, 2, "", "--digest: must be sha256: and 64 lowercase hex digits, found \"latest\""},
		{"bad output", []string{"pin", "list", "-o", "yaml"}, 2, "", "--output"},
		{"delete", []string{"pin", "delete", "api"}, 0, "", "deleted pin api"},
		{"get deleted", []string{"pin", "get", "api"}, 1, "", "pin api: pin not found"},
		{"delete again", []string{"pin", "delete", "api"}, 1, "", "pin not found"},
		{"history", []string{"pin", "history", "api"}, 0, "3        delete", ""},
		{"both server and store", []string{"pin", "list", "--server", "http://127.0.0.1:1"}, 2, "", "not both"},
	}
	for _, s := range steps {
		r := run(t, env, "", append(s.args, "--store", store)...)
		if r.code != s.code || !strings.Contains(r.stdout, s.out) || !strings.Contains(r.err, s.err) {
			t.Fatalf("%s: shipshape %v = %d\nstdout %q\nstderr %q\nwant %d, stdout with %q, stderr with %q",
				s.name, s.args, r.code, r.stdout, r.err, s.code, s.out, s.err)
		}
	}

	r := run(t, env, "", "pin", "history", "api", "--store", store, "-o", "json")
	var h struct {
		Changes []pins.Change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("history -o json %q: %v", r.stdout, err)
	}
	var got []string
	for _, c := range h.Changes {
		got = append(got, c.Op+" "+c.UpdatedBy)
	}
	if diff := cmp.Diff([]string{"set alice", "set alice", "delete alice"}, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

// TestPinNeedsAServerOrAStore: a missing $SHIPSHAPE_SERVER in CI must fail the job, not
// write a pin to a local store nobody reads.
func TestPinNeedsAServerOrAStore(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_DATA_HOME": filepath.Join(home, "data")}
	for _, args := range [][]string{
		{"pin", "set", "api", "--digest", "sha256:" + strings.Repeat("1", 64), "--source-sha", strings.Repeat("a", 40)},
		{"pin", "list"},
		{"pin", "get", "api"},
	} {
		r := run(t, env, "", args...)
		if r.code != 2 || !strings.Contains(r.err, "no pin server: give --server URL or set $SHIPSHAPE_SERVER") || !strings.Contains(r.err, "Run 'shipshape "+strings.Join(args[:2], " ")+" --help'") {
			t.Errorf("%v = %d %q, want exit 2 asking for --server or --store", args, r.code, r.err)
		}
	}
}

// TestTyposAreUsageErrors: a mistyped subcommand or flag fails (exit 2) with the closest
// name and the subcommand's help, instead of printing help and passing a CI step.
func TestTyposAreUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"policy", "valdate", "x.json"}, `unknown command "valdate" for "shipshape policy"; did you mean validate?`},
		{[]string{"pin", "lst"}, `did you mean list?`},
		{[]string{"labels", "chek", "x"}, `did you mean check?`},
		{[]string{"polcy", "lint"}, `unknown command "polcy" for "shipshape"; did you mean policy?`},
		{[]string{"plan", "--polcy", "p.json"}, "unknown flag: --polcy; did you mean --policy?"},
		{[]string{"apply", "--dry-rn"}, "unknown flag: --dry-rn"},
	} {
		r := run(t, nil, "", tc.args...)
		if r.code != 2 || !strings.Contains(r.err, tc.want) || !strings.Contains(r.err, "--help' for usage") {
			t.Errorf("%v = %d %q, want exit 2 with %q", tc.args, r.code, r.err, tc.want)
		}
	}
	if r := run(t, nil, "", "policy"); r.code != 0 || !strings.Contains(r.stdout, "Available Commands") {
		t.Errorf("policy alone = %d, want its help", r.code)
	}
}
