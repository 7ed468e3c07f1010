package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
)

var _ shipreg.KnownDeleter = (*Client)(nil)

// DeleteKnown deletes img.Digest from repo with a single DELETE, where Delete first HEADs
// the manifest for its media type and GETs it for its subject: img, from an inventory,
// already says both.
//
// A referrer (img.Subject set) on a registry without the referrers API is also removed
// from its subject's referrers index (the sha256-<hex> tag), as Delete does: one GET of
// that index, which is usually gone already (it goes before the referrers it lists), and,
// when it still lists img, a new index pushed under the tag and the old one deleted. The
// referrers index itself (an index tagged sha256-<hex>, to which Inventory gives the
// manifest its tag names as subject) is bookkeeping, not a referrer: deleting it is one
// DELETE.
//
// A manifest already gone is an error wrapping registry.ErrNotFound; a registry that
// refuses because an index still lists the manifest (409 Conflict) gives one wrapping
// registry.ErrReferenced.
func (c *Client) DeleteKnown(ctx context.Context, repo string, img inventory.Image) error {
	d, err := digest.Parse(img.Digest)
	if err != nil {
		return fmt.Errorf("manifest %q: %w", img.Digest, err)
	}
	r, err := c.repository(repo)
	if err != nil {
		return err
	}
	if hasSubjectIndexing(img) {
		subject, err := digest.Parse(img.Subject)
		if err != nil {
			return fmt.Errorf("deleting %s from %s: its subject %q: %w", d, repo, img.Subject, err)
		}
		api, err := c.hasReferrersAPI(ctx, r)
		if err != nil {
			return fmt.Errorf("deleting %s from %s: probing the referrers API: %w", d, repo, err)
		}
		if !api {
			if err := c.unlistReferrer(ctx, r, subject, d); err != nil {
				return fmt.Errorf("deleting %s from %s: updating the referrers index of %s: %w", d, repo, subject, err)
			}
		}
	}
	if err := c.deleteManifest(ctx, r, d); err != nil {
		return fmt.Errorf("deleting %s from %s: %w", d, repo, err)
	}
	return nil
}

// hasSubjectIndexing reports whether deleting img must update its subject's referrers
// index on a registry without the referrers API: it has a subject, it is of a media type
// that may carry one (or of an unknown type), and it is not itself the referrers index of
// that subject.
func hasSubjectIndexing(img inventory.Image) bool {
	if img.Subject == "" {
		return false
	}
	switch img.MediaType {
	case "", ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, mediaTypeArtifactManifest:
	default:
		return false
	}
	return !(img.IsIndex() && slices.Contains(img.Tags, strings.Replace(img.Subject, ":", "-", 1)))
}

// mediaTypeArtifactManifest is the OCI artifact manifest of image-spec 1.1 release
// candidates, which oras still indexes on delete.
const mediaTypeArtifactManifest = "application/vnd.oci.artifact.manifest.v1+json"

// unlistReferrer removes referrer from the referrers index of subject (the referrers tag
// schema), as oras does when it deletes a referrer: the new index is pushed under the tag,
// then the old one deleted; an index left empty is deleted. An index that does not exist,
// or does not list referrer, needs nothing.
//
// Updates of one repository's referrers indexes are serialised under the repository's lock,
// so that two referrers of one subject deleted at once do not each push an index that still
// lists the other. They are rare: a referrers index normally goes, with its subject, before
// the referrers it lists.
func (c *Client) unlistReferrer(ctx context.Context, r *repository, subject, referrer digest.Digest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	tag := subject.Algorithm().String() + "-" + subject.Encoded()
	ctx = auth.AppendRepositoryScope(ctx, r.Reference, auth.ActionPull, auth.ActionPush, auth.ActionDelete)
	desc, rc, err := r.FetchReference(ctx, tag)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", tag, mapError(err))
	}
	defer rc.Close()
	if desc.Size > MaxManifestBytes {
		return &tooLargeError{desc: desc}
	}
	raw, err := content.ReadAll(rc, desc)
	if err != nil {
		return fmt.Errorf("reading %s: %w", tag, mapError(err))
	}
	var old ocispec.Index
	if err := json.Unmarshal(raw, &old); err != nil || desc.MediaType != ocispec.MediaTypeImageIndex {
		return fmt.Errorf("%s is not a referrers index (%s)", tag, desc.MediaType)
	}
	kept := slices.DeleteFunc(slices.Clone(old.Manifests), func(m ocispec.Descriptor) bool { return m.Digest == referrer })
	if len(kept) == len(old.Manifests) {
		return nil
	}
	if len(kept) > 0 {
		index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: kept}
		b, err := json.Marshal(index)
		if err != nil {
			return err
		}
		next := content.NewDescriptorFromBytes(index.MediaType, b)
		if err := r.PushReference(ctx, next, bytes.NewReader(b), tag); err != nil {
			return fmt.Errorf("pushing %s: %w", tag, mapError(err))
		}
	}
	if err := c.deleteManifest(ctx, r, desc.Digest); err != nil && !errors.Is(err, shipreg.ErrNotFound) {
		return fmt.Errorf("deleting the old index %s: %w", desc.Digest, err)
	}
	return nil
}

// deleteManifest sends DELETE /v2/<repo>/manifests/<digest>: one request, whatever the
// manifest is.
func (c *Client) deleteManifest(ctx context.Context, r *repository, d digest.Digest) error {
	ref := r.Reference
	ref.Reference = d.String()
	ctx = auth.AppendRepositoryScope(ctx, ref, auth.ActionDelete)
	scheme := "https"
	if c.plainHTTP {
		scheme = "http"
	}
	u := fmt.Sprintf("%s://%s/v2/%s/manifests/%s", scheme, ref.Host(), ref.Repository, d)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return mapError(err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusOK, http.StatusNoContent:
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyBytes))
		return nil
	case http.StatusConflict:
		return &registryError{sentinel: shipreg.ErrReferenced, err: responseError(resp)}
	case http.StatusNotFound:
		// With or without an error body, a 404 says the manifest is not there.
		return &registryError{sentinel: shipreg.ErrNotFound, err: responseError(resp)}
	}
	return mapError(responseError(resp))
}
