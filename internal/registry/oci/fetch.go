package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// zeroDigest is the subject of the referrers API probe: a digest nothing has, so a registry
// with the API answers with an empty index.
const zeroDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// maxErrorBodyBytes bounds how much of an error response is read for its error codes.
const maxErrorBodyBytes = 64 << 10

// cacheWriters is how many cache files a reader writes at once, in the background: enough
// to keep writing off the path of the requests, few enough not to compete with them.
const cacheWriters = 4

// reader reads the manifests and configs of one repository, through the cache if there is
// one, and writes what it fetches to the cache in the background.
type reader struct {
	c *Client
	r *repository

	writes  sync.WaitGroup
	writers chan struct{}
}

func (c *Client) newReader(r *repository) *reader {
	return &reader{c: c, r: r, writers: make(chan struct{}, cacheWriters)}
}

// manifest returns the manifest d, from the cache if it holds it, with the media type the
// registry gave it ("" when read from the cache).
func (rd *reader) manifest(ctx context.Context, d digest.Digest) ([]byte, string, error) {
	if rd.c.cache != nil {
		if b, ok := rd.c.cache.get(kindManifest, d, MaxManifestBytes); ok {
			rd.c.requests.CacheHit()
			return b, "", nil
		}
	}
	desc, b, err := rd.reference(ctx, d.String())
	if err != nil {
		return nil, "", err
	}
	return b, desc.MediaType, nil
}

// reference GETs the manifest a tag or digest names, verifies it against the digest the
// registry gave, and caches it. A manifest larger than MaxManifestBytes is not read: the
// error is a *tooLargeError, and the descriptor is returned with it.
func (rd *reader) reference(ctx context.Context, ref string) (ocispec.Descriptor, []byte, error) {
	desc, rc, err := rd.r.FetchReference(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, mapError(err)
	}
	defer rc.Close()
	if desc.Size > MaxManifestBytes {
		return desc, nil, &tooLargeError{desc: desc}
	}
	b, err := content.ReadAll(rc, desc)
	if err != nil {
		return ocispec.Descriptor{}, nil, mapError(err)
	}
	rd.store(kindManifest, desc.Digest, b)
	return desc, b, nil
}

// tooLargeError reports a manifest larger than MaxManifestBytes, which is not read.
type tooLargeError struct {
	desc ocispec.Descriptor
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("manifest %s is %s", e.desc.Digest, e.reason())
}

// reason says what is wrong, for inventory.Unreadable.
func (e *tooLargeError) reason() string {
	return fmt.Sprintf("%d bytes, more than the %d accepted", e.desc.Size, MaxManifestBytes)
}

// config returns the config blob desc describes, from the cache if it holds it.
func (rd *reader) config(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if rd.c.cache != nil {
		if b, ok := rd.c.cache.get(kindConfig, desc.Digest, MaxConfigBytes); ok {
			rd.c.requests.CacheHit()
			return b, nil
		}
	}
	b, err := content.FetchAll(ctx, rd.r.Blobs(), desc)
	if err != nil {
		return nil, mapError(err)
	}
	rd.store(kindConfig, desc.Digest, b)
	return b, nil
}

// store puts verified content in the cache, if there is one, in the background. A cache
// that cannot be written costs only time, so failures are logged, not returned.
func (rd *reader) store(kind string, d digest.Digest, b []byte) {
	if rd.c.cache == nil {
		return
	}
	rd.writers <- struct{}{}
	rd.writes.Go(func() {
		defer func() { <-rd.writers }()
		if err := rd.c.cache.put(kind, d, b); err != nil {
			rd.c.log.Warn("writing cache", "digest", d.String(), "error", err)
		}
	})
}

// wait waits for the cache writes to finish.
func (rd *reader) wait() { rd.writes.Wait() }

// hasReferrersAPI reports whether the registry serves the referrers API for r, asking it
// once per repository. Without the API, referrers are listed in an index tagged
// "sha256-<hex>" (the referrers tag schema), which the tag list already shows.
func (c *Client) hasReferrersAPI(ctx context.Context, r *repository) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.probed {
		return r.referrersAPI, nil
	}
	ref := r.Reference
	ref.Reference = zeroDigest
	ctx = auth.AppendRepositoryScope(ctx, ref, auth.ActionPull)
	scheme := "https"
	if c.plainHTTP {
		scheme = "http"
	}
	u := fmt.Sprintf("%s://%s/v2/%s/referrers/%s", scheme, ref.Host(), ref.Repository, zeroDigest)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", ocispec.MediaTypeImageIndex)
	resp, err := c.http.Do(req)
	if err != nil {
		return false, mapError(err)
	}
	defer resp.Body.Close()

	var api bool
	switch resp.StatusCode {
	case http.StatusOK:
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		api = mt == ocispec.MediaTypeImageIndex
	case http.StatusNotFound:
		if isNameUnknown(responseError(resp)) {
			// The repository does not exist: nothing to learn, and nothing to list.
			return false, nil
		}
	case http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		// Registries without the API answer unknown routes in several ways.
	default:
		return false, mapError(responseError(resp))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBodyBytes))
	r.probed, r.referrersAPI = true, api
	// Tell oras too, so that its Referrers and Delete do not ask again. It refuses only
	// when it has already found out for itself, which it does the same way.
	_ = r.SetReferrersCapability(api)
	return api, nil
}

// isNameUnknown reports whether the registry said the repository does not exist.
func isNameUnknown(e *errcode.ErrorResponse) bool {
	return slices.ContainsFunc(e.Errors, func(e errcode.Error) bool { return e.Code == errcode.ErrorCodeNameUnknown })
}

// responseError reads the error codes of an unsuccessful response, as oras reports them.
func responseError(resp *http.Response) *errcode.ErrorResponse {
	e := &errcode.ErrorResponse{
		Method:     resp.Request.Method,
		URL:        resp.Request.URL,
		StatusCode: resp.StatusCode,
	}
	var body struct {
		Errors errcode.Errors `json:"errors"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, maxErrorBodyBytes)).Decode(&body) == nil {
		e.Errors = body.Errors
	}
	return e
}
