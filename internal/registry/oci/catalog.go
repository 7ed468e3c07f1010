package oci

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/errcode"

	shipreg "github.com/shipshape-dev/shipshape/internal/registry"
)

// Bounds of the catalog listing (Repositories).
const (
	// CatalogPageSize is the n asked for in each catalog request: distribution's default
	// limit (catalog.maxentries), and what most registries accept.
	CatalogPageSize = 1000
	// MaxCatalogPages bounds the pages of one listing (ten million repositories at the
	// default page size), so that a registry whose Link headers loop cannot keep a client
	// busy.
	MaxCatalogPages = 10_000
	// MaxCatalogBytes bounds one catalog response: 32 MiB holds about 400,000 names.
	MaxCatalogBytes = 32 << 20
	// MaxUnpagedCatalog is the n asked for, once, from a registry found to ignore last: it
	// must send every repository in that one page, and one with more cannot be listed.
	MaxUnpagedCatalog = 100_000
)

var _ shipreg.Cataloger = (*Client)(nil)

// errFirstPage stops a listing after its first page.
var errFirstPage = errors.New("first page read")

// Repositories returns the name of every repository the registry lists in its catalog
// (GET /v2/_catalog), sorted.
//
// Registries page the catalog differently. Those that follow the spec send a Link header to
// the next page (distribution), which oras follows. Some honour n and last but send no Link
// header; for them, when a listing came in a single page of exactly the size asked for,
// Repositories asks again from its last name, as listTags does. Others ignore last (the
// in-process registry of go-containerregistry sends its first n repositories, in no order,
// whatever last says): a page that repeats a name already listed shows it, and
// Repositories then asks once for MaxUnpagedCatalog names in one page.
//
// A registry without a catalog, or that keeps it from these credentials (GHCR, Docker Hub:
// 404, 405, UNSUPPORTED, or 401 and 403 where /v2/ itself answers), gives an error wrapping
// registry.ErrNoCatalog.
func (c *Client) Repositories(ctx context.Context) ([]string, error) {
	names, err := c.listCatalog(ctx)
	if err != nil {
		return nil, c.catalogError(ctx, err)
	}
	slices.Sort(names)
	return names, nil
}

// catalog returns an oras client of the registry's catalog, asking for n names a page.
func (c *Client) catalog(n int) *remote.Registry {
	return &remote.Registry{
		RepositoryOptions: remote.RepositoryOptions{
			Client:           c.http,
			Reference:        registry.Reference{Registry: c.host},
			PlainHTTP:        c.plainHTTP,
			MaxMetadataBytes: MaxCatalogBytes,
		},
		RepositoryListPageSize: n,
	}
}

// listCatalog pages through the catalog; see Repositories.
func (c *Client) listCatalog(ctx context.Context) ([]string, error) {
	var (
		names    []string
		seen     = make(map[string]bool)
		pages    int
		called   int // pages in the current call of Repositories
		lastLen  int
		lastName string
		fresh    bool
		repeated bool
	)
	collect := func(page []string) error {
		pages++
		called++
		if pages > MaxCatalogPages {
			return fmt.Errorf("more than %d pages of repositories", MaxCatalogPages)
		}
		lastLen = len(page)
		if len(page) > 0 {
			lastName = page[len(page)-1]
		}
		for _, name := range page {
			if seen[name] {
				repeated = true
				continue
			}
			seen[name] = true
			fresh = true
			names = append(names, name)
		}
		return nil
	}
	reg := c.catalog(c.catalogPageSize)
	last := ""
	for {
		fresh, called = false, 0
		if err := reg.Repositories(ctx, last, collect); err != nil {
			return nil, err
		}
		if repeated {
			return c.unpagedCatalog(ctx)
		}
		if !fresh || called > 1 || lastLen != c.catalogPageSize || lastName == last {
			return names, nil
		}
		last = lastName
	}
}

// unpagedCatalog asks a registry that ignores last for every repository in one page.
func (c *Client) unpagedCatalog(ctx context.Context) ([]string, error) {
	c.log.Debug("the registry ignores last in catalog requests: asking for every repository at once", "host", c.host)
	var names []string
	err := c.catalog(MaxUnpagedCatalog).Repositories(ctx, "", func(page []string) error {
		names = page
		return errFirstPage
	})
	if err != nil && !errors.Is(err, errFirstPage) {
		return nil, err
	}
	if len(names) >= MaxUnpagedCatalog {
		return nil, fmt.Errorf("%s ignores last in catalog requests and has %d repositories or more, more than it can list in one page", displayHost(c.host), MaxUnpagedCatalog)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// catalogError maps an error of the catalog listing: onto ErrNoCatalog where the registry
// does not offer the catalog, or keeps it from credentials it otherwise accepts (/v2/
// answers them); onto the usual sentinels otherwise.
func (c *Client) catalogError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("listing the repositories of %s: %w", displayHost(c.host), err)
	}
	s := sentinel(err)
	resp, isResp := errors.AsType[*errcode.ErrorResponse](err)
	switch {
	case isResp && isCatalogURL(resp) && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed),
		errors.Is(s, shipreg.ErrUnsupported):
		return &noCatalogError{host: c.host, err: err}
	case errors.Is(s, shipreg.ErrUnauthorized) || errors.Is(s, shipreg.ErrDenied):
		// The catalog needs a scope (registry:catalog:*) the token service may not grant:
		// if the credentials reach /v2/, they are not what is wrong.
		if perr := c.catalog(0).Ping(ctx); perr == nil {
			return &noCatalogError{host: c.host, err: err}
		}
	}
	return fmt.Errorf("listing the repositories of %s: %w", displayHost(c.host), mapError(err))
}

// isCatalogURL reports whether resp answers a catalog request (and not, say, a token
// request made on its behalf).
func isCatalogURL(resp *errcode.ErrorResponse) bool {
	return resp.URL != nil && strings.HasSuffix(resp.URL.Path, "/v2/_catalog")
}

// noCatalogError is the answer of a registry that does not list its repositories. It
// matches registry.ErrNoCatalog under errors.Is, and says what to do instead.
type noCatalogError struct {
	host string
	err  error
}

func (e *noCatalogError) Error() string {
	answer := e.err.Error()
	if resp, ok := errors.AsType[*errcode.ErrorResponse](e.err); ok {
		answer = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		if len(resp.Errors) > 0 && resp.Errors[0].Message != "" {
			answer = fmt.Sprintf("%d: %s", resp.StatusCode, resp.Errors[0].Message)
		}
	}
	return fmt.Sprintf("%s does not list its repositories (GET /v2/_catalog: %s): give --repositories FILE naming them", displayHost(e.host), answer)
}

func (e *noCatalogError) Unwrap() []error { return []error{shipreg.ErrNoCatalog, e.err} }
