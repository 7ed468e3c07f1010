package policy_test

import (
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
