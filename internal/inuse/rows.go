package inuse

import (
	"cmp"
	"slices"
	"strings"
)

// Row is one line of the list of images in use: a use, with its reference split.
type Row struct {
	// Repository is the reference's repository with its host ("docker.io/library/nginx");
	// "" when Unresolved.
	Repository string `json:"repository"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Image      string `json:"image"`
	Where      string `json:"where"`
	Unresolved string `json:"unresolved,omitempty"`
}

// Rows turns uses into rows, sorted by repository, digest, place and image, without
// duplicates. A use whose image is not a reference is unresolved, with the reason.
func Rows(uses []Use) []Row {
	rows := make([]Row, 0, len(uses))
	for _, u := range uses {
		row := Row{Image: u.Image, Where: u.Where, Digest: u.Digest, Unresolved: u.Unresolved}
		if r, err := ParseRef(u.Image); err == nil && u.Unresolved == "" {
			row.Repository, row.Tag = r.Name(), r.Tag
			row.Digest = cmp.Or(u.Digest, r.Digest)
		} else if row.Unresolved == "" {
			row.Unresolved = err.Error()
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(strings.Compare(a.Repository, b.Repository), strings.Compare(a.Digest, b.Digest),
			strings.Compare(a.Where, b.Where), strings.Compare(a.Image, b.Image))
	})
	return slices.CompactFunc(rows, func(a, b Row) bool { return a == b })
}

// ResolveRows keeps the rows of the repository repo on host, and the unresolved ones, with
// each tag's digest filled in from tags (tag → digest, the repository as it is now),
// sorted by digest and place.
func ResolveRows(rows []Row, host, repo string, tags map[string]string) []Row {
	var out []Row
	for _, r := range rows {
		h, p := SplitRepository(r.Repository)
		if r.Unresolved == "" && (!SameHost(h, host) || p != repo) {
			continue
		}
		if r.Digest == "" && r.Tag != "" {
			r.Digest = tags[r.Tag]
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		return cmp.Or(strings.Compare(a.Digest, b.Digest), strings.Compare(a.Where, b.Where))
	})
	return out
}

// SplitRepository splits a repository name (an inventory's, a Row's) into host and path;
// the host is "" when the name has none (describe-images input), which in-use matching
// takes as any host.
func SplitRepository(name string) (host, path string) {
	first, rest, ok := strings.Cut(name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	return "", name
}
