// Package manifests is the in-use source for a GitOps directory: the images its Kubernetes
// manifests, kustomizations, Helm values files and Compose files name, read offline.
package manifests

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// MaxFileSize bounds one file List reads: it holds a file whole in memory, and a file
// named like a manifest that is bigger (a generated dump, a misplaced archive) is an error,
// not a stall. 16 MiB is many times the largest CRD bundles.
const MaxFileSize = 16 << 20

// minNodeBudget is the fewest YAML nodes one file may expand to once its aliases are
// expanded; a file may have twice as many nodes as it has bytes if that is more. Without
// aliases a file holds no more nodes than bytes, and anchors reused in earnest stay far
// below a million: only an alias bomb ("billion laughs") reaches the budget.
const minNodeBudget = 1 << 20

var _ inuse.Source = (*Source)(nil)

// Source lists the image references of the files under one directory. It holds no state
// between calls and is safe for concurrent use.
type Source struct {
	dir string
}

// New returns the source of the files under dir.
func New(dir string) *Source { return &Source{dir: dir} }

// Name is "manifests:DIR", DIR as given to New.
func (s *Source) Name() string { return "manifests:" + s.dir }

// List walks the directory and returns the image references its files name, de-duplicated
// and sorted by Where, then Image. Where is "manifests:" and the file's path relative to
// the directory, "#N" for the Nth document of a file holding several, and the place in it:
//
//	manifests:apps/api.yaml#2 CronJob/report container report
//	manifests:overlays/prod/kustomization.yaml images name=ghcr.io/acme/api
//	manifests:charts/api/values-prod.yaml worker.image
//	manifests:compose.yaml service web
//
// Files are recognised by name:
//   - kustomization.yaml, kustomization.yml, Kustomization: each images entry, as the
//     reference it makes: newName (or name), ":newTag", "@digest"; an entry with newName
//     alone is unresolved (the tag is the resources'), one that changes nothing is
//     skipped. The valuesInline of helmCharts, by the values convention.
//   - Helm values files (values.yaml, values-*.yaml, values.*.yaml, *.values.yaml,
//     *-values.yaml, and .yml): see the values convention below.
//   - Compose files (compose*.yaml, docker-compose*.yaml, and .yml): services.*.image.
//   - Any other .yaml, .yml or .json file: Kubernetes objects, any number to a file.
//     In every document with a kind, and in the objects it nests (the items of a List),
//     every containers, initContainers and ephemeralContainers list is read, wherever it
//     is: pod specs of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
//     CronJobs, Argo Rollouts and any resource shaped the same. Besides, a Flux
//     Kustomization's spec.images is read as a kustomization's images, and the values of a
//     Flux HelmRelease (spec.values) and of an Argo CD Application
//     (spec.source[s].helm.valuesObject and .values) by the values convention.
//
// The values convention: a key "image" at any depth whose value is a string is a
// reference; whose value is a mapping with a repository is [registry/]repository[:tag]
// [@digest], registry being global.imageRegistry if set, else image.registry. A mapping
// without repository is not the convention and is skipped. An empty tag is the chart's
// appVersion, from a Chart.yaml beside the values file; without one, or for the image of a
// dependency (its first key names one of Chart.yaml's dependencies), the use is
// unresolved. A values file beside a Chart.yaml is read merged over that chart's
// values.yaml, as Helm would install it. A tag written as an unquoted number that Helm
// renders differently ("1.10" becomes "1.1") gives both references, the second only if it
// is one (Helm renders 20240101123456 as "2.0240101123456e+13", which runs nothing).
//
// A reference with a template ("{{ … }}", "${VAR}", "$(VAR)"), or that ParseRef rejects, is
// returned with Unresolved set, never dropped. Files under the templates directory of a
// directory holding a Chart.yaml are not read: they are templates, not YAML, and their
// images come from the values files. Packaged charts (.tgz) and remote bases are not read.
//
// The walk skips directories whose name starts with "." (.git, .github). It never leaves
// the directory: files are opened through an os.Root. Symbolic links to directories are
// not followed, so no loop is possible: one to a directory inside the directory is skipped
// (the walk reaches its target where it is), one to a directory outside it is an error. A link to a file named like a manifest is read when
// its target is inside the directory and is an error when it is not (outside, or
// dangling). List stats such a target to tell a directory from a file, but never reads it.
//
// Any file named like a manifest (or a Chart.yaml) that cannot be read or parsed, that is
// not a regular file or that is larger than MaxFileSize, and any directory that cannot be
// listed, is an error naming it, with the document and line where the parser says: a
// partial list could pass for complete. Each call reads the directory anew.
func (s *Source) List(ctx context.Context) ([]inuse.Use, error) {
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", s.dir, bare(err))
	}
	defer root.Close()
	w := &walker{root: root, dir: s.dir, charts: map[string]*chart{}}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", w.path(p), bare(err))
		}
		return w.visit(p, d)
	})
	if err != nil {
		return nil, err
	}
	uses := w.uses
	slices.SortFunc(uses, func(a, b inuse.Use) int {
		return cmp.Or(strings.Compare(a.Where, b.Where), strings.Compare(a.Image, b.Image),
			strings.Compare(a.Digest, b.Digest), strings.Compare(a.Unresolved, b.Unresolved))
	})
	return slices.Compact(uses), nil
}

