package policy_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// lintLines renders findings as "path [check] message", infos as "info: path [check] message".
func lintLines(ws []*policy.Warning) []string {
	var got []string
	for _, w := range ws {
		line := w.Path + " [" + w.Check + "] " + w.Msg
		if w.Level() == policy.SeverityInfo {
			line = "info: " + line
		}
		got = append(got, line)
	}
	return got
}

// checkLint compares findings with want, each a prefix of one line of lintLines, in order.
func checkLint(t *testing.T, ws []*policy.Warning, want []string) {
	t.Helper()
	got := lintLines(ws)
	if len(got) != len(want) {
		t.Fatalf("Lint() = %d findings:\n%s\nwant %d:\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	for i := range got {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("Lint() finding %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
	for _, w := range ws {
		// Messages name rules by priority; only Path uses the 0-based JSON index.
		if strings.Contains(w.Msg, "rules[") || strings.Contains(w.Msg, "rule 1") || strings.Contains(w.Msg, "rule 2") {
			t.Errorf("Lint() message %q names a rule by its JSON index or a bare number; want \"the rule with priority N\"", w.Msg)
		}
	}
}

const (
	keepAnyFive = `"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5`
	anyOld      = `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 90`
	taggedAll   = `"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 9999`
)

func TestLint(t *testing.T) {
	t.Parallel()
	keepV := rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10`, expire)
	tests := []struct {
		name string
		text string
		// want holds "path [check] message fragment" for each finding, in order, with
		// "info: " before infos.
		want []string
	}{
		{"clean", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10`, expire)), nil},
		{"and trap", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["sha-", "v", "latest", "staging", "main"], "countType": "imageCountMoreThan", "countNumber": 9999`, expire),
			rule("2", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 60`, expire)),
			[]string{`rules[0].selection.tagPrefixList [and-trap] 5 prefixes in one list are ANDed: the rule with priority 1 selects only images that carry tags matching every one of "sha-", "v", "latest", "staging", "main" at the same time, which few images do. Images it misses fall through to the rule with priority 2, which expires images pushed more than 60 days ago. To select images with any one of them, write one rule per prefix.`}},
		{"and trap in patterns", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["prod*", "*-stable"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{`rules[1].selection.tagPatternList [and-trap] 2 patterns in one list are ANDed: the rule with priority 2 selects only`}},
		{"shadowed by broader prefix", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["release-candidate"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2] [shadowed-rule] the rule with priority 3 can never act: the rule with priority 2 identifies every image it selects, and an image a higher-priority rule identifies is never acted on by a lower one, whatever the higher rule's count or age criterion does with it. Give it a smaller rulePriority than 2, or narrow the rule with priority 2`}},
		{"shadowed by pattern", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": ["pr-*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2] [shadowed-rule] the rule with priority 3 can never act: the rule with priority 2 identifies`}},
		{"shadowed by one entry of an AND list", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": ["v1.*", "*-rc"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2].selection.tagPatternList [and-trap]`, `rules[2] [shadowed-rule] the rule with priority 3 can never act: the rule with priority 2 identifies`}},
		{"shadowed in document order unlike priority order", doc(
			rule("20", `"tagStatus": "tagged", "tagPrefixList": ["v1"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("10", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 5`, expire),
			rule("30", untaggedAge, expire)),
			[]string{`rules[0] [shadowed-rule] the rule with priority 20 can never act: the rule with priority 10 identifies`}},
		// The real-world shape: "keep everything tagged" and "expire untagged" above an
		// "any" rule leave it nothing, whatever the counts.
		{"any shadowed by tagged * and untagged", doc(
			rule("1", taggedAll, expire),
			rule("2", untaggedAge, expire),
			rule("3", anyOld, expire)),
			[]string{`rules[2] [shadowed-rule] the rule with priority 3 can never act: together, the rules with priorities 1 and 2 identify every image it selects, and an image a higher-priority rule identifies is never acted on by a lower one, whatever the higher rule's count or age criterion does with it. Remove it, or narrow the rules above it`}},
		{"any shadowed though the tagged rule keeps few", doc(
			rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": [""], "countType": "imageCountMoreThan", "countNumber": 2`, expire),
			rule("3", keepAnyFive, expire)),
			[]string{`rules[1].selection.tagPrefixList[0] [empty-tag-entry]`,
				`rules[2] [shadowed-rule] the rule with priority 3 can never act: together, the rules with priorities 1 and 2 identify`}},
		{"any not shadowed without an untagged rule", doc(rule("1", taggedAll, expire), rule("2", anyOld, expire)), nil},
		{"any not shadowed by a narrower tagged rule", doc(
			rule("1", `"tagStatus": "tagged", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 9999`, expire),
			rule("2", untaggedAge, expire),
			rule("3", anyOld, expire)), nil},
		{"tagged shadowed by tagged * alone, with an untagged rule beside", doc(
			rule("1", taggedAll, expire),
			rule("2", untaggedAge, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["pr-"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)),
			[]string{`rules[2] [shadowed-rule] the rule with priority 3 can never act: the rule with priority 1 identifies`}},
		{"any in the archive class not shadowed by standard rules", doc(
			rule("1", taggedAll, archive),
			rule("2", untaggedAge, expire),
			rule("3", `"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire)), nil},
		{"not shadowed: narrower higher rule", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["release-candidate"], "countType": "imageCountMoreThan", "countNumber": 100`, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire)), nil},
		{"not shadowed: other storage class", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v1"], "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire),
			rule("3", untaggedAge, expire)), nil},
		// The real-world shape: a deliberate one-rule "keep the last N" policy.
		{"lone keep-N any rule is an info", doc(rule("1", keepAnyFive, expire)),
			[]string{`info: rules[0] [any-keeps-few] the rule with priority 1 keeps the 5 newest images of the repository, tagged or not, and expires the rest; as the only rule for standard images, that is usually the intent. ECR does not document whether index children (the per-platform images and attestations of a multi-arch image, which it never expires while their index exists) count toward the 5; shipshape assumes they do, so fewer than 5 multi-arch builds may survive`}},
		{"keep-N any rule beside archive rules is an info", doc(
			rule("1", keepAnyFive, expire),
			rule("2", `"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire)),
			[]string{`info: rules[0] [any-keeps-few]`}},
		{"keep-N any rule below an untagged rule is a warning", doc(rule("1", untaggedAge, expire), rule("2", keepAnyFive, expire)),
			[]string{`rules[1] [any-keeps-few] the rule with priority 2 keeps only the 5 newest images of the whole repository and expires every other one, tagged releases included: no tagged rule above it protects them. Keep what must stay with higher-priority tagged rules (one per tag prefix), and let this rule clean up the rest. ECR does not document whether index children`}},
		{"keep-N any rule below a tagged transition rule", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive),
			rule("2", keepAnyFive, expire)), nil},
		{"keep-N any rule protected by a tagged rule", doc(keepV, rule("2", keepAnyFive, expire)), nil},
		{"lone age any rule stays a warning", doc(rule("1", anyOld, expire)),
			[]string{`rules[0] [any-expires-by-age] the rule with priority 1 expires every image pushed more than 90 days ago`}},
		{"any expires by age", doc(rule("1", untaggedAge, expire), rule("2", anyOld, expire)),
			[]string{`rules[1] [any-expires-by-age] the rule with priority 2 expires every image pushed more than 90 days ago`}},
		{"any protected by tagged rule", doc(keepV, rule("2", anyOld, expire)), nil},
		{"pattern without wildcard", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "tagged", "tagPatternList": ["sha-"], "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[1].selection.tagPatternList[0] [pattern-without-wildcard] "sha-" has no wildcard, so it matches only the tag "sha-" itself; write "sha-*"`}},
		{"exact tag pattern is fine", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "tagged", "tagPatternList": ["latest"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)), nil},
		// A rule that identifies nothing is not also reported as shadowed.
		{"empty entries", doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": [""], "countType": "imageCountMoreThan", "countNumber": 5`, expire),
			rule("3", `"tagStatus": "tagged", "tagPatternList": [""], "countType": "imageCountMoreThan", "countNumber": 5`, expire)),
			[]string{`rules[1].selection.tagPrefixList[0] [empty-tag-entry] the empty prefix matches every tag`,
				`rules[2].selection.tagPatternList[0] [empty-tag-entry] the empty pattern matches no tag, so the rule with priority 3 never selects anything`}},
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
			checkLint(t, policy.Lint(mustLoad(t, tt.text)), tt.want)
		})
	}
}

