package policy_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

// rule builds one rule's JSON from its selection and action bodies.
func rule(priority, selection, action string) string {
	return `{"rulePriority": ` + priority + `, "description": "a rule written for a validation test case",
	  "selection": {` + selection + `}, "action": {` + action + `}}`
}

func doc(rules ...string) string {
	return `{"rules": [` + strings.Join(rules, ",\n") + `]}`
}

const (
	untaggedAge = `"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1`
	expire      = `"type": "expire"`
	archive     = `"type": "transition", "targetStorageClass": "archive"`
)

func TestLoadAcceptsAWSDocumentationPolicies(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/aws/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test policies: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := policy.Load(text); err != nil {
				t.Errorf("Load() = %v, want no error", err)
			}
		})
	}
}

func TestLoadAcceptsValidCombinations(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"count expire":              doc(rule("1", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
		"count transition":          doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, archive)),
		"pushed transition":         doc(rule("1", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive)),
		"pulled transition":         doc(rule("1", `"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30`, archive)),
		"transitioned 90 days":      doc(rule("1", `"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90`, expire)),
		"explicit standard":         doc(rule("1", `"tagStatus": "untagged", "storageClass": "standard", "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
		"priorities not sequential": doc(rule("10", untaggedAge, expire), rule("3", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
		"untagged in each class": doc(rule("1", untaggedAge, expire),
			rule("2", `"tagStatus": "untagged", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 90`, expire)),
		"any last per class": doc(rule("1", `"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire)),
		"same tags other class": doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30`, archive),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire)),
		"prefix and pattern rules mixed": doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", `"tagStatus": "tagged", "tagPatternList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
		"four wildcards": doc(rule("1", `"tagStatus": "tagged", "tagPatternList": ["*a*b*c*"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
		"fifty rules":    doc(manyRules(50)...),
		"unicode description counts characters": `{"rules": [{"rulePriority": 1, "description": "` + strings.Repeat("é", 10) + `",
		  "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := policy.Load([]byte(text)); err != nil {
				t.Errorf("Load() = %v, want no error", err)
			}
		})
	}
}

func manyRules(n int) []string {
	rules := make([]string, n)
	for i := range rules {
		p := strings.Repeat("x", i+1)
		rules[i] = `{"rulePriority": ` + itoa(i+1) + `, "selection": {"tagStatus": "tagged", "tagPrefixList": ["` + p +
			`"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}`
	}
	return rules
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		// want holds "path: message fragment" for every error, in order.
		want []string
	}{
		{"empty", ``, []string{": the policy is empty"}},
		{"malformed", "{\"rules\": [\n  {\"rulePriority\": 1,,}\n]}", []string{": invalid character ','"}},
		{"trailing data", doc(rule("1", untaggedAge, expire)) + ` {}`, []string{": unexpected data after the end"}},
		{"line comment", "// keep releases\n" + doc(rule("1", untaggedAge, expire)), []string{": invalid JSON: JSON has no comments: remove this // comment"}},
		{"line comment in an object", "{\n  \"rules\": [ // one rule\n" + rule("1", untaggedAge, expire) + "]}", []string{": invalid JSON: JSON has no comments: remove this // comment"}},
		{"block comment after a value", doc(rule("1 /* first */", untaggedAge, expire)), []string{": invalid JSON: JSON has no comments: remove this /* */ comment"}},
		{"comment after the policy", doc(rule("1", untaggedAge, expire)) + "\n// end\n", []string{": invalid JSON: JSON has no comments: remove this // comment"}},
		{"a slash that starts no comment", `{"rules": /` + strings.Repeat(" ", 100) + `}`, []string{": invalid JSON: invalid character '/' looking for beginning of value"}},
		{"not an object", `["` + strings.Repeat("x", 120) + `"]`, []string{`: a lifecycle policy must be a JSON object`}},
		{"no rules key", `{"description": "` + strings.Repeat("x", 120) + `"}`, []string{
			"rules: missing", "description: unknown property"}},
		{"empty rules", `{"rules": []}` + strings.Repeat(" ", 100), []string{"rules: must contain at least one rule"}},
		{"too many rules", doc(manyRules(51)...), []string{"rules: has 51 rules; ECR allows at most 50"}},
		{"below 100 characters", `{"rules": []}`, []string{"rules: must contain at least one rule", ": policy text is 13 characters; ECR accepts 100 to 30720"}},
		{"too long", doc(rule("1", untaggedAge, expire))[:0] + `{"rules": [{"rulePriority": 1, "description": "` + strings.Repeat("x", 30700) + `",
		  "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}]}`,
			[]string{": policy text is 30"}},
		{"unknown top-level key", doc(rule("1", untaggedAge, expire))[:len(doc(rule("1", untaggedAge, expire)))-1] + `, "version": 1}`,
			[]string{"version: unknown property"}},
		{"unknown rule key", doc(`{"rulePriority": 1, "priority": 2, "selection": {` + untaggedAge + `}, "action": {"type": "expire"}}`),
			[]string{"rules[0].priority: unknown property"}},
		{"unknown selection key", doc(rule("1", untaggedAge+`, "tagFilter": "x"`, expire)), []string{"rules[0].selection.tagFilter: unknown property"}},
		{"unknown action key", doc(rule("1", untaggedAge, expire+`, "dryRun": true`)), []string{"rules[0].action.dryRun: unknown property"}},
		{"null field", doc(rule("1", untaggedAge, expire+`, "targetStorageClass": null`)), []string{"rules[0].action.targetStorageClass: must not be null"}},
		{"null list entry", doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": [null], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.tagPrefixList: must list at least one prefix", "rules[0].selection.tagPrefixList[0]: must not be null"}},
		{"null rules", `{"rules": null}` + strings.Repeat(" ", 100), []string{"rules: must not be null"}},
		{"duplicate key", doc(rule("1", untaggedAge+`, "countNumber": 2`, expire)), []string{`: invalid JSON: duplicate key "countNumber"`}},
		{"priority as string", doc(rule(`"1"`, untaggedAge, expire)), []string{`rules[0].rulePriority: must be a number, found the string "1"`}},
		{"priority fraction", doc(rule("1.5", untaggedAge, expire)), []string{"rules[0].rulePriority: must be an integer, found 1.5"}},
		{"priority exponent", doc(rule("1e2", untaggedAge, expire)), []string{"rules[0].rulePriority: must be an integer, found 1e2"}},
		{"priority zero", doc(rule("0", untaggedAge, expire)), []string{"rules[0].rulePriority: must be at least 1, found 0"}},
		{"priority negative", doc(rule("-3", untaggedAge, expire)), []string{"rules[0].rulePriority: must be at least 1, found -3"}},
		{"priority huge", doc(rule("99999999999", untaggedAge, expire)), []string{"rules[0].rulePriority: 99999999999 is out of range"}},
		{"priority missing", doc(`{"selection": {` + untaggedAge + `}, "action": {"type": "expire"}, "description": "no priority given here at all"}`),
			[]string{"rules[0].rulePriority: missing"}},
		{"priority duplicate", doc(rule("1", untaggedAge, expire), rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{"rules[1].rulePriority: 1 is already used by rules[0]"}},
		{"selection missing", doc(`{"rulePriority": 1, "action": {"type": "expire"}, "description": "a rule without a selection object"}`),
			[]string{"rules[0].selection: missing"}},
		{"action missing", doc(`{"rulePriority": 1, "selection": {` + untaggedAge + `}}`), []string{"rules[0].action: missing"}},
		{"selection wrong type", doc(`{"rulePriority": 1, "selection": "untagged", "action": {"type": "expire"}, "description": "padding padding"}`),
			[]string{`rules[0].selection: must be an object, found the string "untagged"`}},
		{"tagStatus wrong case", doc(rule("1", `"tagStatus": "Untagged", "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagStatus: must be one of "tagged", "untagged", "any", found "Untagged"; values are case-sensitive: write "untagged"`}},
		{"tagStatus missing", doc(rule("1", `"countType": "imageCountMoreThan", "countNumber": 1`, expire)), []string{"rules[0].selection.tagStatus: missing"}},
		{"tagged without list", doc(rule("1", `"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagStatus: "tagged" needs a tagPatternList or a tagPrefixList saying which tags to select; to select every tagged image, add "tagPatternList": ["*"]`}},
		{"tagged with empty list", doc(rule("1", `"tagStatus": "tagged", "tagPatternList": [], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.tagPatternList: must list at least one pattern"}},
		{"both lists", doc(rule("1", `"tagStatus": "tagged", "tagPatternList": ["v*"], "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.tagPrefixList: cannot be used together with tagPatternList"}},
		{"untagged with prefix list", doc(rule("1", `"tagStatus": "untagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagPrefixList: is only allowed when tagStatus is "tagged" (found "untagged")`}},
		{"any with pattern list", doc(rule("1", `"tagStatus": "any", "tagPatternList": ["v*"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagPatternList: is only allowed when tagStatus is "tagged" (found "any")`}},
		{"list not array", doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": "v", "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagPrefixList: must be an array, found the string "v"`}},
		{"list entry not string", doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": ["v", 2], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.tagPrefixList[1]: must be a string, found a number 2"}},
		{"five wildcards", doc(rule("1", `"tagStatus": "tagged", "tagPatternList": ["ok*", "test*1*2*3*4*5*6"], "countType": "imageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.tagPatternList[1]: "test*1*2*3*4*5*6" has 6 wildcards; ECR allows at most 4`}},
		{"countType wrong case", doc(rule("1", `"tagStatus": "untagged", "countType": "ImageCountMoreThan", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.countType: must be one of`}},
		{"countType missing", doc(rule("1", `"tagStatus": "untagged", "countNumber": 1`, expire)), []string{"rules[0].selection.countType: missing"}},
		{"countUnit with count", doc(rule("1", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.countUnit: must be omitted when countType is imageCountMoreThan"}},
		{"countUnit missing", doc(rule("1", `"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 1`, expire)),
			[]string{"rules[0].selection.countUnit: missing: required when countType is sinceImagePushed"}},
		{"countUnit hours", doc(rule("1", `"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "hours", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.countUnit: must be "days", found "hours"`}},
		{"countUnit wrong case", doc(rule("1", `"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "Days", "countNumber": 1`, expire)),
			[]string{`rules[0].selection.countUnit: must be "days", found "Days"; values are case-sensitive`}},
		{"countNumber zero", doc(rule("1", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 0`, expire)),
			[]string{"rules[0].selection.countNumber: must be a positive integer (0 is not accepted), found 0"}},
		{"countNumber missing", doc(rule("1", `"tagStatus": "untagged", "countType": "imageCountMoreThan"`, expire)),
			[]string{"rules[0].selection.countNumber: missing: imageCountMoreThan needs a countNumber"}},
		{"countNumber string", doc(rule("1", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": "5"`, expire)),
			[]string{`rules[0].selection.countNumber: must be a number, found the string "5"`}},
		{"storageClass wrong case", doc(rule("1", untaggedAge+`, "storageClass": "STANDARD"`, expire)),
			[]string{`rules[0].selection.storageClass: must be one of "standard", "archive", found "STANDARD"; values are case-sensitive: write "standard"`}},
		{"archive with pushed", doc(rule("1", untaggedAge+`, "storageClass": "archive"`, expire)),
			[]string{`rules[0].selection.storageClass: "archive" is only allowed with countType sinceImageTransitioned`}},
		{"transitioned without archive", doc(rule("1", `"tagStatus": "any", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, expire)),
			[]string{`rules[0].selection.storageClass: must be "archive" when countType is sinceImageTransitioned`}},
		{"transitioned under 90 days", doc(rule("1", `"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 89`, expire)),
			[]string{"rules[0].selection.countNumber: must be at least 90"}},
		{"transitioned with transition", doc(rule("1", `"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365`, archive)),
			[]string{`rules[0].action.type: countType sinceImageTransitioned only works with "expire"`}},
		{"pulled with expire", doc(rule("1", `"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30`, expire)),
			[]string{`rules[0].action.type: countType sinceImagePulled only works with "transition"`}},
		{"action type wrong case", doc(rule("1", untaggedAge, `"type": "Expire"`)),
			[]string{`rules[0].action.type: must be one of "expire", "transition", found "Expire"; values are case-sensitive: write "expire"`}},
		{"action type unknown", doc(rule("1", untaggedAge, `"type": "delete"`)), []string{`rules[0].action.type: must be one of "expire", "transition", found "delete"`}},
		{"action type missing", doc(rule("1", untaggedAge, `"targetStorageClass": "archive"`)), []string{"rules[0].action.type: missing"}},
		{"transition without target", doc(rule("1", untaggedAge, `"type": "transition"`)),
			[]string{`rules[0].action.targetStorageClass: missing: a transition needs targetStorageClass "archive"`}},
		{"transition to standard", doc(rule("1", untaggedAge, `"type": "transition", "targetStorageClass": "standard"`)),
			[]string{`rules[0].action.targetStorageClass: must be "archive", found "standard"`}},
		{"target with expire", doc(rule("1", untaggedAge, `"type": "expire", "targetStorageClass": "archive"`)),
			[]string{`rules[0].action.targetStorageClass: is only allowed when the action type is "transition"`}},
		{"any not last", doc(rule("1", `"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5`, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{`rules[0].selection.tagStatus: a rule with tagStatus "any" must have the highest rulePriority among the standard rules, but rules[1] (priority 2) comes after it`}},
		{"two untagged rules", doc(rule("1", untaggedAge, expire), rule("2", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 3`, expire)),
			[]string{"rules[1].selection.tagStatus: only one standard rule may select untagged images, and rules[0] already does"}},
		{"same prefix set twice", doc(rule("1", `"tagStatus": "tagged", "tagPrefixList": ["a", "b"], "countType": "imageCountMoreThan", "countNumber": 3`, expire),
			rule("2", `"tagStatus": "tagged", "tagPrefixList": ["b", "a"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 3`, expire)),
			[]string{"rules[1].selection.tagPrefixList: selects the same tags as rules[0]"}},
		{"every problem reported", doc(rule("0", `"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 0`, `"type": "transition"`)),
			[]string{"rules[0].rulePriority: must be at least 1", "rules[0].selection.countUnit: must be omitted", "rules[0].selection.countNumber: must be a positive integer",
				"rules[0].action.targetStorageClass: missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Load([]byte(tt.text))
			var list policy.ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatalf("Load() error %T %v, want an ErrorList", err, err)
			}
			if len(list) != len(tt.want) {
				t.Fatalf("Load() = %d errors:\n%v\nwant %d:\n%s", len(list), err, len(tt.want), strings.Join(tt.want, "\n"))
			}
			for i, w := range tt.want {
				path, frag, _ := strings.Cut(w, ": ")
				if list[i].Path != path || !strings.Contains(list[i].Msg, frag) {
					t.Errorf("Load() error %d = %q (path %q), want path %q and a message containing %q", i, list[i].Error(), list[i].Path, path, frag)
				}
			}
		})
	}
}

func TestLoadReportsLineAndColumn(t *testing.T) {
	t.Parallel()
	text := "{\n  \"rules\": [\n    {\n      \"rulePriority\": 1,\n      \"description\": \"expire untagged images after one day\",\n" +
		"      \"selection\": {\"tagStatus\": \"untagged\", \"countType\": \"imageCountMoreThan\", \"countUnit\": \"days\", \"countNumber\": 1},\n" +
		"      \"action\": {\"type\": \"expire\"}\n    }\n  ]\n}\n"
	_, err := policy.Load([]byte(text))
	var list policy.ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("Load() = %v, want one error", err)
	}
	if got := list[0]; got.Line != 6 || got.Column != 94 {
		t.Errorf("Load() error at %d:%d, want 6:94 (the countUnit value)", got.Line, got.Column)
	}

	_, err = policy.Load([]byte("{\"rules\": [\n  {\"rulePriority\": 1,,}\n]}"))
	if !errors.As(err, &list) || len(list) != 1 || list[0].Line != 2 || list[0].Column != 21 {
		t.Errorf("Load(malformed) = %+v, want one error at 2:21", list)
	}
}

func TestLoadPointsAtComments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		line, col  int
	}{
		{"before the policy", "// policy\n{}", 1, 1},
		{"before a key", "{\n  // the rules\n  \"rules\": []}", 2, 3},
		{"at a value's start", `{"rules": [ /* none */ ]}`, 1, 13},
		{"after a value", `{"rules": [1 /* one */]}`, 1, 14},
		{"after the policy", "{\"rules\": []} // end", 1, 15},
		{"a slash at a value's start", `{"rules": / }`, 1, 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := policy.Load([]byte(tt.text))
			var list policy.ErrorList
			if !errors.As(err, &list) || len(list) != 1 || list[0].Line != tt.line || list[0].Column != tt.col {
				t.Errorf("Load(%q) = %v, want one error at %d:%d", tt.text, err, tt.line, tt.col)
			}
		})
	}
}

// TestLoadReturnsWhatItCouldRead checks the contract Lint relies on for invalid policies:
// Load returns the policy alongside its errors whenever the text is JSON.
func TestLoadReturnsWhatItCouldRead(t *testing.T) {
	t.Parallel()
	text := doc(rule("1", untaggedAge, `"type": "delete"`), rule("2", `"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 3`, expire))
	p, err := policy.Load([]byte(text))
	if err == nil || p == nil || len(p.Rules) != 2 || p.Rules[1].Selection.TagPrefixList[0] != "v" {
		t.Errorf("Load(invalid) = %+v, %v; want both rules read and an error", p, err)
	}
	if p, err := policy.Load([]byte(`{"rules": [`)); err == nil || p != nil {
		t.Errorf("Load(not JSON) = %+v, %v; want no policy and an error", p, err)
	}
}

func TestValidateCodeBuiltPolicies(t *testing.T) {
	t.Parallel()
	p := &policy.Policy{Rules: []policy.Rule{{
		RulePriority: 1,
		Selection:    policy.Selection{TagStatus: policy.TagStatusUntagged, CountType: policy.CountImageCountMoreThan, CountNumber: 1},
		Action:       policy.Action{Type: policy.ActionExpire},
	}}}
	if err := policy.Validate(p); err != nil {
		t.Errorf("Validate(valid) = %v, want nil", err)
	}
	p.Rules[0].Selection.CountUnit = policy.CountUnitDays
	p.Rules[0].Action.Type = "delete"
	err := policy.Validate(p)
	want := "rules[0].selection.countUnit: must be omitted when countType is imageCountMoreThan\n" +
		`rules[0].action.type: must be "expire" or "transition", found "delete"`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}
