package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestExamplesUpToDate keeps the committed examples identical to what gen writes, so that they
// cannot drift from the generator or the writers.
func TestExamplesUpToDate(t *testing.T) {
	t.Parallel()
	files, err := render()
	if err != nil {
		t.Fatalf("render() = %v", err)
	}
	for _, name := range []string{snapshotFile, describeFile} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := os.ReadFile(filepath.Join("..", name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, files[name]) {
				t.Errorf("examples/%s is out of date; run go run ./examples/gen", name)
			}
		})
	}
}
