package lifecycle

import (
	"context"
	"fmt"
	"slices"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/sources"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// Running is what the in-use sources said: the uses of those that could be read, and
// what failed.
type Running struct {
	Uses     []inuse.Use
	Failures []string
}

// ListInUse reads every source; acct is the AWS account the ecs and lambda sources use. A
// source that cannot be opened or read completely is a failure, named; the others' uses
// are kept.
func ListInUse(ctx context.Context, specs []inuse.Spec, acct ecr.Account) Running {
	var r Running
	for _, sp := range specs {
		src, err := sources.Open(ctx, sp, sources.Options{AWS: acct})
		if err == nil {
			var uses []inuse.Use
			if uses, err = src.List(ctx); err == nil {
				r.Uses = append(r.Uses, uses...)
				continue
			}
		}
		r.Failures = append(r.Failures, fmt.Sprintf("%s: %v", sp, err))
	}
	return r
}

// Protect keeps the digests of inv (the repository repo on host; host "" matches any) that
// the uses run, in safety.InUse, and returns the problems that make the list incomplete for
// this repository: failed sources, and uses that may name it but could not be resolved.
func (r Running) Protect(host, repo string, inv *inventory.Inventory, safety *plan.Safety) []string {
	p := inuse.Protect(r.Uses, host, repo, inv.Expanded())
	safety.InUse = p.Digests
	return append(slices.Clone(r.Failures), p.Problems...)
}

// accountFor is acct, with the region of host by default when host is on Amazon ECR.
func accountFor(acct ecr.Account, host string) ecr.Account {
	if acct.Region == "" {
		if _, region, ok := ecr.ParseHost(host); ok {
			acct.Region = region
		}
	}
	return acct
}
