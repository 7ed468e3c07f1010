package cli

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// auditCmd is `shipshape audit`: its flags, and where it finds the repositories to audit.
type auditCmd struct {
	io                          IO
	images                      []string
	policyFile, nowFlag, output string
	registry                    registryFlags
	// safety are the flags plan and apply share: audit resolves them as they do, so that
	// the same inputs give the same figures.
	safety safetyFlags
}

func newAuditCmd(io IO) *cobra.Command {
	a := &auditCmd{io: io}
	cmd := &cobra.Command{
		Use:   "audit (REPOSITORY... | --images FILE...)",
		Short: "Count what a repository holds and costs, and diagnose what makes it grow",
		Long:  help("audit"),
		Example: `  shipshape audit localhost:5000/team/app localhost:5000/team/web
  shipshape audit --images examples/inventory.json
  shipshape audit --images examples/inventory.json --policy examples/policies/keep-streams.json --now 2026-06-01T12:00:00Z
  aws ecr describe-images --repository-name app --filter imageStatus=ANY > app.json
  shipshape audit --images app.json --images web.json -o json
  shipshape audit --images app.json -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && len(a.images) > 0 {
				return usageError("give REPOSITORY arguments or --images files, not both")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&a.images, "images", nil, "images `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input); repeat for several repositories")
	f.StringVar(&a.policyFile, "policy", "", "lifecycle policy `FILE` whose effect to report (ECR JSON; \"-\" for standard input)")
	f.StringVar(&a.nowFlag, "now", "", "evaluate the policy at this RFC 3339 `TIME` instead of the current time")
	addOutputFlag(cmd, &a.output, formatTable, formatJSON, formatMarkdown)
	a.registry.register(cmd)
	a.safety.register(cmd)
	return cmd
}

func (a *auditCmd) run(cmd *cobra.Command, args []string) error {
	ctx := cmd.Context()
	io := a.io
	if err := checkFormat(a.output, formatTable, formatJSON, formatMarkdown); err != nil {
		return err
	}
	if len(a.images) == 0 && len(args) == 0 {
		return usageError("audit needs a REPOSITORY or --images FILE")
	}
	stdin := 0
	for _, name := range append(slices.Clone(a.images), a.policyFile) {
		if name == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageError("only one of --images and --policy can read standard input")
	}
	if _, _, err := a.safety.resolve(cmd, io); err != nil {
		return err
	}
	req := lifecycle.AuditRequest{AWS: a.registry.account(), Warn: func(p string) { warnInUseProblem(io, p) }}
	req.Inputs = a.safety.resolved
	if a.nowFlag != "" {
		t, err := time.Parse(time.RFC3339, a.nowFlag)
		if err != nil {
			return usageError("--now %q is not an RFC 3339 time such as 2026-06-01T12:00:00Z", a.nowFlag)
		}
		req.Inputs.Now = t
	}
	if a.policyFile != "" {
		lp := loadPolicy(io, a.policyFile)
		if !lp.ok() {
			printProblems(io, lp)
			return silentExit(ExitError)
		}
		for _, w := range policy.Lint(lp.policy) {
			fmt.Fprintf(io.Err, "%s: warning: %s [%s]\n", a.policyFile, w.String(), w.Check)
		}
		req.Policy = lp.policy
	}
	var err error
	if req.Repositories, err = a.inventories(ctx, args); err != nil {
		return err
	}
	reports := lifecycle.Audit(ctx, req)

	w := bufio.NewWriterSize(io.Out, 1<<16)
	switch a.output {
	case formatJSON:
		err = audit.WriteJSON(w, reports)
	case formatMarkdown:
		err = audit.WriteMarkdown(w, reports)
	default:
		err = audit.WriteTable(w, reports, color(io))
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing the audit: %w", err)
	}
	if inActions(io) {
		for _, r := range reports {
			for _, d := range r.Diagnoses {
				if d.Severity == audit.Warning {
					annotate(io.Err, "warning", "", 0, 0, fmt.Sprintf("%s: %s. Fix: %s.", r.Repository, d.Message, d.Fix))
				}
			}
		}
	}
	return nil
}

// inventories reads the repositories to audit, in the order given: each REPOSITORY from
// its registry, or each --images file.
func (a *auditCmd) inventories(ctx context.Context, repos []string) ([]lifecycle.Audited, error) {
	out := make([]lifecycle.Audited, 0, len(a.images)+len(repos))
	for _, ref := range repos {
		o, err := a.registry.open(ctx, a.io, nil, ref)
		if err != nil {
			return nil, err
		}
		inv, err := o.Reg.Inventory(ctx, o.Repo)
		a.registry.report(a.io, o)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o.Ref, err)
		}
		out = append(out, lifecycle.Audited{Inventory: inv, Host: o.Host, Repo: o.Repo})
	}
	for _, name := range a.images {
		inv, err := readInventory(a.io, name)
		if err != nil {
			return nil, err
		}
		host, repo := inuse.SplitRepository(inv.Repository)
		out = append(out, lifecycle.Audited{Inventory: inv, Host: host, Repo: repo})
	}
	return out, nil
}
