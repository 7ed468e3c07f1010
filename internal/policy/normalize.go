package policy

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Normalize returns the canonical form of p, the equivalence ECR and Terraform use when
// comparing policies: rules sorted by rulePriority, tag lists sorted, empty tag lists
// dropped, and the default storage class ("standard") left implicit. Two policies that ECR
// treats the same normalise to equal values. p is not modified.
func Normalize(p *Policy) *Policy {
	out := &Policy{Rules: make([]Rule, len(p.Rules))}
	for i, r := range p.Rules {
		r.Selection.TagPatternList = sortedOrNil(r.Selection.TagPatternList)
		r.Selection.TagPrefixList = sortedOrNil(r.Selection.TagPrefixList)
		if r.Selection.StorageClass == StorageStandard {
			r.Selection.StorageClass = ""
		}
		out.Rules[i] = r
	}
	slices.SortStableFunc(out.Rules, func(a, b Rule) int { return a.RulePriority - b.RulePriority })
	return out
}

func sortedOrNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// Format returns the normalised policy as indented JSON ending in a newline: the form
// `shipshape policy fmt` prints and that ECR accepts unchanged.
func Format(p *Policy) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	// Encoding plain structs of strings and ints cannot fail.
	_ = enc.Encode(Normalize(p))
	return buf.Bytes()
}

// Equal reports whether two policies are equivalent once normalised.
func Equal(a, b *Policy) bool {
	return bytes.Equal(Format(a), Format(b))
}

// Holds reports whether text, a policy as a registry returns it (reordered, compacted), is
// equivalent to want: whether writing want would change nothing. Text that does not parse
// holds nothing.
func Holds(text string, want *Policy) bool {
	have, err := Parse([]byte(text))
	return err == nil && Equal(have, want)
}
