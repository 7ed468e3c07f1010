package ecrtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Bounds of the image APIs, from the ECR API model.
const (
	maxImageIDs        = 100  // imageIds of DescribeImages, BatchGetImage, BatchDeleteImage
	defaultImagePage   = 100  // DescribeImages and ListImages without maxResults
	maxImagePage       = 1000 // DescribeImages and ListImages maxResults
	maxAcceptedTypes   = 100  // BatchGetImage acceptedMediaTypes
	failureNotFound    = "ImageNotFound"
	reasonNotFound     = "Requested image not found"
	failureReferenced  = "ImageReferencedByManifestList"
	failureMissingID   = "MissingDigestAndTag"
	failureBadDigest   = "InvalidImageDigest"
	failureBadTag      = "InvalidImageTag"
	failureTagMismatch = "ImageTagDoesNotMatchDigest"
)

type imagesFilter struct {
	TagStatus   string `json:"tagStatus"`
	ImageStatus string `json:"imageStatus"`
}

// check validates the filter and returns it with ECR's defaults: any tag status, ACTIVE
// images only.
func (f *imagesFilter) check() (imagesFilter, *apiError) {
	out := imagesFilter{TagStatus: "ANY", ImageStatus: statusActive}
	if f == nil {
		return out, nil
	}
	if err := enum("filter.tagStatus", f.TagStatus, "TAGGED", "UNTAGGED", "ANY"); err != nil {
		return out, err
	}
	if err := enum("filter.imageStatus", f.ImageStatus, statusActive, statusArchived, statusActivating, "ANY"); err != nil {
		return out, err
	}
	if f.TagStatus != "" {
		out.TagStatus = f.TagStatus
	}
	if f.ImageStatus != "" {
		out.ImageStatus = f.ImageStatus
	}
	return out, nil
}

func (f imagesFilter) matches(img *image) bool {
	switch {
	case f.TagStatus == "TAGGED" && len(img.tags) == 0, f.TagStatus == "UNTAGGED" && len(img.tags) > 0:
		return false
	}
	return f.ImageStatus == "ANY" || f.ImageStatus == img.status
}

// settleRestores moves the images being restored that a listing has already reported as
// ACTIVATING to ACTIVE, stamping lastActivatedAt, and marks the others as reported: a
// restore completes at the second DescribeImages or ListImages call on the repository after
// it was requested (real restores take up to 20 minutes). s.mu is held.
func (s *Server) settleRestores(r *repository) func() {
	for _, img := range r.images {
		if img.status == statusActivating && img.restoreSeen {
			img.status, img.activated, img.restoreSeen = statusActive, s.now(), false
		}
	}
	return func() {
		for _, img := range r.images {
			if img.status == statusActivating {
				img.restoreSeen = true
			}
		}
	}
}

// sorted returns r's images ordered by digest, the order of every listing.
func (r *repository) sorted() []*image {
	out := make([]*image, 0, len(r.images))
	for _, d := range slices.Sorted(maps.Keys(r.images)) {
		out = append(out, r.images[d])
	}
	return out
}

type imageDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          *epoch   `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   *epoch   `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string   `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string   `json:"imageStatus"`
	LastArchivedAt         *epoch   `json:"lastArchivedAt,omitempty"`
	LastActivatedAt        *epoch   `json:"lastActivatedAt,omitempty"`
}

func (r *repository) detail(img *image) imageDetail {
	d := imageDetail{
		RegistryID:             r.account,
		RepositoryName:         r.name,
		ImageDigest:            img.digest,
		ImageTags:              slices.Clone(img.tags),
		ImageSizeInBytes:       r.sizeOf(img),
		ImagePushedAt:          ts(img.pushed),
		ImageManifestMediaType: img.mediaType,
		ArtifactMediaType:      img.parsed.artifactMediaType(),
		LastRecordedPullTime:   ts(img.pulled),
		ImageStatus:            img.status,
		LastArchivedAt:         ts(img.archived),
		LastActivatedAt:        ts(img.activated),
	}
	if img.parsed.Subject != nil {
		d.SubjectManifestDigest = img.parsed.Subject.Digest
	}
	return d
}

// lookup finds the image an identifier names. It returns the failure code and reason
// BatchGetImage and BatchDeleteImage report when there is none.
func (r *repository) lookup(id imageID) (*image, string, string) {
	switch {
	case id.ImageDigest == "" && id.ImageTag == "":
		return nil, failureMissingID, "Invalid request parameters: both tag and digest cannot be null"
	case id.ImageDigest != "" && !digestPattern.MatchString(id.ImageDigest):
		return nil, failureBadDigest, "Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"
	case id.ImageTag != "" && !tagPattern.MatchString(id.ImageTag):
		return nil, failureBadTag, "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9-_.]+'"
	}
	digest := id.ImageDigest
	if id.ImageTag != "" {
		tagged, ok := r.tags[id.ImageTag]
		switch {
		case !ok:
			return nil, failureNotFound, reasonNotFound
		case digest != "" && tagged != digest:
			return nil, failureTagMismatch, "Invalid request parameters: image tag does not match image digest"
		}
		digest = tagged
	}
	img, ok := r.images[digest]
	if !ok {
		return nil, failureNotFound, reasonNotFound
	}
	return img, "", ""
}

// imageNotFound is the ImageNotFoundException of operations that take image identifiers.
func imageNotFound(id imageID, r *repository) *apiError {
	return &apiError{
		code:    "ImageNotFoundException",
		message: fmt.Sprintf("The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, r.name, r.account),
	}
}

// lookupOrError is lookup for operations that answer a missing image with an exception.
func (r *repository) lookupOrError(id imageID) (*image, *apiError) {
	img, code, reason := r.lookup(id)
	switch code {
	case "":
		return img, nil
	case failureNotFound, failureTagMismatch:
		return nil, imageNotFound(id, r)
	default:
		return nil, invalidParameter("Invalid parameter at 'imageId' failed to satisfy constraint: '%s'", reason)
	}
}

// describeImages: DescribeImages. Listings are ordered by digest. Images named by imageIds
// are described whatever their status; a listing without filter.imageStatus shows ACTIVE
// images only, as ECR's does.
func (s *Server) describeImages(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string        `json:"registryId"`
		RepositoryName string        `json:"repositoryName"`
		ImageIDs       []imageID     `json:"imageIds"`
		NextToken      string        `json:"nextToken"`
		MaxResults     *int          `json:"maxResults"`
		Filter         *imagesFilter `json:"filter"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("imageIds", len(in.ImageIDs), in.ImageIDs != nil, 1, maxImageIDs); err != nil {
		return nil, err
	}
	if in.ImageIDs != nil && (in.MaxResults != nil || in.NextToken != "") {
		return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and nextToken cannot be used with imageIds'")
	}
	limit, err := pageSize(in.MaxResults, defaultImagePage, maxImagePage)
	if err != nil {
		return nil, err
	}
	filter, err := in.Filter.check()
	if err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	defer s.settleRestores(r)()

	out := []imageDetail{}
	if in.ImageIDs != nil {
		seen := make(map[string]bool)
		for _, id := range in.ImageIDs {
			img, err := r.lookupOrError(id)
			if err != nil {
				return nil, err
			}
			if !seen[img.digest] {
				seen[img.digest] = true
				out = append(out, r.detail(img))
			}
		}
		return map[string]any{"imageDetails": out}, nil
	}
	after, err := decodeToken("DescribeImages", in.NextToken)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	for _, img := range r.sorted() {
		if img.digest <= after || !filter.matches(img) {
			continue
		}
		if len(out) == limit {
			resp["nextToken"] = encodeToken("DescribeImages", out[len(out)-1].ImageDigest)
			break
		}
		out = append(out, r.detail(img))
	}
	resp["imageDetails"] = out
	return resp, nil
}

