package cli

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/lifecycle"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// inUseHelp is the --in-use flag's help, shared by the commands that take it.
const inUseHelp = "keep what runs: kubernetes[:CONTEXT], ecs[:CLUSTER,…], lambda or manifests:DIR (repeatable; see shipshape inuse --help)"

// specs are the in-use sources of the flags and of shipshape.yaml; a manifests directory of
// shipshape.yaml is relative to the file.
func inUseSpecs(flags []string, cfg *config.Config) ([]inuse.Spec, error) {
	var specs []inuse.Spec
	for _, s := range flags {
		sp, err := inuse.ParseSpec(s)
		if err != nil {
			return nil, usageError("--in-use: %v", err)
		}
		specs = append(specs, sp)
	}
	if cfg != nil {
		for _, s := range cfg.Safety.InUse {
			sp, err := inuse.ParseSpec(s)
			if err != nil {
				return nil, err // Load validated it already
			}
			if sp.Kind == inuse.KindManifests {
				sp.Arg = cfg.Path(sp.Arg)
			}
			specs = append(specs, sp)
		}
	}
	return specs, nil
}

// listInUse reads the sources, with the AWS account of the registry flags (region, by
// default, of the repository's ECR host).
func listInUse(ctx context.Context, specs []inuse.Spec, rf *registryFlags, host string) lifecycle.Running {
	acct := rf.account()
	acct.Region = cmp.Or(acct.Region, regionOf(host))
	return lifecycle.ListInUse(ctx, specs, acct)
}

// warnInUse keeps what runs in inv (host/repo) and warns, as plan and audit do, when what
// runs there is not completely known (apply refuses then).
func warnInUse(io IO, r lifecycle.Running, host, repo string, inv *inventory.Inventory, safety *plan.Safety) {
	for _, pr := range r.Protect(host, repo, inv, safety) {
		fmt.Fprintf(io.Err, "warning: in use: %s; what runs there is not known completely, and apply will refuse\n", pr)
		if inActions(io) {
			annotate(io.Err, "warning", "", 0, 0, "in use: "+pr)
		}
	}
}

// existingDefaultConfig returns ./shipshape.yaml when it exists, else "".
func existingDefaultConfig() string {
	if _, err := os.Stat(config.DefaultFile); err == nil {
		return config.DefaultFile
	}
	return ""
}

// regionOf is the AWS region of an ECR host, or "".
func regionOf(host string) string {
	_, region, _ := ecr.ParseHost(host)
	return region
}

// keepInUse lists what runs and keeps it in inv (host/repo), warning when it is not
// completely known (plan).
func (in *planInputs) keepInUse(ctx context.Context, io IO, host, repo string, inv *inventory.Inventory, opts *plan.Options) {
	if len(in.safety.specs) > 0 {
		warnInUse(io, listInUse(ctx, in.safety.specs, &in.registry, host), host, repo, inv, &opts.Safety)
	}
}

// splitRepository splits an inventory's repository name into host and path; the host is ""
// when the name has none (describe-images input), which in-use matching takes as any host.
func splitRepository(name string) (string, string) {
	first, rest, ok := strings.Cut(name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	return "", name
}

func newInUseCmd(io IO) *cobra.Command {
	var (
		rf         registryFlags
		repository string
		configFile string
		output     string
	)
	cmd := &cobra.Command{
		Use:   "inuse [SOURCE...] [--repository REPOSITORY]",
		Short: "List the images that run, and where: Kubernetes, ECS, Lambda, GitOps manifests",
		Long:  help("inuse"),
		Example: `  shipshape inuse kubernetes:prod-eu ecs lambda
  shipshape inuse manifests:deploy --repository ghcr.io/acme/api
  shipshape plan --policy policy.json ghcr.io/acme/api --in-use kubernetes --in-use manifests:deploy`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			var cfg *config.Config
			path := configFile
			if path == "" {
				path = existingDefaultConfig()
			}
			if path != "" {
				var err error
				if cfg, err = config.Load(path); err != nil {
					return err
				}
			}
			specs, err := inUseSpecs(args, nil)
			if err != nil {
				return err
			}
			if len(args) == 0 && cfg != nil {
				if specs, err = inUseSpecs(nil, cfg); err != nil {
					return err
				}
			}
			if len(specs) == 0 {
				return usageError("inuse needs a SOURCE (kubernetes, ecs, lambda, manifests:DIR) or safety.inUse in shipshape.yaml")
			}
			var host, repo string
			if repository != "" {
				if host, repo, err = registry.ParseReference(repository); err != nil {
					return usageError("--repository: %v", err)
				}
			}
			f := listInUse(cmd.Context(), specs, &rf, host)
			rows := inUseRows(f.Uses)
			if repository != "" {
				o, err := rf.open(cmd.Context(), io, cfg, repository)
				if err != nil {
					return err
				}
				tags, err := o.Reg.Tags(cmd.Context(), o.Repo)
				if err != nil {
					return fmt.Errorf("reading the tags of %s: %w", o.Ref, err)
				}
				rows = resolveRows(rows, host, repo, tags)
			}
			if err := writeInUse(io, rows, f, output); err != nil {
				return err
			}
			if len(f.Failures) > 0 {
				for _, fl := range f.Failures {
					fmt.Fprintf(io.Err, "shipshape: in-use source %s\n", fl)
				}
				return silentExit(ExitError)
			}
			return nil
		},
	}
	rf.register(cmd)
	cmd.Flags().StringVar(&repository, "repository", "", "list only the images of `REPOSITORY`, with tags resolved to the digests they point at now")
	cmd.Flags().StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml when present)")
	addOutputFlag(cmd, &output, formatTable, formatJSON)
	return cmd
}

