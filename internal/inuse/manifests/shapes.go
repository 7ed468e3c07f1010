package manifests

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// Reasons a use is unresolved.
const (
	reasonTemplated = "templated: cannot be resolved offline"
	reasonNoTag     = "tag empty and no Chart.yaml appVersion"
	reasonNotString = "image is not a string"
	reasonNewName   = "newName without newTag or digest: the tag is the one the resources give"
)

// file adds the uses of the documents of the file p, of the given kind.
func (w *walker) file(p string, kind int, docs []any) error {
	at := func(i int) string {
		if len(docs) > 1 {
			return fmt.Sprintf("manifests:%s#%d", p, i+1)
		}
		return "manifests:" + p
	}
	switch kind {
	case kindValues:
		return w.valuesFile(p, docs, at)
	case kindKustomization:
		for i, doc := range docs {
			m, _ := doc.(map[string]any)
			w.kustomizeImages(at(i)+" images", m["images"])
			charts, _ := m["helmCharts"].([]any)
			for j, c := range charts {
				c, _ := c.(map[string]any)
				w.values(at(i), fmt.Sprintf("helmCharts[%d].valuesInline", j), c["valuesInline"], nil)
			}
		}
	case kindCompose:
		for i, doc := range docs {
			m, _ := doc.(map[string]any)
			services, _ := m["services"].(map[string]any)
			for name, svc := range services {
				svc, _ := svc.(map[string]any)
				if img, ok := svc["image"]; ok {
					w.image(at(i)+" service "+name, img)
				}
			}
		}
	case kindKubernetes:
		for i, doc := range docs {
			if m, ok := doc.(map[string]any); ok && str(m["kind"]) != "" {
				if err := w.object(at(i), "", m); err != nil {
					return fmt.Errorf("parsing %s: document %d: %w", w.path(p), i+1, err)
				}
			}
		}
	}
	return nil
}

// object adds the uses of v, a Kubernetes object or a value in one, and of the objects it
// nests; at locates the document, obj names the object holding v ("Deployment/api").
func (w *walker) object(at, obj string, v any) error {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if err := w.object(at, obj, e); err != nil {
				return err
			}
		}
	case map[string]any:
		meta, isMeta := v["metadata"].(map[string]any)
		if kind := str(v["kind"]); kind != "" && (isMeta || obj == "") {
			obj = kind + "/" + cmp.Or(str(meta["name"]), str(meta["generateName"]), "?")
			if err := w.resource(at, obj, kind, str(v["apiVersion"]), v); err != nil {
				return err
			}
		}
		// In key order, so that of two errors the same is returned each time.
		for _, key := range slices.Sorted(maps.Keys(v)) {
			val := v[key]
			if role, ok := containerRoles[key]; ok {
				if list, ok := val.([]any); ok {
					w.containers(at+" "+obj+" "+role, list)
					continue
				}
			}
			if err := w.object(at, obj, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// containerRoles name the container lists of a pod spec, as Where says them.
var containerRoles = map[string]string{
	"containers":          "container",
	"initContainers":      "initContainer",
	"ephemeralContainers": "ephemeralContainer",
}

// containers adds the images of a list of containers; a container without image (a
// kustomize patch) has none.
func (w *walker) containers(at string, list []any) {
	for i, c := range list {
		c, ok := c.(map[string]any)
		if !ok {
			continue
		}
		img, ok := c["image"]
		if !ok {
			continue
		}
		w.image(at+" "+cmp.Or(str(c["name"]), fmt.Sprintf("[%d]", i)), img)
	}
}

// resource adds what a few kinds name outside pod specs: a Flux Kustomization's images,
// the Helm values of a Flux HelmRelease and of an Argo CD Application.
func (w *walker) resource(at, obj, kind, apiVersion string, m map[string]any) error {
	at += " " + obj
	group, _, _ := strings.Cut(apiVersion, "/")
	spec, _ := m["spec"].(map[string]any)
	switch {
	case kind == "Kustomization" && group == "kustomize.toolkit.fluxcd.io":
		w.kustomizeImages(at+" spec.images", spec["images"])
	case kind == "HelmRelease" && group == "helm.toolkit.fluxcd.io":
		w.values(at, "spec.values", spec["values"], nil)
	case kind == "Application" && group == "argoproj.io":
		sources := []any{spec["source"]}
		if list, ok := spec["sources"].([]any); ok {
			sources = append(sources, list...)
		}
		for i, src := range sources {
			key := "spec.source"
			if i > 0 {
				key = fmt.Sprintf("spec.sources[%d]", i-1)
			}
			src, _ := src.(map[string]any)
			helm, _ := src["helm"].(map[string]any)
			w.values(at, key+".helm.valuesObject", helm["valuesObject"], nil)
			if s := str(helm["values"]); s != "" {
				docs, err := decode([]byte(s))
				if err != nil {
					return fmt.Errorf("%s %s.helm.values: %w", obj, key, err)
				}
				for _, doc := range docs {
					w.values(at, key+".helm.values", doc, nil)
				}
			}
		}
	}
	return nil
}

// kustomizeImages adds the references a kustomization's images make. An entry that
// changes nothing is skipped: the resources' own images are read where they are.
func (w *walker) kustomizeImages(at string, v any) {
	list, _ := v.([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		name, newName, newTag, digest := str(m["name"]), str(m["newName"]), str(m["newTag"]), str(m["digest"])
		if newName == "" && newTag == "" && digest == "" {
			continue
		}
		where := at + " name=" + name
		ref := cmp.Or(newName, name)
		if newTag == "" && digest == "" {
			w.add(inuse.Use{Image: ref, Where: where, Unresolved: reasonNewName})
			continue
		}
		if newTag != "" {
			ref += ":" + newTag
		}
		if digest != "" {
			ref += "@" + digest
		}
		w.ref(where, ref)
	}
}

// image adds the value of a container's or service's image key.
func (w *walker) image(where string, v any) {
	switch v := v.(type) {
	case nil:
	case string, number:
		if s := str(v); strings.TrimSpace(s) != "" {
			w.ref(where, s)
		}
	default:
		w.add(inuse.Use{Where: where, Unresolved: reasonNotString})
	}
}

// ref adds the use of the reference s.
func (w *walker) ref(where, s string) {
	s = strings.TrimSpace(s)
	if templated(s) {
		w.add(inuse.Use{Image: s, Where: where, Unresolved: reasonTemplated})
		return
	}
	r, err := inuse.ParseRef(s)
	if err != nil {
		w.add(inuse.Use{Image: s, Where: where, Unresolved: err.Error()})
		return
	}
	w.add(inuse.Use{Image: s, Digest: r.Digest, Where: where})
}

func (w *walker) add(u inuse.Use) { w.uses = append(w.uses, u) }

// templated reports whether s holds a template a tool fills in at deploy time: Helm or Go
// "{{ … }}", shell, Compose or Flux "${VAR}", Kubernetes "$(VAR)".
func templated(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "${") || strings.Contains(s, "$(")
}

// str is v as a string if it is a scalar string or number, else "".
func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case number:
		return string(v)
	}
	return ""
}

