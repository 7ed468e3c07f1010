package ecrtest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// t0 is a fixed time builds are pushed around.
var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func day(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// apiCode returns the error code of an SDK error, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestCreateAndDescribeRepositories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   ecr.CreateRepositoryInput
		want types.Repository // the settings only
	}{
		{
			name: "defaults",
			in:   ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")},
			want: types.Repository{
				ImageTagMutability:         types.ImageTagMutabilityMutable,
				ImageScanningConfiguration: &types.ImageScanningConfiguration{},
				EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256},
			},
		},
		{
			name: "immutable with exclusions, scan on push, KMS",
			in: ecr.CreateRepositoryInput{
				RepositoryName:     aws.String("team/locked"),
				ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
				ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
					{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")},
					{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")},
				},
				ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
				EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:123456789012:key/k1")},
			},
			want: types.Repository{
				ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
				ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
					{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")},
					{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")},
				},
				ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
				EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:123456789012:key/k1")},
			},
		},
		{
			name: "KMS with the AWS managed key",
			in: ecr.CreateRepositoryInput{
				RepositoryName:          aws.String("team/kms"),
				EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms},
			},
			want: types.Repository{
				ImageTagMutability:         types.ImageTagMutabilityMutable,
				ImageScanningConfiguration: &types.ImageScanningConfiguration{},
				EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:123456789012:alias/aws/ecr")},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ecrtest.New(t)
			c := s.ECR()
			created, err := c.CreateRepository(t.Context(), &tc.in)
			if err != nil {
				t.Fatalf("CreateRepository() error = %v", err)
			}
			out, err := c.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{*tc.in.RepositoryName}})
			if err != nil {
				t.Fatalf("DescribeRepositories() error = %v", err)
			}
			if len(out.Repositories) != 1 {
				t.Fatalf("DescribeRepositories() = %d repositories, want 1", len(out.Repositories))
			}
			got := out.Repositories[0]
			name := *tc.in.RepositoryName
			if *got.RepositoryName != name || *got.RegistryId != ecrtest.Account ||
				*got.RepositoryUri != "123456789012.dkr.ecr.us-east-1.amazonaws.com/"+name ||
				*got.RepositoryArn != "arn:aws:ecr:us-east-1:123456789012:repository/"+name || got.CreatedAt == nil {
				t.Errorf("DescribeRepositories() = name %v, registry %v, URI %v, ARN %v, created %v", *got.RepositoryName, *got.RegistryId, *got.RepositoryUri, *got.RepositoryArn, got.CreatedAt)
			}
			settings := func(r types.Repository) types.Repository {
				return types.Repository{
					ImageTagMutability:                 r.ImageTagMutability,
					ImageTagMutabilityExclusionFilters: r.ImageTagMutabilityExclusionFilters,
					ImageScanningConfiguration:         r.ImageScanningConfiguration,
					EncryptionConfiguration:            r.EncryptionConfiguration,
				}
			}
			opt := cmp.AllowUnexported(types.Repository{}, types.ImageTagMutabilityExclusionFilter{}, types.ImageScanningConfiguration{}, types.EncryptionConfiguration{})
			if diff := cmp.Diff(tc.want, settings(got), opt); diff != "" {
				t.Errorf("DescribeRepositories() settings (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(settings(got), settings(*created.Repository), opt); diff != "" {
				t.Errorf("CreateRepository() and DescribeRepositories() differ (-describe +create):\n%s", diff)
			}
			if s.Writes() != 1 {
				t.Errorf("Writes() = %d, want 1", s.Writes())
			}
		})
	}
}

func TestCreateRepositoryErrors(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("taken", ecrtest.Repo{})
	filter := func(f string) types.ImageTagMutabilityExclusionFilter {
		return types.ImageTagMutabilityExclusionFilter{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(f)}
	}
	for _, tc := range []struct {
		name     string
		in       ecr.CreateRepositoryInput
		code     string
		contains string
	}{
		{"exists", ecr.CreateRepositoryInput{RepositoryName: aws.String("taken")}, "RepositoryAlreadyExistsException",
			"The repository with name 'taken' already exists in the registry with id '123456789012'"},
		{"exclusion mode without filters", ecr.CreateRepositoryInput{RepositoryName: aws.String("a1"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion},
			"InvalidParameterException", "ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION"},
		{"filters without exclusion mode", ecr.CreateRepositoryInput{RepositoryName: aws.String("a2"), ImageTagMutability: types.ImageTagMutabilityImmutable,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{filter("latest")}}, "InvalidParameterException", "can only be set"},
		{"six filters", ecr.CreateRepositoryInput{RepositoryName: aws.String("a3"), ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{filter("a"), filter("b"), filter("c"), filter("d"), filter("e"), filter("f")}},
			"InvalidParameterException", "Member must have length less than or equal to 5"},
		{"bad filter", ecr.CreateRepositoryInput{RepositoryName: aws.String("a4"), ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{filter("v1/beta")}}, "InvalidParameterException", "regular expression pattern"},
		{"bad name", ecr.CreateRepositoryInput{RepositoryName: aws.String("Team/App")}, "InvalidParameterException", "repositoryName"},
		{"bad mode", ecr.CreateRepositoryInput{RepositoryName: aws.String("a5"), ImageTagMutability: "mutable"}, "InvalidParameterException", "enum value set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.ECR().CreateRepository(t.Context(), &tc.in)
			if apiCode(err) != tc.code || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("CreateRepository() error = %v, want %s containing %q", err, tc.code, tc.contains)
			}
		})
	}
	var notFound *types.RepositoryNotFoundException
	_, err := s.ECR().DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"taken", "missing"}})
	if !errors.As(err, &notFound) || !strings.Contains(notFound.ErrorMessage(), "'missing'") {
		t.Errorf("DescribeRepositories(missing) error = %v, want a RepositoryNotFoundException naming it", err)
	}
}

func TestDescribeRepositoriesPages(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("repo-%d", i)
		s.CreateRepository(name, ecrtest.Repo{})
		want = append(want, name)
	}
	p := ecr.NewDescribeRepositoriesPaginator(s.ECR(), &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(3)})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("DescribeRepositories() error = %v", err)
		}
		for _, r := range page.Repositories {
			got = append(got, *r.RepositoryName)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("repositories (-want +got):\n%s", diff)
	}
	if n := s.Calls("DescribeRepositories"); n != 3 {
		t.Errorf("Calls(DescribeRepositories) = %d, want 3 pages", n)
	}
}

