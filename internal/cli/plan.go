package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// planInputs are the flags plan and apply share: the policy, the clock and the safety layer.
type planInputs struct {
	policyFile string
	policyText []byte // as read, for --native
	nowFlag    string
	safety     safetyFlags
	registry   registryFlags
}

func (in *planInputs) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&in.policyFile, "policy", "", "lifecycle policy `FILE` (ECR JSON; \"-\" for standard input)")
	f.StringVar(&in.nowFlag, "now", "", "evaluate at this RFC 3339 `TIME` instead of the current time")
	in.safety.register(cmd)
	in.registry.register(cmd)
}

func (in *planInputs) now() (time.Time, error) {
	if in.nowFlag == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, in.nowFlag)
	if err != nil {
		return time.Time{}, usageError("--now %q is not an RFC 3339 time such as 2026-06-01T12:00:00Z", in.nowFlag)
	}
	return t, nil
}

// inputs are the resolved inputs (after load or safety.resolve), with the clock.
func (in *planInputs) inputs() (*lifecycle.Inputs, error) {
	now, err := in.now()
	if err != nil {
		return nil, err
	}
	r := *in.safety.resolved
	r.Now = now
	return &r, nil
}

// load reads the policy (printing its problems and lint warnings) and the plan options.
func (in *planInputs) load(cmd *cobra.Command, io IO) (*policy.Policy, plan.Options, *config.Config, error) {
	if in.policyFile == "" {
		return nil, plan.Options{}, nil, usageError("%s needs --policy FILE", cmd.CommandPath())
	}
	opts, cfg, err := in.safety.resolve(cmd, io)
	if err != nil {
		return nil, plan.Options{}, nil, err
	}
	lp := loadPolicy(io, in.policyFile)
	if !lp.ok() {
		printProblems(io, lp)
		return nil, plan.Options{}, nil, silentExit(ExitError)
	}
	// A plan is where a policy's traps show; say so, without failing.
	for _, w := range policy.Lint(lp.policy) {
		fmt.Fprintf(io.Err, "%s: warning: %s [%s]\n", in.policyFile, w.String(), w.Check)
	}
	in.policyText = lp.text
	return lp.policy, opts, cfg, nil
}

