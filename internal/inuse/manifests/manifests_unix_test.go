//go:build unix

package manifests_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

const pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: nginx:1.27}]}\n"

// outside returns a directory to list, dir, inside a parent that also holds outside.yaml
// and outside/, which List must not read.
func outside(t *testing.T) (parent, dir string) {
	t.Helper()
	parent = writeTree(t, map[string]string{
		"outside.yaml":      pod,
		"outside/pod.yaml":  pod,
		"dir/real/pod.yaml": pod,
	})
	return parent, filepath.Join(parent, "dir")
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestListSymlinks(t *testing.T) {
	t.Parallel()
	_, dir := outside(t)
	symlink(t, "real", filepath.Join(dir, "linked-dir"))                             // skipped: real/ is walked
	symlink(t, filepath.Join("real", "pod.yaml"), filepath.Join(dir, "linked.yaml")) // read
	symlink(t, filepath.Join("..", "outside.yaml"), filepath.Join(dir, "LICENSE"))   // not a manifest: ignored
	symlink(t, "missing", filepath.Join(dir, "NOTES"))                               // dangling, not a manifest: ignored
	want := []inuse.Use{
		{Image: "nginx:1.27", Where: "manifests:linked.yaml Pod/p container c"},
		{Image: "nginx:1.27", Where: "manifests:real/pod.yaml Pod/p container c"},
	}
	if diff := cmp.Diff(want, list(t, dir)); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
}

// TestListUnreadable covers entries that cannot be read even by root, and, when not run as
// root, files and directories whose mode forbids reading.
func TestListUnreadable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		asRoot bool // whether the case holds for root, whom modes do not stop
		make   func(t *testing.T, dir string)
		want   []string
	}{
		{
			name:   "dangling symlink",
			asRoot: true,
			make:   func(t *testing.T, dir string) { symlink(t, "gone.yaml", filepath.Join(dir, "app.yaml")) },
			want:   []string{"app.yaml", "no such file"},
		},
		{
			name:   "symlink to a file outside",
			asRoot: true,
			make: func(t *testing.T, dir string) {
				symlink(t, filepath.Join("..", "outside.yaml"), filepath.Join(dir, "app.yaml"))
			},
			want: []string{"app.yaml", "a symbolic link to a file outside"},
		},
		{
			name:   "symlink to a directory outside",
			asRoot: true,
			make: func(t *testing.T, dir string) {
				symlink(t, filepath.Join("..", "outside"), filepath.Join(dir, "shared"))
			},
			want: []string{"shared", "a symbolic link to a directory outside"},
		},
		{
			name:   "fifo",
			asRoot: true,
			make: func(t *testing.T, dir string) {
				if err := syscall.Mkfifo(filepath.Join(dir, "real", "pipe.yaml"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{filepath.Join("real", "pipe.yaml"), "not a regular file"},
		},
		{
			name: "unreadable file",
			make: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "real", "pod.yaml"), 0) },
			want: []string{filepath.Join("real", "pod.yaml"), "permission denied"},
		},
		{
			name: "unreadable directory",
			make: func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "real"), 0) },
			want: []string{"real", "permission denied"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !tt.asRoot && os.Geteuid() == 0 {
				t.Skip("root reads whatever the mode says")
			}
			_, dir := outside(t)
			tt.make(t, dir)
			wantError(t, dir, tt.want...)
		})
	}
}

// chmod sets the mode of p, and restores it for t.TempDir's clean-up.
func chmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(p, 0o755) })
}
