package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// Report is the label check of one image (shipshape labels check).
type Report struct {
	// Image is the repository and Digest the image checked; Checked is the image the labels
	// come from, a platform image when Digest is an index's.
	Image    string            `json:"image"`
	Digest   string            `json:"digest"`
	Checked  string            `json:"checkedDigest"`
	Labels   map[string]string `json:"labels"`
	Problems []Problem         `json:"problems"`
}

// Report checks the labels of the image digest in repository, or when digest is "" of the
// image tag points at now, against revision ("" requires none).
func (v *Verifier) Report(ctx context.Context, repository, tag, digest, revision string) (*Report, error) {
	if digest == "" {
		d, err := v.Resolve(ctx, repository, tag)
		if err != nil {
			return nil, err
		}
		digest = d
	}
	labels, checked, err := v.Labels(ctx, repository, digest)
	if err != nil {
		return nil, fmt.Errorf("reading labels of %s@%s: %w", repository, digest, err)
	}
	return &Report{Image: repository, Digest: digest, Checked: checked, Labels: labels, Problems: Check(labels, revision)}, nil
}

// WriteJSON writes the report as indented JSON, the stable form for scripts.
func WriteJSON(w io.Writer, r *Report) error {
	out := *r
	if out.Problems == nil {
		out.Problems = []Problem{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// WriteTable writes the report for people: the image, then each required label with ok or
// FAIL and its value or problem, then the verdict.
func WriteTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "%s@%s\n", r.Image, r.Digest)
	if r.Checked != r.Digest {
		fmt.Fprintf(w, "checked image %s of the index\n", r.Checked)
	}
	bad := make(map[string]Problem, len(r.Problems))
	for _, p := range r.Problems {
		bad[p.Label] = p
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, l := range []string{LabelRevision, LabelSource, LabelCreated} {
		status, value := "ok", r.Labels[l]
		if p, ok := bad[l]; ok {
			status, value = "FAIL", p.Message
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", status, l, value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Problems) == 0 {
		_, err := fmt.Fprintln(w, "labels ok")
		return err
	}
	_, err := fmt.Fprintf(w, "%d label problem(s)\n", len(r.Problems))
	return err
}

// Write writes the report in format: report.Table or report.JSON.
func Write(w io.Writer, r *Report, format string) error {
	if format == report.JSON {
		return WriteJSON(w, r)
	}
	return WriteTable(w, r)
}
