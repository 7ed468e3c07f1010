package ecr

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// Bounds of the calls Inventory makes.
const (
	// DescribeImagesPageSize is ECR's maximum maxResults: one call per 1,000 images.
	DescribeImagesPageSize = 1000
	// MaxDescribeImagesPages bounds the pages of one listing: a million images, ten times
	// ECR's default quota of images per repository, so that a service whose tokens loop
	// cannot keep a client busy.
	MaxDescribeImagesPages = 1000
	// BatchGetImageLimit is the most imageIds BatchGetImage takes in one call.
	BatchGetImageLimit = 100
	// ManifestConcurrency is how many BatchGetImage calls Inventory has in flight: ECR's
	// BatchGetImage quota (2,000 a second, shared with every pull of the account) is far
	// away, and four calls keep a repository of 100,000 images to a few seconds.
	ManifestConcurrency = 4
	// MaxManifestBytes bounds a manifest Inventory parses: the distribution spec asks
	// registries to accept 4 MiB, and no real image comes near it.
	MaxManifestBytes = 4 << 20
)

// manifestTypes are the media types Inventory reads manifests of, and accepts from
// BatchGetImage (so that ECR never converts one).
func manifestTypes() []string {
	return []string{
		inventory.MediaTypeOCIIndex, inventory.MediaTypeDockerList,
		inventory.MediaTypeOCIManifest, inventory.MediaTypeDockerV2,
	}
}

// Inventory lists every image of repo with DescribeImages (all statuses, 1,000 a call),
// then reads the manifests of the active indexes with BatchGetImage (100 a call, a few calls
// at once) for their children — and, with Options.Layers, of every active image too, for
// annotations and blob sizes. Sizes are ECR's imageSizeInBytes, or, for a manifest read
// where DescribeImages gives none, the sum of its blobs' sizes (see describeManifest).
// Archived images cannot be pulled, so their manifests are not read: an archived index has
// unknown children, which Notes say, as they say that the reads count as pulls.
func (c *Client) Inventory(ctx context.Context, repo string) (*inventory.Inventory, error) {
	captured := time.Now().UTC()
	images, err := c.describeAll(ctx, repo, nil)
	if err != nil {
		return nil, err
	}
	var want []string
	pos := make(map[string]int, len(images))
	for n, img := range images {
		pos[img.Digest] = n
		if img.ImageStatus() == inventory.StatusActive && slices.Contains(manifestTypes(), img.MediaType) && (c.layers || img.IsIndex()) {
			want = append(want, img.Digest)
		}
	}
	got, failures, err := c.getManifests(ctx, repo, want)
	if err != nil {
		return nil, err
	}
	var unread []string
	// An index whose manifest cannot be read has unknown children, which anything in the
	// repository may be: the inventory says so rather than pass it off as childless.
	var unreadable []inventory.Unreadable
	cannotRead := func(d, why string) {
		unread = append(unread, d+": "+why)
		if img := &images[pos[d]]; img.IsIndex() {
			img.Children = nil
			unreadable = append(unreadable, inventory.Unreadable{Digest: d, Tags: slices.Clone(img.Tags), Reason: why})
		}
	}
	for d, raw := range got {
		if _, ok := pos[d]; !ok {
			continue
		}
		if err := describeManifest(&images[pos[d]], raw); err != nil {
			c.log.Debug("unreadable manifest", "repository", repo, "digest", d, "error", err)
			cannotRead(d, err.Error())
		}
	}
	for d, f := range failures {
		if _, ok := pos[d]; !ok {
			continue
		}
		cannotRead(d, "BatchGetImage failed: "+f)
	}
	slices.Sort(unread)
	slices.SortFunc(unreadable, func(a, b inventory.Unreadable) int { return cmp.Compare(a.Digest, b.Digest) })

	inv := &inventory.Inventory{
		Repository: repo,
		CapturedAt: captured,
		Images:     images,
		Notes:      notes(images, len(got), unread),
		Unreadable: unreadable,
	}
	if c.host != "" {
		inv.Repository = c.host + "/" + repo
	}
	c.log.Debug("inventory", "repository", inv.Repository, "images", len(images), "manifests", len(got), "requests", c.Stats())
	return inv, nil
}