// walker is the state of one List.
type walker struct {
	root *os.Root
	dir  string
	// charts caches what the values files of a directory need of its chart; nil for a
	// directory without Chart.yaml.
	charts map[string]*chart
	uses   []inuse.Use
}

// path is p, a slash-separated path inside the directory, as the user can open it.
func (w *walker) path(p string) string { return filepath.Join(w.dir, filepath.FromSlash(p)) }

// visit handles one entry of the walk.
func (w *walker) visit(p string, d fs.DirEntry) error {
	if d.IsDir() {
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if d.Name() == "templates" {
			ch, err := w.chart(path.Dir(p))
			if err != nil {
				return err
			}
			if ch != nil {
				return fs.SkipDir
			}
		}
		return nil
	}
	kind := classify(p)
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := w.root.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err != nil:
			// Dangling, or leading out of the directory: os.Stat only tells which.
			fi, serr := os.Stat(w.path(p))
			switch {
			case serr == nil && fi.IsDir():
				return fmt.Errorf("reading %s: a symbolic link to a directory outside %s, not followed", w.path(p), w.dir)
			case kind == kindNone:
			case serr == nil:
				return fmt.Errorf("reading %s: a symbolic link to a file outside %s: %w", w.path(p), w.dir, bare(err))
			default:
				return fmt.Errorf("reading %s: %w", w.path(p), bare(err))
			}
		}
	}
	if kind == kindNone {
		return nil
	}
	docs, err := w.readDocs(p)
	if err != nil {
		return err
	}
	return w.file(p, kind, docs)
}

// read returns the content of the file p, at most MaxFileSize bytes.
func (w *walker) read(p string) ([]byte, error) {
	// Stat first: opening a fifo would wait for a writer.
	fi, err := w.root.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", w.path(p), bare(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading %s: not a regular file (%v)", w.path(p), fi.Mode().Type())
	}
	if fi.Size() > MaxFileSize {
		return nil, fmt.Errorf("reading %s: %d bytes, more than the %d a manifest may have", w.path(p), fi.Size(), MaxFileSize)
	}
	f, err := w.root.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", w.path(p), bare(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", w.path(p), bare(err))
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("reading %s: more than the %d bytes a manifest may have", w.path(p), MaxFileSize)
	}
	return data, nil
}

// bare strips the *fs.PathError around err: the messages around it name the path better.
func bare(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// Kinds of file, by name.
const (
	kindNone = iota
	kindKubernetes
	kindKustomization
	kindValues
	kindCompose
)

// classify says what the file p is by its name.
func classify(p string) int {
	base := path.Base(p)
	if base == "Kustomization" {
		return kindKustomization
	}
	lower := strings.ToLower(base)
	ext := path.Ext(lower)
	switch ext {
	case ".json":
		return kindKubernetes
	case ".yaml", ".yml":
	default:
		return kindNone
	}
	stem := strings.TrimSuffix(lower, ext)
	switch {
	case stem == "kustomization":
		return kindKustomization
	case named(stem, "values"):
		return kindValues
	case named(stem, "compose"), named(stem, "docker-compose"):
		return kindCompose
	}
	return kindKubernetes
}

// named reports whether stem is word, or word joined to more by ".", "-" or "_" before
// it (values-prod, values.eu) or, for values, after it (prod.values, prod-values).
func named(stem, word string) bool {
	if stem == word {
		return true
	}
	for _, sep := range []string{".", "-", "_"} {
		if strings.HasPrefix(stem, word+sep) || word == "values" && strings.HasSuffix(stem, sep+word) {
			return true
		}
	}
	return false
}
