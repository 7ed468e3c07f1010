package fleet

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// Write writes the report in format: report.Table, report.JSON or report.Markdown.
func Write(w io.Writer, r *Report, format string) error {
	switch format {
	case report.JSON:
		return report.WriteJSON(w, r)
	case report.Markdown:
		return WriteMarkdown(w, r)
	}
	return WriteTable(w, r)
}

// headline is the report's first lines, for every format.
func headline(r *Report) []string {
	t := r.Totals
	lines := []string{
		fmt.Sprintf("%s in %s: %s images, %s stored, $%.2f a month at $%.2f per GB-month.",
			count(t.Repositories, "repository", "repositories"), count(t.Registries, "registry", "registries"), report.Thousands(t.Images),
			report.Bytes(t.StoredBytes), t.MonthlyCostUSD, t.PricePerGBMonth),
	}
	if t.Expire > 0 || t.ReclaimableBytes > 0 {
		lines = append(lines, fmt.Sprintf("Their policies expire %s images and reclaim %s%s, saving $%.2f a month.",
			report.Thousands(t.Expire), report.Bytes(t.ReclaimableBytes), report.Percent(t.ReclaimableBytes, t.StoredBytes), t.MonthlySavingsUSD))
	}
	if t.WithoutPolicy > 0 {
		lines = append(lines, fmt.Sprintf("%s no lifecycle policy.", count(t.WithoutPolicy, "repository has", "repositories have")))
	}
	if t.NearQuota > 0 {
		lines = append(lines, fmt.Sprintf("%s over %.0f%% of the %s-image quota.", count(t.NearQuota, "repository holds", "repositories hold"), nearQuota*100, report.Thousands(t.QuotaImages)))
	}
	if t.Failed > 0 {
		lines = append(lines, fmt.Sprintf("%s not be read and %s in no total.", count(t.Failed, "repository could", "repositories could"), map[bool]string{true: "is", false: "are"}[t.Failed == 1]))
	}
	return lines
}

// count writes n with the singular or plural words after it.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return report.Thousands(n) + " " + many
}

// idleGroup is the repositories in which one rule does nothing, for the people's formats.
type idleGroup struct {
	IdleRule
	repos []string
}

// idleGroups groups the idle rules by rule and why, the commonest first.
func idleGroups(r *Report) []idleGroup {
	var groups []idleGroup
	at := map[IdleRule]int{}
	for _, i := range r.IdleRules {
		key := IdleRule{RulePriority: i.RulePriority, Rule: i.Rule, Why: i.Why}
		n, ok := at[key]
		if !ok {
			n = len(groups)
			at[key] = n
			groups = append(groups, idleGroup{IdleRule: key})
		}
		groups[n].repos = append(groups[n].repos, i.Repository)
	}
	slices.SortStableFunc(groups, func(a, b idleGroup) int {
		return cmp.Or(cmp.Compare(len(b.repos), len(a.repos)), cmp.Compare(a.RulePriority, b.RulePriority))
	})
	return groups
}

// where names the repositories of an idle group: all of them when few.
func (g idleGroup) where() string {
	if len(g.repos) <= 3 {
		return "in " + strings.Join(g.repos, ", ")
	}
	return fmt.Sprintf("in %d repositories (%s, …)", len(g.repos), strings.Join(g.repos[:2], ", "))
}

