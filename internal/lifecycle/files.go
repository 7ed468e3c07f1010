package lifecycle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// ReadInput reads the file name, or stdin for "-".
func ReadInput(stdin io.Reader, name string) ([]byte, error) {
	if name == "-" {
		if stdin == nil {
			return nil, nil
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, pathCause(err))
	}
	return b, nil
}

// ReadInventory reads images from the file name (describe-images JSON or a snapshot), or
// from stdin for "-". Describe-images output is streamed into a compact inventory (see
// inventory.ReadCompact), which plan.Build plans as it is; code that reads its Images asks
// for Expanded first.
func ReadInventory(stdin io.Reader, name string) (*inventory.Inventory, error) {
	if name == "-" {
		inv, err := inventory.ReadCompact(stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		return inv, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, pathCause(err))
	}
	defer f.Close()
	inv, err := inventory.ReadCompact(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return inv, nil
}

// pathCause strips the operation and path from a file error, which the caller names itself.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// WriteFile replaces name with data through a temporary file in the same directory, so that
// an interrupted write never leaves a truncated policy, plan or snapshot behind. A target
// that is not a regular file (/dev/null, a named pipe) is written in place. A new file gets
// mode 0644; an existing one keeps its permissions.
func WriteFile(name string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		if !fi.Mode().IsRegular() {
			if err := os.WriteFile(name, data, 0); err != nil {
				return fmt.Errorf("writing %s: %w", name, err)
			}
			return nil
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
