package ecr_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// pushPlain pushes n untagged single-manifest images and returns their digests.
func pushPlain(s *ecrtest.Server, repo string, n int) []string {
	digests := make([]string, n)
	for i := range digests {
		digests[i] = s.PutImage(repo, ecrtest.Image{
			Manifest: []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%064x","size":10},"layers":[]}`, i)),
		})
	}
	return digests
}

func TestDeleteBatch(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	digests := pushPlain(s, "app", 250)

	failed, err := c.DeleteBatch(t.Context(), "app", digests)
	if err != nil || len(failed) != 0 {
		t.Fatalf("DeleteBatch(250) = %v, %v; want no failures", failed, err)
	}
	if n := s.Calls("BatchDeleteImage"); n != 3 {
		t.Errorf("BatchDeleteImage calls = %d, want 3 (100 images a call)", n)
	}
	if left := s.Images("app"); len(left) != 0 {
		t.Errorf("%d images left after DeleteBatch", len(left))
	}
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"BatchDeleteImage": 3}}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}

func TestDeleteBatchFailures(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	kept := s.PushBuild("app", "kept", t0)
	gone := s.PushBuild("app", "gone", t0)
	plain := pushPlain(s, "app", 3)
	missing := "sha256:" + strings.Repeat("0f", 32)

	// The child of a kept index, an index with its children, a digest already gone.
	failed, err := c.DeleteBatch(t.Context(), "app", []string{kept.Image, gone.Index, gone.Image, gone.Attestation, missing, plain[0], plain[1]})
	if err != nil {
		t.Fatalf("DeleteBatch() error = %v, want per-image failures only", err)
	}
	got := make(map[string]string)
	for d, err := range failed {
		switch {
		case errors.Is(err, registry.ErrReferenced):
			got[d] = "referenced"
		case errors.Is(err, registry.ErrNotFound):
			got[d] = "not found"
		default:
			got[d] = err.Error()
		}
	}
	if diff := cmp.Diff(map[string]string{kept.Image: "referenced", missing: "not found"}, got); diff != "" {
		t.Errorf("DeleteBatch() failures (-want +got):\n%s", diff)
	}
	if msg := failed[kept.Image].Error(); !strings.Contains(msg, "Requested image referenced by manifest list: ["+kept.Index+"]") {
		t.Errorf("referenced failure = %q, want ECR's reason", msg)
	}
	var left []string
	for _, st := range s.Images("app") {
		left = append(left, st.Digest)
	}
	want := []string{kept.Index, kept.Image, kept.Attestation, plain[2]}
	slices.Sort(want)
	if diff := cmp.Diff(want, left); diff != "" {
		t.Errorf("images left (-want +got):\n%s", diff)
	}
}

func TestDeleteBatchThrottled(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	digests := pushPlain(s, "app", 5)
	s.Fail("BatchDeleteImage", 2, "ThrottlingException", "Rate exceeded")

	failed, err := c.DeleteBatch(t.Context(), "app", digests)
	if err != nil || len(failed) != 0 {
		t.Fatalf("DeleteBatch() after 2 throttles = %v, %v; want the SDK's retries to succeed", failed, err)
	}
	if n := s.Calls("BatchDeleteImage"); n != 3 {
		t.Errorf("BatchDeleteImage requests = %d, want 3 (2 throttled, 1 retry that succeeded)", n)
	}
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"BatchDeleteImage": 1}, Retries: 2}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got), want 1 call retried twice:\n%s", diff)
	}
	if len(s.Images("app")) != 0 {
		t.Errorf("images left after DeleteBatch")
	}

	s.Fail("BatchDeleteImage", 10, "ThrottlingException", "Rate exceeded")
	more := pushPlain(s, "app", 150)
	failed, err = c.DeleteBatch(t.Context(), "app", more)
	if err == nil || !strings.Contains(err.Error(), "Rate exceeded") || len(failed) != 0 {
		t.Errorf("DeleteBatch() throttled beyond the retries = %v, %v; want the call's error", failed, err)
	}
	if n := s.Calls("BatchDeleteImage"); n != 3+5 {
		t.Errorf("BatchDeleteImage requests = %d, want 8: the batch after the failed one is not sent", n)
	}
}

// TestAssumedRole checks that calls are signed with the credentials of the role
// LoadAWSConfig assumes, from the base keys the default chain finds in the environment.
func TestAssumedRole(t *testing.T) {
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	s.PushBuild("app", "v1", t0)
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           ecrtest.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       ecrtest.SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  ecrtest.Region,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             dir + "/config",
		"AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ENDPOINT_URL":            "",
		"AWS_ENDPOINT_URL_ECR":        "",
		"AWS_ENDPOINT_URL_STS":        "",
	} {
		t.Setenv(k, v)
	}
	const role = "arn:aws:iam::123456789012:role/shipshape-cleaner"
	cfg, err := ecr.LoadAWSConfig(t.Context(), ecr.Account{RoleARN: role, ExternalID: "ext-42", Endpoint: s.URL})
	if err != nil {
		t.Fatalf("LoadAWSConfig() error = %v", err)
	}
	c := ecr.NewFromConfig(cfg, ecr.Options{RegistryID: ecrtest.Account, Host: host})
	if _, err := c.Inventory(t.Context(), "app"); err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	if failed, err := c.DeleteBatch(t.Context(), "app", []string{s.Images("app")[0].Digest}); err != nil {
		t.Fatalf("DeleteBatch() = %v, %v", failed, err)
	}

	want := []ecrtest.AssumeRoleCall{{RoleARN: role, ExternalID: "ext-42", SessionName: "shipshape", AccessKey: ecrtest.AccessKeyID}}
	if diff := cmp.Diff(want, s.AssumeRoles()); diff != "" {
		t.Errorf("AssumeRoles() (-want +got):\n%s", diff)
	}
	for _, op := range []string{"DescribeImages", "BatchGetImage", "BatchDeleteImage"} {
		keys := s.AccessKeys(op)
		if len(keys) == 0 {
			t.Errorf("no %s calls", op)
		}
		for _, k := range keys {
			if !strings.HasPrefix(k, "ASIAASSUMED") {
				t.Errorf("%s signed with %s, want the assumed role's key", op, k)
			}
		}
	}
	// The ECR calls are counted, not the credential provider's AssumeRole.
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"DescribeImages": 1, "BatchGetImage": 1, "BatchDeleteImage": 1}}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}

