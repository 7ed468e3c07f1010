package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/settings"
)

func newEnsureCmd(io IO) *cobra.Command {
	var (
		configFile      string
		repos           []string
		failSoft        bool
		region, profile string
		output          string
	)
	cmd := &cobra.Command{
		Use:   "ensure [--config FILE] [--repo NAME...] [--fail-soft]",
		Short: "Keep Amazon ECR repository settings as shipshape.yaml declares them",
		Long:  help("ensure"),
		Example: `  shipshape ensure --config shipshape.yaml
  shipshape ensure --config shipshape.yaml --repo team/app --fail-soft
  shipshape ensure -o markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, formatTable, formatJSON, formatMarkdown); err != nil {
				return err
			}
			e := &ensureRun{io: io, failSoft: failSoft, output: output}
			cfg, err := loadEnsureConfig(configFile, repos)
			if err != nil {
				return e.configError(err)
			}
			var rep settings.Report
			for _, name := range cfg.RegistryNames() {
				d := desired(cfg, name, repos)
				if len(d.Rules) == 0 || (len(repos) > 0 && !slices.ContainsFunc(repos, d.Matches)) {
					continue
				}
				reg := cfg.Registries[name]
				acct := ecr.Account{Region: reg.Region, Profile: reg.Profile, RoleARN: reg.RoleARN, ExternalID: reg.ExternalID, Endpoint: reg.Endpoint}
				if region != "" {
					acct.Region = region
				}
				if profile != "" {
					acct.Profile = profile
				}
				r, err := settings.EnsureIn(cmd.Context(), acct, d)
				if err != nil {
					rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %v", name, err))
					continue
				}
				rep.Append(r)
			}
			return e.finish(rep)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "shipshape configuration `FILE` (default: ./shipshape.yaml)")
	f.StringArrayVar(&repos, "repo", nil, "only the repository `NAME` (exact; repeatable); it must match an entry of repositories")
	f.BoolVar(&failSoft, "fail-soft", false, "exit 0 whatever happens; report failures as ::warning:: lines (for publish pipelines)")
	f.StringVar(&region, "region", "", "the AWS `REGION` of every registry, instead of shipshape.yaml's")
	f.StringVar(&profile, "profile", "", "the AWS shared-config `PROFILE` for every registry, instead of shipshape.yaml's")
	addOutputFlag(cmd, &output, formatTable, formatJSON, formatMarkdown)
	return cmd
}

// loadEnsureConfig reads shipshape.yaml and checks that it declares what --repo names.
func loadEnsureConfig(file string, repos []string) (*config.Config, error) {
	if file == "" {
		file = config.DefaultFile
		if _, err := os.Stat(file); err != nil {
			return nil, errors.New("no shipshape.yaml here: give --config FILE")
		}
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	if len(cfg.Repositories) == 0 {
		return nil, fmt.Errorf("%s declares no repositories: ensure has nothing to do", file)
	}
	var unknown []string
	for _, r := range repos {
		found := false
		for _, name := range cfg.RegistryNames() {
			found = found || desired(cfg, name, nil).Matches(r)
		}
		if !found {
			unknown = append(unknown, r)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--repo %s: no entry of repositories in %s matches", strings.Join(unknown, ", "), file)
	}
	return cfg, nil
}

// desired gathers what shipshape.yaml declares for one registry.
func desired(cfg *config.Config, registry string, only []string) settings.Desired {
	d := settings.Desired{Registry: registry, RegistryID: cfg.Registries[registry].Account, Only: only}
	for _, r := range cfg.Repositories {
		if r.Registry != registry {
			continue
		}
		rule := settings.Rule{Patterns: r.Names, Create: r.Create, ScanOnPush: r.ScanOnPush}
		if l := r.Lifecycle; l != nil {
			rule.Lifecycle = &settings.Lifecycle{Source: r.LifecyclePolicy, Text: string(l.Text), Policy: l.Policy}
		}
		if r.TagMutability != "" {
			rule.Mutability = &settings.Mutability{Mode: r.TagMutability, Exclusions: r.TagMutabilityExclusions}
		}
		if e := r.Encryption; e != nil {
			rule.Encryption = &settings.Encryption{Type: e.Type, KMSKey: e.KMSKey}
		}
		// With --repo, the registry's scanning is kept only when its entry names one of them.
		if s := r.RegistryScanning; s != nil && (len(only) == 0 || slices.ContainsFunc(only, (settings.Desired{Rules: []settings.Rule{rule}}).Matches)) {
			d.RegistryScanning = &settings.RegistryScanning{ScanType: s.ScanType}
			for _, sr := range s.Rules {
				d.RegistryScanning.Rules = append(d.RegistryScanning.Rules, settings.ScanningRule{Frequency: sr.ScanFrequency, Filters: sr.Filters})
			}
		}
		d.Rules = append(d.Rules, rule)
	}
	return d
}

// ensureRun prints a report and decides the exit code.
type ensureRun struct {
	io       IO
	failSoft bool
	output   string
}

// configError ends a run whose configuration could not be read: an error, or with
// --fail-soft warnings and an empty report.
func (e *ensureRun) configError(err error) error {
	var lines []string
	var list config.ErrorList
	if errors.As(err, &list) {
		for _, l := range list {
			lines = append(lines, l.Error())
		}
	} else {
		lines = []string{err.Error()}
	}
	if !e.failSoft {
		for _, l := range lines {
			fmt.Fprintf(e.io.Err, "shipshape: %s\n", l)
		}
		return silentExit(ExitError)
	}
	return e.finish(settings.Report{Errors: lines})
}

func (e *ensureRun) finish(rep settings.Report) error {
	var err error
	switch e.output {
	case formatJSON:
		err = settings.WriteJSON(e.io.Out, rep)
	case formatMarkdown:
		err = settings.WriteMarkdown(e.io.Out, rep)
	default:
		err = settings.WriteTable(e.io.Out, rep, color(e.io))
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}

	// Workflow commands go to standard output, where GitHub Actions reads them, except
	// under -o json, whose output must stay one JSON document.
	annotations := e.io.Out
	if e.output == formatJSON {
		annotations = e.io.Err
	}
	problem := func(level, msg string) {
		if e.failSoft {
			level = "warning"
		}
		if e.failSoft || inActions(e.io) {
			annotate(annotations, level, "", 0, 0, "shipshape ensure: "+msg)
		}
		fmt.Fprintf(e.io.Err, "%s: %s\n", level, msg)
	}
	for _, msg := range rep.Errors {
		problem("error", msg)
	}
	for _, o := range rep.Outcomes {
		switch o.Status {
		case settings.Failed:
			problem("error", outcomeText(o))
		case settings.Drifted:
			problem("warning", outcomeText(o))
		}
	}
	if !rep.Failed() {
		return nil
	}
	failures := fmt.Sprintf("%d failures", rep.Count(settings.Failed)+len(rep.Errors))
	if failures == "1 failures" {
		failures = "1 failure"
	}
	if e.failSoft {
		fmt.Fprintf(e.io.Err, "shipshape: %s, ignored (--fail-soft); the next run retries\n", failures)
		return nil
	}
	fmt.Fprintf(e.io.Err, "shipshape: %s; the next run retries\n", failures)
	return silentExit(ExitError)
}

// outcomeText says what happened to one setting, on one line.
func outcomeText(o settings.Outcome) string {
	where := "registry " + o.Registry
	if o.Repository != "" {
		where = o.Repository + " (registry " + o.Registry + ")"
	}
	msg := fmt.Sprintf("%s: %s %s", where, o.Setting, o.Status)
	for _, s := range []string{o.Detail, o.Reason} {
		if s != "" {
			msg += ": " + s
		}
	}
	return msg
}
