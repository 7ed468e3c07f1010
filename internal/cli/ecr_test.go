package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// ecrEnv points the AWS SDK's default chain at the ECR test server, with base credentials
// and no shared configuration from the machine.
func ecrEnv(t *testing.T, s *ecrtest.Server) {
	t.Helper()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDBASE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": s.URL, "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(t.TempDir(), "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(t.TempDir(), "none"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

const untaggedAfterADay = `{"rules": [{"rulePriority": 1, "description": "expire untagged images a day after push",
  "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
  "action": {"type": "expire"}}]}`

// TestECRCommands drives plan, plan --ecr-preview, apply and apply --native against the
// ECR test server, through the real AWS SDK, as a user would against an account.
func TestECRCommands(t *testing.T) {
	s := ecrtest.New(t)
	ecrEnv(t, s)
	s.CreateRepository("team/app", ecrtest.Repo{})
	old := time.Now().Add(-72 * time.Hour)
	// ECR's preview, worked out from its documentation: the rule expires the 250 untagged
	// images; the release build's image and attestation are untagged too, but an index
	// lists them, and ECR never expires an image a manifest list references.
	var preview []ecrtest.PreviewResult
	for i := range 250 {
		d := s.PutImage("team/app", ecrtest.Image{
			Manifest: fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%064x","size":2},"layers":[]}`, i),
			PushedAt: old,
		})
		preview = append(preview, ecrtest.PreviewResult{Digest: d, Action: "EXPIRE", RulePriority: 1})
	}
	build := s.PushBuild("team/app", "v1", old)
	s.SetPreview("team/app", preview)
	ref := ecrtest.Account + ".dkr.ecr.us-east-1.amazonaws.com/team/app"
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(untaggedAfterADay), 0o644); err != nil {
		t.Fatal(err)
	}

	r := run(t, nil, "", "plan", "--policy", pol, ref, "-o", "json", "--ecr-preview", "--stats")
	var p struct {
		planJSON
		ECRPreview struct {
			Agree       int               `json:"agree"`
			Differences []json.RawMessage `json:"differences"`
		} `json:"ecrPreview"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil || r.code != 0 {
		t.Fatalf("plan = %d (%v): %s", r.code, err, r.err)
	}
	if p.Summary.Expire != 250 || p.ECRPreview.Agree != 253 || len(p.ECRPreview.Differences) != 0 {
		t.Errorf("plan expires %d, preview agrees on %d with %d differences; want 250, 253, 0", p.Summary.Expire, p.ECRPreview.Agree, len(p.ECRPreview.Differences))
	}
	if s.Calls("DescribeImages") != 1 || !strings.Contains(r.err, "requests (1 BatchGetImage, 1 DescribeImages, ") {
		t.Errorf("plan made %d DescribeImages calls, want 1 for 253 images; stats: %s", s.Calls("DescribeImages"), r.err)
	}

	// No quarantine on ECR yet: apply says so and deletes nothing.
	r = run(t, nil, "", "apply", "--policy", pol, ref, "--yes", "--journal", filepath.Join(dir, "journal"), "--quarantine", filepath.Join(dir, "q"))
	if r.code != 1 || !strings.Contains(r.err, "OCI Distribution API") || s.Calls("BatchDeleteImage") != 0 {
		t.Errorf("apply --quarantine on ECR = %d, %d BatchDeleteImage calls: %s", r.code, s.Calls("BatchDeleteImage"), r.err)
	}

	r = run(t, nil, "", "apply", "--policy", pol, ref, "--yes", "--journal", filepath.Join(dir, "journal"), "-o", "json")
	var res struct {
		Deleted, Failed int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Deleted != 250 || res.Failed != 0 {
		t.Fatalf("apply = %d %+v (%v): %s", r.code, res, err, r.err)
	}
	if n := s.Calls("BatchDeleteImage"); n != 3 {
		t.Errorf("250 deletions made %d BatchDeleteImage calls, want 3", n)
	}
	left := s.Images("team/app")
	if len(left) != 3 || !slices.ContainsFunc(left, func(i ecrtest.ImageState) bool { return i.Digest == build.Index }) {
		t.Errorf("after apply the repository holds %d images, want the 3 of the release build", len(left))
	}

	// Native: the policy goes to ECR once; the second run sees it unchanged (ECR returns
	// it compacted, which must not count as a change).
	for i, want := range []string{"lifecycle policy updated", "lifecycle policy unchanged"} {
		r = run(t, nil, "", "apply", "--native", "--policy", pol, ref, "--yes")
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("apply --native run %d = %d %q, want %q (%s)", i+1, r.code, r.stdout, want, r.err)
		}
	}
	if n := s.Calls("PutLifecyclePolicy"); n != 1 {
		t.Errorf("two apply --native runs made %d PutLifecyclePolicy calls, want 1", n)
	}
	if r := run(t, nil, "", "apply", "--native", "--policy", pol, ref); r.code != 0 {
		t.Errorf("apply --native with nothing to change and no --yes = %d, want 0", r.code)
	}

	// Cross-account: calls are signed with the assumed role's credentials.
	r = run(t, nil, "", "plan", "--policy", pol, ref, "--role-arn", "arn:aws:iam::123456789012:role/shipshape", "--external-id", "ext-1")
	if r.code != 0 {
		t.Fatalf("plan --role-arn = %d: %s", r.code, r.err)
	}
	roles := s.AssumeRoles()
	if len(roles) != 1 || roles[0].RoleARN != "arn:aws:iam::123456789012:role/shipshape" || roles[0].ExternalID != "ext-1" || roles[0].AccessKey != "AKIDBASE" {
		t.Errorf("AssumeRole calls = %+v", roles)
	}
	keys := s.AccessKeys("DescribeImages")
	if last := keys[len(keys)-1]; !strings.HasPrefix(last, "ASIA") {
		t.Errorf("DescribeImages after --role-arn was signed with %q, want the assumed role's key", last)
	}

	if r := run(t, nil, "", "apply", "--native", "--policy", pol, "127.0.0.1:5999/team/app", "--yes"); r.code != 2 || !strings.Contains(r.err, "needs an Amazon ECR repository") {
		t.Errorf("apply --native on a generic registry = %d %q, want a usage error", r.code, r.err)
	}
}