const previewPolicy = `{"rules": [
  {"rulePriority": 1, "description": "keep releases", "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 9999}, "action": {"type": "expire"}},
  {"rulePriority": 2, "description": "archive old builds", "selection": {"tagStatus": "tagged", "tagPrefixList": ["build-"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 20}, "action": {"type": "transition", "targetStorageClass": "archive"}},
  {"rulePriority": 3, "description": "keep 3 of the rest", "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 3}, "action": {"type": "expire"}},
  {"rulePriority": 4, "description": "expire long archived", "selection": {"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90}, "action": {"type": "expire"}}
]}`

func TestLifecyclePolicy(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	ctx := t.Context()
	if _, err := c.LifecyclePolicy(ctx, "app"); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("LifecyclePolicy(none) error = %v, want ErrNotFound", err)
	}
	if err := c.PutLifecyclePolicy(ctx, "app", previewPolicy); err != nil {
		t.Fatalf("PutLifecyclePolicy() error = %v", err)
	}
	got, err := c.LifecyclePolicy(ctx, "app")
	if err != nil {
		t.Fatalf("LifecyclePolicy() error = %v", err)
	}
	put, err1 := policy.Load([]byte(previewPolicy))
	back, err2 := policy.Load([]byte(got))
	if err1 != nil || err2 != nil || !policy.Equal(put, back) || got == previewPolicy {
		t.Errorf("LifecyclePolicy() = %s; want ECR's compact form of what was put (%v, %v)", got, err1, err2)
	}
	bad := strings.Replace(previewPolicy, `"countNumber": 3}`, `"countNumber": 0}`, 1)
	err = c.PutLifecyclePolicy(ctx, "app", bad)
	if err == nil || !strings.Contains(err.Error(), "Lifecycle policy validation failure: rules[2].selection.countNumber") {
		t.Errorf("PutLifecyclePolicy(invalid) error = %v, want ECR's validation failure", err)
	}
	if r, _ := s.Repository("app"); r.LifecyclePolicy != previewPolicy {
		t.Errorf("the invalid policy replaced the valid one")
	}
}

func TestArchiveAndRestore(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	b := s.PushBuild("app", "v1", t0)
	ctx := t.Context()

	if err := c.Archive(ctx, "app", b.Image); !errors.Is(err, registry.ErrUnsupported) {
		t.Errorf("Archive(child of an active index) error = %v, want ErrUnsupported", err)
	}
	if err := c.Archive(ctx, "app", b.Index); err != nil {
		t.Fatalf("Archive(index) error = %v", err)
	}
	inv, err := c.Inventory(ctx, "app")
	if err != nil {
		t.Fatalf("Inventory() error = %v", err)
	}
	got := byDigest(inv.Images)
	idx := got[b.Index]
	if idx.Status != inventory.StatusArchived || idx.LastArchivedAt.IsZero() || idx.Children != nil {
		t.Errorf("archived index: status %q, archived %v, children %v; want ARCHIVED, with unknown children", idx.Status, idx.LastArchivedAt, idx.Children)
	}
	if got[b.Image].Config == nil {
		t.Errorf("the active child's manifest was not read")
	}
	if len(inv.Notes) != 2 || !strings.Contains(inv.Notes[1], "the layers of 1 archived images, and the children of 1 archived indexes, are unknown") {
		t.Errorf("Inventory().Notes = %q, want a note on the archived index", inv.Notes)
	}

	if err := c.Restore(ctx, "app", b.Index); err != nil {
		t.Fatalf("Restore() error = %v", err)
	}
	statusOf := func() inventory.Status {
		inv, err := c.Inventory(ctx, "app")
		if err != nil {
			t.Fatalf("Inventory() error = %v", err)
		}
		return byDigest(inv.Images)[b.Index].Status
	}
	if st := statusOf(); st != inventory.StatusActivating {
		t.Errorf("status after Restore = %q, want ACTIVATING", st)
	}
	if st := statusOf(); st != inventory.StatusActive {
		t.Errorf("status once restored = %q, want ACTIVE", st)
	}
	if diff := cmp.Diff(registry.Requests{ByKind: map[registry.Kind]int{"UpdateImageStorageClass": 3, "DescribeImages": 3, "BatchGetImage": 3}}, c.Stats()); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}
