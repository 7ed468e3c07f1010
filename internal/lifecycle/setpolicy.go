package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
)

// ErrNoNativePolicies is returned by SetPolicy for a registry without native lifecycle
// policies (any but Amazon ECR).
var ErrNoNativePolicies = errors.New("the registry has no native lifecycle policies")

// SetPolicy sets text (whose parsed form is want) as the lifecycle policy of t's
// repository, unless the registry already holds its equivalent (policy.Holds): so it is
// cheap and idempotent to run after every push. confirm is asked first, told whether a
// policy is replaced; false leaves the policy as it is (ErrNotConfirmed). It reports whether
// it wrote.
func SetPolicy(ctx context.Context, t *Target, text []byte, want *policy.Policy, confirm func(replace bool) bool) (bool, error) {
	lp, ok := t.Reg.(registry.LifecyclePolicies)
	if !ok {
		return false, fmt.Errorf("%s: %w", t.Host, ErrNoNativePolicies)
	}
	current, err := lp.LifecyclePolicy(ctx, t.Repo)
	switch {
	case errors.Is(err, registry.ErrNotFound):
		current = ""
	case err != nil:
		return false, fmt.Errorf("reading the lifecycle policy of %s: %w", t.Ref, err)
	}
	if current != "" && policy.Holds(current, want) {
		return false, nil
	}
	if confirm != nil && !confirm(current != "") {
		return false, ErrNotConfirmed
	}
	if err := lp.PutLifecyclePolicy(ctx, t.Repo, strings.TrimSpace(string(text))); err != nil {
		return false, fmt.Errorf("setting the lifecycle policy of %s: %w", t.Ref, err)
	}
	return true, nil
}
