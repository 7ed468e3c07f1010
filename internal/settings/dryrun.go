package settings

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// dryRun is the API of a dry run: reads go to ECR, writes are only remembered, so that
// later reads of the same run see what the writes would have made (a repository that
// would be created, a scanOnPush that would be set).
type dryRun struct {
	API
	mu         sync.Mutex
	created    map[string]bool
	scanOnPush map[string]bool
}

func (d *dryRun) CreateRepository(_ context.Context, in *ecr.CreateRepositoryInput, _ ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error) {
	name := aws.ToString(in.RepositoryName)
	repo := types.Repository{
		RepositoryName: in.RepositoryName, RegistryId: in.RegistryId,
		ImageTagMutability: in.ImageTagMutability, ImageTagMutabilityExclusionFilters: in.ImageTagMutabilityExclusionFilters,
		ImageScanningConfiguration: in.ImageScanningConfiguration, EncryptionConfiguration: in.EncryptionConfiguration,
	}
	if repo.ImageTagMutability == "" {
		repo.ImageTagMutability = types.ImageTagMutabilityMutable
	}
	d.mu.Lock()
	d.created[name] = true
	if c := in.ImageScanningConfiguration; c != nil {
		d.scanOnPush[name] = c.ScanOnPush
	}
	d.mu.Unlock()
	return &ecr.CreateRepositoryOutput{Repository: &repo}, nil
}

func (d *dryRun) PutLifecyclePolicy(context.Context, *ecr.PutLifecyclePolicyInput, ...func(*ecr.Options)) (*ecr.PutLifecyclePolicyOutput, error) {
	return &ecr.PutLifecyclePolicyOutput{}, nil
}

func (d *dryRun) PutImageTagMutability(context.Context, *ecr.PutImageTagMutabilityInput, ...func(*ecr.Options)) (*ecr.PutImageTagMutabilityOutput, error) {
	return &ecr.PutImageTagMutabilityOutput{}, nil
}

func (d *dryRun) PutImageScanningConfiguration(_ context.Context, in *ecr.PutImageScanningConfigurationInput, _ ...func(*ecr.Options)) (*ecr.PutImageScanningConfigurationOutput, error) {
	if c := in.ImageScanningConfiguration; c != nil {
		d.mu.Lock()
		d.scanOnPush[aws.ToString(in.RepositoryName)] = c.ScanOnPush
		d.mu.Unlock()
	}
	return &ecr.PutImageScanningConfigurationOutput{}, nil
}

func (d *dryRun) PutRegistryScanningConfiguration(context.Context, *ecr.PutRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.PutRegistryScanningConfigurationOutput, error) {
	return &ecr.PutRegistryScanningConfigurationOutput{}, nil
}

// BatchGetRepositoryScanningConfiguration reads the repositories that exist from ECR and
// answers for those the run would create; where the repository's own flag is in effect
// (no registry scanning filter applies), it shows the flag the run would set.
func (d *dryRun) BatchGetRepositoryScanningConfiguration(ctx context.Context, in *ecr.BatchGetRepositoryScanningConfigurationInput, opts ...func(*ecr.Options)) (*ecr.BatchGetRepositoryScanningConfigurationOutput, error) {
	d.mu.Lock()
	var existing []string
	out := &ecr.BatchGetRepositoryScanningConfigurationOutput{}
	for _, name := range in.RepositoryNames {
		if d.created[name] {
			out.ScanningConfigurations = append(out.ScanningConfigurations, types.RepositoryScanningConfiguration{
				RepositoryName: aws.String(name), ScanOnPush: d.scanOnPush[name], ScanFrequency: types.ScanFrequencyManual,
			})
		} else {
			existing = append(existing, name)
		}
	}
	d.mu.Unlock()
	if len(existing) == 0 {
		return out, nil
	}
	got, err := d.API.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: existing}, opts...)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range got.ScanningConfigurations {
		if v, ok := d.scanOnPush[aws.ToString(c.RepositoryName)]; ok && len(c.AppliedScanFilters) == 0 {
			c.ScanOnPush = v
		}
		out.ScanningConfigurations = append(out.ScanningConfigurations, c)
	}
	out.Failures = got.Failures
	return out, nil
}
