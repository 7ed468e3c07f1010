package lifecycle

import (
	"context"
	"fmt"
	"io"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/inuse"
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
	// Refs are more repositories to read through Open (then handed to Opened, when set),
	// and Files more inventories to read from files ("-": Stdin); in this order, after
	// Repositories.
	Refs   []string
	Open   func(ctx context.Context, ref string) (*Target, error)
	Opened func(*Target)
	Files  []string
	Stdin  io.Reader
	Inputs *Inputs
	// Policy, when set, is planned over each repository to report what it reclaims.
	Policy *policy.Policy
	// AWS is the account the ecs and lambda in-use sources use.
	AWS ecr.Account
	// Warn receives what makes the audit less certain than it looks (in-use sources that
	// could not be read completely).
	Warn func(string)
}

// Audit reads the repositories and reports on each, in the order given.
func Audit(ctx context.Context, req AuditRequest) ([]audit.Report, error) {
	var err error
	if req.Repositories, err = ReadAudited(ctx, req); err != nil {
		return nil, err
	}
	return auditRead(ctx, req), nil
}

// ReadAudited reads the repositories of req (Repositories, then Refs, then Files), as
// Audit does before it reports.
func ReadAudited(ctx context.Context, req AuditRequest) ([]Audited, error) {
	for _, ref := range req.Refs {
		t, err := req.Open(ctx, ref)
		if err != nil {
			return nil, err
		}
		inv, err := t.Reg.Inventory(ctx, t.Repo)
		if req.Opened != nil {
			req.Opened(t)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", t.Ref, err)
		}
		req.Repositories = append(req.Repositories, Audited{Inventory: inv, Host: t.Host, Repo: t.Repo})
	}
	for _, name := range req.Files {
		inv, err := ReadInventory(req.Stdin, name)
		if err != nil {
			return nil, err
		}
		host, repo := inuse.SplitRepository(inv.Repository)
		req.Repositories = append(req.Repositories, Audited{Inventory: inv, Host: host, Repo: repo})
	}
	return req.Repositories, nil
}

// auditRead reports on the repositories req holds.
func auditRead(ctx context.Context, req AuditRequest) []audit.Report {
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
					req.Warn(inUseWarning(p))
				}
			}
		}
		reports[i] = audit.Audit(r.Inventory.Expanded(), o)
	}
	return reports
}
