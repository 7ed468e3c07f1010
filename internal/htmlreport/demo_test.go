package htmlreport_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/htmlreport"
)

// now is the fixed time the test documents are generated at.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// demoDocument is a demanding report: repos repositories, some with names of well over 100
// characters, three 90-day storage series with markers, and every kind of figure and a
// table of every repository. The same arguments give the same document.
func demoDocument(repos int) htmlreport.Document {
	rng := rand.New(rand.NewPCG(1, 2))
	teams := []string{"payments", "search", "platform", "identity", "data-eng", "ml-infra", "mobile"}
	names := make([]string, repos)
	sizes := make([]float64, repos)
	images := make([]int, repos)
	for i := range names {
		team := teams[i%len(teams)]
		switch i % 9 {
		case 0:
			names[i] = fmt.Sprintf("acme-corp/%s/services/%s-very-long-service-name-that-keeps-going-and-going-for-the-sake-of-testing/api-%03d", team, team, i)
		case 4:
			names[i] = fmt.Sprintf("%s/a-repository-name-without-any-separators-at-all-which-cannot-wrap-on-slashes-%03dxxxxxxxxxxxxxxxxxxxxxxxxxxxx", team, i)
		default:
			names[i] = fmt.Sprintf("%s/service-%03d", team, i)
		}
		images[i] = 1 + rng.IntN(400)
		sizes[i] = float64(images[i]) * (20 + rng.Float64()*900) * (1 << 20)
	}

	days := 90
	start := now.AddDate(0, 0, -days+1).Truncate(24 * time.Hour)
	times := make([]time.Time, days)
	keep, strict, none := make([]float64, days), make([]float64, days), make([]float64, days)
	for d := range days {
		times[d] = start.AddDate(0, 0, d)
		growth := float64(d) * 38 * (1 << 30)
		none[d] = 1.1*(1<<40) + growth + 30*(1<<30)*math.Sin(float64(d)/5)
		keep[d] = 0.9*(1<<40) + growth*0.55 + 20*(1<<30)*math.Sin(float64(d)/6)
		strict[d] = 0.7*(1<<40) + growth*0.25
		if d >= 60 {
			keep[d] -= 0.3 * (1 << 40)
			strict[d] -= 0.35 * (1 << 40)
		}
	}
	keep[72] = math.NaN() // a day without data

	bars := make([]htmlreport.Bar, repos)
	rows := make([][]string, repos)
	var totalBytes float64
	var totalImages int
	for i := range names {
		bars[i] = htmlreport.Bar{Label: names[i], Value: sizes[i], Note: htmlreport.Count.Format(float64(images[i])) + " images"}
		rows[i] = []string{names[i], htmlreport.Count.Format(float64(images[i])), htmlreport.Bytes.Format(sizes[i]),
			htmlreport.USD.Format(sizes[i] / (1 << 30) * 0.10), times[rng.IntN(days)].Format("2006-01-02")}
		totalBytes += sizes[i]
		totalImages += images[i]
	}

	streams := []string{"main", "release-*", "pr-*", "feature/*", "nightly", "sha-*",
		"renovate/acme-corp-platform-base-images-digest-update-for-every-single-repository-in-the-fleet", "latest"}
	stacks := make([]htmlreport.Stack, len(streams))
	for i, s := range streams {
		stacks[i] = htmlreport.Stack{Label: s, Values: []float64{rng.Float64() * 400 * (1 << 30), rng.Float64() * 200 * (1 << 30)}}
	}
	buckets := []string{"0–7 d", "8–30 d", "31–90 d", "91–180 d", "181–365 d", "> 1 y"}
	ages := make([]htmlreport.Series, 3)
	for i, name := range []string{"main", "release-*", "pr-*"} {
		ages[i] = htmlreport.Series{Name: name, Values: make([]float64, len(buckets))}
		for k := range buckets {
			ages[i].Values[k] = float64(rng.IntN(3000) / (k + 1))
		}
	}
	months := []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	cost, costProjected := make([]float64, 12), make([]float64, 12)
	for m := range months {
		cost[m] = 1800 + float64(m)*240
		costProjected[m] = 1800 + float64(m)*90
		if m < 5 {
			costProjected[m] = math.NaN()
		}
	}
	costProjected[4] = cost[4]

	return htmlreport.Document{
		Title:     "Registry audit: 123456789012.dkr.ecr.eu-west-1.amazonaws.com",
		Subtitle:  fmt.Sprintf("%d repositories, %s images, %s stored", repos, htmlreport.Count.Format(float64(totalImages)), htmlreport.Bytes.Format(totalBytes)),
		Generated: now,
		Sections: []htmlreport.Section{
			{
				Heading: "Storage over time",
				Paragraphs: []string{
					"Stored bytes per day over the last 90 days, without a policy and under the two candidate policies. " +
						"The quota was hit on day 41; the policies would have been applied on day 60.",
				},
				Figures: []htmlreport.Figure{
					htmlreport.LineChart{
						Title: "Stored bytes, last 90 days", YLabel: "Stored", YUnit: htmlreport.Bytes, Times: times,
						Series: []htmlreport.Series{
							{Name: "No policy", Values: none},
							{Name: "keep-streams (keep 10 per stream, 30 days)", Values: keep},
							{Name: "strict (keep 3 per stream, 7 days)", Values: strict, Dashed: true},
						},
						Markers: []htmlreport.Marker{
							{X: 40, Label: "quota hit, day 41"},
							{X: 42, Label: "quota raised to 4 TiB"},
							{X: 59, Label: "policies applied, day 60"},
							{X: 88, Label: "today"},
						},
					},
					htmlreport.LineChart{
						Title: "Monthly storage cost", YLabel: "USD per month", YUnit: htmlreport.USD, Labels: months,
						Series: []htmlreport.Series{
							{Name: "Actual", Values: cost},
							{Name: "Projected under keep-streams", Values: costProjected, Dashed: true},
						},
					},
				},
			},
			{
				Heading:    "Repositories",
				Paragraphs: []string{"The largest repositories hold most of the bytes."},
				Figures: []htmlreport.Figure{
					htmlreport.BarChart{Title: "Bytes by repository: top 20 and the rest", Unit: htmlreport.Bytes, Horizontal: true,
						Bars: htmlreport.Top(bars, 20, "all other repositories")},
					htmlreport.BarChart{Title: "Images by repository: top 12", Unit: htmlreport.Count,
						Bars: countBars(htmlreport.Top(bars, 12, "")[:12], images, names)},
				},
				Tables: []htmlreport.Table{{
					Caption: "Every repository",
					Columns: []htmlreport.Column{{Name: "Repository"}, {Name: "Images", Numeric: true}, {Name: "Stored", Numeric: true},
						{Name: "Cost per month", Numeric: true}, {Name: "Last push"}},
					Rows:   rows,
					Footer: []string{"Total", htmlreport.Count.Format(float64(totalImages)), htmlreport.Bytes.Format(totalBytes), htmlreport.USD.Format(totalBytes / (1 << 30) * 0.10), ""},
				}},
			},
			{
				Heading: "What the policy keeps and expires, by tag stream, with a heading long enough to wrap on a narrow screen",
				Figures: []htmlreport.Figure{
					htmlreport.StackedBarChart{Title: "Bytes expired and kept by keep-streams, per stream", Unit: htmlreport.Bytes,
						Categories: []string{"Expired", "Kept"}, Stacks: stacks},
					htmlreport.Histogram{Title: "Age of images by tag stream", YLabel: "Images", Buckets: buckets, Series: ages},
				},
				Notes: []string{
					"Costs assume $0.10 per GiB-month (ECR standard storage).",
					"Sizes count each layer once per repository; " + strings.Repeat("shared-layer-", 12) + "accounting is approximate.",
				},
			},
		},
	}
}

// countBars turns bars of bytes into bars of image counts for the same repositories.
func countBars(top []htmlreport.Bar, images []int, names []string) []htmlreport.Bar {
	byName := map[string]int{}
	for i, n := range names {
		byName[n] = images[i]
	}
	out := make([]htmlreport.Bar, len(top))
	for i, b := range top {
		out[i] = htmlreport.Bar{Label: b.Label, Value: float64(byName[b.Label])}
	}
	return out
}