// chart is what the values files beside a Chart.yaml need of it.
type chart struct {
	appVersion string
	// deps are the names (or aliases) of the chart's dependencies: the values under them
	// are the subcharts', whose appVersion this chart does not say.
	deps map[string]bool
	// defaults is the chart's values.yaml (or values.yml), nil without one.
	defaults any
}

// chart returns the chart of the directory dir, nil if dir holds no Chart.yaml.
func (w *walker) chart(dir string) (*chart, error) {
	if ch, ok := w.charts[dir]; ok {
		return ch, nil
	}
	var ch *chart
	p := path.Join(dir, "Chart.yaml")
	if _, err := w.root.Lstat(p); err == nil {
		docs, err := w.readDocs(p)
		if err != nil {
			return nil, err
		}
		ch = &chart{deps: map[string]bool{}}
		if len(docs) > 0 {
			m, _ := docs[0].(map[string]any)
			ch.appVersion = strings.TrimSpace(str(m["appVersion"]))
			deps, _ := m["dependencies"].([]any)
			for _, d := range deps {
				d, _ := d.(map[string]any)
				if name := cmp.Or(str(d["alias"]), str(d["name"])); name != "" {
					ch.deps[name] = true
				}
			}
		}
		for _, name := range []string{"values.yaml", "values.yml"} {
			vp := path.Join(dir, name)
			if _, err := w.root.Lstat(vp); err != nil {
				continue
			}
			docs, err := w.readDocs(vp)
			if err != nil {
				return nil, err
			}
			if len(docs) > 0 {
				ch.defaults = docs[0]
			}
			break
		}
	}
	w.charts[dir] = ch
	return ch, nil
}

// readDocs reads and parses the file p.
func (w *walker) readDocs(p string) ([]any, error) {
	data, err := w.read(p)
	if err != nil {
		return nil, err
	}
	docs, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", w.path(p), err)
	}
	return docs, nil
}

