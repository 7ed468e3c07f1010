package cli

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

func newPlanCmd(io IO) *cobra.Command {
	var (
		policyFile, imagesFile, nowFlag, output string
		detailed                                bool
		price                                   float64
	)
	cmd := &cobra.Command{
		Use:   "plan --policy FILE --images FILE",
		Short: "Show what a lifecycle policy would do to a repository, and what it reclaims",
		Long: `Evaluate a lifecycle policy over a repository's images with Amazon ECR's own semantics,
and show, for every image, whether it is kept, expired or moved to archive, by which rule
and why; then what that reclaims in deduplicated bytes and monthly cost.

The images come from a file (or "-" for standard input) in either format:
  - the JSON "aws ecr describe-images --repository-name NAME --filter imageStatus=ANY"
    prints (one page, pages concatenated, or an array of pages), or
  - a shipshape snapshot, which also carries index children, referrers and layer sizes,
    and so gives exact results for multi-platform images and attestations.

Rules are evaluated as ECR evaluates them: all at once, applied in priority order, with an
image identified by a higher-priority rule never acted on by a lower one, and no image
acted on while an index references it. On top of one ECR run, the plan follows the image
graph: untagged children of an expired index go with it, and referrers with their subject.

Output formats: table (for people), json (stable, for scripts), markdown (for pull-request
comments and $GITHUB_STEP_SUMMARY).

Exit status: 0 on success, 1 on error, 2 on a usage error; with --detailed-exitcode,
3 when the plan expires or transitions at least one image.`,
		Example: `  shipshape plan --policy examples/policies/keep-streams.json --images examples/inventory.json
  aws ecr describe-images --repository-name app --filter imageStatus=ANY > images.json
  shipshape plan --policy policy.json --images images.json --now 2026-06-01T12:00:00Z -o json
  shipshape plan --policy policy.json --images images.json -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, formatTable, formatJSON, formatMarkdown); err != nil {
				return err
			}
			if policyFile == "" || imagesFile == "" {
				return usageError("plan needs --policy FILE and --images FILE")
			}
			if policyFile == "-" && imagesFile == "-" {
				return usageError("--policy and --images cannot both read standard input")
			}
			if price < 0 {
				return usageError("--price-per-gb-month must not be negative, got %v", price)
			}
			now := time.Now().UTC()
			if nowFlag != "" {
				t, err := time.Parse(time.RFC3339, nowFlag)
				if err != nil {
					return usageError("--now %q is not an RFC 3339 time such as 2026-06-01T12:00:00Z", nowFlag)
				}
				now = t
			}
			lp := loadPolicy(io, policyFile)
			if !lp.ok() {
				printProblems(io, lp)
				return silentExit(ExitError)
			}
			// A plan is where a policy's traps show; say so, without failing.
			for _, w := range policy.Lint(lp.policy) {
				fmt.Fprintf(io.Err, "%s: warning: %s [%s]\n", policyFile, w.String(), w.Check)
			}
			inv, err := readInventory(io, imagesFile)
			if err != nil {
				return err
			}
			pl := plan.Build(lp.policy, inv, now, plan.Options{PricePerGBMonth: price})

			w := bufio.NewWriterSize(io.Out, 1<<16)
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
	f := cmd.Flags()
	f.StringVar(&policyFile, "policy", "", "lifecycle policy `FILE` (ECR JSON; \"-\" for standard input)")
	f.StringVar(&imagesFile, "images", "", "images `FILE`: describe-images JSON or a shipshape snapshot (\"-\" for standard input)")
	f.StringVar(&nowFlag, "now", "", "evaluate at this RFC 3339 `TIME` instead of the current time")
	f.BoolVar(&detailed, "detailed-exitcode", false, "exit 3 when the plan expires or transitions any image")
	f.Float64Var(&price, "price-per-gb-month", plan.DefaultPricePerGBMonth, "storage price in `USD` per GB-month, for the savings figure")
	addOutputFlag(cmd, &output, formatTable, formatJSON, formatMarkdown)
	return cmd
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