// TestAccounts proves servers of different accounts keep their registries apart: each
// names its own account in what it returns, and refuses requests naming another with ECR's
// AccessDeniedException.
func TestAccounts(t *testing.T) {
	t.Parallel()
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	servers := make([]*ecrtest.Server, len(accounts))
	for i, account := range accounts {
		servers[i] = ecrtest.NewWithAccount(t, account)
		servers[i].CreateRepository("team/app-"+account[:1], ecrtest.Repo{})
		servers[i].PushBuild("team/app-"+account[:1], "v1", t0)
	}
	if servers[0].URL == servers[1].URL {
		t.Fatalf("two servers share the URL %s", servers[0].URL)
	}
	for i, s := range servers {
		account := accounts[i]
		if s.RegistryID() != account || s.Host() != account+".dkr.ecr.us-east-1.amazonaws.com" {
			t.Errorf("server %d: RegistryID() = %s, Host() = %s; want %s and its host", i, s.RegistryID(), s.Host(), account)
		}
		c := s.ECR()
		out, err := c.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RegistryId: aws.String(account)})
		if err != nil || len(out.Repositories) != 1 {
			t.Fatalf("DescribeRepositories(%s) = %v, %v; want its one repository", account, out, err)
		}
		r := out.Repositories[0]
		if *r.RegistryId != account || *r.RepositoryUri != account+".dkr.ecr.us-east-1.amazonaws.com/team/app-"+account[:1] ||
			*r.RepositoryArn != "arn:aws:ecr:us-east-1:"+account+":repository/team/app-"+account[:1] {
			t.Errorf("DescribeRepositories(%s) = %s, %s, %s; want the account's IDs", account, *r.RegistryId, *r.RepositoryUri, *r.RepositoryArn)
		}
		images, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: r.RepositoryName})
		if err != nil || len(images.ImageDetails) != 3 || *images.ImageDetails[0].RegistryId != account {
			t.Errorf("DescribeImages() = %v, %v; want three images of registry %s", images, err, account)
		}
		id, err := sts.NewFromConfig(s.AWSConfig()).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil || *id.Account != account || *id.Arn != "arn:aws:iam::"+account+":user/base" {
			t.Errorf("GetCallerIdentity() = %v, %v; want the base user of %s", id, err, account)
		}

		other := accounts[(i+1)%len(accounts)]
		var denied smithy.APIError
		wantMsg := "User: arn:aws:iam::" + account + ":user/base is not authorized to perform: ecr:DescribeRepositories on resource: " +
			"arn:aws:ecr:us-east-1:" + other + ":repository/* because no resource-based policy allows the ecr:DescribeRepositories action"
		_, err = c.DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{RegistryId: aws.String(other)})
		if !errors.As(err, &denied) || denied.ErrorCode() != "AccessDeniedException" || denied.ErrorMessage() != wantMsg {
			t.Errorf("DescribeRepositories(%s) on the server of %s: error = %v, want AccessDeniedException %q", other, account, err, wantMsg)
		}
		for _, call := range []func() error{
			func() error {
				_, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RegistryId: aws.String(other), RepositoryName: r.RepositoryName})
				return err
			},
			func() error {
				_, err := c.GetLifecyclePolicy(t.Context(), &ecr.GetLifecyclePolicyInput{RegistryId: aws.String(other), RepositoryName: aws.String("missing")})
				return err
			},
			func() error {
				_, err := c.CreateRepository(t.Context(), &ecr.CreateRepositoryInput{RegistryId: aws.String(other), RepositoryName: aws.String("new")})
				return err
			},
		} {
			if err := call(); !errors.As(err, &denied) || denied.ErrorCode() != "AccessDeniedException" || !strings.Contains(denied.ErrorMessage(), ":"+other+":repository/") {
				t.Errorf("a call naming registry %s on the server of %s: error = %v, want AccessDeniedException", other, account, err)
			}
		}
	}
}

func TestRepositorySettings(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("team/app", ecrtest.Repo{})
	s.CreateRepository("team/web", ecrtest.Repo{ScanOnPush: true})
	s.CreateRepository("other/db", ecrtest.Repo{})
	c := s.ECR()
	ctx := t.Context()

	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:     aws.String("team/app"),
		ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("v*")},
		},
	}); err != nil {
		t.Fatalf("PutImageTagMutability() error = %v", err)
	}
	if _, err := c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RepositoryName:             aws.String("team/app"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
	}); err != nil {
		t.Fatalf("PutImageScanningConfiguration() error = %v", err)
	}
	got, _ := s.Repository("team/app")
	if diff := cmp.Diff(ecrtest.Repo{Mutability: "MUTABLE_WITH_EXCLUSION", ExclusionFilters: []string{"v*"}, ScanOnPush: true, EncryptionType: "AES256"}, got); diff != "" {
		t.Errorf("Repository() (-want +got):\n%s", diff)
	}
	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("missing"), ImageTagMutability: types.ImageTagMutabilityImmutable,
	}); apiCode(err) != "RepositoryNotFoundException" {
		t.Errorf("PutImageTagMutability(missing) error = %v, want RepositoryNotFoundException", err)
	}

	reg, err := c.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil {
		t.Fatalf("GetRegistryScanningConfiguration() error = %v", err)
	}
	if reg.ScanningConfiguration.ScanType != types.ScanTypeBasic || len(reg.ScanningConfiguration.Rules) != 0 || *reg.RegistryId != ecrtest.Account {
		t.Errorf("GetRegistryScanningConfiguration() = %+v, want BASIC with no rules", reg.ScanningConfiguration)
	}
	if _, err := c.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeBasic,
		Rules: []types.RegistryScanningRule{{
			ScanFrequency:     types.ScanFrequencyContinuousScan,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}},
		}},
	}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("PutRegistryScanningConfiguration(BASIC, CONTINUOUS_SCAN) error = %v, want InvalidParameterException", err)
	}
	put, err := c.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeEnhanced,
		Rules: []types.RegistryScanningRule{
			{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}},
			{ScanFrequency: types.ScanFrequencyContinuousScan, RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("team/*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}},
		},
	})
	if err != nil {
		t.Fatalf("PutRegistryScanningConfiguration() error = %v", err)
	}
	if put.RegistryScanningConfiguration.ScanType != types.ScanTypeEnhanced || len(put.RegistryScanningConfiguration.Rules) != 2 {
		t.Errorf("PutRegistryScanningConfiguration() = %+v", put.RegistryScanningConfiguration)
	}
	if diff := cmp.Diff(ecrtest.ScanningConfig{ScanType: "ENHANCED", Rules: []ecrtest.ScanningRule{
		{ScanFrequency: "SCAN_ON_PUSH", Filters: []string{"*"}},
		{ScanFrequency: "CONTINUOUS_SCAN", Filters: []string{"team/*"}},
	}}, s.RegistryScanning()); diff != "" {
		t.Errorf("RegistryScanning() (-want +got):\n%s", diff)
	}

	eff, err := c.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"team/app", "other/db"}})
	if err != nil {
		t.Fatalf("BatchGetRepositoryScanningConfiguration() error = %v", err)
	}
	var freqs []string
	for _, c := range eff.ScanningConfigurations {
		freqs = append(freqs, *c.RepositoryName+"="+string(c.ScanFrequency))
	}
	if diff := cmp.Diff([]string{"team/app=CONTINUOUS_SCAN", "other/db=SCAN_ON_PUSH"}, freqs); diff != "" {
		t.Errorf("effective scan frequencies (-want +got):\n%s", diff)
	}
	names := make([]string, 26)
	for i := range names {
		names[i] = "team/app"
	}
	if _, err := c.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: names}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("BatchGetRepositoryScanningConfiguration(26 names) error = %v, want InvalidParameterException", err)
	}
	if n := s.Writes(); n != 5 {
		t.Errorf("Writes() = %d, want 5 (three repository settings and two registry scanning puts, refused ones included)", n)
	}
}

// fill pushes n builds to repo, one a day before t0, tagged build-<i>, and returns them
// newest first.
func fill(s *ecrtest.Server, repo string, n int) []ecrtest.Build {
	var builds []ecrtest.Build
	for i := range n {
		builds = append(builds, s.PushBuild(repo, fmt.Sprintf("build-%d", i), t0.Add(-day(i))))
	}
	return builds
}

