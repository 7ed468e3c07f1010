package settings_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

const (
	kmsKey      = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	otherKMSKey = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
	streams     = "../../examples/policies/keep-streams.json"
)

// lifecycle loads a policy file as the configuration does.
func lifecycle(t *testing.T, file string) *settings.Lifecycle {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	return &settings.Lifecycle{Source: "keep-streams.json", Text: string(text), Policy: p}
}

// compact is the policy file as another tool may have put it: compact JSON, rules and tag
// lists in reverse order.
func compact(t *testing.T, file string) string {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(p.Rules)
	for i := range p.Rules {
		slices.Reverse(p.Rules[i].Selection.TagPrefixList)
		slices.Reverse(p.Rules[i].Selection.TagPatternList)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ptr[T any](v T) *T { return &v }

// brief is an outcome without its registry, for compact expectations.
type brief struct {
	Repository string
	Setting    settings.Setting
	Status     settings.Status
}

func briefs(r settings.Report) []brief {
	out := make([]brief, len(r.Outcomes))
	for i, o := range r.Outcomes {
		out[i] = brief{o.Repository, o.Setting, o.Status}
	}
	return out
}

func ensure(t *testing.T, s *ecrtest.Server, d settings.Desired) settings.Report {
	t.Helper()
	if d.Registry == "" {
		d.Registry = "prod"
	}
	if d.RegistryID == "" {
		d.RegistryID = ecrtest.Account
	}
	r := settings.Ensure(context.Background(), s.ECR(), d)
	if len(r.Errors) > 0 {
		t.Errorf("Ensure() errors: %v", r.Errors)
	}
	return r
}

func TestEnsureConvergesThenWritesNothing(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{Mutability: "MUTABLE"})
	s.CreateRepository("team/web", ecrtest.Repo{
		Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"latest", "cache"},
		ScanOnPush: true, LifecyclePolicy: compact(t, streams),
	})
	s.CreateRepository("other/x", ecrtest.Repo{Mutability: "MUTABLE"})
	d := settings.Desired{
		Rules: []settings.Rule{{
			Patterns:   []string{"team/*"},
			Lifecycle:  lifecycle(t, streams),
			Mutability: &settings.Mutability{Mode: "IMMUTABLE_WITH_EXCLUSION", Exclusions: []string{"cache", "latest"}},
			ScanOnPush: ptr(true),
			Encryption: &settings.Encryption{Type: "AES256"},
		}},
		RegistryScanning: &settings.RegistryScanning{ScanType: "BASIC", Rules: []settings.ScanningRule{
			{Frequency: "SCAN_ON_PUSH", Filters: []string{"team/*", "infra/*"}},
		}},
	}

	first := ensure(t, s, d)
	want := []brief{
		{"", settings.SettingRegistryScanning, settings.Updated},
		{"team/app", settings.SettingLifecyclePolicy, settings.Updated},
		{"team/app", settings.SettingTagMutability, settings.Updated},
		{"team/app", settings.SettingScanOnPush, settings.Updated},
		{"team/app", settings.SettingEncryption, settings.Unchanged},
		{"team/web", settings.SettingLifecyclePolicy, settings.Unchanged},
		{"team/web", settings.SettingTagMutability, settings.Unchanged},
		{"team/web", settings.SettingScanOnPush, settings.Unchanged},
		{"team/web", settings.SettingEncryption, settings.Unchanged},
	}
	if diff := cmp.Diff(want, briefs(first)); diff != "" {
		t.Fatalf("first Ensure() (-want +got):\n%s\n%+v", diff, first.Outcomes)
	}
	if got := first.Outcomes[2].Detail; got != "MUTABLE → IMMUTABLE_WITH_EXCLUSION (cache, latest)" {
		t.Errorf("tagMutability detail = %q", got)
	}
	app, _ := s.Repository("team/app")
	if app.Mutability != "IMMUTABLE_WITH_EXCLUSION" || !app.ScanOnPush || app.LifecyclePolicy == "" {
		t.Errorf("team/app after Ensure() = %+v", app)
	}
	if x, _ := s.Repository("other/x"); x.LifecyclePolicy != "" || x.Mutability != "MUTABLE" {
		t.Errorf("other/x, which no rule matches, was changed: %+v", x)
	}

	writes := s.Writes()
	second := ensure(t, s, d)
	if n := s.Writes() - writes; n != 0 {
		t.Errorf("second Ensure() wrote %d times, want 0", n)
	}
	for _, o := range second.Outcomes {
		if o.Status != settings.Unchanged {
			t.Errorf("second Ensure(): %s %s is %s (%s %s), want unchanged", o.Repository, o.Setting, o.Status, o.Detail, o.Reason)
		}
	}
	if len(second.Outcomes) != len(want) {
		t.Errorf("second Ensure() reported %d outcomes, want %d", len(second.Outcomes), len(want))
	}
}

