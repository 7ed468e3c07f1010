package simulate

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shipshape-dev/shipshape/internal/htmlreport"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Outcome is one policy's projection, of one repository or of a fleet, as the reports show
// it.
type Outcome struct {
	Policy       string  `json:"policy"`
	Days         []Day   `json:"days"`
	QuotaDay     int     `json:"quotaDay"`
	BudgetDay    int     `json:"budgetDay"`
	TotalCostUSD float64 `json:"totalCostUSD"`
	// Repositories are the fleet's repositories, each projected on its own; empty for one
	// repository.
	Repositories []*Result `json:"repositories,omitempty"`
}

// Report is a simulation as shipshape simulate prints it: what was projected, from when,
// the growth it learned, and one Outcome per policy, over the same pushes.
type Report struct {
	// Subject is the repository, or "N repositories" for a fleet.
	Subject     string    `json:"subject"`
	Start       time.Time `json:"start"`
	Days        int       `json:"days"`
	Seed        uint64    `json:"seed"`
	QuotaImages int       `json:"quotaImages"`
	BudgetUSD   float64   `json:"budgetUSD,omitempty"`
	// Growth says, for people, how the repository grows (Pattern.String), or the fleet's
	// pushes a day.
	Growth   string    `json:"growth"`
	Outcomes []Outcome `json:"outcomes"`
	Notes    []string  `json:"notes,omitempty"`
}

// OutcomeOf is the Outcome of one repository's result.
func OutcomeOf(r *Result) Outcome {
	return Outcome{Policy: r.Policy, Days: r.Days, QuotaDay: r.QuotaDay, BudgetDay: r.BudgetDay, TotalCostUSD: r.TotalCostUSD}
}

// FleetOutcome is the Outcome of a fleet's result under the policy named name.
func FleetOutcome(name string, f *FleetResult) Outcome {
	return Outcome{Policy: name, Days: f.Days, QuotaDay: f.QuotaDay, BudgetDay: f.BudgetDay, TotalCostUSD: f.TotalCostUSD, Repositories: f.Repositories}
}

// Write writes the report in format: report.Table or report.JSON.
func Write(w io.Writer, r *Report, format string) error {
	if format == report.JSON {
		return report.WriteJSON(w, r)
	}
	return WriteTable(w, r)
}

// checkpoints are the days the table shows: every 30 days and the last.
func checkpoints(days int) []int {
	var out []int
	for d := 0; d < days; d += 30 {
		out = append(out, d)
	}
	return append(out, days)
}

// WriteTable writes the report for people: the growth learned, images and stored bytes
// per policy at day 0, every 30 days and the last day, when a quota or budget is hit, the
// cost of the period, and a chart of stored bytes.
func WriteTable(w io.Writer, r *Report) error {
	ew := &report.Writer{W: w}
	fmt.Fprintf(ew, "Simulation of %s over %d days from %s (seed %d)\n\n", r.Subject, r.Days, r.Start.UTC().Format(time.DateOnly), r.Seed)
	fmt.Fprintf(ew, "Growth: %s\n\n", r.Growth)
	days := checkpoints(r.Days)
	tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "POLICY\t")
	for _, d := range days {
		fmt.Fprintf(tw, "DAY %d\t", d)
	}
	fmt.Fprintln(tw, "EXPIRED\tQUOTA HIT\tBUDGET HIT\tCOST\t")
	for _, o := range r.Outcomes {
		fmt.Fprintf(tw, "%s\t", o.Policy)
		for _, d := range days {
			if d < len(o.Days) {
				fmt.Fprintf(tw, "%s images, %s\t", report.Thousands(o.Days[d].Images), report.Bytes(o.Days[d].StoredBytes+o.Days[d].ArchivedBytes))
			} else {
				fmt.Fprint(tw, "–\t")
			}
		}
		expired := 0
		for _, d := range o.Days {
			expired += d.Expired
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t$%.2f\t\n", report.Thousands(expired), dayText(o.QuotaDay), dayText(o.BudgetDay), o.TotalCostUSD)
	}
	tw.Flush()
	fmt.Fprintf(ew, "\nStored bytes a day (standard and archive):\n")
	curves := make([]report.Curve, len(r.Outcomes))
	for i, o := range r.Outcomes {
		curves[i] = report.Curve{Name: o.Policy, Values: storedSeries(o)}
	}
	_ = report.WriteTextChart(ew, curves, 10, 60, func(v float64) string { return report.Bytes(int64(v)) }, "day 0", fmt.Sprintf("day %d", r.Days))
	fmt.Fprintf(ew, "\nCost is of storage only, at the %s-image quota; the quota and budget columns give the first day each is reached.\n", report.Thousands(r.QuotaImages))
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note: %s\n", n)
	}
	return ew.Err
}