func newPlanCmd(io IO) *cobra.Command {
	var (
		in         planInputs
		imagesFile string
		output     string
		outFile    string
		detailed   bool
		ecrPreview bool
	)
	cmd := &cobra.Command{
		Use:   "plan --policy FILE (REPOSITORY | --images FILE)",
		Short: "Show what a lifecycle policy would do to a repository, and what it reclaims",
		Long:  help("plan"),
		Example: `  shipshape plan --policy examples/policies/keep-streams.json --images examples/inventory.json
  shipshape plan --policy policy.json localhost:5000/team/app --protect-tag 'prod*' --grace 48h
  shipshape plan --policy policy.json localhost:5000/team/app --out plan.json && shipshape apply plan.json
  aws ecr describe-images --repository-name app --filter imageStatus=ANY > images.json
  shipshape plan --policy policy.json --images images.json --now 2026-06-01T12:00:00Z -o json
  shipshape plan --policy policy.json --images images.json -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case output == "ut" && !cmd.Flags().Changed("out"):
				return usageError("-out is read as -o ut (the output format); to save the plan, use --out FILE")
			case len(args) > 1:
				return usageError("plan takes one REPOSITORY, got %d", len(args))
			case len(args) == 1 && imagesFile != "":
				return usageError("give either a REPOSITORY or --images FILE, not both")
			case len(args) == 0 && imagesFile == "":
				return usageError("plan needs a REPOSITORY or --images FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON, formatMarkdown); err != nil {
				return err
			}
			if outFile != "" && imagesFile != "" {
				return usageError("--out needs a REPOSITORY: a saved plan is bound to the registry and repository it was made against, and apply re-checks it there")
			}
			if in.policyFile == "-" && imagesFile == "-" {
				return usageError("--policy and --images cannot both read standard input")
			}
			pol, _, cfg, err := in.load(cmd, io)
			if err != nil {
				return err
			}
			if ecrPreview && imagesFile != "" {
				return usageError("--ecr-preview needs an Amazon ECR REPOSITORY, not --images")
			}
			req := lifecycle.PlanRequest{Policy: pol, PolicyText: in.policyText, ECRPreview: ecrPreview, AWS: in.registry.account(),
				Warn: func(p string) { warnInUseProblem(io, p) }}
			if req.Inputs, err = in.inputs(); err != nil {
				return err
			}
			if imagesFile != "" {
				if req.Inventory, err = readInventory(io, imagesFile); err != nil {
					return err
				}
			} else {
				if req.Target, err = in.registry.open(cmd.Context(), io, cfg, args[0]); err != nil {
					return err
				}
				defer in.registry.report(io, req.Target)
				warnPendingJournal(io, req.Target)
			}
			out, err := lifecycle.Plan(cmd.Context(), req)
			if errors.Is(err, lifecycle.ErrNoPreview) {
				return usageError("--ecr-preview needs an Amazon ECR repository; %s is not one", req.Target.Host)
			}
			if err != nil {
				return err
			}
			pl := out.Plan
			if err := writePlan(io, pl, output); err != nil {
				return err
			}
			if outFile != "" {
				var buf bytes.Buffer
				if err := out.Saved.Write(&buf); err != nil {
					return fmt.Errorf("writing the plan: %w", err)
				}
				if err := writeFileAtomic(outFile, buf.Bytes()); err != nil {
					return err
				}
				fmt.Fprintf(io.Err, "saved the plan for %s to %s; apply it with: shipshape apply %s\n", req.Target.Ref, outFile, outFile)
			}
			if pl.Blocked != "" {
				return fmt.Errorf("%s: %s", pl.Repository, pl.Blocked)
			}
			if inActions(io) {
				for _, warn := range pl.Warnings {
					annotate(io.Err, "warning", "", 0, 0, warn)
				}
			}
			if detailed && pl.Summary.Expire+pl.Summary.Transition > 0 {
				return silentExit(ExitChanges)
			}
			return nil
		},
	}
	in.register(cmd)
	cmd.Flags().StringVar(&imagesFile, "images", "", "read the images from `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input)")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 3 when the plan expires or transitions any image")
	cmd.Flags().StringVar(&outFile, "out", "", "also save the plan to `FILE`, for \"shipshape apply FILE\" (needs a REPOSITORY)")
	cmd.Flags().BoolVar(&ecrPreview, "ecr-preview", false, "Amazon ECR: also run ECR's own lifecycle policy preview and show where it differs from shipshape's evaluation")
	addOutputFlag(cmd, &output, formatTable, formatJSON, formatMarkdown)
	return cmd
}

func writePlan(io IO, pl *plan.Plan, output string) error {
	w := bufio.NewWriterSize(io.Out, 1<<16)
	var err error
	switch output {
	case formatJSON:
		err = plan.WriteJSON(w, pl)
	case formatMarkdown:
		err = plan.WriteMarkdown(w, pl)
	default:
		err = plan.WriteTable(w, pl, color(io))
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	return nil
}

// inventory reads a repository from its registry.
func (f *registryFlags) inventory(ctx context.Context, io IO, cfg *config.Config, ref string) (*inventory.Inventory, error) {
	o, err := f.open(ctx, io, cfg, ref)
	if err != nil {
		return nil, err
	}
	defer f.report(io, o)
	inv, err := o.Reg.Inventory(ctx, o.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", o.Ref, err)
	}
	return inv, nil
}

// readInventory reads images from a file, or standard input for "-". A file is handed to the
// reader as it is, so that it can size one buffer from the file's length.
func readInventory(io IO, name string) (*inventory.Inventory, error) {
	if name == "-" {
		inv, err := inventory.Read(io.In)
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
	inv, err := inventory.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return inv, nil
}

// warnPendingJournal says when an interrupted apply on the repository is pending.
func warnPendingJournal(io IO, o *opened) {
	if w := lifecycle.PendingWarning(io.Getenv, o); w != "" {
		fmt.Fprintf(io.Err, "warning: %s\n", w)
	}
}

// warnInUseProblem says that what runs is not known completely, as plan and audit do
// (apply refuses then).
func warnInUseProblem(io IO, problem string) {
	fmt.Fprintf(io.Err, "warning: in use: %s; what runs there is not known completely, and apply will refuse\n", problem)
	if inActions(io) {
		annotate(io.Err, "warning", "", 0, 0, "in use: "+problem)
	}
}