func TestEnsurePartialFailureIsRetriedNextRun(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{Mutability: "MUTABLE"})
	d := settings.Desired{Rules: []settings.Rule{{
		Patterns:   []string{"team/app"},
		Lifecycle:  lifecycle(t, streams),
		Mutability: &settings.Mutability{Mode: "IMMUTABLE"},
	}}}
	const denied = "User: arn:aws:sts::123456789012:assumed-role/publish is not authorized to perform: ecr:PutImageTagMutability"
	s.Fail("PutImageTagMutability", 1, "AccessDeniedException", denied)

	first := ensure(t, s, d)
	want := []settings.Outcome{
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingLifecyclePolicy, Status: settings.Updated, Detail: "none → keep-streams.json"},
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingTagMutability, Status: settings.Failed, Detail: "MUTABLE → IMMUTABLE",
			Reason: "PutImageTagMutability: AccessDeniedException: " + denied},
	}
	if diff := cmp.Diff(want, first.Outcomes); diff != "" {
		t.Errorf("first Ensure() (-want +got):\n%s", diff)
	}
	if !first.Failed() {
		t.Errorf("Report.Failed() = false after a failed setting")
	}

	lifecyclePuts, mutabilityPuts, writes := s.Calls("PutLifecyclePolicy"), s.Calls("PutImageTagMutability"), s.Writes()
	second := ensure(t, s, d)
	want = []settings.Outcome{
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingLifecyclePolicy, Status: settings.Unchanged, Detail: "same as keep-streams.json"},
		{Registry: "prod", Repository: "team/app", Setting: settings.SettingTagMutability, Status: settings.Updated, Detail: "MUTABLE → IMMUTABLE"},
	}
	if diff := cmp.Diff(want, second.Outcomes); diff != "" {
		t.Errorf("second Ensure() (-want +got):\n%s", diff)
	}
	if got := s.Calls("PutLifecyclePolicy") - lifecyclePuts; got != 0 {
		t.Errorf("second Ensure() put the lifecycle policy %d times, want 0", got)
	}
	if got := s.Calls("PutImageTagMutability") - mutabilityPuts; got != 1 {
		t.Errorf("second Ensure() put tag mutability %d times, want 1", got)
	}
	if got := s.Writes() - writes; got != 1 {
		t.Errorf("second Ensure() wrote %d times, want 1", got)
	}
	if r, _ := s.Repository("team/app"); r.Mutability != "IMMUTABLE" {
		t.Errorf("team/app mutability = %q, want IMMUTABLE", r.Mutability)
	}
}

