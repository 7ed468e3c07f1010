package lifecycle

import (
	"bytes"
	"context"
	"fmt"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
)

// UnreadableError is a repository with manifests that could not be read completely. No
// snapshot is made of it: a plan made from one could delete what they reference.
type UnreadableError struct {
	Ref        string
	Unreadable []inventory.Unreadable
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("%s: %d manifests could not be read; no snapshot is written, since a plan made from it could delete what they reference", e.Ref, len(e.Unreadable))
}

// Snapshot reads t's repository and encodes it as a snapshot (inventory.WriteSnapshot).
func Snapshot(ctx context.Context, t *Target) ([]byte, error) {
	inv, err := t.Reg.Inventory(ctx, t.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", t.Ref, err)
	}
	if len(inv.Unreadable) > 0 {
		return nil, &UnreadableError{Ref: t.Ref, Unreadable: inv.Unreadable}
	}
	var buf bytes.Buffer
	if err := inventory.WriteSnapshot(&buf, inv); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SavePlan writes the saved plan s to the file name, atomically.
func SavePlan(name string, s *plan.Saved) error {
	var buf bytes.Buffer
	if err := s.Write(&buf); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	return WriteFile(name, buf.Bytes())
}