// listImages: ListImages, one identifier per tag (one without a tag for an untagged image),
// ordered by digest and tag; maxResults counts identifiers.
func (s *Server) listImages(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string        `json:"registryId"`
		RepositoryName string        `json:"repositoryName"`
		NextToken      string        `json:"nextToken"`
		MaxResults     *int          `json:"maxResults"`
		Filter         *imagesFilter `json:"filter"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit, err := pageSize(in.MaxResults, defaultImagePage, maxImagePage)
	if err != nil {
		return nil, err
	}
	filter, err := in.Filter.check()
	if err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken("ListImages", in.NextToken)
	if err != nil {
		return nil, err
	}
	defer s.settleRestores(r)()

	key := func(id imageID) string { return id.ImageDigest + " " + id.ImageTag }
	out := []imageID{}
	resp := map[string]any{}
	for _, img := range r.sorted() {
		if !filter.matches(img) {
			continue
		}
		ids := []imageID{{ImageDigest: img.digest}}
		if len(img.tags) > 0 {
			ids = ids[:0]
			for _, t := range img.tags {
				ids = append(ids, imageID{ImageDigest: img.digest, ImageTag: t})
			}
		}
		for _, id := range ids {
			if after != "" && key(id) <= after {
				continue
			}
			if len(out) == limit {
				resp["nextToken"] = encodeToken("ListImages", key(out[len(out)-1]))
				resp["imageIds"] = out
				return resp, nil
			}
			out = append(out, id)
		}
	}
	resp["imageIds"] = out
	return resp, nil
}

// batchGetImage: BatchGetImage. Every image returned counts as pulled: ECR sets its
// lastRecordedPullTime (aws/containers-roadmap#2390 reports this of real ECR; here it is
// immediate, where ECR may lag by up to a day). Archived and restoring images cannot be
// pulled and fail as ImageNotFound. With acceptedMediaTypes, an image of another media type
// fails as ImageNotFound too (ECR's conversion of Docker schema 2 to schema 1 is not
// reproduced).
func (s *Server) batchGetImage(body []byte) (any, *apiError) {
	var in struct {
		RegistryID         string    `json:"registryId"`
		RepositoryName     string    `json:"repositoryName"`
		ImageIDs           []imageID `json:"imageIds"`
		AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("imageIds", len(in.ImageIDs), true, 1, maxImageIDs); err != nil {
		return nil, err
	}
	if err := listLength("acceptedMediaTypes", len(in.AcceptedMediaTypes), in.AcceptedMediaTypes != nil, 1, maxAcceptedTypes); err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	type imageOut struct {
		RegistryID             string  `json:"registryId"`
		RepositoryName         string  `json:"repositoryName"`
		ImageID                imageID `json:"imageId"`
		ImageManifest          string  `json:"imageManifest"`
		ImageManifestMediaType string  `json:"imageManifestMediaType"`
	}
	images, failures := []imageOut{}, []imageFailure{}
	seen := make(map[imageID]bool)
	for _, id := range in.ImageIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		img, code, reason := r.lookup(id)
		switch {
		case code != "":
		case img.status != statusActive:
			code, reason = failureNotFound, "Requested image is archived and cannot be pulled"
		case in.AcceptedMediaTypes != nil && !slices.Contains(in.AcceptedMediaTypes, img.mediaType):
			code, reason = failureNotFound, "Requested image has media type "+img.mediaType+", which is not among the accepted media types"
		}
		if code != "" {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: code, FailureReason: reason})
			continue
		}
		img.pulled = s.now()
		images = append(images, imageOut{
			RegistryID:             r.account,
			RepositoryName:         r.name,
			ImageID:                imageID{ImageDigest: img.digest, ImageTag: id.ImageTag},
			ImageManifest:          string(img.manifest),
			ImageManifestMediaType: img.mediaType,
		})
	}
	return map[string]any{"images": images, "failures": failures}, nil
}

// batchDeleteImage: BatchDeleteImage, 1 to 100 identifiers, processed in request order.
// By digest it deletes the image and its tags; by tag (with or without the digest) it
// removes the tag, and the image with its last tag. An image that an index in the
// repository lists (whatever the index's status) is not deleted: ImageReferencedByManifestList.
// Removing the last tag of such an image fails the same way and leaves the tag.
func (s *Server) batchDeleteImage(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string    `json:"registryId"`
		RepositoryName string    `json:"repositoryName"`
		ImageIDs       []imageID `json:"imageIds"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("imageIds", len(in.ImageIDs), true, 1, maxImageIDs); err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	deleted, failures := []imageID{}, []imageFailure{}
	seen := make(map[imageID]bool)
	for _, id := range in.ImageIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		img, code, reason := r.lookup(id)
		if code != "" {
			failures = append(failures, imageFailure{ImageID: id, FailureCode: code, FailureReason: reason})
			continue
		}
		if id.ImageTag != "" && len(img.tags) > 1 {
			r.untag(img, id.ImageTag)
			deleted = append(deleted, imageID{ImageDigest: img.digest, ImageTag: id.ImageTag})
			continue
		}
		if parents := r.parents(img.digest); len(parents) > 0 {
			failures = append(failures, imageFailure{
				ImageID:       id,
				FailureCode:   failureReferenced,
				FailureReason: "Requested image referenced by manifest list: [" + strings.Join(parents, ", ") + "]",
			})
			continue
		}
		if id.ImageTag != "" {
			deleted = append(deleted, imageID{ImageDigest: img.digest, ImageTag: id.ImageTag})
		} else if len(img.tags) == 0 {
			deleted = append(deleted, imageID{ImageDigest: img.digest})
		} else {
			for _, t := range img.tags {
				deleted = append(deleted, imageID{ImageDigest: img.digest, ImageTag: t})
			}
		}
		r.remove(img)
	}
	return map[string]any{"imageIds": deleted, "failures": failures}, nil
}