func TestLintImpossibleTags(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 129)
	tests := []struct {
		name string
		list string // a tag list property
		// want is the message of the finding about the list's first entry, or "" for none.
		want string
	}{
		{"prefix starting with '-'", `"tagPrefixList": ["-production-"]`,
			`"-production-" starts with "-", but every image tag starts with a letter, a digit or '_'; this entry never matches; to match the tags that contain it, use "tagPatternList": ["*-production-*"]`},
		{"pattern starting with '-'", `"tagPatternList": ["-production-"]`,
			`"-production-" starts with "-", but every image tag starts with a letter, a digit or '_'; this entry never matches; to match the tags that contain it, write "*-production-*"`},
		{"pattern starting with '.'", `"tagPatternList": [".build*"]`, `".build*" starts with ".", but every image tag`},
		{"prefix starting with '.'", `"tagPrefixList": [".x"]`, `".x" starts with "."`},
		{"suggestion would exceed the wildcard limit", `"tagPatternList": ["-a*b*c*d"]`,
			`"-a*b*c*d" starts with "-", but every image tag starts with a letter, a digit or '_'; this entry never matches`},
		{"wildcard before '-' is fine", `"tagPatternList": ["*-production-*"]`, ""},
		{"leading '_' is fine", `"tagPrefixList": ["_tmp"]`, ""},
		{"leading digit is fine", `"tagPrefixList": ["2024."]`, ""},
		{"slash", `"tagPrefixList": ["team/app"]`, `"team/app" contains "/", which no image tag can contain`},
		{"colon", `"tagPatternList": ["app:*"]`, `"app:*" contains ":"`},
		{"space", `"tagPatternList": ["v 1*"]`, `"v 1*" contains " "`},
		{"non-ASCII letter", `"tagPatternList": ["café*"]`, `"café*" contains "é"`},
		{"plus, as in semver build metadata", `"tagPrefixList": ["1.0+"]`, `"1.0+" contains "+"`},
		{"wildcard in a prefix", `"tagPrefixList": ["release-*"]`,
			`"release-*" contains '*', but a tagPrefixList entry is a plain prefix: its '*' is a literal character, which no tag contains; this entry never matches. Wildcards work only in tagPatternList: write "tagPatternList": ["release-*"]`},
		{"prefix longer than any tag", `"tagPrefixList": ["` + long + `"]`, `"` + long + `" needs at least 129 characters, but an image tag has at most 128; this entry never matches`},
		{"prefix as long as a tag may be", `"tagPrefixList": ["` + long[:128] + `"]`, ""},
		{"pattern longer than any tag", `"tagPatternList": ["` + long + `*"]`, `"` + long + `*" needs at least 129 characters`},
		{"wildcards do not count toward the length", `"tagPatternList": ["*` + long[:64] + `*` + long[:64] + `*"]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := doc(rule("1", untaggedAge, expire),
				rule("2", `"tagStatus": "tagged", `+tt.list+`, "countType": "imageCountMoreThan", "countNumber": 5`, expire))
			var want []string
			if tt.want != "" {
				want = []string{"[impossible-tag] " + tt.want}
			}
			var got []string
			for _, w := range policy.Lint(mustLoad(t, text)) {
				got = append(got, "["+w.Check+"] "+w.Msg)
			}
			if len(got) != len(want) || len(want) == 1 && !strings.HasPrefix(got[0], want[0]) {
				t.Errorf("Lint() = %q, want one finding starting %q (none when empty)", got, want)
			}
		})
	}
}

// TestLintInvalidPolicies checks that Lint reports what it can read with certainty in a
// policy Load rejects, and nothing it cannot.
func TestLintInvalidPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"and trap beside a count error", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v", "main"], "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 9999`, expire),
			rule("2", anyOld, expire)),
			[]string{`rules[0].selection.tagPrefixList [and-trap] 2 prefixes in one list are ANDed: the rule with priority 1 selects only images that carry tags matching every one of "v", "main" at the same time, which few images do. Images it misses fall through to the rule with priority 2, which expires images pushed more than 90 days ago.`}},
		{"shadowed beside an action error", doc(
			rule("1", taggedAll, `"type": "Expire"`),
			rule("2", untaggedAge, expire),
			rule("3", anyOld, expire)),
			[]string{`rules[2] [shadowed-rule] the rule with priority 3 can never act: together, the rules with priorities 1 and 2`}},
		{"impossible entry in a rule missing its countType", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["-rc"], "countNumber": 3`, expire), rule("2", untaggedAge, expire)),
			[]string{`rules[0].selection.tagPrefixList[0] [impossible-tag] "-rc" starts with "-"`}},
		{"lone keep-N rule with a bad description", doc(`{"rulePriority": 1, "description": 5, "selection": {` + keepAnyFive + `}, "action": {"type": "expire"}}`),
			[]string{`info: rules[0] [any-keeps-few]`}},
		{"empty rules", `{"rules": []}`, nil},
		{"rules not an array", `{"rules": {}}`, nil},
		{"rule not an object", `{"rules": [5, "x", null]}`, nil},
		// A tagged rule with no list identifies nothing Lint can rely on: it might protect
		// tagged images, and might select untagged ones once fixed.
		{"tagged rule without a list", doc(
			rule("1", `"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", anyOld, expire)), nil},
		{"both lists", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", untaggedAge, expire),
			rule("3", `"tagStatus": "tagged", "tagPrefixList": ["v1"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)), nil},
		{"tag status in the wrong case", doc(
			rule("1", `"tagStatus": "Tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", anyOld, expire)), nil},
		// "ARCHIVE" decodes to nothing; read as the default, standard, this rule would
		// shadow the next one.
		{"storage class in the wrong case", doc(
			rule("1", `"tagStatus": "tagged", "tagPatternList": ["*"], "storageClass": "ARCHIVE", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("3", untaggedAge, expire)), nil},
		// The null drops out when decoding, so the list would shift; it is skipped whole.
		{"null in a tag list", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v", null, "v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", untaggedAge, expire)), nil},
		{"list of the wrong type", doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": "v", "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", untaggedAge, expire)), nil},
		// Which of two rules with one priority ECR would apply first is unknown.
		{"shared priority", doc(
			rule("1", taggedAll, expire),
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", untaggedAge, expire)), nil},
		{"missing priority", doc(
			`{"selection": {`+taggedAll+`}, "action": {"type": "expire"}}`,
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v", "w"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("3", untaggedAge, expire)),
			[]string{`rules[1].selection.tagPrefixList [and-trap] 2 prefixes in one list are ANDed: the rule with priority 2 selects`}},
		{"and trap in a rule without a priority", doc(
			`{"selection": {"tagStatus": "tagged", "tagPrefixList": ["v", "w"], "countType": "imageCountMoreThan", "countNumber": 3}, "action": {"type": "expire"}}`,
			rule("2", untaggedAge, expire)),
			[]string{`rules[0].selection.tagPrefixList [and-trap] 2 prefixes in one list are ANDed: this rule selects only images that carry tags matching every one of "v", "w" at the same time, which few images do. To select`}},
		// "any" must come last; Lint explains what the order would do.
		{"any not last", doc(rule("1", keepAnyFive, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{`rules[0] [any-keeps-few] the rule with priority 1 keeps only`,
				`rules[1] [shadowed-rule] the rule with priority 2 can never act: the rule with priority 1 identifies`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := policy.Load([]byte(tt.text))
			if err == nil {
				t.Fatalf("Load() = nil error, want the policy to be invalid")
			}
			if p == nil {
				t.Fatalf("Load() = nil policy with %v, want the policy it could read", err)
			}
			checkLint(t, policy.Lint(p), tt.want)
		})
	}
}

// TestShadowedRulesNeverAct checks shadowed-rule against Evaluate: over images of every
// kind, a rule Lint calls shadowed acts on none, though its criterion selects some.
func TestShadowedRulesNeverAct(t *testing.T) {
	t.Parallel()
	texts := map[string]string{
		"any below tagged * and untagged": doc(
			rule("1", `"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 2`, expire),
			rule("2", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1`, expire),
			rule("3", `"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
		"any below empty prefix and untagged": doc(
			rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": [""], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3000`, expire),
			rule("3", anyOld, expire)),
		"prefix below broader prefix": doc(
			rule("1", `"tagStatus": "tagged", "tagPrefixList": ["release"], "countType": "imageCountMoreThan", "countNumber": 1`, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["release-candidate"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7`, expire),
			rule("3", untaggedAge, expire)),
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var images []inventory.Image
	tags := [][]string{nil, {"v1"}, {"latest"}, {"release-1"}, {"release-candidate-2"}, {"release-candidate-3", "v2"}, {"pr-7"}, {"_x"}, {"0"}}
	for i := range 60 {
		images = append(images, inventory.Image{
			Digest:   fmt.Sprintf("sha256:%04d", i),
			Tags:     tags[i%len(tags)],
			PushedAt: now.Add(-time.Duration(i*72) * time.Hour),
		})
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := mustLoad(t, text)
			var shadowed []string
			for _, w := range policy.Lint(p) {
				if w.Check == policy.CheckShadowed {
					shadowed = append(shadowed, w.Path)
				}
			}
			if len(shadowed) != 1 {
				t.Fatalf("Lint() shadowed rules at %q, want one", shadowed)
			}
			var i int
			if _, err := fmt.Sscanf(shadowed[0], "rules[%d]", &i); err != nil {
				t.Fatal(err)
			}
			res := policy.Evaluate(p, images, now)
			for _, rr := range res.Rules {
				if rr.RulePriority != p.Rules[i].RulePriority {
					continue
				}
				if rr.Acted != 0 || rr.Selected == 0 {
					t.Errorf("Evaluate() rule with priority %d: acted on %d, selected %d; want 0 acted of some selected", rr.RulePriority, rr.Acted, rr.Selected)
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
