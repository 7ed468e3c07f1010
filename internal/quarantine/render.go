package quarantine

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/report"
)

// Pruned is what Prune freed in one quarantine, for reports.
type Pruned struct {
	// Quarantine names it (Quarantine.String, or the destination as given).
	Quarantine string `json:"quarantine"`
	Entries    int    `json:"entries"`
	Bytes      int64  `json:"bytes"`
}

// WriteRestoredAs writes the outcomes of a restore in format: report.Table or report.JSON
// (an array of Restored, in the order Restore handled them). With dryRun the table says
// what would be done.
func WriteRestoredAs(w io.Writer, res []Restored, dryRun bool, format string) error {
	if format == report.JSON {
		if res == nil {
			res = []Restored{}
		}
		return report.WriteJSON(w, res)
	}
	WriteRestored(w, res, dryRun)
	return nil
}

// WriteRestored writes the outcomes of a restore for people: a line per manifest, its tags
// under it, and a count of each outcome.
func WriteRestored(w io.Writer, res []Restored, dryRun bool) {
	if len(res) == 0 {
		fmt.Fprintln(w, "nothing restored")
		return
	}
	var restored, present, failed int
	for _, r := range res {
		e := r.Entry
		what := inventory.ShortDigest(e.Digest) + report.TagList(e.Tags)
		switch r.Outcome {
		case OutcomeRestored:
			restored++
			verb := "restored"
			if dryRun {
				verb = "would restore"
			}
			how := layersFrom(r.Blobs)
			if r.With != "" {
				how = "  with " + inventory.ShortDigest(r.With)
			}
			fmt.Fprintf(w, "%-13s %s  %s/%s  run %s%s\n", verb, what, e.Host, e.Repository, e.Run, how)
		case OutcomePresent:
			present++
			fmt.Fprintf(w, "%-13s %s  %s/%s  already in the repository\n", "present", what, e.Host, e.Repository)
		default:
			failed++
			verb := "failed"
			if dryRun {
				verb = "would fail"
			}
			fmt.Fprintf(w, "%-13s %s  %s/%s: %s\n", verb, what, e.Host, e.Repository, r.Detail)
		}
		for _, tag := range r.Tags {
			fmt.Fprintf(w, "  tag %s %s\n", tag, map[bool]string{false: "created", true: "would be created"}[dryRun])
		}
		for _, tag := range r.Moved {
			fmt.Fprintf(w, "  tag %s %s\n", tag, map[bool]string{false: "moved back", true: "would be moved back"}[dryRun])
		}
		for _, tag := range slices.Sorted(maps.Keys(r.Kept)) {
			fmt.Fprintf(w, "  tag %s left at %s (--retag moves it back)\n", tag, inventory.ShortDigest(r.Kept[tag]))
		}
	}
	if dryRun {
		fmt.Fprintf(w, "dry run: %d would be restored, %d already present, %d would fail\n", restored, present, failed)
		return
	}
	fmt.Fprintf(w, "%d restored, %d already present, %d failed\n", restored, present, failed)
}

// layersFrom says where the layers of a restored manifest came from.
func layersFrom(blobs string) string {
	switch blobs {
	case BlobsQuarantine:
		return "  layers from the quarantine"
	case BlobsRegistry:
		return "  layers still in the registry"
	}
	return ""
}

// WritePrunedAs writes what a prune freed in format: report.Table or report.JSON (an array
// of Pruned).
func WritePrunedAs(w io.Writer, pruned []Pruned, format string) error {
	if format == report.JSON {
		if pruned == nil {
			pruned = []Pruned{}
		}
		return report.WriteJSON(w, pruned)
	}
	WritePruned(w, pruned)
	return nil
}

// WritePruned writes what a prune freed for people: a line per quarantine.
func WritePruned(w io.Writer, pruned []Pruned) {
	if len(pruned) == 0 {
		fmt.Fprintln(w, "no quarantine to prune")
		return
	}
	for _, p := range pruned {
		fmt.Fprintf(w, "%s: %d %s pruned, %s freed\n", p.Quarantine, p.Entries, plural(p.Entries, "entry", "entries"), report.Bytes(p.Bytes))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
