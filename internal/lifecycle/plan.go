package lifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// PlanRequest is one plan: of the repository of Target, read now, or of Inventory, read
// from a file.
type PlanRequest struct {
	Target    *Target
	Inventory *inventory.Inventory
	Inputs    *Inputs
	Policy    *policy.Policy
	// PolicyText is the policy as written, for ECR's preview.
	PolicyText []byte
	// ECRPreview runs ECR's own preview too and compares (Amazon ECR targets only).
	ECRPreview bool
	// AWS is the account the ecs and lambda in-use sources use.
	AWS ecr.Account
	// Warn receives what makes the plan less certain than it looks: in-use sources that
	// could not be read completely (apply refuses then).
	Warn func(string)
}

// PlanOutcome is a plan, the inventory it was made from, and, for a registry, the plan
// bound to it for saving (plan --out).
type PlanOutcome struct {
	Plan      *plan.Plan
	Inventory *inventory.Inventory
	Saved     *plan.Saved
}

// ErrNoPreview is returned for ECRPreview on a repository that is not on Amazon ECR.
var ErrNoPreview = errors.New("ECR's lifecycle policy preview needs an Amazon ECR repository")

// Plan evaluates the policy over the repository under the inputs' safety settings, in-use
// sources included, as apply would.
func Plan(ctx context.Context, req PlanRequest) (*PlanOutcome, error) {
	in, inv, t := req.Inputs, req.Inventory, req.Target
	opts := in.Options
	var host, repo string
	if t != nil {
		host, repo = t.Host, t.Repo
		var err error
		if inv, err = t.Reg.Inventory(ctx, t.Repo); err != nil {
			return nil, fmt.Errorf("reading %s: %w", t.Ref, err)
		}
	} else {
		host, repo = inuse.SplitRepository(inv.Repository)
	}
	if len(in.InUse) > 0 {
		for _, p := range ListInUse(ctx, in.InUse, accountFor(req.AWS, host)).Protect(host, repo, inv, &opts.Safety) {
			if req.Warn != nil {
				req.Warn(inUseWarning(p))
			}
		}
	}
	out := &PlanOutcome{Plan: plan.Build(req.Policy, inv, in.Now, opts), Inventory: inv}
	if t == nil {
		return out, nil
	}
	out.Saved = plan.Save(out.Plan, t.Host, t.Repo, req.Policy, inv, opts, in.Now)
	if req.ECRPreview {
		prev, ok := t.Reg.(registry.Previewer)
		if !ok {
			return nil, fmt.Errorf("%s: %w", t.Host, ErrNoPreview)
		}
		results, err := prev.PreviewLifecyclePolicy(ctx, t.Repo, string(req.PolicyText))
		if err != nil {
			return nil, fmt.Errorf("running ECR's lifecycle policy preview on %s: %w", t.Ref, err)
		}
		items := make([]plan.PreviewItem, len(results))
		for i, r := range results {
			items[i] = plan.PreviewItem{Digest: r.Digest, Action: policy.Verdict(r.Action), RulePriority: r.RulePriority}
		}
		c := plan.Compare(inv.Images, policy.Evaluate(req.Policy, inv.Images, in.Now).Decisions, items)
		out.Plan.ECRPreview = &c
	}
	return out, nil
}

// inUseWarning says that what runs is not known completely, as plan and audit warn (apply
// refuses then).
func inUseWarning(problem string) string {
	return "in use: " + problem + "; what runs there is not known completely, and apply will refuse"
}
