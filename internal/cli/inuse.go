package cli

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/sources"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/oci"
)

// inUseHelp is the --in-use flag's help, shared by the commands that take it.
const inUseHelp = "keep what runs: kubernetes[:CONTEXT], ecs[:CLUSTER,…], lambda or manifests:DIR (repeatable; see shipshape inuse --help)"

// found is what the in-use sources said: the uses of those that could be read, and what
// failed.
type found struct {
	uses     []inuse.Use
	failures []string
}

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

// listInUse reads every source. A source that cannot be opened or read completely is a
// failure, named; the others' uses are kept.
func listInUse(ctx context.Context, io IO, specs []inuse.Spec, rf *registryFlags, region string) found {
	var f found
	acct := ecr.Account{Region: cmp.Or(rf.region, region), Profile: rf.profile, RoleARN: rf.roleARN, ExternalID: rf.externalID}
	for _, sp := range specs {
		src, err := sources.Open(ctx, sp, sources.Options{AWS: acct})
		if err == nil {
			var uses []inuse.Use
			if uses, err = src.List(ctx); err == nil {
				f.uses = append(f.uses, uses...)
				continue
			}
		}
		f.failures = append(f.failures, fmt.Sprintf("%s: %v", sp, err))
	}
	return f
}

// protectInUse keeps the digests of inv (the repository repo on host; host "" matches any)
// that the uses run. strict (apply) refuses when a source failed or a use that may name the
// repository could not be resolved; otherwise (plan, audit) they are warnings.
func protectInUse(io IO, f found, host, repo string, inv *inventory.Inventory, safety *plan.Safety, strict bool) error {
	p := inuse.Protect(f.uses, host, repo, inv)
	safety.InUse = p.Digests
	problems := append(slices.Clone(f.failures), p.Problems...)
	if len(problems) == 0 {
		return nil
	}
	ref := cmp.Or(host+"/"+repo, repo)
	if strict {
		what := "1 in-use source or reference"
		if len(problems) > 1 {
			what = fmt.Sprintf("%d in-use sources or references", len(problems))
		}
		msg := fmt.Sprintf("refusing to apply to %s: what runs there is not completely known (%s could not be read or resolved: %s), so an image that runs could be deleted",
			ref, what, strings.Join(problems, "; "))
		if inActions(io) {
			annotate(io.Err, "error", "", 0, 0, msg)
		}
		return errors.New(msg)
	}
	for _, pr := range problems {
		fmt.Fprintf(io.Err, "warning: in use: %s; what runs there is not known completely, and apply will refuse\n", pr)
		if inActions(io) {
			annotate(io.Err, "warning", "", 0, 0, "in use: "+pr)
		}
	}
	return nil
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

// keepInUse lists what runs, from the in-use sources resolve found, and protects the digests of inv (host/repo) that do; strict as for protectInUse.
func (in *planInputs) keepInUse(ctx context.Context, io IO, host, repo string, inv *inventory.Inventory, opts *plan.Options, strict bool) error {
	if len(in.safety.specs) == 0 {
		return nil
	}
	f := listInUse(ctx, io, in.safety.specs, &in.registry, regionOf(host))
	return protectInUse(io, f, host, repo, inv, &opts.Safety, strict)
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
			var host, repo, region string
			if repository != "" {
				if host, repo, err = oci.ParseReference(repository); err != nil {
					return usageError("--repository: %v", err)
				}
				region = regionOf(host)
			}
			f := listInUse(cmd.Context(), io, specs, &rf, region)
			rows := inUseRows(f.uses)
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
			if len(f.failures) > 0 {
				for _, fl := range f.failures {
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

func writeInUse(io IO, rows []inUseRow, f found, output string) error {
	if output == formatJSON {
		if rows == nil {
			rows = []inUseRow{}
		}
		failures := f.failures
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
