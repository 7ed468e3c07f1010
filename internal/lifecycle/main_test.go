package lifecycle_test

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps what apply records between runs (journals given no path, the deletion
// log) in a directory of the tests' own, out of the home directory.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shipshape-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