// updateImageStorageClass: UpdateImageStorageClass. ARCHIVE archives an ACTIVE image at
// once (lastArchivedAt now); STANDARD starts restoring an ARCHIVED one (ACTIVATING; see
// settleRestores). Asking for the class an image is in (or being restored to) changes
// nothing. An index archives alone, without its children; a manifest that an ACTIVE index
// in the repository lists cannot be archived before that index, and an image being restored
// cannot be archived: both are ImageStorageClassUpdateNotSupportedException.
func (s *Server) updateImageStorageClass(body []byte) (any, *apiError) {
	var in struct {
		RegistryID         string   `json:"registryId"`
		RepositoryName     string   `json:"repositoryName"`
		ImageID            *imageID `json:"imageId"`
		TargetStorageClass string   `json:"targetStorageClass"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ImageID == nil {
		return nil, modelViolation("imageId", "Member must not be null")
	}
	if in.TargetStorageClass == "" {
		return nil, modelViolation("targetStorageClass", "Member must not be null")
	}
	if err := enum("targetStorageClass", in.TargetStorageClass, classStandard, classArchive); err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	img, err := r.lookupOrError(*in.ImageID)
	if err != nil {
		return nil, err
	}
	unsupported := func(why string) *apiError {
		return &apiError{code: "ImageStorageClassUpdateNotSupportedException", message: fmt.Sprintf("The image with imageId %s %s", *in.ImageID, why)}
	}
	switch in.TargetStorageClass {
	case classArchive:
		switch img.status {
		case statusActivating:
			return nil, unsupported("is being restored and cannot be archived")
		case statusActive:
			for _, p := range r.parents(img.digest) {
				if r.images[p].status == statusActive {
					return nil, unsupported("is referenced by the manifest list " + p + ", which must be archived first")
				}
			}
			img.status, img.archived = statusArchived, s.now()
		}
	case classStandard:
		if img.status == statusArchived {
			img.status, img.restoreSeen = statusActivating, false
		}
	}
	return map[string]any{
		"registryId":     r.account,
		"repositoryName": r.name,
		"imageId":        imageID{ImageDigest: img.digest, ImageTag: in.ImageID.ImageTag},
		"imageStatus":    img.status,
	}, nil
}