func TestDescribeImages(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	b := s.PushBuild("app", "v1", t0)
	archived := s.PutImage("app", ecrtest.Image{
		Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:` + strings.Repeat("1", 64) + `","size":100},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:` + strings.Repeat("2", 64) + `","size":1000}]}`),
		Tags:     []string{"old"}, PushedAt: t0.Add(-day(400)), LastArchivedAt: t0.Add(-day(100)), LastPulledAt: t0.Add(-day(300)), Status: "ARCHIVED",
	})
	sig := s.PutImage("app", ecrtest.Image{
		Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.dev.cosign.artifact.sig.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:` + strings.Repeat("3", 64) + `","size":250}],"subject":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"` + b.Index + `","size":500}}`),
		PushedAt: t0.Add(time.Minute),
	})
	c := s.ECR()

	out, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app")})
	if err != nil {
		t.Fatalf("DescribeImages() error = %v", err)
	}
	var active []string
	for _, d := range out.ImageDetails {
		active = append(active, *d.ImageDigest)
	}
	want := []string{b.Index, b.Image, b.Attestation, sig}
	slices.Sort(want)
	if diff := cmp.Diff(want, active); diff != "" {
		t.Errorf("DescribeImages() without filter lists (-want +got):\n%s", diff)
	}

	out, err = c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{
		RepositoryName: aws.String("app"),
		Filter:         &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterAny},
	})
	if err != nil {
		t.Fatalf("DescribeImages(ANY) error = %v", err)
	}
	got := make(map[string]types.ImageDetail)
	for _, d := range out.ImageDetails {
		got[*d.ImageDigest] = d
	}
	if len(got) != 5 {
		t.Fatalf("DescribeImages(ANY) = %d images, want 5", len(got))
	}
	states := make(map[string]ecrtest.ImageState)
	for _, st := range s.Images("app") {
		states[st.Digest] = st
	}
	img, idx, att := got[b.Image], got[b.Index], got[b.Attestation]
	if *img.ImageSizeInBytes != states[b.Image].Size || *img.ImageSizeInBytes < 29<<20 {
		t.Errorf("image size = %d, want config + layers (%d)", *img.ImageSizeInBytes, states[b.Image].Size)
	}
	if *idx.ImageSizeInBytes != max(*img.ImageSizeInBytes, *att.ImageSizeInBytes) {
		t.Errorf("index size = %d, want its largest child's", *idx.ImageSizeInBytes)
	}
	if diff := cmp.Diff([]string{"v1"}, idx.ImageTags); diff != "" {
		t.Errorf("index tags (-want +got):\n%s", diff)
	}
	if *idx.ImageManifestMediaType != inventory.MediaTypeOCIIndex || idx.ArtifactMediaType != nil ||
		*img.ImageManifestMediaType != inventory.MediaTypeOCIManifest || *img.ArtifactMediaType != "application/vnd.oci.image.config.v1+json" {
		t.Errorf("media types: index %v / %v, image %v / %v", *idx.ImageManifestMediaType, idx.ArtifactMediaType, *img.ImageManifestMediaType, *img.ArtifactMediaType)
	}
	if !idx.ImagePushedAt.Equal(t0) || idx.ImageStatus != types.ImageStatusActive || idx.LastRecordedPullTime != nil || *idx.RegistryId != ecrtest.Account || *idx.RepositoryName != "app" {
		t.Errorf("index: pushed %v, status %v, pulled %v, registry %v, repository %v", idx.ImagePushedAt, idx.ImageStatus, idx.LastRecordedPullTime, *idx.RegistryId, *idx.RepositoryName)
	}
	a := got[archived]
	if a.ImageStatus != types.ImageStatusArchived || !a.LastArchivedAt.Equal(t0.Add(-day(100))) || !a.LastRecordedPullTime.Equal(t0.Add(-day(300))) || *a.ImageSizeInBytes != 1100 ||
		*a.ArtifactMediaType != "application/vnd.docker.container.image.v1+json" {
		t.Errorf("archived image: status %v, archived %v, pulled %v, size %d, artifact %v", a.ImageStatus, a.LastArchivedAt, a.LastRecordedPullTime, *a.ImageSizeInBytes, *a.ArtifactMediaType)
	}
	if g := got[sig]; aws.ToString(g.SubjectManifestDigest) != b.Index || *g.ArtifactMediaType != "application/vnd.dev.cosign.artifact.sig.v1+json" || *g.ImageSizeInBytes != 250 {
		t.Errorf("referrer: subject %v, artifact %v, size %d", aws.ToString(g.SubjectManifestDigest), *g.ArtifactMediaType, *g.ImageSizeInBytes)
	}

	for _, tc := range []struct {
		filter types.DescribeImagesFilter
		want   int
	}{
		{types.DescribeImagesFilter{TagStatus: types.TagStatusTagged, ImageStatus: types.ImageStatusFilterAny}, 2},
		{types.DescribeImagesFilter{TagStatus: types.TagStatusUntagged}, 3},
		{types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterArchived}, 1},
		{types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterActivating}, 0},
	} {
		out, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), Filter: &tc.filter})
		if err != nil || len(out.ImageDetails) != tc.want {
			t.Errorf("DescribeImages(%+v) = %d images, %v; want %d", tc.filter, len(out.ImageDetails), err, tc.want)
		}
	}

	byID, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("old")}}})
	if err != nil || len(byID.ImageDetails) != 1 || *byID.ImageDetails[0].ImageDigest != archived {
		t.Errorf("DescribeImages(imageTag=old) = %v, %v; want the archived image", byID, err)
	}
	missing := "sha256:" + strings.Repeat("ab", 32)
	_, err = c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(missing)}}})
	var notFound *types.ImageNotFoundException
	wantMsg := "The image with imageId {imageDigest:'" + missing + "', imageTag:'null'} does not exist within the repository with name 'app' in the registry with id '123456789012'"
	if !errors.As(err, &notFound) || notFound.ErrorMessage() != wantMsg {
		t.Errorf("DescribeImages(missing) error = %v, want ImageNotFoundException %q", err, wantMsg)
	}
	for _, in := range []*ecr.DescribeImagesInput{
		{RepositoryName: aws.String("app"), MaxResults: aws.Int32(1001)},
		{RepositoryName: aws.String("app"), MaxResults: aws.Int32(0)},
		{RepositoryName: aws.String("app"), MaxResults: aws.Int32(5), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}},
		{RepositoryName: aws.String("app"), NextToken: aws.String("garbage")},
		{RepositoryName: aws.String("app"), Filter: &types.DescribeImagesFilter{ImageStatus: "active"}},
	} {
		if _, err := c.DescribeImages(t.Context(), in); apiCode(err) != "InvalidParameterException" {
			t.Errorf("DescribeImages(%+v) error = %v, want InvalidParameterException", in, err)
		}
	}
	_, err = c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("gone")})
	var repoNotFound *types.RepositoryNotFoundException
	if !errors.As(err, &repoNotFound) || repoNotFound.ErrorMessage() != "The repository with name 'gone' does not exist in the registry with id '123456789012'" {
		t.Errorf("DescribeImages(unknown repository) error = %v, want RepositoryNotFoundException", err)
	}
	_, err = c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), RegistryId: aws.String("999999999999")})
	var denied smithy.APIError
	if !errors.As(err, &denied) || denied.ErrorCode() != "AccessDeniedException" || !strings.Contains(denied.ErrorMessage(), "arn:aws:ecr:us-east-1:999999999999:repository/app") {
		t.Errorf("DescribeImages(other registry) error = %v, want AccessDeniedException naming the repository's ARN", err)
	}
}