// notes says what the inventory could not see, and that reading manifests counted as pulls.
func notes(images []inventory.Image, read int, unread []string) []string {
	var out []string
	if read > 0 {
		out = append(out, fmt.Sprintf("Reading %d manifests with BatchGetImage counted as pulling them: ECR has set their "+
			"lastRecordedPullTime, which sinceImagePulled rules measure from (this inventory holds the times from before). "+
			"Register the calling role with RegisterPullTimeUpdateExclusion to keep them.", read))
	}
	archived, archivedIndexes := 0, 0
	for _, img := range images {
		if img.ImageStatus() != inventory.StatusActive {
			archived++
			if img.IsIndex() {
				archivedIndexes++
			}
		}
	}
	if archived > 0 {
		out = append(out, fmt.Sprintf("ECR serves no manifests of archived images: the layers of %d archived images, and the children of %d archived indexes, are unknown.",
			archived, archivedIndexes))
	}
	if len(unread) > 0 {
		out = append(out, fmt.Sprintf("%d manifests could not be read, first %s", len(unread), unread[0]))
	}
	return out
}

// describeAll lists the images of repo, all of them or those the filter selects, sorted by
// digest, without their manifests.
func (c *Client) describeAll(ctx context.Context, repo string, filter *types.DescribeImagesFilter) ([]inventory.Image, error) {
	if filter == nil {
		filter = &types.DescribeImagesFilter{}
	}
	filter.ImageStatus = types.ImageStatusFilterAny
	in := &ecrsdk.DescribeImagesInput{
		RegistryId:     c.registryID,
		RepositoryName: aws.String(repo),
		MaxResults:     aws.Int32(DescribeImagesPageSize),
		Filter:         filter,
	}
	var images []inventory.Image
	for page := 0; ; page++ {
		if page == MaxDescribeImagesPages {
			return nil, fmt.Errorf("listing images of %s: more than %d pages", repo, MaxDescribeImagesPages)
		}
		out, err := c.api.DescribeImages(ctx, in)
		if err != nil {
			return nil, callError("listing images of", repo, err)
		}
		for _, d := range out.ImageDetails {
			images = append(images, fromDetail(d))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.SortFunc(images, func(a, b inventory.Image) int { return cmp.Compare(a.Digest, b.Digest) })
	return images, nil
}

// fromDetail converts what DescribeImages says of an image.
func fromDetail(d types.ImageDetail) inventory.Image {
	img := inventory.Image{
		Digest:          aws.ToString(d.ImageDigest),
		MediaType:       aws.ToString(d.ImageManifestMediaType),
		PushedAt:        utc(d.ImagePushedAt),
		LastPulledAt:    utc(d.LastRecordedPullTime),
		LastArchivedAt:  utc(d.LastArchivedAt),
		LastActivatedAt: utc(d.LastActivatedAt),
		Status:          inventory.Status(d.ImageStatus),
		SizeBytes:       aws.ToInt64(d.ImageSizeInBytes),
		Subject:         aws.ToString(d.SubjectManifestDigest),
	}
	if len(d.ImageTags) > 0 {
		img.Tags = slices.Sorted(slices.Values(d.ImageTags))
	}
	// ECR reports the config media type of an ordinary image as its artifactMediaType.
	if at := aws.ToString(d.ArtifactMediaType); !inventory.IsImageConfig(at) {
		img.ArtifactType = at
	}
	return img
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// getManifests reads the manifests of digests, BatchGetImageLimit a call and
// ManifestConcurrency calls at once. It returns the manifests read and why the others were
// not; err reports a call that failed as a whole.
func (c *Client) getManifests(ctx context.Context, repo string, digests []string) (got, failed map[string]string, err error) {
	got, failed = make(map[string]string, len(digests)), make(map[string]string)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(ManifestConcurrency)
	for batch := range slices.Chunk(digests, BatchGetImageLimit) {
		g.Go(func() error {
			ids := make([]types.ImageIdentifier, len(batch))
			for n, d := range batch {
				ids[n] = types.ImageIdentifier{ImageDigest: aws.String(d)}
			}
			out, err := c.api.BatchGetImage(gctx, &ecrsdk.BatchGetImageInput{
				RegistryId:         c.registryID,
				RepositoryName:     aws.String(repo),
				ImageIds:           ids,
				AcceptedMediaTypes: manifestTypes(),
			})
			if err != nil {
				return callError("reading manifests of", repo, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, img := range out.Images {
				got[aws.ToString(img.ImageId.ImageDigest)] = aws.ToString(img.ImageManifest)
			}
			for _, f := range out.Failures {
				failed[aws.ToString(f.ImageId.ImageDigest)] = fmt.Sprintf("%s (%s)", aws.ToString(f.FailureReason), f.FailureCode)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return got, failed, nil
}

// describeManifest adds to img, which DescribeImages described, what its manifest raw says
// (inventory.DecodeManifest): an index's children; an image's config and layers, or an OCI
// artifact manifest's blobs; org.opencontainers.image.* annotations as labels; and the
// media type, subject, artifact type and size, where DescribeImages gave none. ECR's own
// imageSizeInBytes stays: it counts the same blobs, and is all an index has.
func describeManifest(img *inventory.Image, raw string) error {
	if len(raw) > MaxManifestBytes {
		return fmt.Errorf("manifest of %d bytes, more than %d", len(raw), MaxManifestBytes)
	}
	m, err := inventory.DecodeManifest(img.Digest, []byte(raw), img.MediaType)
	if err != nil {
		return err
	}
	img.MediaType = cmp.Or(img.MediaType, m.MediaType)
	img.ArtifactType = cmp.Or(img.ArtifactType, m.ArtifactType)
	img.Subject = cmp.Or(img.Subject, m.Subject)
	img.SizeBytes = cmp.Or(img.SizeBytes, m.SizeBytes)
	img.Children, img.Config, img.Layers = m.Children, m.Config, m.Layers
	for k, v := range m.Labels {
		if img.Labels == nil {
			img.Labels = make(map[string]string, len(m.Labels))
		}
		img.Labels[k] = v
	}
	return nil
}

// Tags returns repo's tags, archived images' included, each with its image's digest.
func (c *Client) Tags(ctx context.Context, repo string) (map[string]string, error) {
	images, err := c.describeAll(ctx, repo, &types.DescribeImagesFilter{TagStatus: types.TagStatusTagged})
	if err != nil {
		return nil, err
	}
	tags := make(map[string]string)
	for _, img := range images {
		for _, t := range img.Tags {
			tags[t] = img.Digest
		}
	}
	return tags, nil
}

// Manifest describes the image digest: what DescribeImages says of it (media type, size,
// subject, status), and for an active image what its manifest says (children, blobs). Tags
// and times are left empty. Reading the manifest counts as a pull (see the package
// documentation).
func (c *Client) Manifest(ctx context.Context, repo, digest string) (inventory.Image, error) {
	out, err := c.api.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{
		RegistryId:     c.registryID,
		RepositoryName: aws.String(repo),
		ImageIds:       []types.ImageIdentifier{{ImageDigest: aws.String(digest)}},
		Filter:         &types.DescribeImagesFilter{ImageStatus: types.ImageStatusFilterAny},
	})
	if err != nil {
		return inventory.Image{}, callError("describing "+digest+" in", repo, err)
	}
	if len(out.ImageDetails) != 1 {
		return inventory.Image{}, fmt.Errorf("describing %s in %s: %d images described: %w", digest, repo, len(out.ImageDetails), registry.ErrNotFound)
	}
	img := fromDetail(out.ImageDetails[0])
	img.Tags, img.PushedAt, img.LastPulledAt, img.LastArchivedAt, img.LastActivatedAt = nil, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if img.ImageStatus() != inventory.StatusActive {
		return img, nil
	}
	got, failed, err := c.getManifests(ctx, repo, []string{digest})
	if err != nil {
		return inventory.Image{}, err
	}
	raw, ok := got[digest]
	if !ok {
		// DescribeImages has just found it: that BatchGetImage does not serve it does not
		// make it gone, so the error does not wrap ErrNotFound.
		return inventory.Image{}, fmt.Errorf("reading manifest %s of %s: %s", digest, repo, failed[digest])
	}
	if err := describeManifest(&img, raw); err != nil {
		return inventory.Image{}, fmt.Errorf("reading manifest %s of %s: %w", digest, repo, err)
	}
	return img, nil
}

var _ registry.Lister = (*Client)(nil)

// Digests lists every image of repo with DescribeImages, reading no manifest: unlike
// Manifest, it records no pull.
func (c *Client) Digests(ctx context.Context, repo string) (map[string]bool, error) {
	images, err := c.describeAll(ctx, repo, nil)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(images))
	for _, img := range images {
		out[img.Digest] = true
	}
	return out, nil
}
