// Command gen writes the example inventories in examples/: a synthetic CI-built repository as a
// shipshape snapshot (inventory.json) and as aws ecr describe-images prints it
// (describe-images.json).
//
// Run it from the module root:
//
//	go run ./examples/gen
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// Names of the files gen writes.
const (
	snapshotFile = "inventory.json"
	describeFile = "describe-images.json"
)

func main() {
	dir := flag.String("dir", "examples", "directory to write the examples to")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := render()
	if err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("writing example: %w", err)
		}
	}
	return nil
}

// render returns the contents of the example files by name.
func render() (map[string][]byte, error) {
	inv := synth.CIRepository(synth.Example())
	var snap, desc bytes.Buffer
	if err := inventory.WriteSnapshot(&snap, inv); err != nil {
		return nil, err
	}
	if err := inventory.WriteDescribeImages(&desc, inv); err != nil {
		return nil, err
	}
	return map[string][]byte{snapshotFile: snap.Bytes(), describeFile: desc.Bytes()}, nil
}
