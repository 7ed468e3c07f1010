package lifecycle_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// The example data at the repository's root: a snapshot of 1183 manifests captured at
// exampleNow, and policies written for it.
const (
	exampleInventory = "../../examples/inventory.json"
	examplePolicies  = "../../examples/policies"
	exampleNow       = "2026-06-01T12:00:00Z"
)

// writeFile writes text to name in a new temporary directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// resolve is lifecycle.Resolve failing the test on an error.
func resolve(t *testing.T, f lifecycle.Flags) *lifecycle.Inputs {
	t.Helper()
	in, err := lifecycle.Resolve(context.Background(), f)
	if err != nil {
		t.Fatalf("Resolve(%+v) = %v", f, err)
	}
	return in
}

// loadPolicy is lifecycle.LoadPolicy failing the test on an error.
func loadPolicy(t *testing.T, name string) *policy.Policy {
	t.Helper()
	pf := lifecycle.LoadPolicy(nil, name)
	if pf.Err != nil {
		t.Fatalf("LoadPolicy(%s) = %v", name, pf.Err)
	}
	return pf.Policy
}

// TestResolve proves flags override shipshape.yaml over defaults, a flag value counts only when Set, and bad flags are *FlagError.
func TestResolve(t *testing.T) {
	t.Parallel()
	const pinned = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const listed = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cfg := writeFile(t, "shipshape.yaml", `pricePerGBMonth: 0.25
safety:
  protectTags: ["release-*"]
  protectDigests: ["`+pinned+`"]
  grace: 3d
  maxDeletePercent: 20
`)
	empty := writeFile(t, "shipshape.yaml", "{}\n")
	digests := writeFile(t, "digests.txt", "# pinned by the release pipeline\n"+listed+"\n")

	type want struct {
		Price, MaxDelete float64
		Grace            time.Duration
		ProtectTags      []string
	}
	tests := []struct {
		name string
		f    lifecycle.Flags
		want want
	}{
		{"the file alone", lifecycle.Flags{ConfigFile: cfg},
			want{0.25, 20, 72 * time.Hour, []string{"release-*"}}},
		{"flag values not set are ignored", lifecycle.Flags{ConfigFile: cfg, PricePerGBMonth: 0.5, MaxDeletePercent: 50},
			want{0.25, 20, 72 * time.Hour, []string{"release-*"}}},
		{"set flags override the file", lifecycle.Flags{ConfigFile: cfg, PricePerGBMonth: 0.5, PriceSet: true, MaxDeletePercent: 50, MaxDeleteSet: true, Grace: "48h"},
			want{0.5, 50, 48 * time.Hour, []string{"release-*"}}},
		{"a limit set to 0 lifts the file's", lifecycle.Flags{ConfigFile: cfg, MaxDeleteSet: true},
			want{0.25, 0, 72 * time.Hour, []string{"release-*"}}},
		{"grace in days", lifecycle.Flags{ConfigFile: cfg, Grace: "7d"},
			want{0.25, 20, 7 * 24 * time.Hour, []string{"release-*"}}},
		{"protected tags add to the file's", lifecycle.Flags{ConfigFile: cfg, ProtectTags: []string{"sha-*", "v*"}},
			want{0.25, 20, 72 * time.Hour, []string{"release-*", "sha-*", "v*"}}},
		{"no price anywhere takes the default", lifecycle.Flags{ConfigFile: empty},
			want{0.10, 0, 0, nil}},
		{"a price flag without a file price", lifecycle.Flags{ConfigFile: empty, PricePerGBMonth: 0.3, PriceSet: true},
			want{0.3, 0, 0, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := resolve(t, tt.f)
			s := in.Options.Safety
			got := want{in.Options.PricePerGBMonth, s.MaxDeletePercent, s.Grace, s.ProtectTags}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve() options (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("the file's protected tags are not changed", func(t *testing.T) {
		t.Parallel()
		in := resolve(t, lifecycle.Flags{ConfigFile: cfg, ProtectTags: []string{"sha-*"}})
		if diff := cmp.Diff([]string{"release-*"}, in.Config.Safety.ProtectTags); diff != "" {
			t.Errorf("Config.Safety.ProtectTags after Resolve (-want +got):\n%s", diff)
		}
	})

	t.Run("protected digests from the file and from files", func(t *testing.T) {
		t.Parallel()
		in := resolve(t, lifecycle.Flags{ConfigFile: cfg, ProtectDigestsFiles: []string{digests}})
		want := map[string]string{pinned: "shipshape.yaml", listed: digests + ":2"}
		if diff := cmp.Diff(want, in.Options.Safety.ProtectDigests); diff != "" {
			t.Errorf("ProtectDigests (-want +got):\n%s", diff)
		}
	})

	t.Run("now", func(t *testing.T) {
		t.Parallel()
		in := resolve(t, lifecycle.Flags{ConfigFile: empty, Now: "2026-06-01T14:00:00+02:00"})
		if want := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC); !in.Now.Equal(want) {
			t.Errorf("Resolve(Now: 2026-06-01T14:00:00+02:00).Now = %v, want %v", in.Now, want)
		}
		before := time.Now()
		in = resolve(t, lifecycle.Flags{ConfigFile: empty})
		if in.Now.Before(before) || in.Now.After(time.Now()) || in.Now.Location() != time.UTC {
			t.Errorf("Resolve() without Now: Now = %v, want the clock's time in UTC", in.Now)
		}
	})

	for _, tt := range []struct {
		name, flag string
		f          lifecycle.Flags
	}{
		{"a time that is not RFC 3339", "now", lifecycle.Flags{ConfigFile: cfg, Now: "2026-06-01"}},
		{"a grace that is no duration", "grace", lifecycle.Flags{ConfigFile: cfg, Grace: "soon"}},
		{"a negative price", "price-per-gb-month", lifecycle.Flags{ConfigFile: cfg, PricePerGBMonth: -1, PriceSet: true}},
		{"a limit over 100", "max-delete-percent", lifecycle.Flags{ConfigFile: cfg, MaxDeletePercent: 101, MaxDeleteSet: true}},
		{"a blank protected tag", "protect-tag", lifecycle.Flags{ConfigFile: cfg, ProtectTags: []string{" "}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := lifecycle.Resolve(context.Background(), tt.f)
			var fe *lifecycle.FlagError
			if !errors.As(err, &fe) || fe.Flag != tt.flag || !strings.HasPrefix(err.Error(), "--"+tt.flag+": ") {
				t.Fatalf("Resolve() = %v, %v; want a *FlagError naming --%s", in, err, tt.flag)
			}
		})
	}

	t.Run("a missing config file", func(t *testing.T) {
		t.Parallel()
		missing := filepath.Join(t.TempDir(), "shipshape.yaml")
		in, err := lifecycle.Resolve(context.Background(), lifecycle.Flags{ConfigFile: missing})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Resolve(ConfigFile: missing) = %v, %v; want an error naming %s that wraps fs.ErrNotExist", in, err, missing)
		}
	})
}

// reclaimOf is what audit reports of a plan's summary.
func reclaimOf(in *lifecycle.Inputs, out *lifecycle.PlanOutcome) *audit.Reclaim {
	s := out.Plan.Summary
	return &audit.Reclaim{
		Now: in.Now, Expire: s.Expire, Transition: s.Transition, Keep: s.Keep,
		ReclaimedBytes: s.ReclaimedBytes, TransitionedBytes: s.TransitionedBytes, MonthlySavingsUSD: s.MonthlySavingsUSD,
	}
}

// TestPlanAndAuditAgree proves Plan and Audit report the same figures from the same inputs, and Audit reads Files itself.
func TestPlanAndAuditAgree(t *testing.T) {
	t.Parallel()
	cfg := writeFile(t, "shipshape.yaml", "pricePerGBMonth: 0.25\nsafety:\n  protectTags: [\"pr-*\"]\n  grace: 3d\n")
	in := resolve(t, lifecycle.Flags{ConfigFile: cfg, Now: exampleNow})
	inv, err := lifecycle.ReadInventory(nil, exampleInventory)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Len() != 1183 {
		t.Fatalf("%s holds %d images, want 1183", exampleInventory, inv.Len())
	}
	files, err := filepath.Glob(filepath.Join(examplePolicies, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example policies in %s (%v)", examplePolicies, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			pol := loadPolicy(t, file)
			out, err := lifecycle.Plan(context.Background(), lifecycle.PlanRequest{Inventory: inv, Inputs: in, Policy: pol})
			if err != nil {
				t.Fatal(err)
			}
			if out.Saved != nil || out.Inventory != inv {
				t.Errorf("Plan() of an inventory: Saved = %v, Inventory = %p; want nil and the inventory given (%p)", out.Saved, out.Inventory, inv)
			}
			if out.Plan.Summary.PricePerGBMonth != 0.25 {
				t.Errorf("plan priced at %v per GB-month, want shipshape.yaml's 0.25", out.Plan.Summary.PricePerGBMonth)
			}
			reports, err := lifecycle.Audit(context.Background(), lifecycle.AuditRequest{
				Repositories: []lifecycle.Audited{{Inventory: inv}},
				Files:        []string{exampleInventory},
				Inputs:       in,
				Policy:       pol,
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(reports) != 2 {
				t.Fatalf("Audit() of one inventory and one file = %d reports, want 2", len(reports))
			}
			if diff := cmp.Diff(reclaimOf(in, out), reports[0].Policy); diff != "" {
				t.Errorf("audit's policy figures differ from the plan's summary (-plan +audit):\n%s", diff)
			}
			if diff := cmp.Diff(reports[0], reports[1]); diff != "" {
				t.Errorf("audit of the file differs from audit of the inventory read (-read +file):\n%s", diff)
			}
		})
	}

	// The figures themselves, for the policy the README shows: pr- builds are protected by
	// shipshape.yaml, so none of them expires though rule 5 selects those past two weeks.
	t.Run("keep-streams figures", func(t *testing.T) {
		t.Parallel()
		pol := loadPolicy(t, filepath.Join(examplePolicies, "keep-streams.json"))
		out, err := lifecycle.Plan(context.Background(), lifecycle.PlanRequest{Inventory: inv, Inputs: in, Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		s := out.Plan.Summary
		got := [4]any{s.Images, s.Expire, s.ReclaimedBytes, s.MonthlySavingsUSD}
		if want := [4]any{1183, 872, int64(6_880_840_470), 1.60}; got != want {
			t.Errorf("keep-streams plan: images, expire, reclaimed bytes, savings = %v, want %v", got, want)
		}
		for _, it := range out.Plan.Items() {
			for _, tag := range it.Tags {
				if strings.HasPrefix(tag, "pr-") && it.Action != policy.Keep {
					t.Errorf("%s tagged %s: %s, want keep (protected by shipshape.yaml)", it.Digest, tag, it.Action)
				}
			}
		}
		// Without the protected tags, the same policy expires 162 manifests more.
		bare := resolve(t, lifecycle.Flags{ConfigFile: writeFile(t, "shipshape.yaml", "pricePerGBMonth: 0.25\nsafety:\n  grace: 3d\n"), Now: exampleNow})
		out, err = lifecycle.Plan(context.Background(), lifecycle.PlanRequest{Inventory: inv, Inputs: bare, Policy: pol})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.Plan.Summary.Expire; got != 1034 {
			t.Errorf("keep-streams plan without protected tags expires %d, want 1034", got)
		}
	})
}