func dayText(d int) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("day %d", d)
}

func storedSeries(o Outcome) []float64 {
	v := make([]float64, len(o.Days))
	for i, d := range o.Days {
		v[i] = float64(d.StoredBytes + d.ArchivedBytes)
	}
	return v
}

// HTML returns the report as a document for htmlreport.Write: storage, images and monthly
// cost over time under each policy, with the days a quota or budget is reached marked, and
// a table of the checkpoints.
func HTML(r *Report) htmlreport.Document {
	doc := htmlreport.Document{Title: "shipshape simulate: " + r.Subject,
		Subtitle: fmt.Sprintf("%d days from %s, seed %d", r.Days, r.Start.UTC().Format(time.DateOnly), r.Seed)}
	if len(r.Outcomes) == 0 {
		return doc
	}
	times := make([]time.Time, len(r.Outcomes[0].Days))
	for i, d := range r.Outcomes[0].Days {
		times[i] = d.Date
	}
	stored := htmlreport.LineChart{Title: "Stored bytes (standard and archive)", YLabel: "stored", YUnit: htmlreport.Bytes, Times: times}
	images := htmlreport.LineChart{Title: "Images in the repository", YLabel: "images", YUnit: htmlreport.Count, Times: times}
	cost := htmlreport.LineChart{Title: "Monthly storage cost", YLabel: "per month", YUnit: htmlreport.USD, Times: times}
	for _, o := range r.Outcomes {
		n, s, c := make([]float64, len(times)), make([]float64, len(times)), make([]float64, len(times))
		for i := range times {
			n[i], s[i], c[i] = math.NaN(), math.NaN(), math.NaN()
			if i < len(o.Days) {
				d := o.Days[i]
				n[i], s[i], c[i] = float64(d.Images), float64(d.StoredBytes+d.ArchivedBytes), d.MonthlyCostUSD
			}
		}
		stored.Series = append(stored.Series, htmlreport.Series{Name: o.Policy, Values: s})
		images.Series = append(images.Series, htmlreport.Series{Name: o.Policy, Values: n})
		cost.Series = append(cost.Series, htmlreport.Series{Name: o.Policy, Values: c})
		if o.QuotaDay >= 0 && o.QuotaDay < len(times) {
			images.Markers = append(images.Markers, htmlreport.Marker{X: o.QuotaDay, Label: o.Policy + ": quota reached"})
		}
		if o.BudgetDay >= 0 && o.BudgetDay < len(times) {
			cost.Markers = append(cost.Markers, htmlreport.Marker{X: o.BudgetDay, Label: o.Policy + ": over budget"})
		}
	}
	growth := strings.Split(strings.TrimSpace(r.Growth), "\n")
	growth[0] = "Growth: " + growth[0]
	doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Storage over time", Paragraphs: growth,
		Figures: []htmlreport.Figure{stored, images, cost}, Notes: r.Notes})
	table := htmlreport.Table{Caption: "Checkpoints", Columns: []htmlreport.Column{{Name: "Policy"}, {Name: "Day", Numeric: true},
		{Name: "Images", Numeric: true}, {Name: "Stored", Numeric: true}, {Name: "$/month", Numeric: true}, {Name: "Expired that day", Numeric: true}}}
	for _, o := range r.Outcomes {
		for _, d := range checkpoints(r.Days) {
			if d >= len(o.Days) {
				continue
			}
			day := o.Days[d]
			table.Rows = append(table.Rows, []string{o.Policy, fmt.Sprint(d), report.Thousands(day.Images), report.Bytes(day.StoredBytes + day.ArchivedBytes),
				fmt.Sprintf("%.2f", day.MonthlyCostUSD), report.Thousands(day.Expired)})
		}
	}
	doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Checkpoints", Tables: []htmlreport.Table{table}})
	return doc
}