func TestImagePages(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	builds := fill(s, "app", 5) // 15 images, 5 tagged
	s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`), Tags: []string{"a", "b", "c"}})
	c := s.ECR()

	p := ecr.NewDescribeImagesPaginator(c, &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), MaxResults: aws.Int32(4)})
	var digests []string
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("DescribeImages() error = %v", err)
		}
		if len(page.ImageDetails) > 4 {
			t.Errorf("DescribeImages(maxResults 4) page of %d", len(page.ImageDetails))
		}
		for _, d := range page.ImageDetails {
			digests = append(digests, *d.ImageDigest)
		}
	}
	var want []string
	for _, st := range s.Images("app") {
		want = append(want, st.Digest)
	}
	if diff := cmp.Diff(want, digests); diff != "" {
		t.Errorf("DescribeImages pages (-want +got):\n%s", diff)
	}
	if n := s.Calls("DescribeImages"); n != 4 {
		t.Errorf("Calls(DescribeImages) = %d, want 4 pages for 16 images", n)
	}

	lp := ecr.NewListImagesPaginator(c, &ecr.ListImagesInput{RepositoryName: aws.String("app"), MaxResults: aws.Int32(2), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusTagged}})
	var tags []string
	for lp.HasMorePages() {
		page, err := lp.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListImages() error = %v", err)
		}
		for _, id := range page.ImageIds {
			tags = append(tags, *id.ImageTag)
		}
	}
	slices.Sort(tags)
	wantTags := []string{"a", "b", "build-0", "build-1", "build-2", "build-3", "build-4", "c"}
	if diff := cmp.Diff(wantTags, tags); diff != "" {
		t.Errorf("ListImages(TAGGED) tags (-want +got):\n%s", diff)
	}
	untagged, err := c.ListImages(t.Context(), &ecr.ListImagesInput{RepositoryName: aws.String("app"), Filter: &types.ListImagesFilter{TagStatus: types.TagStatusUntagged}})
	if err != nil || len(untagged.ImageIds) != 2*len(builds) || untagged.NextToken != nil {
		t.Errorf("ListImages(UNTAGGED) = %d ids, next %v, %v; want %d in one page", len(untagged.ImageIds), untagged.NextToken, err, 2*len(builds))
	}
}

func TestBatchGetImage(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	b := s.PushBuild("app", "v1", t0)
	archived := s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`), Status: "ARCHIVED"})
	now := t0.Add(day(3))
	s.SetClock(func() time.Time { return now })
	missing := "sha256:" + strings.Repeat("cd", 32)

	out, err := s.ECR().BatchGetImage(t.Context(), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{
			{ImageTag: aws.String("v1")}, {ImageDigest: aws.String(b.Image)}, {ImageDigest: aws.String(missing)}, {ImageDigest: aws.String(archived)},
			{ImageDigest: aws.String("sha256:short")}, {},
		},
		AcceptedMediaTypes: []string{inventory.MediaTypeOCIIndex, inventory.MediaTypeOCIManifest},
	})
	if err != nil {
		t.Fatalf("BatchGetImage() error = %v", err)
	}
	var got []string
	for _, img := range out.Images {
		sum := sha256.Sum256([]byte(*img.ImageManifest))
		if d := "sha256:" + hex.EncodeToString(sum[:]); d != *img.ImageId.ImageDigest {
			t.Errorf("manifest of %s hashes to %s", *img.ImageId.ImageDigest, d)
		}
		got = append(got, *img.ImageId.ImageDigest+" "+aws.ToString(img.ImageId.ImageTag)+" "+*img.ImageManifestMediaType)
	}
	want := []string{b.Index + " v1 " + inventory.MediaTypeOCIIndex, b.Image + "  " + inventory.MediaTypeOCIManifest}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BatchGetImage() images (-want +got):\n%s", diff)
	}
	var failures []string
	for _, f := range out.Failures {
		failures = append(failures, aws.ToString(f.ImageId.ImageDigest)+" "+string(f.FailureCode))
	}
	wantFailures := []string{missing + " ImageNotFound", archived + " ImageNotFound", "sha256:short InvalidImageDigest", " MissingDigestAndTag"}
	if diff := cmp.Diff(wantFailures, failures); diff != "" {
		t.Errorf("BatchGetImage() failures (-want +got):\n%s", diff)
	}
	for _, st := range s.Images("app") {
		pulled := st.Digest == b.Index || st.Digest == b.Image
		if pulled != st.LastPulledAt.Equal(now) {
			t.Errorf("%s: LastPulledAt = %v; pulled by BatchGetImage: %v", st.Digest, st.LastPulledAt, pulled)
		}
	}

	docker, err := s.ECR().BatchGetImage(t.Context(), &ecr.BatchGetImageInput{
		RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}},
		AcceptedMediaTypes: []string{inventory.MediaTypeDockerV2},
	})
	if err != nil || len(docker.Images) != 0 || len(docker.Failures) != 1 {
		t.Errorf("BatchGetImage(an index, accepting Docker manifests only) = %d images, %d failures, %v; want a failure", len(docker.Images), len(docker.Failures), err)
	}
	ids := make([]types.ImageIdentifier, 101)
	for i := range ids {
		ids[i] = types.ImageIdentifier{ImageTag: aws.String("v1")}
	}
	if _, err := s.ECR().BatchGetImage(t.Context(), &ecr.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: ids}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("BatchGetImage(101 ids) error = %v, want InvalidParameterException", err)
	}
}

func TestBatchDeleteImage(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	b := s.PushBuild("app", "v1", t0)
	multi := s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[{"mediaType":"x","digest":"sha256:` + strings.Repeat("4", 64) + `","size":1}]}`), Tags: []string{"a", "b"}})
	single := s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[{"mediaType":"x","digest":"sha256:` + strings.Repeat("5", 64) + `","size":1}]}`), Tags: []string{"only"}})
	missing := "sha256:" + strings.Repeat("ef", 32)
	c := s.ECR()

	out, err := c.BatchDeleteImage(t.Context(), &ecr.BatchDeleteImageInput{
		RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{
			{ImageDigest: aws.String(b.Image)},       // referenced by the index
			{ImageTag: aws.String("a")},              // one of two tags
			{ImageTag: aws.String("only")},           // the last tag: the image goes
			{ImageDigest: aws.String(missing)},       // gone
			{ImageDigest: aws.String(b.Index)},       // the index, with its tag
			{ImageDigest: aws.String(b.Attestation)}, // no longer referenced
		},
	})
	if err != nil {
		t.Fatalf("BatchDeleteImage() error = %v", err)
	}
	var deleted []string
	for _, id := range out.ImageIds {
		deleted = append(deleted, *id.ImageDigest+" "+aws.ToString(id.ImageTag))
	}
	wantDeleted := []string{multi + " a", single + " only", b.Index + " v1", b.Attestation + " "}
	if diff := cmp.Diff(wantDeleted, deleted); diff != "" {
		t.Errorf("BatchDeleteImage() deleted (-want +got):\n%s", diff)
	}
	var failures []string
	for _, f := range out.Failures {
		failures = append(failures, *f.ImageId.ImageDigest+" "+string(f.FailureCode)+": "+*f.FailureReason)
	}
	wantFailures := []string{
		b.Image + " ImageReferencedByManifestList: Requested image referenced by manifest list: [" + b.Index + "]",
		missing + " ImageNotFound: Requested image not found",
	}
	if diff := cmp.Diff(wantFailures, failures); diff != "" {
		t.Errorf("BatchDeleteImage() failures (-want +got):\n%s", diff)
	}
	var left []string
	for _, st := range s.Images("app") {
		left = append(left, st.Digest+" "+strings.Join(st.Tags, ","))
	}
	wantLeft := []string{b.Image + " ", multi + " b"}
	slices.Sort(wantLeft)
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("images left (-want +got):\n%s", diff)
	}
	if _, err := c.BatchDeleteImage(t.Context(), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(b.Image)}}}); err != nil {
		t.Errorf("BatchDeleteImage(orphaned child) error = %v", err)
	}

	ids := make([]types.ImageIdentifier, 101)
	for i := range ids {
		ids[i] = types.ImageIdentifier{ImageDigest: aws.String(fmt.Sprintf("sha256:%064x", i))}
	}
	_, err = c.BatchDeleteImage(t.Context(), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: ids})
	var invalid *types.InvalidParameterException
	if !errors.As(err, &invalid) || !strings.Contains(invalid.ErrorMessage(), "Member must have length less than or equal to 100") {
		t.Errorf("BatchDeleteImage(101 ids) error = %v, want InvalidParameterException about the length", err)
	}
	if _, err := c.BatchDeleteImage(t.Context(), &ecr.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{}}); apiCode(err) != "InvalidParameterException" {
		t.Errorf("BatchDeleteImage(no ids) error = %v, want InvalidParameterException", err)
	}
}

