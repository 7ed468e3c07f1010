package registry

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// repositoryPath is the OCI distribution spec's grammar of a repository name.
var repositoryPath = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)

// dockerHub is the host Docker Hub's repositories are served from.
const dockerHub = "registry-1.docker.io"

// ParseReference splits a repository reference into the registry host and the repository:
// "localhost:5000/team/app" gives "localhost:5000" and "team/app". Docker Hub names may be
// short: "alpine" and "docker.io/library/alpine" both give "registry-1.docker.io" and
// "library/alpine". A reference that names a tag or a digest is refused: shipshape works on
// whole repositories.
func ParseReference(ref string) (host, repo string, err error) {
	if ref == "" {
		return "", "", fmt.Errorf("empty repository reference")
	}
	if strings.Contains(ref, "://") {
		return "", "", fmt.Errorf("repository reference %q has a URL scheme: write host/repository, e.g. ghcr.io/org/app", ref)
	}
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		return "", "", fmt.Errorf("repository reference %q names a digest: give the repository only (%s)", ref, ref[:i])
	}
	first, rest, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		host, repo = first, rest
	} else {
		host, repo = "docker.io", ref
	}
	if i := strings.LastIndexByte(repo, '/'); strings.Contains(repo[i+1:], ":") {
		return "", "", fmt.Errorf("repository reference %q names a tag: give the repository only (%s)", ref, ref[:strings.LastIndexByte(ref, ':')])
	}
	if host == "docker.io" || host == "index.docker.io" {
		host = dockerHub
		if !strings.Contains(repo, "/") {
			repo = "library/" + repo
		}
	}
	if u, err := url.Parse("//" + host); err != nil || u.Host != host || u.User != nil || u.Path != "" {
		return "", "", fmt.Errorf("repository reference %q: %q is not a registry host", ref, host)
	}
	if !repositoryPath.MatchString(repo) {
		return "", "", fmt.Errorf("repository reference %q: %q is not a repository name (lower-case letters, digits and separators . _ __ -, in parts joined by /)", ref, repo)
	}
	return host, repo, nil
}
