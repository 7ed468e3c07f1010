package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

func mustLoad(t *testing.T, text string) *policy.Policy {
	t.Helper()
	p, err := policy.Load([]byte(text))
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	return p
}

func TestNormalizeMakesEquivalentPoliciesEqual(t *testing.T) {
	t.Parallel()
	a := doc(
		rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v", "release"], "countType": "imageCountMoreThan", "countNumber": 5`, expire),
		rule("1", untaggedAge+`, "storageClass": "standard"`, expire),
	)
	b := doc(
		rule("1", untaggedAge, expire),
		rule("2", `"countType": "imageCountMoreThan", "tagPrefixList": ["release", "v"], "countNumber": 5, "tagStatus": "tagged"`, expire),
	)
	pa, pb := mustLoad(t, a), mustLoad(t, b)
	if !policy.Equal(pa, pb) {
		t.Errorf("Equal() = false, want true:\n%s\n%s", policy.Format(pa), policy.Format(pb))
	}
	if diff := cmp.Diff(policy.Normalize(pa), policy.Normalize(pb), cmp.AllowUnexported(policy.Policy{})); diff != "" {
		t.Errorf("Normalize() differs (-a +b):\n%s", diff)
	}
}

func TestNormalizeKeepsMeaningfulDifferences(t *testing.T) {
	t.Parallel()
	base := doc(rule("1", untaggedAge, expire))
	for name, other := range map[string]string{
		"count":       doc(rule("1", `"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 2`, expire)),
		"priority":    doc(rule("2", untaggedAge, expire)),
		"action":      doc(rule("1", untaggedAge, archive)),
		"description": `{"rules": [{"rulePriority": 1, "description": "other words", "selection": {` + untaggedAge + `}, "action": {"type": "expire"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if policy.Equal(mustLoad(t, base), mustLoad(t, other)) {
				t.Errorf("Equal() = true for policies that differ in %s", name)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	p := mustLoad(t, `{"rules":[
	  {"rulePriority":2,"selection":{"countNumber":5,"countType":"imageCountMoreThan","tagPatternList":["v*","a*"],"tagStatus":"tagged","storageClass":"standard"},"action":{"type":"expire"}},
	  {"action":{"type":"transition","targetStorageClass":"archive"},"rulePriority":1,"description":"archive","selection":{"tagStatus":"untagged","countType":"sinceImagePulled","countUnit":"days","countNumber":90}}]}`)
	want := `{
  "rules": [
    {
      "rulePriority": 1,
      "description": "archive",
      "selection": {
        "tagStatus": "untagged",
        "countType": "sinceImagePulled",
        "countUnit": "days",
        "countNumber": 90
      },
      "action": {
        "type": "transition",
        "targetStorageClass": "archive"
      }
    },
    {
      "rulePriority": 2,
      "selection": {
        "tagStatus": "tagged",
        "tagPatternList": [
          "a*",
          "v*"
        ],
        "countType": "imageCountMoreThan",
        "countNumber": 5
      },
      "action": {
        "type": "expire"
      }
    }
  ]
}
`
	got := string(policy.Format(p))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Format() mismatch (-want +got):\n%s", diff)
	}
	// The normalised form is itself valid and a fixed point.
	again := mustLoad(t, got)
	if string(policy.Format(again)) != got {
		t.Errorf("Format(Format(p)) != Format(p)")
	}
	if p.Rules[0].RulePriority != 2 {
		t.Errorf("Format() modified its argument")
	}
}
