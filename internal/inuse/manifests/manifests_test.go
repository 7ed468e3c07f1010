package manifests_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/manifests"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

const (
	digestA = "sha256:a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333"
	digestB = "sha256:87eba76e7f3164534045ba922e7770fb58bbd14ad732bbf5ba6f11cc56989e6e"
)

// writeTree writes files (slash-separated path → content) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func list(t *testing.T, dir string) []inuse.Use {
	t.Helper()
	got, err := manifests.New(dir).List(t.Context())
	if err != nil {
		t.Fatalf("List(%s) error: %v", dir, err)
	}
	return got
}

func TestName(t *testing.T) {
	t.Parallel()
	if got, want := manifests.New("deploy/prod").Name(), "manifests:deploy/prod"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
}

// TestListTree lists a GitOps tree holding every shape and compares with
// testdata/tree.golden.json; go test ./internal/inuse/manifests -update rewrites it.
func TestListTree(t *testing.T) {
	t.Parallel()
	got := list(t, filepath.Join("testdata", "tree"))
	golden := filepath.Join("testdata", "tree.golden.json")
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/inuse/manifests -update to create it)", err)
	}
	var want []inuse.Use
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatalf("%s: %v", golden, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List(testdata/tree) mismatch (-want +got):\n%s", diff)
	}
	for _, u := range got {
		if strings.Contains(u.Where, "/templates/") || strings.Contains(u.Where, ".github") {
			t.Errorf("List(testdata/tree) read a chart template or a hidden directory: %+v", u)
		}
	}
}

// TestListIsDeterministic lists the tree several times, and a copy of it written in the
// reverse order, and wants the same list each time.
func TestListIsDeterministic(t *testing.T) {
	t.Parallel()
	src := filepath.Join("testdata", "tree")
	want := list(t, src)
	for range 3 {
		if diff := cmp.Diff(want, list(t, src)); diff != "" {
			t.Fatalf("List(testdata/tree) changed between calls (-first +later):\n%s", diff)
		}
	}
	var files []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(files)
	dst := t.TempDir()
	for _, f := range files {
		rel, _ := filepath.Rel(src, f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, rel), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, list(t, dst)); diff != "" {
		t.Errorf("List(copy written in reverse) differs (-original +copy):\n%s", diff)
	}
}