// valuesFile adds the uses of a Helm values file. Beside a Chart.yaml, a values file other
// than the chart's own is read merged over it, as `helm install -f` would.
func (w *walker) valuesFile(p string, docs []any, at func(int) string) error {
	ch, err := w.chart(path.Dir(p))
	if err != nil {
		return err
	}
	base := path.Base(p)
	own := base == "values.yaml" || base == "values.yml"
	for i, doc := range docs {
		if ch != nil && !own && ch.defaults != nil {
			doc = coalesce(ch.defaults, doc)
		}
		w.values(at(i), "", doc, ch)
	}
	return nil
}

// coalesce returns over merged onto base as Helm merges values: mappings key by key, any
// other value replacing, null deleting. Neither argument is modified.
func coalesce(base, over any) any {
	bm, ok1 := base.(map[string]any)
	om, ok2 := over.(map[string]any)
	if !ok1 || !ok2 {
		return over
	}
	m := make(map[string]any, len(bm)+len(om))
	for k, v := range bm {
		m[k] = v
	}
	for k, v := range om {
		if v == nil {
			delete(m, k)
			continue
		}
		if b, ok := m[k]; ok {
			v = coalesce(b, v)
		}
		m[k] = v
	}
	return m
}

// values adds the images of Helm values v by the values convention (see List); key is
// the path of v in its document, ch its chart if known.
func (w *walker) values(at, key string, v any, ch *chart) {
	root, ok := v.(map[string]any)
	if !ok {
		return
	}
	global, _ := root["global"].(map[string]any)
	s := valuesScan{w: w, at: at, registry: str(global["imageRegistry"]), chart: ch}
	s.walk(key, "", root)
}

// valuesScan is one scan of Helm values.
type valuesScan struct {
	w        *walker
	at       string
	registry string // global.imageRegistry
	chart    *chart
}

// walk scans v at the path p; top is the first key under the values' root.
func (s *valuesScan) walk(p, top string, v any) {
	switch v := v.(type) {
	case []any:
		for i, e := range v {
			s.walk(fmt.Sprintf("%s[%d]", p, i), top, e)
		}
	case map[string]any:
		for k, e := range v {
			kp, kt := k, top
			if p != "" {
				kp = p + "." + k
			}
			if kt == "" {
				kt = k
			}
			if k == "image" {
				s.image(kp, kt, e)
			}
			s.walk(kp, kt, e)
		}
	}
}

// image adds the image that the value v of an image key names, if it follows the
// convention.
func (s *valuesScan) image(p, top string, v any) {
	where := s.at + " " + p
	switch v := v.(type) {
	case string, number:
		if str(v) != "" {
			s.w.ref(where, str(v))
		}
		return
	case map[string]any:
		repo := strings.TrimSpace(str(v["repository"]))
		if repo == "" {
			return
		}
		name := repo
		if reg := strings.TrimSpace(cmp.Or(s.registry, str(v["registry"]))); reg != "" {
			name = strings.TrimSuffix(reg, "/") + "/" + repo
		}
		tag, digest := strings.TrimSpace(str(v["tag"])), strings.TrimSpace(str(v["digest"]))
		if tag == "" && digest == "" {
			switch {
			case s.chart != nil && s.chart.deps[top]:
				s.w.add(inuse.Use{Image: name, Where: where, Unresolved: "tag empty: the appVersion of the subchart " + top})
				return
			case s.chart == nil || s.chart.appVersion == "":
				s.w.add(inuse.Use{Image: name, Where: where, Unresolved: reasonNoTag})
				return
			}
			tag = s.chart.appVersion
		}
		s.w.ref(where, join(name, tag, digest))
		// Helm may run another tag than the one written; one that is not a tag
		// ("2.0240101e+07") runs nothing.
		if n, ok := v["tag"].(number); ok {
			if h, ok := helmNumber(string(n)); ok && h != tag {
				if _, err := inuse.ParseRef(join(name, h, digest)); err == nil {
					s.w.ref(where, join(name, h, digest))
				}
			}
		}
	}
}

// join makes a reference of its parts.
func join(name, tag, digest string) string {
	if tag != "" {
		name += ":" + tag
	}
	if digest != "" {
		name += "@" + digest
	}
	return name
}

// helmNumber is how Helm renders the unquoted number s: it reads values as JSON, into a
// float64, and prints that with %v, so "1.10" becomes "1.1" and 20240101123456 becomes
// "2.0240101123456e+13".
func helmNumber(s string) (string, bool) {
	f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil {
		return "", false
	}
	return fmt.Sprint(f), true
}
