// Package inuse finds the images that run (Kubernetes workloads, Amazon ECS tasks and
// services, AWS Lambda functions, manifests in a GitOps directory) so that a plan never
// deletes them. Each source lists image references with where they run; Protect turns
// those of one repository into protected digests.
package inuse

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Use is one image reference a source found in use.
type Use struct {
	// Image is the reference as the workload names it: "nginx:1.27",
	// "ghcr.io/org/app@sha256:…", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1".
	Image string `json:"image"`
	// Digest is the digest that runs, when the source knows it (a pod's imageID, an ECS
	// task's imageDigest, a Lambda function's resolved image URI); "" when only a tag is
	// known: Protect then resolves the tag against the repository's current tags.
	Digest string `json:"digest,omitempty"`
	// Where says where it runs, for reasons and reports:
	// "kubernetes:prod-eu/payments/Deployment/api container api".
	Where string `json:"where"`
	// Unresolved, when set, says why Image is not a usable reference (a template such as
	// "{{ .Values.image.tag }}" that cannot be resolved). Such a use is reported, never
	// ignored: for the repository it names, it makes the in-use list incomplete.
	Unresolved string `json:"unresolved,omitempty"`
}

// Source lists the images in use somewhere.
type Source interface {
	// Name names the source as the user gave it: "kubernetes:prod-eu", "manifests:deploy".
	Name() string
	// List returns every image reference in use. A source that cannot read all it covers
	// (a namespace it may not list, a throttled call out of retries, an unreadable file)
	// returns an error, never a partial list that could pass for complete.
	List(ctx context.Context) ([]Use, error)
}

// Ref is an image reference split into its parts, with Docker Hub's defaults applied:
// "nginx" is docker.io/library/nginx.
type Ref struct {
	Host       string
	Repository string
	Tag        string
	Digest     string
}

// dockerHub is the host of references without one, under its canonical name.
const dockerHub = "docker.io"

// ParseRef splits an image reference: [HOST[:PORT]/]PATH[:TAG][@DIGEST]. A reference
// without a host is on Docker Hub, and a one-component Docker Hub path is under library/.
// A reference without a tag or digest has no tag: it means "latest" to a container
// runtime, and ParseRef says so by returning Tag "latest".
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := strings.TrimSpace(s)
	if rest == "" {
		return Ref{}, errors.New("empty image reference")
	}
	if name, d, ok := strings.Cut(rest, "@"); ok {
		if !validDigest(d) {
			return Ref{}, fmt.Errorf("image reference %q: %q is not a digest", s, d)
		}
		rest, r.Digest = name, d
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, r.Tag = rest[:i], rest[i+1:]
		if !validTag(r.Tag) {
			return Ref{}, fmt.Errorf("image reference %q: %q is not a tag", s, r.Tag)
		}
	}
	first, path, ok := strings.Cut(rest, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first) {
		r.Host = strings.ToLower(first)
	} else {
		r.Host, path = dockerHub, rest
	}
	switch r.Host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		r.Host = dockerHub
	}
	if r.Host == dockerHub && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	if !validPath(path) {
		return Ref{}, fmt.Errorf("image reference %q: %q is not a repository path", s, path)
	}
	r.Repository = path
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r, nil
}

// Name is the repository of r as a reference without tag: "docker.io/library/nginx".
func (r Ref) Name() string { return r.Host + "/" + r.Repository }

// SameHost reports whether two registry hosts are the same registry: equal once lowered,
// with Docker Hub's aliases and an explicit default port ignored.
func SameHost(a, b string) bool {
	norm := func(h string) string {
		h = strings.ToLower(h)
		h = strings.TrimSuffix(h, ":443")
		switch h {
		case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
			return dockerHub
		}
		return h
	}
	return norm(a) == norm(b)
}

func validDigest(s string) bool {
	algo, enc, ok := strings.Cut(s, ":")
	if !ok || algo == "" || enc == "" {
		return false
	}
	for _, c := range algo {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("+._-", c)) {
			return false
		}
	}
	for _, c := range enc {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("=_-", c)) {
			return false
		}
	}
	return algo != "sha256" || len(enc) == 64
}

func validTag(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || i > 0 && (c == '.' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

func validPath(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" {
			return false
		}
		for _, c := range part {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("._-", c)) {
				return false
			}
		}
	}
	return true
}
