package lifecycle

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/fleet"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// FleetReportRequest builds a fleet report of repositories already read (ReadFleet, or
// ReadAudited through FleetRepos).
type FleetReportRequest struct {
	Repos  []FleetRepo
	Inputs *Inputs
	// Policy, when set, is evaluated over every repository instead of its own.
	Policy *policy.Policy
	// AWS is the account the ecs and lambda in-use sources use.
	AWS ecr.Account
	// Warn receives what makes the report less certain than it looks: in-use sources that
	// could not be read completely, policies that could not be read.
	Warn func(string)
}

// FleetReport reports on the repositories under the inputs' price, safety settings and
// in-use sources, as plan and audit do for one: it also returns the repositories as the
// report saw them (for fleet.HTML and simulate).
func FleetReport(ctx context.Context, req FleetReportRequest) (*fleet.Report, []fleet.Repo) {
	in := req.Inputs
	warn := req.Warn
	if warn == nil {
		warn = func(string) {}
	}
	var running Running
	if len(in.InUse) > 0 {
		host := ""
		if len(req.Repos) > 0 {
			host = req.Repos[0].Host
		}
		running = ListInUse(ctx, in.InUse, accountFor(req.AWS, host))
	}
	repos := make([]fleet.Repo, 0, len(req.Repos))
	for _, r := range req.Repos {
		fr := fleet.Repo{Registry: r.Registry, Ref: r.Ref, Inventory: r.Inventory, PolicyState: fleet.PolicyUnknown}
		if r.Err != nil {
			fr.Inventory, fr.Err = nil, r.Err.Error()
			repos = append(repos, fr)
			continue
		}
		switch {
		case r.HasPolicy:
			p, err := policy.Load([]byte(r.PolicyText))
			if err != nil {
				fr.PolicyErr = "its lifecycle policy is not valid: " + firstLine(err)
			} else {
				fr.Policy, fr.PolicyState = p, fleet.PolicyOwn
			}
		case r.PolicyKnown:
			fr.PolicyState = fleet.PolicyNone
		case r.PolicyErr != nil:
			fr.PolicyErr = "its lifecycle policy could not be read: " + r.PolicyErr.Error()
		}
		safety := in.Options.Safety
		if len(in.InUse) > 0 {
			for _, p := range running.Protect(r.Host, r.Repo, r.Inventory, &safety) {
				warn(inUseWarning(p))
			}
		}
		fr.Safety = &safety
		repos = append(repos, fr)
	}
	rep := fleet.Build(repos, fleet.Options{Policy: req.Policy, Now: in.Now, PricePerGBMonth: in.Options.PricePerGBMonth, Safety: in.Options.Safety})
	return rep, repos
}

// FleetRepos turns repositories read by ReadAudited into fleet entries, each its own
// registry's.
func FleetRepos(audited []Audited) []FleetRepo {
	out := make([]FleetRepo, 0, len(audited))
	for _, a := range audited {
		ref := a.Inventory.Repository
		if a.Host != "" {
			ref = a.Host + "/" + a.Repo
		}
		out = append(out, FleetRepo{Registry: a.Host, Host: a.Host, Repo: a.Repo, Ref: ref, Inventory: a.Inventory})
	}
	return out
}

// firstLine is the first line of err's message, and how many more problems it has.
func firstLine(err error) string {
	msg := err.Error()
	for i, c := range msg {
		if c == '\n' {
			more := 0
			for _, c := range msg[i:] {
				if c == '\n' {
					more++
				}
			}
			return fmt.Sprintf("%s (and %d more problems)", msg[:i], more)
		}
	}
	return msg
}

// ReadRepositoriesFile reads the repository names of --repositories FILE ("-": stdin): one
// a line, "name" or "host/name", with blank lines and '#' comments ignored. A file that
// names none is an error: it would read nothing.
func ReadRepositoriesFile(stdin io.Reader, name string) ([]string, error) {
	data, err := ReadInput(stdin, name)
	if err != nil {
		return nil, err
	}
	var out []string
	for n, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t@") {
			return nil, fmt.Errorf("%s:%d: %q is not a repository name", name, n+1, line)
		}
		out = append(out, line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no repository", name)
	}
	return out, nil
}
