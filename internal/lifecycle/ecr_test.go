package lifecycle_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

// awsEnv gives the AWS SDK's default chain the ECR test server's base key and nothing from
// the machine: no shared files, no instance metadata, no endpoint (shipshape.yaml names
// it). It sets the process's environment, so the test calling it cannot run in parallel.
func awsEnv(t *testing.T) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": ecrtest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": ecrtest.SecretAccessKey, "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_REGION": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_ECR": "",
		"AWS_CONFIG_FILE": none, "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

// TestSetPolicyOnECR proves SetPolicy, on ECR through Open, writes once, keeps an equivalent policy, asks first, and fails off ECR.
func TestSetPolicyOnECR(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	cfg := writeFile(t, "shipshape.yaml", "registries:\n  main:\n    account: \""+ecrtest.Account+"\"\n    endpoint: "+s.URL+"\n")
	in := resolve(t, lifecycle.Flags{ConfigFile: cfg})
	ref := ecrtest.Account + ".dkr.ecr.us-east-1.amazonaws.com/team/app"
	target, err := lifecycle.Open(ctx, ref, in.Config, lifecycle.RegistryOptions{Concurrency: 1})
	if err != nil {
		t.Fatalf("Open(%s) = %v", ref, err)
	}
	if target.Host != ecrtest.Account+".dkr.ecr.us-east-1.amazonaws.com" || target.Repo != "team/app" || target.Ref != ref {
		t.Errorf("Open(%s) = host %q, repo %q, ref %q", ref, target.Host, target.Repo, target.Ref)
	}
	text, err := os.ReadFile(filepath.Join(examplePolicies, "keep-streams.json"))
	if err != nil {
		t.Fatal(err)
	}

	var asked []bool
	ask := func(answer bool) func(bool) bool {
		return func(replace bool) bool { asked = append(asked, replace); return answer }
	}
	step := func(name string, text []byte, answer, wantWrote bool, wantErr error, wantAsked []bool, wantPuts int) {
		t.Helper()
		asked = nil
		wrote, err := lifecycle.SetPolicy(ctx, target, text, mustLoad(t, string(text)), ask(answer))
		if wrote != wantWrote || !errors.Is(err, wantErr) {
			t.Errorf("%s: SetPolicy() = %v, %v; want %v, %v", name, wrote, err, wantWrote, wantErr)
		}
		if diff := cmp.Diff(wantAsked, asked); diff != "" {
			t.Errorf("%s: confirm asked (replace?) (-want +got):\n%s", name, diff)
		}
		if n := s.Calls("PutLifecyclePolicy"); n != wantPuts {
			t.Errorf("%s: %d PutLifecyclePolicy calls so far, want %d", name, n, wantPuts)
		}
	}

	step("told no", text, false, false, lifecycle.ErrNotConfirmed, []bool{false}, 0)
	if r, _ := s.Repository("team/app"); r.LifecyclePolicy != "" {
		t.Fatalf("after a refused confirmation the repository holds a policy: %s", r.LifecyclePolicy)
	}
	step("first write", text, true, true, nil, []bool{false}, 1)
	if r, _ := s.Repository("team/app"); r.LifecyclePolicy != strings.TrimSpace(string(text)) {
		t.Errorf("the repository holds %q, want the file's text trimmed", r.LifecyclePolicy)
	}
	step("equivalent policy held", text, true, false, nil, nil, 1)
	other, err := os.ReadFile(filepath.Join(examplePolicies, "and-trap.json"))
	if err != nil {
		t.Fatal(err)
	}
	step("another policy, told no", other, false, false, lifecycle.ErrNotConfirmed, []bool{true}, 1)
	step("another policy replaces it", other, true, true, nil, []bool{true}, 2)
	if n := s.Calls("GetLifecyclePolicy"); n != 5 {
		t.Errorf("5 SetPolicy calls made %d GetLifecyclePolicy calls, want 5", n)
	}

	host := registrytest.NewInProcess(t)
	generic := open(t, host+"/team/app")
	if wrote, err := lifecycle.SetPolicy(ctx, generic, text, mustLoad(t, string(text)), ask(true)); wrote || !errors.Is(err, lifecycle.ErrNoNativePolicies) || !strings.HasPrefix(err.Error(), host+": ") {
		t.Errorf("SetPolicy() on %s = %v, %v; want ErrNoNativePolicies naming the host", host, wrote, err)
	}
}