func TestEnsureCreatesMissingRepositories(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	d := settings.Desired{Rules: []settings.Rule{
		{Patterns: []string{"infra/*"}, ScanOnPush: ptr(true), Encryption: &settings.Encryption{Type: "KMS", KMSKey: kmsKey}},
		{
			Patterns: []string{"infra/api"}, Create: true,
			Lifecycle:  lifecycle(t, streams),
			Mutability: &settings.Mutability{Mode: "MUTABLE_WITH_EXCLUSION", Exclusions: []string{"v*"}},
		},
		{Patterns: []string{"infra/web"}, Mutability: &settings.Mutability{Mode: "IMMUTABLE"}},
	}}

	first := ensure(t, s, d)
	want := []brief{
		{"infra/api", settings.SettingRepository, settings.Created},
		{"infra/api", settings.SettingLifecyclePolicy, settings.Created},
		{"infra/api", settings.SettingTagMutability, settings.Created},
		{"infra/api", settings.SettingScanOnPush, settings.Created},
		{"infra/api", settings.SettingEncryption, settings.Created},
		{"infra/web", settings.SettingRepository, settings.Failed},
	}
	if diff := cmp.Diff(want, briefs(first)); diff != "" {
		t.Fatalf("first Ensure() (-want +got):\n%s\n%+v", diff, first.Outcomes)
	}
	if got := first.Outcomes[0].Detail; got != "with MUTABLE_WITH_EXCLUSION (v*), scanOnPush true, KMS "+kmsKey {
		t.Errorf("repository detail = %q", got)
	}
	if got := first.Outcomes[5].Reason; !strings.Contains(got, "does not exist") {
		t.Errorf("infra/web (create: false) reason = %q", got)
	}
	if n := s.Calls("CreateRepository"); n != 1 {
		t.Errorf("CreateRepository called %d times, want 1 (infra/web is not created)", n)
	}
	got, ok := s.Repository("infra/api")
	want2 := ecrtest.Repo{
		Mutability: "MUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"v*"}, ScanOnPush: true,
		EncryptionType: "KMS", KMSKey: kmsKey, LifecyclePolicy: got.LifecyclePolicy,
	}
	if !ok || got.LifecyclePolicy == "" {
		t.Fatalf("infra/api after Ensure() = %+v, %v", got, ok)
	}
	if diff := cmp.Diff(want2, got); diff != "" {
		t.Errorf("infra/api (-want +got):\n%s", diff)
	}

	writes := s.Writes()
	second := ensure(t, s, d)
	if n := s.Writes() - writes; n != 0 {
		t.Errorf("second Ensure() wrote %d times, want 0", n)
	}
	for _, o := range second.Outcomes {
		if o.Repository == "infra/api" && o.Status != settings.Unchanged {
			t.Errorf("second Ensure(): %s %s is %s (%s), want unchanged", o.Repository, o.Setting, o.Status, o.Reason)
		}
	}
}

func TestEnsureCreateRacesAPush(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("infra/api", ecrtest.Repo{})
	// The repository is missing when described, and exists (a push created it) when created.
	s.Fail("DescribeRepositories", 1, "RepositoryNotFoundException", "The repository with name 'infra/api' does not exist")
	r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{
		Patterns: []string{"infra/api"}, Create: true, Mutability: &settings.Mutability{Mode: "IMMUTABLE"},
	}}})
	want := []settings.Outcome{{Registry: "prod", Repository: "infra/api", Setting: settings.SettingTagMutability, Status: settings.Updated, Detail: "MUTABLE → IMMUTABLE"}}
	if diff := cmp.Diff(want, r.Outcomes); diff != "" {
		t.Errorf("Ensure() (-want +got):\n%s", diff)
	}
	if got, _ := s.Repository("infra/api"); got.Mutability != "IMMUTABLE" {
		t.Errorf("infra/api mutability = %q, want IMMUTABLE", got.Mutability)
	}
}

func TestEnsureReportsEncryptionDriftWithoutWriting(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		have     ecrtest.Repo
		want     settings.Encryption
		status   settings.Status
		detail   string
		kmsMatch bool
	}{
		"AES256, declared KMS": {
			have: ecrtest.Repo{EncryptionType: "AES256"}, want: settings.Encryption{Type: "KMS", KMSKey: kmsKey},
			status: settings.Drifted, detail: "AES256, declared KMS " + kmsKey,
		},
		"another key": {
			have: ecrtest.Repo{EncryptionType: "KMS", KMSKey: otherKMSKey}, want: settings.Encryption{Type: "KMS", KMSKey: kmsKey},
			status: settings.Drifted, detail: "KMS " + otherKMSKey + ", declared KMS " + kmsKey,
		},
		"same key by ID": {
			have: ecrtest.Repo{EncryptionType: "KMS", KMSKey: kmsKey}, want: settings.Encryption{Type: "KMS", KMSKey: "1234abcd-12ab-34cd-56ef-1234567890ab"},
			status: settings.Unchanged, detail: "KMS " + kmsKey,
		},
		"any key": {
			have: ecrtest.Repo{EncryptionType: "KMS", KMSKey: kmsKey}, want: settings.Encryption{Type: "KMS"},
			status: settings.Unchanged, detail: "KMS " + kmsKey,
		},
		"default is AES256": {
			have: ecrtest.Repo{}, want: settings.Encryption{Type: "AES256"},
			status: settings.Unchanged, detail: "AES256",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := ecrtest.New(t)
			s.CreateRepository("team/app", tt.have)
			r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{Patterns: []string{"team/*"}, Encryption: &tt.want}}})
			want := []settings.Outcome{{Registry: "prod", Repository: "team/app", Setting: settings.SettingEncryption, Status: tt.status, Detail: tt.detail}}
			if tt.status == settings.Drifted {
				want[0].Reason = "encryption cannot be changed after a repository is created; recreate it to change"
			}
			if diff := cmp.Diff(want, r.Outcomes); diff != "" {
				t.Errorf("Ensure() (-want +got):\n%s", diff)
			}
			if s.Writes() != 0 {
				t.Errorf("Ensure() wrote %d times, want 0", s.Writes())
			}
		})
	}
}