// inUseRow is one line of shipshape inuse.
type inUseRow struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest,omitempty"`
	Tag        string `json:"tag,omitempty"`
	Image      string `json:"image"`
	Where      string `json:"where"`
	Unresolved string `json:"unresolved,omitempty"`
}

func inUseRows(uses []inuse.Use) []inUseRow {
	rows := make([]inUseRow, 0, len(uses))
	for _, u := range uses {
		row := inUseRow{Image: u.Image, Where: u.Where, Digest: u.Digest, Unresolved: u.Unresolved}
		if r, err := inuse.ParseRef(u.Image); err == nil && u.Unresolved == "" {
			row.Repository, row.Tag = r.Name(), r.Tag
			row.Digest = cmp.Or(u.Digest, r.Digest)
		} else if row.Unresolved == "" {
			row.Unresolved = err.Error()
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b inUseRow) int {
		return cmp.Or(strings.Compare(a.Repository, b.Repository), strings.Compare(a.Digest, b.Digest),
			strings.Compare(a.Where, b.Where), strings.Compare(a.Image, b.Image))
	})
	return slices.CompactFunc(rows, func(a, b inUseRow) bool { return a == b })
}

// resolveRows keeps the rows of host/repo, with each tag's digest filled in from tags.
func resolveRows(rows []inUseRow, host, repo string, tags map[string]string) []inUseRow {
	var out []inUseRow
	for _, r := range rows {
		h, p := splitRepository(r.Repository)
		if r.Unresolved == "" && (!inuse.SameHost(h, host) || p != repo) {
			continue
		}
		if r.Digest == "" && r.Tag != "" {
			r.Digest = tags[r.Tag]
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b inUseRow) int {
		return cmp.Or(strings.Compare(a.Digest, b.Digest), strings.Compare(a.Where, b.Where))
	})
	return out
}

func writeInUse(io IO, rows []inUseRow, f lifecycle.Running, output string) error {
	if output == formatJSON {
		if rows == nil {
			rows = []inUseRow{}
		}
		failures := f.Failures
		if failures == nil {
			failures = []string{}
		}
		return writeJSON(io, struct {
			Uses     []inUseRow `json:"uses"`
			Failures []string   `json:"failures"`
		}{rows, failures})
	}
	w := bufio.NewWriter(io.Out)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tDIGEST\tIMAGE\tWHERE")
	var unresolved []inUseRow
	for _, r := range rows {
		if r.Unresolved != "" {
			unresolved = append(unresolved, r)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Repository, cmp.Or(inventory.ShortDigest(r.Digest), "-"), r.Image, r.Where)
	}
	tw.Flush()
	for _, r := range unresolved {
		fmt.Fprintf(w, "unresolved: %s: %q: %s\n", r.Where, r.Image, r.Unresolved)
	}
	fmt.Fprintf(w, "%s in use", plural(len(rows)-len(unresolved), "image reference"))
	if len(unresolved) > 0 {
		fmt.Fprintf(w, ", %d unresolved", len(unresolved))
	}
	fmt.Fprintln(w, ".")
	return w.Flush()
}
