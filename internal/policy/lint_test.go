package policy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

func TestLint(t *testing.T) {
	t.Parallel()
	keepV := rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10`, expire)
	tests := []struct {
		name string
		text string
		// want holds "path [check] message fragment" for each warning, in order.
		want []string
	}{
		{"clean", doc(rule("1", untaggedAge, expire), keepV[:0]+rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10`, expire)), nil},
		{"and trap", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["sha-", "v", "latest", "staging", "main"], "countType": "imageCountMoreThan", "countNumber": 9999`, expire),
			rule("2", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 60`, expire)),
			[]string{`rules[0].selection.tagPrefixList [and-trap] 5 prefixes in one list are ANDed: this rule selects only images that carry tags matching every one of "sha-", "v", "latest", "staging", "main" at the same time, which few images do. Images this rule misses fall through to rule 2, which expires images pushed more than 60 days ago. To select images with any one of them, write one rule per prefix.`}},
		{"and trap in patterns", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["prod*", "*-stable"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{`rules[1].selection.tagPatternList [and-trap] 2 patterns in one list are ANDed`}},
		{"shadowed by broader prefix", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["release-candidate"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2] [shadowed-rule] can never act: rule 2 has a higher priority and identifies every image this rule selects`}},
		{"shadowed by pattern", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": ["pr-*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2] [shadowed-rule] can never act: rule 2`}},
		{"shadowed by one entry of an AND list", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": ["v1.*", "*-rc"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2].selection.tagPatternList [and-trap]`, `rules[2] [shadowed-rule] can never act: rule 2`}},
		{"not shadowed: narrower higher rule", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["release-candidate"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)), nil},
		{"not shadowed: other storage class", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v1"], "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire),
			rule("3", untaggedAge, expire)), nil},
		{"any keeps few", doc(rule("1", `"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[0] [any-keeps-few] keeps only the 5 newest images of the whole repository`}},
		{"any expires by age", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90`, expire)),
			[]string{`rules[1] [any-expires-by-age] expires every image pushed more than 90 days ago`}},
		{"any protected by tagged rule", doc(keepV, rule("2", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90`, expire)), nil},
		{"pattern without wildcard", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "tagged", "tagPatternList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[1].selection.tagPatternList[0] [pattern-without-wildcard] "sha-" has no wildcard, so it matches only the tag "sha-" itself; write "sha-*"`}},
		{"exact tag pattern is fine", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "tagged", "tagPatternList": ["latest"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)), nil},
		{"empty entries", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": [""], "countType": "imageCountMoreThan", "countNumber": 5`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": [""], "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[1].selection.tagPrefixList[0] [empty-tag-entry] the empty prefix matches every tag`,
				`rules[2].selection.tagPatternList[0] [empty-tag-entry] the empty pattern matches no tag`,
				`rules[2] [shadowed-rule]`}},
		{"impossible tag and duplicate", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["team/app", "team/app"], "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[1].selection.tagPrefixList[0] [impossible-tag] "team/app" contains "/"`,
				`rules[1].selection.tagPrefixList[1] [duplicate-tag-entry] "team/app" is listed twice`,
				`rules[1].selection.tagPrefixList [and-trap]`}},
		{"untagged never expire", doc(keepV), []string{`rules [untagged-never-expire] no rule selects untagged images`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ws := policy.Lint(mustLoad(t, tt.text))
			var got []string
			for _, w := range ws {
				got = append(got, w.Path+" ["+w.Check+"] "+w.Msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Lint() = %d warnings:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("Lint() warning %d = %q, want it to start with %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestLintPositions(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile("../../examples/policies/and-trap.json")
	if err != nil {
		t.Fatal(err)
	}
	ws := policy.Lint(mustLoad(t, string(text)))
	got := []int{}
	for _, w := range ws {
		got = append(got, w.Line)
	}
	if diff := cmp.Diff([]int{8}, got); diff != "" {
		t.Errorf("Lint() warning lines (-want +got):\n%s", diff)
	}
}

func TestExamplePoliciesAreValid(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"keep-streams.json", "archive-then-expire.json", "and-trap.json"} {
		text, err := os.ReadFile("../../examples/policies/" + name)
		if err != nil {
			t.Fatal(err)
		}
		p := mustLoad(t, string(text))
		if ws := policy.Lint(p); (len(ws) > 0) != (name == "and-trap.json") {
			t.Errorf("Lint(%s) = %d warnings", name, len(ws))
		}
	}
}