func TestEnsureComparesExclusionFiltersAsSets(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		have   ecrtest.Repo
		want   settings.Mutability
		status settings.Status
		detail string
	}{
		"same set, other order": {
			have:   ecrtest.Repo{Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"latest", "cache", "dev-*"}},
			want:   settings.Mutability{Mode: "IMMUTABLE_WITH_EXCLUSION", Exclusions: []string{"dev-*", "cache", "latest"}},
			status: settings.Unchanged, detail: "IMMUTABLE_WITH_EXCLUSION (cache, dev-*, latest)",
		},
		"one filter more": {
			have:   ecrtest.Repo{Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"latest"}},
			want:   settings.Mutability{Mode: "IMMUTABLE_WITH_EXCLUSION", Exclusions: []string{"cache", "latest"}},
			status: settings.Updated, detail: "IMMUTABLE_WITH_EXCLUSION (latest) → IMMUTABLE_WITH_EXCLUSION (cache, latest)",
		},
		"same filters, other mode": {
			have:   ecrtest.Repo{Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"latest"}},
			want:   settings.Mutability{Mode: "MUTABLE_WITH_EXCLUSION", Exclusions: []string{"latest"}},
			status: settings.Updated, detail: "IMMUTABLE_WITH_EXCLUSION (latest) → MUTABLE_WITH_EXCLUSION (latest)",
		},
		"filters dropped": {
			have:   ecrtest.Repo{Mutability: "IMMUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"latest"}},
			want:   settings.Mutability{Mode: "IMMUTABLE"},
			status: settings.Updated, detail: "IMMUTABLE_WITH_EXCLUSION (latest) → IMMUTABLE",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := ecrtest.New(t)
			s.CreateRepository("team/app", tt.have)
			r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{Patterns: []string{"team/app"}, Mutability: &tt.want}}})
			want := []settings.Outcome{{Registry: "prod", Repository: "team/app", Setting: settings.SettingTagMutability, Status: tt.status, Detail: tt.detail}}
			if diff := cmp.Diff(want, r.Outcomes); diff != "" {
				t.Errorf("Ensure() (-want +got):\n%s", diff)
			}
			wantWrites := 0
			if tt.status == settings.Updated {
				wantWrites = 1
			}
			if s.Writes() != wantWrites {
				t.Errorf("Ensure() wrote %d times, want %d", s.Writes(), wantWrites)
			}
			got, _ := s.Repository("team/app")
			if got.Mutability != tt.want.Mode {
				t.Errorf("mutability after Ensure() = %q, want %q", got.Mutability, tt.want.Mode)
			}
		})
	}
}

func TestEnsureRetriesThrottling(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.Fail("PutLifecyclePolicy", 2, "ThrottlingException", "Rate exceeded")
	s.Fail("DescribeRepositories", 1, "ThrottlingException", "Rate exceeded")
	r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{Patterns: []string{"team/*"}, Lifecycle: lifecycle(t, streams)}}})
	want := []brief{{"team/app", settings.SettingLifecyclePolicy, settings.Updated}}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("Ensure() (-want +got):\n%s\n%+v", diff, r.Outcomes)
	}
	if n := s.Calls("PutLifecyclePolicy"); n != 3 {
		t.Errorf("PutLifecyclePolicy called %d times, want 3 (two throttled)", n)
	}
	if got, _ := s.Repository("team/app"); got.LifecyclePolicy == "" {
		t.Errorf("no lifecycle policy after throttled retries")
	}
}

