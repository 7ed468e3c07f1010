package lifecycle

import (
	"fmt"
	"os"
	"path/filepath"
)

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
