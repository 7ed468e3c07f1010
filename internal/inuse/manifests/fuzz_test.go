package manifests

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the parser and what it returns to every shape: no
// input may panic or hang. Crashers go under testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	err := filepath.WalkDir(filepath.Join("testdata", "tree"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		f.Add(b)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("x: &x {<<: *x}\n"))
	root, err := os.OpenRoot(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := decode(data)
		if err != nil {
			return
		}
		for _, kind := range []int{kindKubernetes, kindKustomization, kindValues, kindCompose} {
			w := &walker{root: root, dir: "dir", charts: map[string]*chart{}}
			_ = w.file("f.yaml", kind, docs)
		}
	})
}