func TestUpdateImageStorageClass(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	b := s.PushBuild("app", "v1", t0)
	now := t0.Add(day(10))
	s.SetClock(func() time.Time { return now })
	c := s.ECR()
	update := func(digest string, class types.TargetStorageClass) (types.ImageStatus, error) {
		out, err := c.UpdateImageStorageClass(t.Context(), &ecr.UpdateImageStorageClassInput{
			RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(digest)}, TargetStorageClass: class,
		})
		if err != nil {
			return "", err
		}
		return out.ImageStatus, nil
	}
	state := func(digest string) ecrtest.ImageState {
		for _, st := range s.Images("app") {
			if st.Digest == digest {
				return st
			}
		}
		t.Fatalf("no image %s", digest)
		return ecrtest.ImageState{}
	}

	_, err := update(b.Image, types.TargetStorageClassArchive)
	var unsupported *types.ImageStorageClassUpdateNotSupportedException
	if !errors.As(err, &unsupported) {
		t.Errorf("archiving an index child: error = %v, want ImageStorageClassUpdateNotSupportedException", err)
	}
	if st, err := update(b.Index, types.TargetStorageClassArchive); err != nil || st != types.ImageStatusArchived {
		t.Fatalf("archiving the index = %v, %v; want ARCHIVED", st, err)
	}
	if st := state(b.Index); st.Status != "ARCHIVED" || st.StorageClass != "ARCHIVE" || !st.LastArchivedAt.Equal(now) {
		t.Errorf("archived index: %+v", st)
	}
	if st, err := update(b.Image, types.TargetStorageClassArchive); err != nil || st != types.ImageStatusArchived {
		t.Errorf("archiving the child of an archived index = %v, %v; want ARCHIVED", st, err)
	}
	if st, err := update(b.Index, types.TargetStorageClassArchive); err != nil || st != types.ImageStatusArchived {
		t.Errorf("archiving an archived index again = %v, %v; want ARCHIVED", st, err)
	}

	if st, err := update(b.Index, types.TargetStorageClassStandard); err != nil || st != types.ImageStatusActivating {
		t.Fatalf("restoring the index = %v, %v; want ACTIVATING", st, err)
	}
	if _, err := update(b.Index, types.TargetStorageClassArchive); !errors.As(err, &unsupported) {
		t.Errorf("archiving a restoring index: error = %v, want ImageStorageClassUpdateNotSupportedException", err)
	}
	describe := func() types.ImageDetail {
		out, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
		if err != nil {
			t.Fatalf("DescribeImages() error = %v", err)
		}
		return out.ImageDetails[0]
	}
	if d := describe(); d.ImageStatus != types.ImageStatusActivating || d.LastActivatedAt != nil {
		t.Errorf("first DescribeImages after the restore: status %v, activated %v; want ACTIVATING", d.ImageStatus, d.LastActivatedAt)
	}
	now = now.Add(20 * time.Minute)
	if d := describe(); d.ImageStatus != types.ImageStatusActive || !d.LastActivatedAt.Equal(now) || !d.LastArchivedAt.Equal(t0.Add(day(10))) {
		t.Errorf("second DescribeImages after the restore: status %v, activated %v, archived %v; want ACTIVE since %v", d.ImageStatus, d.LastActivatedAt, d.LastArchivedAt, now)
	}
	_, err = update("sha256:"+strings.Repeat("0", 64), types.TargetStorageClassArchive)
	var notFound *types.ImageNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("archiving a missing image: error = %v, want ImageNotFoundException", err)
	}
}

const keepPolicy = `{
  "rules": [
    {"rulePriority": 20, "description": "expire old builds",
     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 2},
     "action": {"type": "expire"}},
    {"rulePriority": 10, "description": "archive old releases",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["release-"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30},
     "action": {"type": "transition", "targetStorageClass": "archive"}}
  ]
}`

// keepPolicyStored is keepPolicy as GetLifecyclePolicy returns it: compact, rule 10 first.
const keepPolicyStored = `{"rules":[` +
	`{"rulePriority":10,"description":"archive old releases","selection":{"tagStatus":"tagged","tagPrefixList":["release-"],"countType":"sinceImagePushed","countUnit":"days","countNumber":30},"action":{"type":"transition","targetStorageClass":"archive"}},` +
	`{"rulePriority":20,"description":"expire old builds","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`

func TestLifecyclePolicy(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	c := s.ECR()
	ctx := t.Context()
	name := aws.String("app")

	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name})
	var notFound *types.LifecyclePolicyNotFoundException
	if !errors.As(err, &notFound) || notFound.ErrorMessage() != "Lifecycle policy does not exist for the repository with name 'app' in the registry with id '123456789012'" {
		t.Errorf("GetLifecyclePolicy(none) error = %v, want LifecyclePolicyNotFoundException", err)
	}
	if _, err := c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: name}); !errors.As(err, &notFound) {
		t.Errorf("DeleteLifecyclePolicy(none) error = %v, want LifecyclePolicyNotFoundException", err)
	}

	invalid := strings.Replace(keepPolicy, `"type": "expire"`, `"type": "Expire"`, 1)
	_, err = c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: name, LifecyclePolicyText: aws.String(invalid)})
	want := `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: rules[0].action.type: "Expire" is not one of expire, transition'`
	var invalidParam *types.InvalidParameterException
	if !errors.As(err, &invalidParam) || invalidParam.ErrorMessage() != want {
		t.Errorf("PutLifecyclePolicy(invalid) error = %v, want InvalidParameterException %q", err, want)
	}

	put, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: name, LifecyclePolicyText: aws.String(keepPolicy)})
	if err != nil || *put.LifecyclePolicyText != keepPolicy || *put.RepositoryName != "app" || *put.RegistryId != ecrtest.Account {
		t.Fatalf("PutLifecyclePolicy() = %v, %v", put, err)
	}
	got, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name})
	if err != nil {
		t.Fatalf("GetLifecyclePolicy() error = %v", err)
	}
	text := *got.LifecyclePolicyText
	if text != keepPolicyStored {
		t.Errorf("GetLifecyclePolicy() text = %s, want it compact with rule 10 first:\n%s", text, keepPolicyStored)
	}
	if got.LastEvaluatedAt != nil {
		t.Errorf("GetLifecyclePolicy().LastEvaluatedAt = %v, want none for a policy never run", got.LastEvaluatedAt)
	}
	if r, _ := s.Repository("app"); r.LifecyclePolicy != keepPolicy {
		t.Errorf("Repository().LifecyclePolicy = %s, want the text as put", r.LifecyclePolicy)
	}
	del, err := c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: name})
	if err != nil || *del.LifecyclePolicyText != text {
		t.Errorf("DeleteLifecyclePolicy() = %v, %v", del, err)
	}
	if _, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: name}); !errors.As(err, &notFound) {
		t.Errorf("GetLifecyclePolicy(after delete) error = %v, want LifecyclePolicyNotFoundException", err)
	}
	if n := s.Writes(); n != 4 {
		t.Errorf("Writes() = %d, want 4 (2 puts, 2 deletes)", n)
	}
}

// untaggedRule is a valid rule that the cases of TestLifecyclePolicyValidation alter.
const untaggedRule = `{"rulePriority": 1, "description": "expire untagged images two weeks after their push",
  "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
  "action": {"type": "expire"}}`

