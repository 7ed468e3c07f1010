package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// WriteJSON writes the reports as an indented JSON array, the stable form for scripts.
func WriteJSON(w io.Writer, reports []Report) error {
	if reports == nil {
		reports = []Report{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(reports)
}

// ANSI colours of the same length, so that coloured cells stay aligned.
const (
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	reset  = "\x1b[0m"
)

// WriteTable writes the reports for people: per repository the counts, the diagnoses with
// their fixes, the source's notes, then a summary of storage and of the policy. With color,
// severities are coloured.
func WriteTable(w io.Writer, reports []Report, color bool) error {
	ew := &report.Writer{W: w}
	for n, r := range reports {
		if n > 0 {
			fmt.Fprintln(ew)
		}
		fmt.Fprintf(ew, "Audit of %s", report.Repository(r.Repository))
		if r.CapturedAt != nil {
			fmt.Fprintf(ew, " captured %s", r.CapturedAt.Format(time.RFC3339))
		}
		fmt.Fprint(ew, "\n\n")

		rs := rows(&r.Counts)
		width := len("COUNT")
		for _, row := range rs {
			width = max(width, len(report.Thousands(row.count)))
		}
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "WHAT\t%*s  MEANING\n", width, "COUNT")
		for _, row := range rs {
			fmt.Fprintf(tw, "%s\t%*s  %s\n", row.what, width, report.Thousands(row.count), row.meaning)
		}
		tw.Flush()

		if len(r.Diagnoses)+len(r.Notes) > 0 {
			fmt.Fprintln(ew)
		}
		for _, d := range r.Diagnoses {
			sev := string(d.Severity)
			if color {
				c := cyan
				if d.Severity == Warning {
					c = yellow
				}
				sev = c + sev + reset
			}
			fmt.Fprintf(ew, "%s: %s [%s]\n  fix: %s\n", sev, d.Message, d.Code, d.Fix)
		}
		for _, note := range r.Notes {
			fmt.Fprintf(ew, "note: %s\n", note)
		}

		fmt.Fprintln(ew)
		s := r.Storage
		fmt.Fprintf(ew, "Summary: %s images, %s stored, $%.2f a month at $%.2f per GB-month; %s\n",
			report.Thousands(r.Counts.Images), report.Bytes(s.StoredBytes), s.MonthlyCostUSD, s.PricePerGBMonth, severities(r.Diagnoses))
		fmt.Fprintf(ew, "Leftovers no tag reaches hold %s; attestation manifests alone hold %s.\n",
			unreachable(&r), report.Bytes(s.AttestationBytes))
		if p := r.Policy; p != nil {
			fmt.Fprintf(ew, "Policy at %s: %s expire, %s transition, %s keep; reclaims %s of %s stored%s, saving $%.2f a month.\n",
				p.Now.Format(time.RFC3339), report.Thousands(p.Expire), report.Thousands(p.Transition), report.Thousands(p.Keep),
				report.Bytes(p.ReclaimedBytes), report.Bytes(s.StoredBytes), report.Percent(p.ReclaimedBytes, s.StoredBytes), p.MonthlySavingsUSD)
		}
	}
	return ew.Err
}

// WriteMarkdown writes the reports for pull-request comments and job summaries.
func WriteMarkdown(w io.Writer, reports []Report) error {
	ew := &report.Writer{W: w}
	for n, r := range reports {
		if n > 0 {
			fmt.Fprintln(ew)
		}
		s := r.Storage
		fmt.Fprintf(ew, "### shipshape audit: `%s`\n\n", report.Repository(r.Repository))
		fmt.Fprintf(ew, "**%s** images, **%s** stored, **$%.2f a month** at $%.2f per GB-month. Leftovers no tag reaches hold %s; attestation manifests alone hold %s.",
			report.Thousands(r.Counts.Images), report.Bytes(s.StoredBytes), s.MonthlyCostUSD, s.PricePerGBMonth,
			unreachable(&r), report.Bytes(s.AttestationBytes))
		if p := r.Policy; p != nil {
			fmt.Fprintf(ew, " At %s the policy expires **%s**, transitions **%s** and keeps **%s** images, reclaiming **%s**%s and saving **$%.2f a month**.",
				p.Now.Format(time.RFC3339), report.Thousands(p.Expire), report.Thousands(p.Transition), report.Thousands(p.Keep),
				report.Bytes(p.ReclaimedBytes), report.Percent(p.ReclaimedBytes, s.StoredBytes), p.MonthlySavingsUSD)
		}
		fmt.Fprint(ew, "\n\n")
		for _, d := range r.Diagnoses {
			kind := "NOTE"
			if d.Severity == Warning {
				kind = "WARNING"
			}
			fmt.Fprintf(ew, "> [!%s]\n> **%s** (`%s`)\n>\n> Fix: %s\n\n", kind, report.Cell(d.Message), d.Code, report.Cell(d.Fix))
		}
		for _, note := range r.Notes {
			fmt.Fprintf(ew, "> [!NOTE]\n> %s\n\n", report.Cell(note))
		}
		fmt.Fprintln(ew, "| What | Count | Meaning |")
		fmt.Fprintln(ew, "|---|---:|---|")
		for _, row := range rows(&r.Counts) {
			fmt.Fprintf(ew, "| %s | %s | %s |\n", row.what, report.Thousands(row.count), report.Cell(row.meaning))
		}
	}
	return ew.Err
}

// row is one line of the counts table.
type row struct {
	what    string
	count   int
	meaning string
}

func rows(c *Counts) []row {
	indexes := fmt.Sprintf("%s one platform, %s of them with an attestation manifest",
		counted(c.SinglePlatformIndexes, "lists", "list"), report.Thousands(c.SinglePlatformWithAttestation))
	if c.IndexesWithUnknownChildren > 0 {
		indexes += fmt.Sprintf("; children unknown for %s", report.Thousands(c.IndexesWithUnknownChildren))
	}
	if c.IndexesWithMissingChildren > 0 {
		indexes += fmt.Sprintf("; %s missing manifests", counted(c.IndexesWithMissingChildren, "lists", "list"))
	}
	rs := []row{
		{"images", c.Images, fmt.Sprintf("manifests of every kind: %s tagged, %s untagged", report.Thousands(c.Tagged), report.Thousands(c.Untagged))},
		{"indexes", c.Indexes, indexes},
		{"platform images", c.PlatformImages, "image manifests an index lists for a platform"},
		{"attestation manifests", c.AttestationManifests, "buildx provenance and SBOM manifests an index lists"},
		{"referrers", c.Referrers, fmt.Sprintf("OCI 1.1 referrers of a manifest here: %s, %s, %s other",
			counted(c.Signatures, "signature", "signatures"), counted(c.SBOMs, "SBOM", "SBOMs"), report.Thousands(c.OtherReferrers))},
		{"tag signatures", c.TagSignatures, "cosign signatures under sha256-<digest>.sig, .att or .sbom tags"},
		{"superseded", c.Superseded, "untagged, listed by no index, referring to nothing"},
	}
	if c.IndexesWithUnknownChildren > 0 {
		rs = append(rs, row{"unattributed", c.Unattributed, "untagged images that may be children of an index whose children are unknown"})
	}
	rs = append(rs,
		row{"orphans", c.OrphanedAttestations + c.OrphanedReferrers + c.OrphanedTagSignatures, fmt.Sprintf(
			"%s with no index, %s with no subject, %s with no image",
			counted(c.OrphanedAttestations, "attestation manifest", "attestation manifests"),
			counted(c.OrphanedReferrers, "referrer", "referrers"),
			counted(c.OrphanedTagSignatures, "tag signature", "tag signatures"))},
		row{"unknown push time", c.UnknownPushTime, "images that age rules cannot select"},
	)
	if c.InUse > 0 {
		rs = append(rs, row{"in use", c.InUse, "images that run where the in-use sources looked; plans keep them"})
	}
	return rs
}

// unreachable writes what leftovers hold, with its share of the storage. Unattributed
// images count as live, so with any of them the figure is a lower bound.
func unreachable(r *Report) string {
	s := r.Storage
	text := report.Bytes(s.UnreachableBytes) + report.Percent(s.UnreachableBytes, s.StoredBytes)
	if r.Counts.Unattributed > 0 {
		if s.UnreachableBytes == 0 {
			return "an unknown amount (index children are unknown)"
		}
		return "at least " + text
	}
	return text
}

// severities sums up diagnoses: "2 warnings, 1 info".
func severities(ds []Diagnosis) string {
	w, i := 0, 0
	for _, d := range ds {
		if d.Severity == Warning {
			w++
		} else {
			i++
		}
	}
	return fmt.Sprintf("%s, %s info", counted(w, "warning", "warnings"), report.Thousands(i))
}

// Write writes the reports in format: report.Table (coloured when color), report.JSON or
// report.Markdown.
func Write(w io.Writer, reports []Report, format string, color bool) error {
	switch format {
	case report.JSON:
		return WriteJSON(w, reports)
	case report.Markdown:
		return WriteMarkdown(w, reports)
	}
	return WriteTable(w, reports, color)
}
