package lifecycle

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/simulate"
)

// OwnPolicies names the candidate that runs each repository's own lifecycle policy (ECR).
const OwnPolicies = "own policies"

// SimulateRequest projects policies over repositories already read (ReadFleet, or
// ReadAudited through FleetRepos).
type SimulateRequest struct {
	Repos []FleetRepo
	// Candidates are the policies to compare over the same pushes; a nil Policy under the
	// name OwnPolicies runs each repository's own policy, any other nil Policy none.
	Candidates []simulate.Candidate
	Options    simulate.Options
}

// Simulate projects each candidate over the repositories: one repository with
// simulate.Compare, several as a fleet, each candidate with simulate.Fleet. Repositories
// that could not be read are left out, and the report says so.
func Simulate(req SimulateRequest) (*simulate.Report, error) {
	var repos []FleetRepo
	var notes []string
	for _, r := range req.Repos {
		if r.Err != nil {
			notes = append(notes, fmt.Sprintf("%s could not be read and is left out: %v", r.Ref, r.Err))
			continue
		}
		repos = append(repos, r)
	}
	if len(repos) == 0 {
		return nil, errors.New("no repository could be read: nothing to simulate")
	}
	opts := req.Options
	rep := &simulate.Report{Seed: opts.Seed, BudgetUSD: opts.BudgetUSD, QuotaImages: opts.QuotaImages, Notes: notes}
	if rep.QuotaImages == 0 {
		rep.QuotaImages = simulate.DefaultQuotaImages
	}
	if len(repos) == 1 && !usesOwn(req.Candidates) {
		res, err := simulate.Compare(repos[0].Inventory, opts, req.Candidates...)
		if err != nil {
			return nil, err
		}
		rep.Subject, rep.Start, rep.Days = repos[0].Ref, res[0].Start, len(res[0].Days)-1
		rep.Growth = strings.TrimSpace(res[0].Pattern.String())
		for _, r := range res {
			rep.Outcomes = append(rep.Outcomes, simulate.OutcomeOf(r))
			rep.Notes = append(rep.Notes, r.Notes...)
		}
		return rep, nil
	}
	rep.Subject = fmt.Sprintf("%d repositories", len(repos))
	for _, c := range req.Candidates {
		fleet := make([]simulate.Repo, len(repos))
		for i, r := range repos {
			fleet[i] = simulate.Repo{Inventory: r.Inventory, Policy: c.Policy, PolicyName: c.Name}
			if c.Policy == nil && c.Name == OwnPolicies && r.HasPolicy {
				p, err := policy.Load([]byte(r.PolicyText))
				if err != nil {
					return nil, fmt.Errorf("%s: its lifecycle policy is not valid: %w", r.Ref, err)
				}
				fleet[i].Policy = p
			}
		}
		res, err := simulate.Fleet(fleet, opts)
		if err != nil {
			return nil, err
		}
		rep.Start, rep.Days = res.Start, len(res.Days)-1
		rep.Outcomes = append(rep.Outcomes, simulate.FleetOutcome(c.Name, res))
		if rep.Growth == "" {
			perDay := 0.0
			for _, r := range res.Repositories {
				if r.Pattern != nil {
					perDay += r.Pattern.PushesPerDay()
				}
			}
			rep.Growth = fmt.Sprintf("%.1f pushes a day over %d repositories, each learned from its own history", perDay, len(repos))
		}
	}
	return rep, nil
}

func usesOwn(cands []simulate.Candidate) bool {
	for _, c := range cands {
		if c.Policy == nil && c.Name == OwnPolicies {
			return true
		}
	}
	return false
}