// TestLifecyclePolicyValidation checks the server's own check of policy text, which
// PutLifecyclePolicy and StartLifecyclePolicyPreview share: the API model's length bounds,
// then the shape of the documented template, and nothing more.
func TestLifecyclePolicyValidation(t *testing.T) {
	t.Parallel()
	policyOf := func(rules ...string) string { return `{"rules": [` + strings.Join(rules, ", ") + `]}` }
	alter := func(old, new string) string { return policyOf(strings.Replace(untaggedRule, old, new, 1)) }
	// padded is a valid policy of n characters (n ≥ 247), its description lengthened.
	padded := func(n int) string {
		p := policyOf(untaggedRule)
		return strings.Replace(p, "their push", "their push"+strings.Repeat(".", n-len(p)), 1)
	}
	rules51 := make([]string, 51)
	for i := range rules51 {
		rules51[i] = strings.Replace(untaggedRule, `"rulePriority": 1`, fmt.Sprintf(`"rulePriority": %d`, i+1), 1)
	}
	const validation = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "
	tests := []struct {
		name, text string
		want       string // the error message; "" for accepted
	}{
		{"one rule", policyOf(untaggedRule), ""},
		{"two rules", policyOf(untaggedRule, strings.Replace(untaggedRule, `"rulePriority": 1`, `"rulePriority": 2`, 1)), ""},
		{"longest", padded(30_720), ""},
		{"cross-field rules are not checked", alter(`"tagStatus": "untagged"`, `"tagStatus": "tagged"`), ""},
		{"too short", `{"rules": []` + strings.Repeat(" ", 99-13) + `}`, "1 validation error detected: Value at 'lifecyclePolicyText' failed to satisfy constraint: Member must have length greater than or equal to 100"},
		{"empty rules, long enough", `{"rules": []` + strings.Repeat(" ", 100-13) + `}`, validation + "rules: at least one rule is required'"},
		{"too long", padded(30_721), "1 validation error detected: Value at 'lifecyclePolicyText' failed to satisfy constraint: Member must have length less than or equal to 30720"},
		{"not JSON", policyOf(untaggedRule) + "}", validation + "the policy is not valid JSON: text after the policy object'"},
		{"broken JSON", strings.TrimSuffix(policyOf(untaggedRule), "]}"), validation + "the policy is not valid JSON: unexpected EOF'"},
		{"not an object", "[" + untaggedRule + "]", validation + "policy: must be an object'"},
		{"unknown member", strings.Replace(policyOf(untaggedRule), `{"rules"`, `{"version": 1, "rules"`, 1), validation + `policy: unknown member "version"'`},
		{"no rules", `{"rulez": [` + untaggedRule + `]}`, validation + `policy: unknown member "rulez"'`},
		{"rules not a list", `{"rules": ` + untaggedRule + `}`, validation + "rules: required, a list of rules'"},
		{"51 rules", policyOf(rules51...), validation + "rules: 51 rules, more than the 50 allowed'"},
		{"no priority", alter(`"rulePriority": 1, `, ""), validation + "rules[0].rulePriority: required, a positive integer'"},
		{"priority 0", alter(`"rulePriority": 1`, `"rulePriority": 0`), validation + "rules[0].rulePriority: 0 is not a positive integer'"},
		{"priority a string", alter(`"rulePriority": 1`, `"rulePriority": "1"`), validation + `rules[0].rulePriority: "1" is not a positive integer'`},
		{"priority a fraction", alter(`"rulePriority": 1`, `"rulePriority": 1.5`), validation + "rules[0].rulePriority: 1.5 is not a positive integer'"},
		{"description a number", alter(`"description": "expire untagged images two weeks after their push"`, `"description": 14`), validation + "rules[0].description: must be a string'"},
		{"no selection", alter(`"selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},`, ""), validation + "rules[0].selection: required, an object'"},
		{"unknown selection member", alter(`"countUnit": "days"`, `"countUnits": "days"`), validation + `rules[0].selection: unknown member "countUnits"'`},
		{"tagStatus in capitals", alter(`"untagged"`, `"UNTAGGED"`), validation + `rules[0].selection.tagStatus: "UNTAGGED" is not one of tagged, untagged, any'`},
		{"no countType", alter(`"countType": "sinceImagePushed", `, ""), validation + "rules[0].selection.countType: required, one of imageCountMoreThan, sinceImagePushed, sinceImagePulled, sinceImageTransitioned'"},
		{"countNumber 0", alter(`"countNumber": 14`, `"countNumber": 0`), validation + "rules[0].selection.countNumber: 0 is not a positive integer'"},
		{"no action", alter(`,
  "action": {"type": "expire"}`, ""), validation + "rules[0].action: required, an object'"},
		{"action type in capitals", alter(`"type": "expire"`, `"type": "EXPIRE"`), validation + `rules[0].action.type: "EXPIRE" is not one of expire, transition'`},
		{"second rule", policyOf(untaggedRule, `{"rulePriority": 2, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}}`), validation + "rules[1].action: required, an object'"},
	}
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	c := s.ECR()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for op, call := range map[string]func() error{
				"PutLifecyclePolicy": func() error {
					_, err := c.PutLifecyclePolicy(t.Context(), &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String(tt.text)})
					return err
				},
				// The repository's previews are never read, so a valid text starts one and
				// then finds it in progress: either error is an acceptance.
				"StartLifecyclePolicyPreview": func() error {
					_, err := c.StartLifecyclePolicyPreview(t.Context(), &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String(tt.text)})
					if apiCode(err) == "LifecyclePolicyPreviewInProgressException" {
						return nil
					}
					return err
				},
			} {
				err := call()
				var invalid *types.InvalidParameterException
				switch {
				case tt.want == "" && err != nil:
					t.Errorf("%s() error = %v, want it accepted", op, err)
				case tt.want != "" && (!errors.As(err, &invalid) || invalid.ErrorMessage() != tt.want):
					t.Errorf("%s() error = %v, want InvalidParameterException %q", op, err, tt.want)
				}
			}
		})
	}
}

// pushTagged pushes a single-manifest image made unique by name, with tags, pushed at
// pushed, and returns its digest.
func pushTagged(s *ecrtest.Server, repo, name string, pushed time.Time, tags ...string) string {
	sum := sha256.Sum256([]byte(name))
	return s.PutImage(repo, ecrtest.Image{
		Manifest: fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%x","size":2},"layers":[]}`, sum),
		Tags:     tags,
		PushedAt: pushed,
	})
}

// previewLine is one preview result as the tests compare them.
func previewLine(r types.LifecyclePolicyPreviewResult) string {
	line := fmt.Sprintf("%s %v %s %s %d %s", *r.ImageDigest, r.ImageTags, r.ImagePushedAt.UTC().Format(time.DateOnly), r.Action.Type, *r.AppliedRulePriority, r.StorageClass)
	if r.Action.TargetStorageClass != "" {
		line += " to " + string(r.Action.TargetStorageClass)
	}
	return line
}

