package fleet

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/htmlreport"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// ageBuckets are the age ranges of the age histogram, as upper bounds in days.
var ageBuckets = []struct {
	label string
	days  float64
}{{"0–7 days", 7}, {"8–30 days", 30}, {"31–90 days", 90}, {"91–180 days", 180}, {"181–365 days", 365}, {"over a year", 1e9}}

// maxStreams bounds the tag streams the age histogram shows; the rest are "other".
const maxStreams = 6

// HTML returns the report as a document for htmlreport.Write: the totals; the bytes by
// repository (the 20 largest and the rest); the age of images by tag stream; what the
// policies expire and keep; then the tables of repositories, idle rules and failures.
// repos are the repositories the report was built from, for the ages.
func HTML(r *Report, repos []Repo) htmlreport.Document {
	doc := htmlreport.Document{Title: "shipshape fleet audit", Generated: r.Now,
		Subtitle: count(r.Totals.Repositories, "repository", "repositories") + " in " + count(r.Totals.Registries, "registry", "registries")}
	doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Summary", Paragraphs: headline(r),
		Notes: []string{fmt.Sprintf("Stored bytes are deduplicated within each repository; costs at $%.2f per GB-month. The quota is %s images per repository.",
			r.Totals.PricePerGBMonth, report.Thousands(r.Totals.QuotaImages))}})

	bars := make([]htmlreport.Bar, 0, len(r.Repositories))
	for _, row := range r.Repositories {
		bars = append(bars, htmlreport.Bar{Label: row.Repository, Value: float64(row.StoredBytes)})
	}
	if len(bars) > 0 {
		doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Where the bytes are",
			Figures: []htmlreport.Figure{htmlreport.BarChart{Title: "Stored bytes by repository", Unit: htmlreport.Bytes, Horizontal: true,
				Bars: htmlreport.Top(bars, 20, "the rest")}}})
	}

	if h, ok := ages(repos, r.Now); ok {
		doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Age of images", Figures: []htmlreport.Figure{h},
			Notes: []string{"A stream is a tag pattern: sha-*, pr-* and the like, releases (v1.2.3), moving tags (latest, main), and untagged manifests."}})
	}

	if r.Totals.Expire > 0 || r.Totals.ReclaimableBytes > 0 {
		top := slices.Clone(r.Repositories)
		slices.SortStableFunc(top, func(a, b Row) int { return cmp.Compare(b.ReclaimableBytes, a.ReclaimableBytes) })
		chart := htmlreport.StackedBarChart{Title: "What the policies expire and keep, in bytes", Unit: htmlreport.Bytes, Categories: []string{"expire", "keep"}}
		for _, row := range top[:min(len(top), 20)] {
			chart.Stacks = append(chart.Stacks, htmlreport.Stack{Label: row.Repository, Values: []float64{float64(row.ReclaimableBytes), float64(row.StoredBytes - row.ReclaimableBytes)}})
		}
		doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "What the policies do", Figures: []htmlreport.Figure{chart}})
	}

	table := htmlreport.Table{Caption: "Repositories, largest first", Columns: []htmlreport.Column{
		{Name: "Repository"}, {Name: "Images", Numeric: true}, {Name: "Stored", Numeric: true}, {Name: "$/month", Numeric: true},
		{Name: "Policy"}, {Name: "Expire", Numeric: true}, {Name: "Reclaims", Numeric: true}, {Name: "Quota", Numeric: true}, {Name: "Warnings", Numeric: true}}}
	for _, row := range r.Repositories {
		table.Rows = append(table.Rows, []string{row.Repository, report.Thousands(row.Images), report.Bytes(row.StoredBytes),
			fmt.Sprintf("%.2f", row.MonthlyCostUSD), row.Policy, report.Thousands(row.Expire), report.Bytes(row.ReclaimableBytes),
			fmt.Sprintf("%.1f%%", row.QuotaUsed*100), fmt.Sprint(row.Warnings)})
	}
	tables := []htmlreport.Table{table}
	if len(r.IdleRules) > 0 {
		idle := htmlreport.Table{Caption: "Rules that identify or act on nothing", Columns: []htmlreport.Column{{Name: "Repository"}, {Name: "Priority", Numeric: true}, {Name: "Rule"}, {Name: "Why"}}}
		for _, i := range r.IdleRules {
			idle.Rows = append(idle.Rows, []string{i.Repository, fmt.Sprint(i.RulePriority), i.Rule, i.Why})
		}
		tables = append(tables, idle)
	}
	if len(r.Failures) > 0 {
		failed := htmlreport.Table{Caption: "Repositories that could not be read (in no total)", Columns: []htmlreport.Column{{Name: "Repository"}, {Name: "Error"}}}
		for _, f := range r.Failures {
			failed.Rows = append(failed.Rows, []string{f.Repository, f.Error})
		}
		tables = append(tables, failed)
	}
	doc.Sections = append(doc.Sections, htmlreport.Section{Heading: "Repositories", Tables: tables})
	return doc
}

// ages counts the images of every repository by age bucket and tag stream.
func ages(repos []Repo, now time.Time) (htmlreport.Histogram, bool) {
	counts := map[string][]float64{}
	total := map[string]int{}
	for _, r := range repos {
		if r.Inventory == nil {
			continue
		}
		for i := range r.Inventory.Images {
			img := &r.Inventory.Images[i]
			if img.PushedAt.IsZero() {
				continue
			}
			s := Stream(img.Tags)
			if counts[s] == nil {
				counts[s] = make([]float64, len(ageBuckets))
			}
			age := now.Sub(img.PushedAt).Hours() / 24
			b := 0
			for b < len(ageBuckets)-1 && age > ageBuckets[b].days {
				b++
			}
			counts[s][b]++
			total[s]++
		}
	}
	if len(counts) == 0 {
		return htmlreport.Histogram{}, false
	}
	streams := make([]string, 0, len(counts))
	for s := range counts {
		streams = append(streams, s)
	}
	slices.SortFunc(streams, func(a, b string) int { return cmp.Or(cmp.Compare(total[b], total[a]), cmp.Compare(a, b)) })
	if len(streams) > maxStreams {
		other := make([]float64, len(ageBuckets))
		for _, s := range streams[maxStreams-1:] {
			for i, v := range counts[s] {
				other[i] += v
			}
		}
		streams = append(streams[:maxStreams-1], "other")
		counts["other"] = other
	}
	h := htmlreport.Histogram{Title: "Images by age and tag stream", YLabel: "images", Unit: htmlreport.Count}
	for _, b := range ageBuckets {
		h.Buckets = append(h.Buckets, b.label)
	}
	for _, s := range streams {
		h.Series = append(h.Series, htmlreport.Series{Name: s, Values: counts[s]})
	}
	return h, true
}

var (
	releaseTag = regexp.MustCompile(`^v?\d+(\.\d+)+([-+].*)?$`)
	prefixTag  = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9]*[-_.])`)
)

// Stream names the tag stream of an image by its first tag: "untagged", "releases"
// (v1.2.3), a prefix pattern ("sha-*", "pr-*"), or the tag itself (latest, main).
func Stream(tags []string) string {
	if len(tags) == 0 {
		return "untagged"
	}
	t := slices.Min(tags)
	switch {
	case releaseTag.MatchString(t):
		return "releases"
	case prefixTag.MatchString(t):
		return prefixTag.FindString(t) + "*"
	}
	return strings.ToLower(t)
}