// WriteTable writes the report for people: the totals, one line per repository, then the
// failures and the idle rules.
func WriteTable(w io.Writer, r *Report) error {
	ew := &report.Writer{W: w}
	fmt.Fprintf(ew, "Fleet at %s\n\n", r.Now.Format(time.RFC3339))
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "REPOSITORY\tIMAGES\tSTORED\t$/MONTH\tPOLICY\tEXPIRE\tRECLAIMS\tQUOTA\tWARNINGS\t")
	for _, row := range r.Repositories {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%.1f%%\t%d\t\n", row.Repository, report.Thousands(row.Images),
			report.Bytes(row.StoredBytes), row.MonthlyCostUSD, row.Policy, report.Thousands(row.Expire),
			report.Bytes(row.ReclaimableBytes), row.QuotaUsed*100, row.Warnings)
	}
	tw.Flush()
	fmt.Fprintln(ew)
	for _, l := range headline(r) {
		fmt.Fprintln(ew, l)
	}
	if len(r.TopOffenders) > 0 {
		fmt.Fprintf(ew, "Top offenders: %s\n", strings.Join(r.TopOffenders, ", "))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(ew, "failed: %s: %s\n", f.Repository, f.Error)
	}
	for _, row := range r.Repositories {
		if row.Blocked != "" {
			fmt.Fprintf(ew, "blocked: %s: %s\n", row.Repository, row.Blocked)
		}
		if row.Note != "" {
			fmt.Fprintf(ew, "note: %s: %s\n", row.Repository, row.Note)
		}
	}
	for _, g := range idleGroups(r) {
		fmt.Fprintf(ew, "idle rule: the rule with priority %d (%s) %s %s\n", g.RulePriority, g.Rule, g.Why, g.where())
	}
	return ew.Err
}

// markdownBudget bounds the repository and idle-rule lines of the Markdown report, so that
// the whole stays under GitHub's 1 MiB step-summary limit.
const markdownBudget = 900 << 10

// WriteMarkdown writes the report for pull-request comments and job summaries, always
// under 1 MiB: repository lines beyond the budget are counted, not listed.
func WriteMarkdown(w io.Writer, r *Report) error {
	ew := &report.Writer{W: w}
	fmt.Fprintf(ew, "### shipshape fleet audit\n\n")
	for _, l := range headline(r) {
		fmt.Fprintf(ew, "%s\n", report.Cell(l))
	}
	if len(r.TopOffenders) > 0 {
		fmt.Fprintf(ew, "\n**Top offenders:** %s\n", report.Cell(strings.Join(r.TopOffenders, ", ")))
	}
	budget := markdownBudget
	emit := func(line string) bool {
		if len(line) > budget {
			return false
		}
		budget -= len(line)
		fmt.Fprint(ew, line)
		return true
	}
	if len(r.Failures) > 0 {
		fmt.Fprintf(ew, "\n> [!CAUTION]\n> %d repositories could not be read:\n", len(r.Failures))
		for n, f := range r.Failures {
			if !emit(fmt.Sprintf("> - `%s`: %s\n", report.Cell(f.Repository), report.Cell(f.Error))) {
				fmt.Fprintf(ew, "> - … and %d more\n", len(r.Failures)-n)
				break
			}
		}
	}
	fmt.Fprintln(ew, "\n| Repository | Images | Stored | $/month | Policy | Expire | Reclaims | Quota | Warnings |\n|---|---:|---:|---:|---|---:|---:|---:|---:|")
	for n, row := range r.Repositories {
		line := fmt.Sprintf("| `%s` | %s | %s | %.2f | %s | %s | %s | %.1f%% | %d |\n", report.Cell(row.Repository), report.Thousands(row.Images),
			report.Bytes(row.StoredBytes), row.MonthlyCostUSD, row.Policy, report.Thousands(row.Expire), report.Bytes(row.ReclaimableBytes), row.QuotaUsed*100, row.Warnings)
		if !emit(line) {
			fmt.Fprintf(ew, "\n… and %d more repositories (run shipshape audit --all -o json for the full list)\n", len(r.Repositories)-n)
			break
		}
	}
	if groups := idleGroups(r); len(groups) > 0 {
		fmt.Fprintf(ew, "\n<details><summary>%d idle rules</summary>\n\n", len(groups))
		for n, g := range groups {
			if !emit(fmt.Sprintf("- the rule with priority %d (%s) %s %s\n", g.RulePriority, report.Cell(g.Rule), g.Why, report.Cell(g.where()))) {
				fmt.Fprintf(ew, "- … and %d more\n", len(groups)-n)
				break
			}
		}
		fmt.Fprintln(ew, "\n</details>")
	}
	return ew.Err
}