// outcomes sums up an ensure report: "repository setting" → status, and the errors.
func outcomes(rep settings.Report) (map[string]settings.Status, []string) {
	out := map[string]settings.Status{}
	for _, o := range rep.Outcomes {
		out[o.Repository+" "+string(o.Setting)] = o.Status
	}
	return out, rep.Errors
}

// TestEnsureOnECR proves EnsureConfig refuses unknown --repo and Ensure changes only what is asked, converges, then writes nothing.
func TestEnsureOnECR(t *testing.T) {
	awsEnv(t)
	ctx := context.Background()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.CreateRepository("team/web", ecrtest.Repo{})
	text, err := os.ReadFile(filepath.Join(examplePolicies, "keep-streams.json"))
	if err != nil {
		t.Fatal(err)
	}
	registries := "registries:\n  main:\n    account: \"" + ecrtest.Account + "\"\n    region: us-east-1\n    endpoint: " + s.URL + "\n"
	path := writeFile(t, "shipshape.yaml", registries+`repositories:
  - names: ["team/*"]
    lifecyclePolicy: policy.json
    scanOnPush: true
  - names: [infra/api]
    create: true
`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "policy.json"), text, 0o644); err != nil {
		t.Fatal(err)
	}

	if _, err := lifecycle.EnsureConfig(path, []string{"team/app", "other/x"}); err == nil || !strings.Contains(err.Error(), "--repo other/x: no entry of repositories in "+path+" matches") {
		t.Errorf("EnsureConfig(--repo other/x) = %v, want an error naming other/x", err)
	}
	bare := writeFile(t, "shipshape.yaml", registries)
	if _, err := lifecycle.EnsureConfig(bare, nil); err == nil || !strings.Contains(err.Error(), "declares no repositories") {
		t.Errorf("EnsureConfig(no repositories) = %v, want an error saying so", err)
	}
	cfg, err := lifecycle.EnsureConfig(path, []string{"team/app"})
	if err != nil {
		t.Fatal(err)
	}

	type want = map[string]settings.Status
	for _, run := range []struct {
		name  string
		repos []string
		want  want
	}{
		{"--repo team/app", []string{"team/app"}, want{
			"team/app lifecyclePolicy": settings.Updated, "team/app scanOnPush": settings.Updated}},
		{"every repository", nil, want{
			"team/app lifecyclePolicy": settings.Unchanged, "team/app scanOnPush": settings.Unchanged,
			"team/web lifecyclePolicy": settings.Updated, "team/web scanOnPush": settings.Updated,
			"infra/api repository": settings.Created}},
		{"again", nil, want{
			"team/app lifecyclePolicy": settings.Unchanged, "team/app scanOnPush": settings.Unchanged,
			"team/web lifecyclePolicy": settings.Unchanged, "team/web scanOnPush": settings.Unchanged,
			"infra/api repository": settings.Unchanged}},
	} {
		writes := s.Writes()
		got, errs := outcomes(lifecycle.Ensure(ctx, cfg, lifecycle.EnsureOptions{Repos: run.repos}))
		if diff := cmp.Diff(run.want, got); diff != "" || len(errs) > 0 {
			t.Errorf("%s: Ensure() outcomes (-want +got):\n%s\nerrors: %q", run.name, diff, errs)
		}
		if run.name == "again" && s.Writes() != writes {
			t.Errorf("%s: Ensure() wrote %d times to a converged registry, want 0", run.name, s.Writes()-writes)
		}
	}
	for _, repo := range []string{"team/app", "team/web"} {
		if r, _ := s.Repository(repo); !r.ScanOnPush || r.LifecyclePolicy != strings.TrimSpace(string(text)) {
			t.Errorf("%s after Ensure(): scanOnPush %v, policy %q; want true and the policy file", repo, r.ScanOnPush, r.LifecyclePolicy)
		}
	}
	if _, ok := s.Repository("infra/api"); !ok {
		t.Errorf("Ensure() did not create infra/api")
	}
}
