package lifecycle

import (
	"context"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// Audited is one repository to audit: its inventory, and where it lives (Host "" when
// unknown, as for describe-images input).
type Audited struct {
	Inventory  *inventory.Inventory
	Host, Repo string
}

// AuditRequest audits repositories under the same inputs plan resolves, so that audit
// --policy and plan give the same figures.
type AuditRequest struct {
	Repositories []Audited
	Inputs       *Inputs
	// Policy, when set, is planned over each repository to report what it reclaims.
	Policy *policy.Policy
	// AWS is the account the ecs and lambda in-use sources use.
	AWS ecr.Account
	// Warn receives what makes the audit less certain than it looks (in-use sources that
	// could not be read completely).
	Warn func(string)
}

// Audit reports on each repository, in the order given.
func Audit(ctx context.Context, req AuditRequest) []audit.Report {
	in := req.Inputs
	opts := audit.Options{PricePerGBMonth: in.Options.PricePerGBMonth, Safety: in.Options.Safety, Policy: req.Policy, Now: in.Now}
	var running Running
	if len(in.InUse) > 0 {
		host := ""
		if len(req.Repositories) > 0 {
			host = req.Repositories[0].Host
		}
		running = ListInUse(ctx, in.InUse, accountFor(req.AWS, host))
	}
	reports := make([]audit.Report, len(req.Repositories))
	for i, r := range req.Repositories {
		o := opts
		if len(in.InUse) > 0 {
			for _, p := range running.Protect(r.Host, r.Repo, r.Inventory, &o.Safety) {
				if req.Warn != nil {
					req.Warn(p)
				}
			}
		}
		reports[i] = audit.Audit(r.Inventory, o)
	}
	return reports
}