func TestEnsureRegistryScanningOverridesScanOnPush(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{ScanOnPush: true})
	// A registry rule scans every repository on push, whatever its own setting.
	_, err := s.ECR().PutRegistryScanningConfiguration(context.Background(), &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{
			ScanFrequency:     types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{Patterns: []string{"team/app"}, ScanOnPush: ptr(false)}}})
	if len(r.Outcomes) != 1 {
		t.Fatalf("Ensure() = %+v, want one outcome", r.Outcomes)
	}
	o := r.Outcomes[0]
	if o.Status != settings.Drifted || o.Detail != "true → false" || !strings.Contains(o.Reason, "declare registryScanning") {
		t.Errorf("scanOnPush outcome = %+v, want drifted: the registry's rules scan every repository", o)
	}
	if got, _ := s.Repository("team/app"); got.ScanOnPush {
		t.Errorf("the repository's scanOnPush flag was not written")
	}
}

func TestEnsureOnlyNamedRepositories(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.CreateRepository("team/web", ecrtest.Repo{})
	r := ensure(t, s, settings.Desired{
		Rules: []settings.Rule{{Patterns: []string{"team/*"}, Mutability: &settings.Mutability{Mode: "IMMUTABLE"}}},
		Only:  []string{"team/web", "team/missing", "elsewhere/x"},
	})
	want := []brief{
		{"team/missing", settings.SettingRepository, settings.Failed},
		{"team/web", settings.SettingTagMutability, settings.Updated},
	}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("Ensure() (-want +got):\n%s", diff)
	}
	if got, _ := s.Repository("team/app"); got.Mutability == "IMMUTABLE" {
		t.Errorf("team/app was changed though Only names team/web")
	}
	if n := s.Calls("DescribeRepositories"); n != 2 {
		t.Errorf("DescribeRepositories called %d times, want 2 (one per named repository, no listing)", n)
	}
}

func TestEnsurePagesThroughRepositories(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	for i := range 1500 {
		s.CreateRepository(fmt.Sprintf("noise/r%04d", i), ecrtest.Repo{})
	}
	s.CreateRepository("team/z-last", ecrtest.Repo{})
	r := ensure(t, s, settings.Desired{Rules: []settings.Rule{{Patterns: []string{"team/*"}, ScanOnPush: ptr(true)}}})
	want := []brief{{"team/z-last", settings.SettingScanOnPush, settings.Updated}}
	if diff := cmp.Diff(want, briefs(r)); diff != "" {
		t.Errorf("Ensure() (-want +got):\n%s", diff)
	}
	if n := s.Calls("DescribeRepositories"); n != 2 {
		t.Errorf("DescribeRepositories called %d times, want 2 pages", n)
	}
}

func TestEnsureListingFailure(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.Fail("DescribeRepositories", 1, "AccessDeniedException", "not authorized to perform: ecr:DescribeRepositories")
	r := settings.Ensure(context.Background(), s.ECR(), settings.Desired{
		Registry: "prod", Rules: []settings.Rule{{Patterns: []string{"team/*"}, ScanOnPush: ptr(true)}},
	})
	want := []string{"prod: listing repositories: DescribeRepositories: AccessDeniedException: not authorized to perform: ecr:DescribeRepositories"}
	if diff := cmp.Diff(want, r.Errors); diff != "" || len(r.Outcomes) != 0 || !r.Failed() {
		t.Errorf("Ensure() errors (-want +got):\n%s\noutcomes: %+v", diff, r.Outcomes)
	}
}

func TestEnsureRefusesRegistrySettingsOfAnotherAccount(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	r := ensure(t, s, settings.Desired{
		RegistryID:       "210987654321",
		RegistryScanning: &settings.RegistryScanning{Rules: []settings.ScanningRule{{Frequency: "SCAN_ON_PUSH", Filters: []string{"*"}}}},
	})
	if len(r.Outcomes) != 1 || r.Outcomes[0].Status != settings.Failed || !strings.Contains(r.Outcomes[0].Reason, "reach registry 123456789012, not 210987654321") {
		t.Errorf("Ensure() = %+v", r.Outcomes)
	}
	if s.Writes() != 0 {
		t.Errorf("Ensure() wrote %d times to the wrong account", s.Writes())
	}
}