func TestListShapes(t *testing.T) {
	t.Parallel()
	pod := func(image string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: " + image + "\n"
	}
	const where = "manifests:pod.yaml Pod/p container c"
	tests := []struct {
		name  string
		files map[string]string
		want  []inuse.Use
	}{
		{
			name:  "no tag",
			files: map[string]string{"pod.yaml": pod("nginx")},
			want:  []inuse.Use{{Image: "nginx", Where: where}},
		},
		{
			name:  "tag and digest",
			files: map[string]string{"pod.yaml": pod("ghcr.io/org/app:v1@" + digestA)},
			want:  []inuse.Use{{Image: "ghcr.io/org/app:v1@" + digestA, Digest: digestA, Where: where}},
		},
		{
			name: "templates of every kind",
			files: map[string]string{
				"a.yaml": pod(`"{{ .Values.image }}"`),
				"b.yaml": pod("ghcr.io/org/app:${TAG}"),
				"c.yaml": pod("$(REGISTRY)/app:1"),
			},
			want: []inuse.Use{
				{Image: "{{ .Values.image }}", Where: "manifests:a.yaml Pod/p container c", Unresolved: "templated: cannot be resolved offline"},
				{Image: "ghcr.io/org/app:${TAG}", Where: "manifests:b.yaml Pod/p container c", Unresolved: "templated: cannot be resolved offline"},
				{Image: "$(REGISTRY)/app:1", Where: "manifests:c.yaml Pod/p container c", Unresolved: "templated: cannot be resolved offline"},
			},
		},
		{
			name:  "not a reference",
			files: map[string]string{"pod.yaml": pod("Bad/Name:v1")},
			want: []inuse.Use{{Image: "Bad/Name:v1", Where: where,
				Unresolved: `image reference "Bad/Name:v1": "Name" is not a repository path`}},
		},
		{
			name:  "image not a string",
			files: map[string]string{"pod.yaml": pod("[nginx]")},
			want:  []inuse.Use{{Where: where, Unresolved: "image is not a string"}},
		},
		{
			name: "anchors and merge keys",
			files: map[string]string{"pod.yaml": `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
    - &main {name: c, image: "ghcr.io/org/app:1"}
    - <<: *main
      name: d
`},
			want: []inuse.Use{
				{Image: "ghcr.io/org/app:1", Where: where},
				{Image: "ghcr.io/org/app:1", Where: "manifests:pod.yaml Pod/p container d"},
			},
		},
		{
			name: "unnamed container and documents",
			files: map[string]string{"all.yml": "---\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{image: redis}]}\n---\n---\n" +
				"kind: Job\nmetadata: {generateName: j-}\nspec: {template: {spec: {containers: [{name: x, image: redis}]}}}\n"},
			want: []inuse.Use{
				{Image: "redis", Where: "manifests:all.yml#1 Pod/p container [0]"},
				{Image: "redis", Where: "manifests:all.yml#3 Job/j- container x"},
			},
		},
		{
			name:  "not kubernetes",
			files: map[string]string{"config.yaml": "image: nginx\ncontainers: [{image: redis}]\n", "notes.txt": "image: x"},
		},
		{
			name: "kustomization",
			files: map[string]string{"Kustomization": `images:
  - {name: api, newTag: v2}
  - {name: api, newName: ghcr.io/org/api, digest: ` + digestA + `}
  - {name: web, newName: ghcr.io/org/web}
  - {name: db, newTag: "${DB_TAG}"}
  - {name: same}
helmCharts:
  - name: redis
    valuesInline:
      image: {repository: bitnami/redis, tag: "7.4"}
`},
			want: []inuse.Use{
				{Image: "bitnami/redis:7.4", Where: "manifests:Kustomization helmCharts[0].valuesInline.image"},
				{Image: "api:v2", Where: "manifests:Kustomization images name=api"},
				{Image: "ghcr.io/org/api@" + digestA, Digest: digestA, Where: "manifests:Kustomization images name=api"},
				{Image: "db:${DB_TAG}", Where: "manifests:Kustomization images name=db", Unresolved: "templated: cannot be resolved offline"},
				{Image: "ghcr.io/org/web", Where: "manifests:Kustomization images name=web",
					Unresolved: "newName without newTag or digest: the tag is the one the resources give"},
			},
		},
		{
			name:  "compose",
			files: map[string]string{"compose.override.yaml": "services:\n  a: {image: redis:7}\n  b: {build: .}\n"},
			want:  []inuse.Use{{Image: "redis:7", Where: "manifests:compose.override.yaml service a"}},
		},
		{
			name: "values beside a chart",
			files: map[string]string{
				"c/Chart.yaml":  "name: c\nappVersion: 1.10\ndependencies: [{name: postgresql}]\n",
				"c/values.yaml": "image: {repository: org/c}\npostgresql: {image: {repository: bitnami/postgresql}}\n",
				"c/prod.values.yaml": "global: {imageRegistry: reg.example.com/}\nimage: {tag: 20240101}\n" +
					"jobs: [{name: x, image: busybox}]\n",
			},
			want: []inuse.Use{
				// 20240101 as Helm renders it, "2.0240101e+07", is no tag: left out.
				{Image: "reg.example.com/org/c:20240101", Where: "manifests:c/prod.values.yaml image"},
				{Image: "busybox", Where: "manifests:c/prod.values.yaml jobs[0].image"},
				{Image: "reg.example.com/bitnami/postgresql", Where: "manifests:c/prod.values.yaml postgresql.image",
					Unresolved: "tag empty: the appVersion of the subchart postgresql"},
				{Image: "org/c:1.10", Where: "manifests:c/values.yaml image"},
				{Image: "bitnami/postgresql", Where: "manifests:c/values.yaml postgresql.image",
					Unresolved: "tag empty: the appVersion of the subchart postgresql"},
			},
		},
		{
			name: "values without a chart",
			files: map[string]string{"values.yaml": "a:\n  image: {registry: quay.io, repository: org/a}\n" +
				"b: {image: {repository: org/b, tag: v1, digest: " + digestB + "}}\nc: {image: {tag: v3}}\nd: {image: {}}\n"},
			want: []inuse.Use{
				{Image: "quay.io/org/a", Where: "manifests:values.yaml a.image", Unresolved: "tag empty and no Chart.yaml appVersion"},
				{Image: "org/b:v1@" + digestB, Digest: digestB, Where: "manifests:values.yaml b.image"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := list(t, writeTree(t, tt.files))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("List() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 'b', 'a'; i <= 'i'; i, prev = i+1, i {
		bomb += string(i) + ": &" + string(i) + " [" + strings.Repeat("*"+string(prev)+", ", 9) + "*" + string(prev) + "]\n"
	}
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		want []string // in the error's message
	}{
		{
			name: "unparseable YAML",
			dir:  func(*testing.T) string { return filepath.Join("testdata", "broken") },
			want: []string{filepath.Join("testdata", "broken", "apps", "bad.yaml"), "document 2", "line 11"},
		},
		{
			name: "missing directory",
			dir:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			want: []string{"nope", "no such file"},
		},
		{
			name: "duplicate key",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"a/p.yaml": "kind: Pod\nkind: Pod\n"})
			},
			want: []string{filepath.Join("a", "p.yaml"), "line 2", `key "kind" defined twice`},
		},
		{
			name: "unquoted template outside a chart",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"p.yaml": "kind: Pod\nspec:\n  containers:\n    - image: {{ .Values.image }}\n"})
			},
			want: []string{"p.yaml", "line 4", "not a string (an unquoted template?)"},
		},
		{
			name: "alias bomb",
			dir:  func(t *testing.T) string { return writeTree(t, map[string]string{"values.yaml": bomb}) },
			want: []string{"values.yaml", "aliases are expanded"},
		},
		{
			name: "alias holding itself",
			dir:  func(t *testing.T) string { return writeTree(t, map[string]string{"x.yaml": "a: &x [1, *x]\n"}) },
			want: []string{"x.yaml", "line 1", "alias *x refers to a node that holds it"},
		},
		{
			name: "broken Argo CD values",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"app.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n" +
					"metadata: {name: a}\nspec:\n  source:\n    helm:\n      values: \"a: [\"\n"})
			},
			want: []string{"app.yaml", "document 1", "Application/a spec.source.helm.values"},
		},
		{
			name: "broken Chart.yaml of a templates directory",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"c/Chart.yaml": "name: [", "c/templates/x.yaml": "{{ x }}"})
			},
			want: []string{filepath.Join("c", "Chart.yaml")},
		},
		{
			name: "too large",
			dir: func(t *testing.T) string {
				dir := t.TempDir()
				f, err := os.Create(filepath.Join(dir, "big.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := f.Truncate(manifests.MaxFileSize + 1); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			want: []string{"big.yaml", "more than the 16777216"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			wantError(t, tt.dir(t), tt.want...)
		})
	}
}

// wantError lists dir and wants an error whose message holds each of want.
func wantError(t *testing.T, dir string, want ...string) {
	t.Helper()
	got, err := manifests.New(dir).List(t.Context())
	if err == nil {
		t.Fatalf("List(%s) = %v, want an error", dir, got)
	}
	t.Logf("List(%s) error: %v", dir, err)
	if got != nil {
		t.Errorf("List(%s) returned %d uses with its error, want none", dir, len(got))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("List(%s) error = %q, want it to hold %q", dir, err, w)
		}
	}
}

func TestListCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := manifests.New(filepath.Join("testdata", "tree")).List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List(cancelled) error = %v, want context.Canceled", err)
	}
}
