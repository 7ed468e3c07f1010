package plan

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// PreviewItem is one image a registry's own preview (ECR's lifecycle policy preview) acts on.
type PreviewItem struct {
	Digest       string
	Action       policy.Verdict
	RulePriority int
}

// Comparison sets a registry's preview beside shipshape's evaluation of the same policy.
type Comparison struct {
	// Agree counts the images both leave alone or both act on in the same way.
	Agree int `json:"agree"`
	// Differences lists every image on which they disagree.
	Differences []Difference `json:"differences"`
}

// Difference is one image the preview and the evaluation decide differently.
type Difference struct {
	Digest          string         `json:"digest"`
	Tags            []string       `json:"tags"`
	Registry        policy.Verdict `json:"registry"`
	RegistryRule    int            `json:"registryRule,omitempty"`
	Shipshape       policy.Verdict `json:"shipshape"`
	ShipshapeRule   int            `json:"shipshapeRule,omitempty"`
	ShipshapeReason string         `json:"shipshapeReason"`
}

// Compare sets preview beside decisions, shipshape's evaluation of one lifecycle run over
// images (policy.Evaluate; not the plan, whose graph closure and safety layer go beyond
// what the registry does in one run). Images the preview does not list are kept by it.
func Compare(images []inventory.Image, decisions []policy.Decision, preview []PreviewItem) Comparison {
	byDigest := make(map[string]PreviewItem, len(preview))
	for _, p := range preview {
		byDigest[p.Digest] = p
	}
	c := Comparison{Differences: []Difference{}}
	for i, d := range decisions {
		p, listed := byDigest[d.Digest]
		reg := policy.Keep
		if listed {
			reg = p.Action
		}
		if reg == d.Action && (reg == policy.Keep || p.RulePriority == d.RulePriority) {
			c.Agree++
			continue
		}
		diff := Difference{Digest: d.Digest, Tags: images[i].Tags, Registry: reg, Shipshape: d.Action, ShipshapeReason: d.Reason}
		if listed {
			diff.RegistryRule = p.RulePriority
		}
		if d.Action != policy.Keep {
			diff.ShipshapeRule = d.RulePriority
		}
		if diff.Tags == nil {
			diff.Tags = []string{}
		}
		c.Differences = append(c.Differences, diff)
	}
	// Images the preview lists that the inventory does not have.
	known := make(map[string]bool, len(decisions))
	for _, d := range decisions {
		known[d.Digest] = true
	}
	for _, p := range preview {
		if known[p.Digest] {
			continue
		}
		c.Differences = append(c.Differences, Difference{Digest: p.Digest, Tags: []string{}, Registry: p.Action, RegistryRule: p.RulePriority,
			Shipshape: policy.Keep, ShipshapeReason: "not in the inventory"})
	}
	slices.SortFunc(c.Differences, func(a, b Difference) int { return cmp.Compare(a.Digest, b.Digest) })
	return c
}

// String sums the comparison up in one line.
func (c Comparison) String() string {
	if len(c.Differences) == 0 {
		return fmt.Sprintf("ECR's preview agrees with shipshape on all %d images", c.Agree)
	}
	return fmt.Sprintf("ECR's preview differs from shipshape on %d images (agrees on %d)", len(c.Differences), c.Agree)
}
