package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

const ensureKMSKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// ensureConfig is a shipshape.yaml for the ECR test server at url.
func ensureConfig(url string) string {
	return `registries:
  prod:
    account: "` + ecrtest.Account + `"
    region: us-east-1
    endpoint: ` + url + `
repositories:
  - names: ["team/*"]
    lifecyclePolicy: policies/keep-streams.json
    tagMutability: IMMUTABLE_WITH_EXCLUSION
    tagMutabilityExclusions: [latest, cache]
    scanOnPush: true
  - names: [infra/api]
    create: true
    tagMutability: IMMUTABLE
    encryption: {type: KMS, kmsKey: "` + ensureKMSKey + `"}
`
}

// ensureServer starts an ECR test server and writes a shipshape.yaml for it, with the
// example policy beside it. The AWS SDK reads its credentials and region from the process
// environment, so tests that call it cannot run in parallel.
func ensureServer(t *testing.T) (*ecrtest.Server, string) {
	t.Helper()
	s := ecrtest.New(t)
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", ecrtest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", ecrtest.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", ecrtest.Region)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	text, err := os.ReadFile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policies", "keep-streams.json"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shipshape.yaml")
	if err := os.WriteFile(path, []byte(ensureConfig(s.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return s, path
}

var spaces = regexp.MustCompile(` {2,}`)

// squeeze collapses the padding of table columns, which depends on what the table holds.
func squeeze(s string) string { return spaces.ReplaceAllString(s, " ") }

func TestEnsureConvergesThenWritesNothing(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.CreateRepository("other/x", ecrtest.Repo{})

	r := run(t, nil, "", "ensure", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("ensure = %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.err)
	}
	for _, want := range []string{
		"REGISTRY REPOSITORY SETTING STATUS DETAIL\n",
		"prod infra/api repository created with IMMUTABLE, KMS " + ensureKMSKey + "\n",
		"prod infra/api tagMutability created IMMUTABLE\n",
		"prod infra/api encryption created KMS " + ensureKMSKey + "\n",
		"prod team/app lifecyclePolicy updated none → policies/keep-streams.json\n",
		"prod team/app tagMutability updated MUTABLE → IMMUTABLE_WITH_EXCLUSION (cache, latest)\n",
		"prod team/app scanOnPush updated false → true\n",
		"Summary: 6 settings: 0 unchanged, 3 updated, 3 created, 0 failed, 0 drifted\n",
	} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("ensure output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.err != "" {
		t.Errorf("ensure stderr = %q, want nothing", r.err)
	}
	app, _ := s.Repository("team/app")
	if app.Mutability != "IMMUTABLE_WITH_EXCLUSION" || !app.ScanOnPush || app.LifecyclePolicy == "" {
		t.Errorf("team/app after ensure = %+v", app)
	}
	if x, _ := s.Repository("other/x"); x.Mutability != "MUTABLE" || x.LifecyclePolicy != "" {
		t.Errorf("other/x, which no entry names, changed: %+v", x)
	}

	writes := s.Writes()
	r = run(t, nil, "", "ensure", "--config", cfg)
	if r.code != 0 || !strings.HasSuffix(r.stdout, "Summary: 5 settings: 5 unchanged, 0 updated, 0 created, 0 failed, 0 drifted\n") {
		t.Errorf("second ensure = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if n := s.Writes() - writes; n != 0 {
		t.Errorf("second ensure wrote %d times, want 0", n)
	}
}

const denied = "User: arn:aws:sts::123456789012:assumed-role/publish/ci is not authorized to perform: ecr:PutImageTagMutability"

func TestEnsureFailureExitCodes(t *testing.T) {
	const failure = "team/app (registry prod): tagMutability failed: MUTABLE → IMMUTABLE_WITH_EXCLUSION (cache, latest): PutImageTagMutability: AccessDeniedException: " + denied
	tests := map[string]struct {
		args        []string
		env         map[string]string
		code        int
		stdout      []string // lines the output must hold
		stderr      []string
		notInOutput string
	}{
		"strict": {
			code:        1,
			stderr:      []string{"error: " + failure, "shipshape: 1 failure; the next run retries"},
			notInOutput: "::error",
		},
		"strict under GitHub Actions": {
			env:    map[string]string{"GITHUB_ACTIONS": "true"},
			code:   1,
			stdout: []string{"::error::shipshape ensure: " + failure},
			stderr: []string{"error: " + failure},
		},
		"fail-soft": {
			args:   []string{"--fail-soft"},
			code:   0,
			stdout: []string{"::warning::shipshape ensure: " + failure},
			stderr: []string{"warning: " + failure, "shipshape: 1 failure, ignored (--fail-soft); the next run retries"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, cfg := ensureServer(t)
			s.CreateRepository("team/app", ecrtest.Repo{})
			s.Fail("PutImageTagMutability", 1, "AccessDeniedException", denied)
			r := run(t, tt.env, "", append([]string{"ensure", "--config", cfg, "--repo", "team/app"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("ensure exit = %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.err)
			}
			// The failure does not stop the other settings.
			if out := squeeze(r.stdout); !strings.Contains(out, "team/app lifecyclePolicy updated") || !strings.Contains(out, "team/app scanOnPush updated") {
				t.Errorf("ensure output:\n%s", r.stdout)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(r.stdout, want+"\n") {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tt.stderr {
				if !strings.Contains(r.err, want+"\n") {
					t.Errorf("stderr lacks %q:\n%s", want, r.err)
				}
			}
			if tt.notInOutput != "" && strings.Contains(r.stdout, tt.notInOutput) {
				t.Errorf("stdout holds %q:\n%s", tt.notInOutput, r.stdout)
			}
			if _, ok := s.Repository("infra/api"); ok {
				t.Errorf("--repo team/app created infra/api")
			}

			// The next run retries the failed setting, and only it.
			writes := s.Writes()
			r = run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app")
			if r.code != 0 || !strings.Contains(squeeze(r.stdout), "team/app tagMutability updated") {
				t.Errorf("next ensure = %d\n%s%s", r.code, r.stdout, r.err)
			}
			if n := s.Writes() - writes; n != 1 || s.Calls("PutImageTagMutability") != 2 {
				t.Errorf("next ensure wrote %d times and PutImageTagMutability was called %d times, want 1 and 2", n, s.Calls("PutImageTagMutability"))
			}
		})
	}
}

func TestEnsureJSON(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"cache", "latest"}})
	s.Fail("PutLifecyclePolicy", 1, "InvalidParameterException", "Invalid parameter at 'LifecyclePolicyText'")
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app", "--fail-soft", "-o", "json")
	if r.code != 0 {
		t.Errorf("ensure --fail-soft -o json = %d, want 0", r.code)
	}
	type outcome struct {
		Registry   string `json:"registry"`
		Repository string `json:"repository"`
		Setting    string `json:"setting"`
		Status     string `json:"status"`
		Detail     string `json:"detail"`
		Reason     string `json:"reason"`
	}
	var got struct {
		Summary  map[string]int `json:"summary"`
		Outcomes []outcome      `json:"outcomes"`
		Errors   []string       `json:"errors"`
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("ensure -o json printed no JSON document: %v\n%s", err, r.stdout)
	}
	want := []outcome{
		{"prod", "team/app", "lifecyclePolicy", "failed", "none → policies/keep-streams.json", "PutLifecyclePolicy: InvalidParameterException: Invalid parameter at 'LifecyclePolicyText'"},
		{"prod", "team/app", "tagMutability", "unchanged", "IMMUTABLE_WITH_EXCLUSION (cache, latest)", ""},
		{"prod", "team/app", "scanOnPush", "updated", "false → true", ""},
	}
	if diff := cmp.Diff(want, got.Outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	wantSummary := map[string]int{"settings": 3, "unchanged": 1, "updated": 1, "created": 0, "failed": 1, "drifted": 0}
	if diff := cmp.Diff(wantSummary, got.Summary); diff != "" || got.Errors != nil {
		t.Errorf("summary (-want +got):\n%s\nerrors: %v", diff, got.Errors)
	}
	// Workflow commands go to standard error, so that standard output stays one JSON document.
	if !strings.Contains(r.err, "::warning::shipshape ensure: team/app (registry prod): lifecyclePolicy failed: ") {
		t.Errorf("stderr lacks the ::warning:: line:\n%s", r.err)
	}
}

func TestEnsureEncryptionDriftWarnsOnly(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("infra/api", ecrtest.Repo{Mutability: "IMMUTABLE"})
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "infra/api", "-o", "markdown")
	const drift = "infra/api (registry prod): encryption drifted: AES256, declared KMS " + ensureKMSKey +
		": encryption cannot be changed after a repository is created; recreate it to change"
	if r.code != 0 || r.err != "warning: "+drift+"\n" {
		t.Errorf("ensure = %d, stderr %q; want 0 and the drift as a warning", r.code, r.err)
	}
	want := "### shipshape ensure\n\n**0** updated, **0** created, **0** failed, **1** drifted, 1 unchanged, of 2 settings.\n\n" +
		"| Registry | Repository | Setting | Status | Detail | Reason |\n|---|---|---|---|---|---|\n" +
		"| prod | infra/api | tagMutability | unchanged | IMMUTABLE |  |\n" +
		"| prod | infra/api | encryption | drifted | AES256, declared KMS " + ensureKMSKey + " | encryption cannot be changed after a repository is created; recreate it to change |\n"
	if diff := cmp.Diff(want, r.stdout); diff != "" {
		t.Errorf("ensure -o markdown (-want +got):\n%s", diff)
	}
	if s.Writes() != 0 {
		t.Errorf("ensure wrote %d times for an encryption drift", s.Writes())
	}
}

func TestEnsureConfigErrors(t *testing.T) {
	s, cfg := ensureServer(t)
	broken := filepath.Join(filepath.Dir(cfg), "broken.yaml")
	text := strings.Replace(ensureConfig(s.URL), "tagMutability: IMMUTABLE\n", "tagMutability: IMMUTABLE\n    tagMutabilityExclusions: [latest]\n", 1)
	if err := os.WriteFile(broken, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	const problem = ": line 15: repositories[1].tagMutabilityExclusions: only allowed with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION"

	r := run(t, nil, "", "ensure", "--config", broken)
	if r.code != 1 || r.stdout != "" || r.err != "shipshape: "+broken+problem+"\n" {
		t.Errorf("ensure with a broken config = %d %q %q", r.code, r.stdout, r.err)
	}

	r = run(t, nil, "", "ensure", "--config", broken, "--fail-soft")
	if r.code != 0 {
		t.Errorf("ensure --fail-soft with a broken config = %d, want 0", r.code)
	}
	if !strings.Contains(r.stdout, "::warning::shipshape ensure: "+broken+problem+"\n") ||
		!strings.Contains(r.err, "warning: "+broken+problem+"\n") {
		t.Errorf("ensure --fail-soft with a broken config:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.err)
	}

	r = run(t, nil, "", "ensure", "--config", cfg, "--repo", "elsewhere/app")
	if r.code != 1 || !strings.Contains(r.err, "--repo elsewhere/app: no entry of repositories in "+cfg+" matches") {
		t.Errorf("ensure --repo elsewhere/app = %d %q", r.code, r.err)
	}
	if r := run(t, nil, "", "ensure", "--config", cfg, "-o", "yaml"); r.code != 2 {
		t.Errorf("ensure -o yaml = %d, want 2", r.code)
	}
	if r := run(t, nil, "", "ensure", "--config", cfg, "--fail-soft", "team/app"); r.code != 2 {
		t.Errorf("ensure with an argument = %d, want 2", r.code)
	}
	if s.Calls("DescribeRepositories")+s.Writes() != 0 {
		t.Errorf("ensure called ECR despite a broken configuration")
	}
}

func TestEnsureUnreachableRegistry(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.Fail("DescribeRepositories", 1, "AccessDeniedException", "not authorized to perform: ecr:DescribeRepositories")
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app")
	if r.code != 1 || !strings.Contains(squeeze(r.stdout), "prod team/app repository failed reading the repository: DescribeRepositories: AccessDeniedException: not authorized") {
		t.Errorf("ensure = %d\n%s%s", r.code, r.stdout, r.err)
	}
}

func TestEnsureAssumesTheRegistrysRole(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	const role = "arn:aws:iam::123456789012:role/shipshape"
	text := strings.Replace(ensureConfig(s.URL), "    region: us-east-1\n", "    region: us-east-1\n    roleArn: "+role+"\n    externalId: ci-7f3a\n", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app", "--region", "us-west-2")
	if r.code != 0 {
		t.Fatalf("ensure = %d\n%s%s", r.code, r.stdout, r.err)
	}
	calls := s.AssumeRoles()
	if len(calls) != 1 || calls[0].RoleARN != role || calls[0].ExternalID != "ci-7f3a" || calls[0].AccessKey != ecrtest.AccessKeyID {
		t.Errorf("AssumeRole calls = %+v, want one for %s with external ID ci-7f3a", calls, role)
	}
	keys := s.AccessKeys("PutLifecyclePolicy")
	if len(keys) == 0 {
		t.Errorf("ensure did not put the lifecycle policy")
	}
	for _, key := range keys {
		if key == ecrtest.AccessKeyID {
			t.Errorf("PutLifecyclePolicy was signed with the base key, not the role's")
		}
	}
}

func TestEnsureRegistryScanningFollowsItsEntry(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.CreateRepository("infra/api", ecrtest.Repo{Mutability: "IMMUTABLE"})
	text := strings.Replace(ensureConfig(s.URL), "    scanOnPush: true\n",
		"    scanOnPush: true\n    registryScanning: {scanType: BASIC, rules: [{scanFrequency: SCAN_ON_PUSH, filters: [\"team/*\"]}]}\n", 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// infra/api's entry does not declare the registry's scanning: --repo infra/api leaves it.
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "infra/api")
	if r.code != 0 || strings.Contains(r.stdout, "registryScanning") || s.Calls("GetRegistryScanningConfiguration") != 0 {
		t.Errorf("ensure --repo infra/api = %d\n%s", r.code, r.stdout)
	}
	r = run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app")
	if r.code != 0 || !strings.Contains(squeeze(r.stdout), "prod (registry) registryScanning updated BASIC, no rules → BASIC: SCAN_ON_PUSH (team/*)\n") {
		t.Errorf("ensure --repo team/app = %d\n%s%s", r.code, r.stdout, r.err)
	}
	want := ecrtest.ScanningConfig{ScanType: "BASIC", Rules: []ecrtest.ScanningRule{{ScanFrequency: "SCAN_ON_PUSH", Filters: []string{"team/*"}}}}
	if diff := cmp.Diff(want, s.RegistryScanning()); diff != "" {
		t.Errorf("registry scanning (-want +got):\n%s", diff)
	}
}

func TestEnsureHelp(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "ensure", "--help")
	for _, want := range []string{"lifecyclePolicy", "tagMutabilityExclusions", "scanOnPush", "registryScanning", "encryption",
		"written on its own", "publish pipeline", "--fail-soft", "::warning::", "Exit status"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("ensure --help does not mention %q", want)
		}
	}
}

// TestEnsureDryRunWritesNothing: --dry-run reads and compares every setting, reports what
// a run would write, writes nothing, and with --detailed-exitcode exits 3; a real run then
// writes exactly what the dry run announced.
func TestEnsureDryRunWritesNothing(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	writes := s.Writes()
	r := run(t, nil, "", "ensure", "--config", cfg, "--dry-run", "--detailed-exitcode")
	if r.code != 3 {
		t.Fatalf("ensure --dry-run --detailed-exitcode = %d, want 3\n%s%s", r.code, r.stdout, r.err)
	}
	for _, want := range []string{
		"prod infra/api repository wouldCreate with IMMUTABLE, KMS " + ensureKMSKey + "\n",
		"prod team/app lifecyclePolicy wouldUpdate none → policies/keep-streams.json\n",
		"prod team/app scanOnPush wouldUpdate false → true\n",
		"Summary: 6 settings: 0 unchanged, 3 would be updated, 3 would be created (dry run: nothing written), 0 failed, 0 drifted\n",
	} {
		if !strings.Contains(squeeze(r.stdout), want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := s.Writes() - writes; n != 0 {
		t.Errorf("dry run wrote %d times, want 0", n)
	}
	if _, ok := s.Repository("infra/api"); ok {
		t.Error("dry run created infra/api")
	}
	if app, _ := s.Repository("team/app"); app.ScanOnPush || app.LifecyclePolicy != "" {
		t.Errorf("dry run changed team/app: %+v", app)
	}
	if r := run(t, nil, "", "ensure", "--config", cfg, "--detailed-exitcode"); r.code != 3 || !strings.Contains(r.stdout, "3 updated, 3 created") {
		t.Errorf("ensure after the dry run = %d\n%s%s", r.code, r.stdout, r.err)
	}
	r = run(t, nil, "", "ensure", "--config", cfg, "--dry-run", "--detailed-exitcode", "-o", "json")
	var rep struct {
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Summary["unchanged"] != 5 || rep.Summary["wouldUpdate"] != 0 {
		t.Errorf("dry run after convergence = %d %v (%v), want exit 0 and 5 unchanged", r.code, rep.Summary, err)
	}
}

// TestEnsureWithoutCredentialsSaysHow: with no AWS credentials anywhere, the report says
// which sources were tried and how to set one, instead of the SDK's IMDS chain message.
func TestEnsureWithoutCredentialsSaysHow(t *testing.T) {
	_, cfg := ensureServer(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app", "--timeout", "20s")
	if r.code != 1 || !strings.Contains(r.stdout, "no AWS credentials found: tried the environment") || strings.Contains(r.stdout, "IMDS") {
		t.Errorf("ensure without credentials = %d\n%s%s", r.code, r.stdout, r.err)
	}
}

// TestEnsureRetryBudget: a setting whose call keeps failing with a retryable error is
// tried 4 times, then reported (and with --fail-soft, as a warning), instead of the 8
// tries with up to 20 s back-off a cleanup allows itself.
func TestEnsureRetryBudget(t *testing.T) {
	s, cfg := ensureServer(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.Fail("PutImageTagMutability", 100, "ServerException", "internal failure")
	r := run(t, nil, "", "ensure", "--config", cfg, "--repo", "team/app", "--fail-soft")
	if r.code != 0 || !strings.Contains(squeeze(r.stdout), "team/app tagMutability failed") {
		t.Errorf("ensure --fail-soft = %d\n%s%s", r.code, r.stdout, r.err)
	}
	if n := s.Calls("PutImageTagMutability"); n != 4 {
		t.Errorf("PutImageTagMutability was tried %d times, want 4", n)
	}
}
