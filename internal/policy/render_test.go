package policy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

func TestWriteProblems(t *testing.T) {
	t.Parallel()
	list := policy.ErrorList{
		{Path: "rules[0].action.type", Line: 7, Column: 17, Msg: "must be expire or transition"},
		{Line: 1, Column: 31, Msg: "invalid JSON"},
		{Msg: "policy text is 12 characters"},
	}
	ws := []*policy.Warning{{Path: "rules[0].selection.tagPrefixList", Line: 8, Column: 26, Check: "and-trap", Msg: "prefixes are ANDed"}}
	tests := []struct {
		name string
		r    policy.Report
		want string
	}{
		{
			name: "Errors",
			r:    policy.NewReport("p.json", nil, list, nil),
			want: "p.json: rules[0].action.type: must be expire or transition\n" +
				"> error p.json 7 17 rules[0].action.type: must be expire or transition\n" +
				"p.json:1:31: invalid JSON\n" +
				"> error p.json 1 31 line 1, column 31: invalid JSON\n" +
				"p.json: policy text is 12 characters\n" +
				"> error p.json 0 0 policy text is 12 characters\n",
		},
		{
			name: "ReadError",
			r:    policy.NewReport("p.json", nil, errors.New("reading p.json: no such file or directory"), nil),
			want: "p.json: reading p.json: no such file or directory\n" +
				"> error p.json 0 0 reading p.json: no such file or directory\n",
		},
		{
			name: "Warnings",
			r:    policy.NewReport("p.json", &policy.Policy{}, nil, ws),
			want: "p.json: rules[0].selection.tagPrefixList: prefixes are ANDed [and-trap]\n" +
				"> warning p.json 8 26 rules[0].selection.tagPrefixList: prefixes are ANDed\n",
		},
		{
			name: "Infos",
			r: policy.NewReport("p.json", &policy.Policy{}, nil, []*policy.Warning{
				{Path: "rules[0]", Line: 3, Column: 5, Check: "any-keeps-few", Severity: policy.SeverityInfo, Msg: "keeps the 5 newest"},
				{Path: "rules[1]", Check: "shadowed-rule", Severity: policy.SeverityWarning, Msg: "can never act"},
			}),
			want: "p.json: info: rules[0]: keeps the 5 newest [any-keeps-few]\n" +
				"> notice p.json 3 5 rules[0]: keeps the 5 newest\n" +
				"p.json: rules[1]: can never act [shadowed-rule]\n" +
				"> warning p.json 0 0 rules[1]: can never act\n",
		},
		{
			name: "ErrorsThenFindingsOfAnInvalidPolicy",
			r:    policy.NewReport("p.json", &policy.Policy{}, policy.ErrorList{{Path: "rules[0].action.type", Msg: "bad"}}, ws),
			want: "p.json: rules[0].action.type: bad\n" +
				"> error p.json 0 0 rules[0].action.type: bad\n" +
				"p.json: rules[0].selection.tagPrefixList: prefixes are ANDed [and-trap]\n" +
				"> warning p.json 8 26 rules[0].selection.tagPrefixList: prefixes are ANDed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			annotate := func(level, file string, line, col int, msg string) {
				fmt.Fprintf(&b, "> %s %s %d %d %s\n", level, file, line, col, msg)
			}
			if err := policy.WriteProblems(&b, tt.r, annotate); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("WriteProblems() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteValidationAndSummary(t *testing.T) {
	t.Parallel()
	valid := policy.NewReport("a.json", &policy.Policy{Rules: make([]policy.Rule, 1)}, nil, []*policy.Warning{{Msg: "w"}})
	invalid := policy.NewReport("b.json", nil, policy.ErrorList{{Msg: "bad"}}, nil)
	var b strings.Builder
	for _, r := range []policy.Report{valid, invalid} {
		if err := policy.WriteValidation(&b, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := policy.WriteLintSummary(&b, []policy.Report{valid, invalid}); err != nil {
		t.Fatal(err)
	}
	want := "a.json: valid (1 rule)\nb.json: bad\n2 files, 1 invalid, 1 warning\n"
	if got := b.String(); got != want {
		t.Errorf("WriteValidation(), WriteLintSummary() = %q, want %q", got, want)
	}
	if !valid.Valid || invalid.Valid || len(invalid.Errors) != 1 || valid.Errors == nil {
		t.Errorf("NewReport() = %+v, %+v; want the first valid with no errors (not nil), the second invalid with one", valid, invalid)
	}
}

func TestLintSummaryCountsInfosApart(t *testing.T) {
	t.Parallel()
	info := &policy.Warning{Check: "any-keeps-few", Severity: policy.SeverityInfo, Msg: "i"}
	warning := &policy.Warning{Check: "and-trap", Msg: "w"} // no severity: a warning
	tests := []struct {
		name string
		ws   [][]*policy.Warning // one report each
		want string
	}{
		{"no findings", [][]*policy.Warning{nil}, "1 file, 0 invalid, 0 warnings\n"},
		{"infos only", [][]*policy.Warning{{info}, {info}}, "2 files, 0 invalid, 0 warnings, 2 info\n"},
		{"both", [][]*policy.Warning{{info, warning}, {warning}}, "2 files, 0 invalid, 2 warnings, 1 info\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var reports []policy.Report
			for _, ws := range tt.ws {
				reports = append(reports, policy.NewReport("p.json", &policy.Policy{}, nil, ws))
			}
			var b strings.Builder
			if err := policy.WriteLintSummary(&b, reports); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("WriteLintSummary() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReportJSONCarriesSeverity(t *testing.T) {
	t.Parallel()
	p, err := policy.Load([]byte(doc(rule("1", `"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5`, expire))))
	if err != nil {
		t.Fatal(err)
	}
	r := policy.NewReport("p.json", p, nil, policy.Lint(p))
	if r.Count(policy.SeverityInfo) != 1 || r.Count(policy.SeverityWarning) != 0 {
		t.Errorf("Count() = %d infos, %d warnings; want 1, 0", r.Count(policy.SeverityInfo), r.Count(policy.SeverityWarning))
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Errors   []map[string]any `json:"errors"`
		Warnings []map[string]any `json:"warnings"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Warnings) != 1 {
		t.Fatalf("report JSON = %s, want one finding", b)
	}
	w := got.Warnings[0]
	for key, want := range map[string]any{"path": "rules[0]", "check": "any-keeps-few", "severity": "info"} {
		if w[key] != want {
			t.Errorf("report JSON finding %q = %v, want %v (in %s)", key, w[key], want, b)
		}
	}
	if _, ok := w["message"]; !ok {
		t.Errorf("report JSON finding has no message: %s", b)
	}

	// Errors have no severity: the JSON of a report without findings is unchanged.
	bad := policy.NewReport("b.json", nil, policy.ErrorList{{Path: "rules", Msg: "bad"}}, nil)
	b, err = json.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"file":"b.json","valid":false,"rules":0,"errors":[{"path":"rules","message":"bad"}]}`; string(b) != want {
		t.Errorf("report JSON = %s, want %s", b, want)
	}
}