// TestLifecyclePolicyPreview checks that a preview reports what the test scripted, with
// the images' details as the repository holds them when it starts, through every way
// GetLifecyclePolicyPreview reads results.
func TestLifecyclePolicyPreview(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	var digests []string
	for i := range 4 {
		digests = append(digests, pushTagged(s, "app", fmt.Sprint("build ", i), t0.Add(-day(i)), fmt.Sprint("build-", i)))
	}
	untagged := pushTagged(s, "app", "untagged", t0.Add(-day(9)))
	release := pushTagged(s, "app", "release", t0.Add(-day(40)), "release-1")
	frozen := s.PutImage("app", ecrtest.Image{
		Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`),
		Tags:     []string{"frozen"}, PushedAt: t0.Add(-day(500)), Status: "ARCHIVED", LastArchivedAt: t0.Add(-day(120)),
	})
	c := s.ECR()
	ctx := t.Context()
	name := aws.String("app")

	_, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name})
	var noPreview *types.LifecyclePolicyPreviewNotFoundException
	if !errors.As(err, &noPreview) {
		t.Errorf("GetLifecyclePolicyPreview(none started) error = %v, want LifecyclePolicyPreviewNotFoundException", err)
	}
	var noPolicy *types.LifecyclePolicyNotFoundException
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name}); !errors.As(err, &noPolicy) {
		t.Errorf("StartLifecyclePolicyPreview(no text, no policy) error = %v, want LifecyclePolicyNotFoundException", err)
	}

	// Unscripted, a preview acts on nothing.
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name, LifecyclePolicyText: aws.String(keepPolicy)}); err != nil {
		t.Fatalf("StartLifecyclePolicyPreview(unscripted) error = %v", err)
	}
	for range 2 {
		out, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name})
		if err != nil || len(out.PreviewResults) != 0 || (out.Status == types.LifecyclePolicyPreviewStatusComplete && *out.Summary.ExpiringImageTotalCount != 0) {
			t.Fatalf("GetLifecyclePolicyPreview(unscripted) = %+v, %v; want no results", out, err)
		}
	}

	s.SetPreview("app", []ecrtest.PreviewResult{
		{Digest: digests[2], Action: "EXPIRE", RulePriority: 20},
		{Digest: digests[3], Action: "EXPIRE", RulePriority: 20},
		{Digest: untagged, Action: "EXPIRE", RulePriority: 20},
		{Digest: release, Action: "TRANSITION", RulePriority: 10},
		{Digest: frozen, Action: "EXPIRE", RulePriority: 30},
	})
	// The details are read when the preview starts: a tag moved after SetPreview shows.
	pushTagged(s, "app", "build 0", t0.Add(-day(0)), "build-3")
	want := []string{
		fmt.Sprintf("%s [build-2] 2026-05-30 EXPIRE 20 STANDARD", digests[2]),
		fmt.Sprintf("%s [] 2026-05-29 EXPIRE 20 STANDARD", digests[3]),
		fmt.Sprintf("%s [] 2026-05-23 EXPIRE 20 STANDARD", untagged),
		fmt.Sprintf("%s [release-1] 2026-04-22 TRANSITION 10 STANDARD to ARCHIVE", release),
		fmt.Sprintf("%s [frozen] 2025-01-17 EXPIRE 30 ARCHIVE", frozen),
	}
	slices.Sort(want)

	start, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name, LifecyclePolicyText: aws.String(keepPolicy)})
	if err != nil || start.Status != types.LifecyclePolicyPreviewStatusInProgress || *start.LifecyclePolicyText != keepPolicy {
		t.Fatalf("StartLifecyclePolicyPreview() = %+v, %v; want IN_PROGRESS", start, err)
	}
	var busy *types.LifecyclePolicyPreviewInProgressException
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name, LifecyclePolicyText: aws.String(keepPolicy)}); !errors.As(err, &busy) {
		t.Errorf("second StartLifecyclePolicyPreview() error = %v, want LifecyclePolicyPreviewInProgressException", err)
	}
	calls := s.Calls("GetLifecyclePolicyPreview")
	first, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name})
	if err != nil || first.Status != types.LifecyclePolicyPreviewStatusInProgress || len(first.PreviewResults) != 0 {
		t.Fatalf("first GetLifecyclePolicyPreview() = %+v, %v; want IN_PROGRESS without results", first, err)
	}

	p := ecr.NewGetLifecyclePolicyPreviewPaginator(c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name, MaxResults: aws.Int32(2)})
	var got []string
	var summary *types.LifecyclePolicyPreviewSummary
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("GetLifecyclePolicyPreview() error = %v", err)
		}
		if page.Status != types.LifecyclePolicyPreviewStatusComplete || *page.LifecyclePolicyText != keepPolicy {
			t.Errorf("GetLifecyclePolicyPreview() status %v, text %q", page.Status, *page.LifecyclePolicyText)
		}
		summary = page.Summary
		for _, r := range page.PreviewResults {
			got = append(got, previewLine(r))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("preview results (-scripted +preview):\n%s", diff)
	}
	if *summary.ExpiringImageTotalCount != 4 || len(summary.TransitioningImageTotalCounts) != 1 ||
		*summary.TransitioningImageTotalCounts[0].ImageTotalCount != 1 || summary.TransitioningImageTotalCounts[0].TargetStorageClass != types.LifecyclePolicyTargetStorageClassArchive {
		t.Errorf("summary = %+v, want 4 expiring, 1 transitioning to ARCHIVE", summary)
	}
	if n := s.Calls("GetLifecyclePolicyPreview") - calls; n != 4 {
		t.Errorf("Calls(GetLifecyclePolicyPreview) = %d, want 4: one IN_PROGRESS, three pages of two", n)
	}

	for _, tc := range []struct {
		name string
		in   ecr.GetLifecyclePolicyPreviewInput
		want []string
	}{
		{"TAGGED", ecr.GetLifecyclePolicyPreviewInput{Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusTagged}}, []string{digests[2], release, frozen}},
		{"UNTAGGED", ecr.GetLifecyclePolicyPreviewInput{Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusUntagged}}, []string{digests[3], untagged}},
		{"imageIds", ecr.GetLifecyclePolicyPreviewInput{ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("release-1")}, {ImageDigest: aws.String(untagged)}, {ImageDigest: aws.String(digests[0])}}}, []string{untagged, release}},
	} {
		tc.in.RepositoryName = name
		out, err := c.GetLifecyclePolicyPreview(ctx, &tc.in)
		if err != nil {
			t.Fatalf("GetLifecyclePolicyPreview(%s) error = %v", tc.name, err)
		}
		var got []string
		for _, r := range out.PreviewResults {
			got = append(got, *r.ImageDigest)
		}
		slices.Sort(tc.want)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("GetLifecyclePolicyPreview(%s) (-want +got):\n%s", tc.name, diff)
		}
	}

	// The repository's own policy; the SDK's waiter polls until COMPLETE.
	if _, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: name, LifecyclePolicyText: aws.String(keepPolicy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name}); err != nil {
		t.Fatalf("StartLifecyclePolicyPreview(the repository's policy) error = %v", err)
	}
	w := ecr.NewLifecyclePolicyPreviewCompleteWaiter(c, func(o *ecr.LifecyclePolicyPreviewCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, 10*time.Millisecond
	})
	done, err := w.WaitForOutput(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name}, time.Minute)
	if err != nil || done.Status != types.LifecyclePolicyPreviewStatusComplete || len(done.PreviewResults) != len(want) {
		t.Errorf("waiter = %+v, %v; want COMPLETE with %d results", done, err, len(want))
	}
}

// TestLifecyclePolicyPreviewHold checks that a held preview stays IN_PROGRESS, however often
// it is read, until the test releases it.
func TestLifecyclePolicyPreviewHold(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{LifecyclePolicy: keepPolicy})
	old := pushTagged(s, "app", "old", t0.Add(-day(3)))
	s.SetPreview("app", []ecrtest.PreviewResult{{Digest: old, Action: "EXPIRE", RulePriority: 20}})
	c := s.ECR()
	ctx := t.Context()
	name := aws.String("app")
	get := func() *ecr.GetLifecyclePolicyPreviewOutput {
		t.Helper()
		out, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name})
		if err != nil {
			t.Fatalf("GetLifecyclePolicyPreview() error = %v", err)
		}
		return out
	}

	s.HoldPreviews("app")
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name}); err != nil {
		t.Fatalf("StartLifecyclePolicyPreview() error = %v", err)
	}
	for i := range 3 {
		if out := get(); out.Status != types.LifecyclePolicyPreviewStatusInProgress || len(out.PreviewResults) != 0 {
			t.Fatalf("GetLifecyclePolicyPreview() %d while held = %v with %d results, want IN_PROGRESS without results", i+1, out.Status, len(out.PreviewResults))
		}
	}
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name}); apiCode(err) != "LifecyclePolicyPreviewInProgressException" {
		t.Errorf("StartLifecyclePolicyPreview() while held: error = %v, want LifecyclePolicyPreviewInProgressException", err)
	}

	// The SDK's waiter keeps polling a held preview, and returns once it is released.
	calls := s.Calls("GetLifecyclePolicyPreview")
	type result struct {
		out *ecr.GetLifecyclePolicyPreviewOutput
		err error
	}
	done := make(chan result, 1)
	go func() {
		w := ecr.NewLifecyclePolicyPreviewCompleteWaiter(c, func(o *ecr.LifecyclePolicyPreviewCompleteWaiterOptions) {
			o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
		})
		out, err := w.WaitForOutput(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: name}, time.Hour)
		done <- result{out, err}
	}()
	select {
	case <-s.CallsReached("GetLifecyclePolicyPreview", calls+3):
	case r := <-done:
		t.Fatalf("waiter returned %+v, %v while the preview was held", r.out, r.err)
	}
	s.ReleasePreviews("app")
	r := <-done
	if r.err != nil || r.out.Status != types.LifecyclePolicyPreviewStatusComplete || len(r.out.PreviewResults) != 1 {
		t.Fatalf("waiter = %+v, %v; want COMPLETE with the scripted result", r.out, r.err)
	}

	// Released, previews run as usual: IN_PROGRESS to the first read only.
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: name}); err != nil {
		t.Fatalf("StartLifecyclePolicyPreview() after the release: error = %v", err)
	}
	if a, b := get().Status, get().Status; a != types.LifecyclePolicyPreviewStatusInProgress || b != types.LifecyclePolicyPreviewStatusComplete {
		t.Errorf("GetLifecyclePolicyPreview() after the release = %v then %v, want IN_PROGRESS then COMPLETE", a, b)
	}
}

func TestCallsReached(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	if !closed(s.CallsReached("DescribeRepositories", 0)) {
		t.Errorf("CallsReached(0) is not closed at once")
	}
	second := s.CallsReached("DescribeRepositories", 2)
	other := s.CallsReached("ListImages", 1)
	for i := range 2 {
		if closed(second) {
			t.Fatalf("CallsReached(2) closed after %d calls", i)
		}
		_, _ = s.ECR().DescribeRepositories(t.Context(), &ecr.DescribeRepositoriesInput{})
	}
	if !closed(second) || closed(other) {
		t.Errorf("after 2 DescribeRepositories calls: CallsReached(DescribeRepositories, 2) closed %v, CallsReached(ListImages, 1) closed %v; want true, false", closed(second), closed(other))
	}
}

func TestGetAuthorizationToken(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	now := t0
	s.SetClock(func() time.Time { return now })
	out, err := s.ECR().GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken() = %v, %v", out, err)
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	user, password, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || user != "AWS" || password == "" {
		t.Errorf("token decodes to %q, %v; want AWS:<password>", raw, err)
	}
	if !d.ExpiresAt.Equal(now.Add(12*time.Hour)) || *d.ProxyEndpoint != "https://123456789012.dkr.ecr.us-east-1.amazonaws.com" {
		t.Errorf("expires %v, endpoint %v", d.ExpiresAt, *d.ProxyEndpoint)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	c := s.ECR()
	list := func() error {
		_, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app")})
		return err
	}

	s.Fail("DescribeImages", 2, "ThrottlingException", "Rate exceeded")
	if err := list(); err != nil {
		t.Errorf("DescribeImages() after 2 throttles error = %v, want the SDK's retries to succeed", err)
	}
	if n := s.Calls("DescribeImages"); n != 3 {
		t.Errorf("Calls(DescribeImages) = %d, want 3", n)
	}

	s.Fail("DescribeImages", 5, "ThrottlingException", "Rate exceeded")
	if err := list(); apiCode(err) != "ThrottlingException" || !strings.Contains(err.Error(), "Rate exceeded") {
		t.Errorf("DescribeImages() after 5 throttles error = %v, want ThrottlingException", err)
	}
	s.Fail("DescribeImages", 1, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/base is not authorized to perform: ecr:DescribeImages")
	if err := list(); apiCode(err) != "AccessDeniedException" {
		t.Errorf("DescribeImages() error = %v, want AccessDeniedException, not retried", err)
	}
	if n := s.Calls("DescribeImages"); n != 3+5+1 {
		t.Errorf("Calls(DescribeImages) = %d, want 9", n)
	}
	s.Fail("DescribeImages", 1, "ServerException", "internal")
	if err := list(); err != nil {
		t.Errorf("DescribeImages() after a ServerException error = %v, want it retried", err)
	}
}

// signedRequest sends body to the server as op, signed with key and secret.
func signedRequest(t *testing.T, s *ecrtest.Server, op, key, secret string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+op)
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "ecr", ecrtest.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestWireFormat(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	s.PutImage("app", ecrtest.Image{Manifest: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`), PushedAt: time.Unix(1700000000, 500e6)})

	resp, body := signedRequest(t, s, "DescribeImages", ecrtest.AccessKeyID, ecrtest.SecretAccessKey, []byte(`{"repositoryName":"app"}`))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("DescribeImages: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	var out struct {
		ImageDetails []map[string]any `json:"imageDetails"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.ImageDetails) != 1 {
		t.Fatalf("DescribeImages body %s: %v", body, err)
	}
	if pushed, ok := out.ImageDetails[0]["imagePushedAt"].(float64); !ok || pushed != 1700000000.5 {
		t.Errorf("imagePushedAt = %#v, want epoch seconds 1700000000.5", out.ImageDetails[0]["imagePushedAt"])
	}

	for _, tc := range []struct {
		name, op, key, secret, body string
		status                      int
		code                        string
	}{
		{"unknown repository", "DescribeImages", ecrtest.AccessKeyID, ecrtest.SecretAccessKey, `{"repositoryName":"nope"}`, 400, "RepositoryNotFoundException"},
		{"unknown operation", "DescribeWidgets", ecrtest.AccessKeyID, ecrtest.SecretAccessKey, `{}`, 400, "UnknownOperationException"},
		{"unknown member", "DescribeImages", ecrtest.AccessKeyID, ecrtest.SecretAccessKey, `{"repositoryName":"app","colour":"blue"}`, 400, "SerializationException"},
		{"wrong secret", "DescribeImages", ecrtest.AccessKeyID, "guess", `{"repositoryName":"app"}`, 400, "InvalidSignatureException"},
		{"unknown key", "DescribeImages", "AKIDUNKNOWN", ecrtest.SecretAccessKey, `{"repositoryName":"app"}`, 400, "UnrecognizedClientException"},
	} {
		resp, body := signedRequest(t, s, tc.op, tc.key, tc.secret, []byte(tc.body))
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != tc.status || e.Type != tc.code || e.Message == "" {
			t.Errorf("%s: %s %s, want %d {\"__type\":%q, \"message\":…}", tc.name, resp.Status, body, tc.status, tc.code)
		}
	}

	bad := ecrtest.New(t)
	bad.CreateRepository("app", ecrtest.Repo{})
	cfg := bad.AWSConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(ecrtest.AccessKeyID, "wrong", "")
	_, err := ecr.NewFromConfig(cfg).DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app")})
	if apiCode(err) != "InvalidSignatureException" {
		t.Errorf("SDK call signed with the wrong secret: error = %v, want InvalidSignatureException", err)
	}
	if got := bad.AccessKeys("DescribeImages"); !slices.Equal(got, []string{ecrtest.AccessKeyID}) {
		t.Errorf("AccessKeys() = %v", got)
	}
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})
	cfg := s.AWSConfig()
	const role = "arn:aws:iam::210987654321:role/shipshape"
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "ci-run"
		o.ExternalID = aws.String("ext-1234")
	}))
	c := ecr.NewFromConfig(cfg)
	for range 3 {
		if _, err := c.DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app")}); err != nil {
			t.Fatalf("DescribeImages() as the assumed role error = %v", err)
		}
	}
	calls := s.AssumeRoles()
	if len(calls) != 1 {
		t.Fatalf("AssumeRoles() = %v, want one call (the SDK caches the credentials)", calls)
	}
	want := ecrtest.AssumeRoleCall{RoleARN: role, ExternalID: "ext-1234", SessionName: "ci-run", AccessKey: ecrtest.AccessKeyID}
	if diff := cmp.Diff(want, calls[0]); diff != "" {
		t.Errorf("AssumeRoles()[0] (-want +got):\n%s", diff)
	}
	keys := s.AccessKeys("DescribeImages")
	if len(keys) != 3 || !strings.HasPrefix(keys[0], "ASIAASSUMED") || keys[0] != keys[2] {
		t.Errorf("AccessKeys(DescribeImages) = %v, want the assumed key three times", keys)
	}
	if got := s.AccessKeys("AssumeRole"); !slices.Equal(got, []string{ecrtest.AccessKeyID}) {
		t.Errorf("AccessKeys(AssumeRole) = %v, want the base key", got)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != "arn:aws:sts::210987654321:assumed-role/shipshape/ci-run" || *id.Account != "210987654321" {
		t.Errorf("GetCallerIdentity() as the role = %v, %v", id, err)
	}

	s.Fail("AssumeRole", 1, "AccessDenied", "User: arn:aws:iam::123456789012:user/base is not authorized to perform: sts:AssumeRole")
	denied := s.AWSConfig()
	denied.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(denied), role))
	_, err = ecr.NewFromConfig(denied).DescribeImages(t.Context(), &ecr.DescribeImagesInput{RepositoryName: aws.String("app")})
	if apiCode(err) != "AccessDenied" {
		t.Errorf("DescribeImages() with a refused AssumeRole: error = %v, want AccessDenied", err)
	}
	_, err = sts.NewFromConfig(s.AWSConfig()).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn"), RoleSessionName: aws.String("x1")})
	if apiCode(err) != "ValidationError" {
		t.Errorf("AssumeRole(bad ARN) error = %v, want ValidationError", err)
	}
}
