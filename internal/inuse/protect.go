package inuse

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Protection is what the uses found say about one repository.
type Protection struct {
	// Digests maps each digest in use to where it runs, for the plan's reasons.
	Digests map[string]string
	// Problems list the uses that might name the repository but could not be resolved: with
	// any, the list of what runs there is incomplete.
	Problems []string
	// Notes say what was found but protects nothing, e.g. a tag in use that the repository
	// no longer has.
	Notes []string
}

// maxWhere bounds how many places one digest's reason names; the rest are counted.
const maxWhere = 3

// Protect returns the digests of inv (the repository repo on host, as it is now) that the
// uses run: by digest where the source knows it, else by the tag, resolved against inv's
// current tags. Uses of other repositories are left out; a use whose reference cannot be
// resolved and may name this repository is a problem.
func Protect(uses []Use, host, repo string, inv *inventory.Inventory) Protection {
	p := Protection{Digests: map[string]string{}}
	byTag := map[string]string{}
	for _, img := range inv.Images {
		for _, t := range img.Tags {
			byTag[t] = img.Digest
		}
	}
	where := map[string][]string{}
	for _, u := range uses {
		if u.Unresolved != "" {
			if mayName(u.Image, host, repo) {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: %q: %s", u.Where, u.Image, u.Unresolved))
			}
			continue
		}
		r, err := ParseRef(u.Image)
		if err != nil {
			if mayName(u.Image, host, repo) {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: %v", u.Where, err))
			}
			continue
		}
		if !SameHost(r.Host, host) || r.Repository != repo {
			continue
		}
		d := u.Digest
		if d == "" {
			d = r.Digest
		}
		if d == "" {
			if d = byTag[r.Tag]; d == "" {
				p.Notes = append(p.Notes, fmt.Sprintf("%s runs %s, a tag the repository does not have now", u.Where, u.Image))
				continue
			}
		}
		if !slices.Contains(where[d], u.Where) {
			where[d] = append(where[d], u.Where)
		}
	}
	for d, places := range where {
		slices.Sort(places)
		s := strings.Join(places[:min(len(places), maxWhere)], "; ")
		if n := len(places) - maxWhere; n > 0 {
			s += fmt.Sprintf(" and %d more", n)
		}
		p.Digests[d] = s
	}
	slices.Sort(p.Problems)
	slices.Sort(p.Notes)
	return p
}

// mayName reports whether an unusable reference could name host/repo: it could unless the
// part before any template names another repository.
func mayName(image, host, repo string) bool {
	fixed := image
	for _, mark := range []string{"{{", "${", "$("} {
		fixed, _, _ = strings.Cut(fixed, mark)
	}
	name, _, _ := strings.Cut(fixed, "@")
	// A tag, or the ':' before a templated tag, ends the repository.
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	} else if fixed != image {
		return true // the template is in the repository's name: it could be any
	}
	r, err := ParseRef(name)
	if err != nil {
		return true
	}
	return SameHost(r.Host, host) && r.Repository == repo
}
