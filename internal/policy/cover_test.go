package policy

import (
	"strings"
	"testing"
)

func TestPossible(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entry  string
		prefix bool
		want   string // the reason no tag matches, "" when some tag does
	}{
		{"v", true, ""},
		{"", true, ""},
		{"", false, "empty"},
		{"*", false, ""},
		{"*-rc", false, ""},
		{"-rc", false, "start"},
		{"-rc", true, "start"},
		{".hidden*", false, "start"},
		{"_x", true, ""},
		{"9", true, ""},
		{"a/b", true, "char"},
		{"a*", true, "char"}, // '*' is literal in a prefix
		{"é", false, "char"},
		{"-a/b", false, "char"}, // the first reason found
		{strings.Repeat("x", 128), true, ""},
		{strings.Repeat("x", 129), true, "length"},
		{strings.Repeat("x", 128) + "*", false, ""},
		{strings.Repeat("x", 129) + "*", false, "length"},
	}
	for _, tt := range tests {
		why, ok := possible(tt.entry, tt.prefix)
		if ok != (tt.want == "") || why.reason != tt.want {
			t.Errorf("possible(%q, prefix %v) = %+v, %v; want reason %q", tt.entry, tt.prefix, why, ok, tt.want)
		}
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	// startChars holds one prefix list per character a tag can start with.
	var startChars []string
	for c := 0; c < 128; c++ {
		if tagStart(byte(c)) {
			startChars = append(startChars, "p:"+string(rune(c)))
		}
	}
	tests := []struct {
		name string
		s    string     // "p:" for a prefix, else a pattern
		by   [][]string // entry lists, each entry as s
		want bool
	}{
		{"star by star", "*", [][]string{{"*"}}, true},
		{"star by empty prefix", "*", [][]string{{"p:"}}, true},
		{"star by nothing", "*", nil, false},
		{"star by a prefix", "*", [][]string{{"p:v"}}, false},
		{"prefix by broader prefix", "p:release-1", [][]string{{"p:release"}}, true},
		{"prefix by narrower prefix", "p:release", [][]string{{"p:release-1"}}, false},
		{"pattern by pattern", "v1.*-rc", [][]string{{"v*"}}, true},
		{"pattern by suffix pattern", "v1.*-rc", [][]string{{"*-rc"}}, true},
		{"pattern by an AND list it satisfies", "v1.*-rc", [][]string{{"v*", "*-rc"}}, true},
		{"pattern by an AND list it half satisfies", "v1.*", [][]string{{"v*", "*-rc"}}, false},
		{"exact tag by its pattern", "latest", [][]string{{"lat*"}}, true},
		{"union of an exact tag and a narrower pattern", "p:v", [][]string{{"v"}, {"v*-rc"}}, false},
		{"every start character", "*", stringsLists(startChars), true},
		{"every start character but one", "*", stringsLists(startChars[1:]), false},
		// A tag cannot start with '-' or '.', so these need not be covered.
		{"start characters cover a contains pattern", "*-x*", stringsLists(startChars), true},
		{"impossible pattern is covered by anything", "-x", [][]string{{"p:v"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var by [][]glob
			for _, list := range tt.by {
				var gs []glob
				for _, e := range list {
					gs = append(gs, testGlob(e))
				}
				by = append(by, gs)
			}
			c := coverer{work: maxCoverWork}
			if got := c.covers(testGlob(tt.s), by); got != tt.want {
				t.Errorf("covers(%q, %q) = %v, want %v", tt.s, tt.by, got, tt.want)
			}
		})
	}
}

func TestCoversGivesUpWhenOutOfWork(t *testing.T) {
	t.Parallel()
	c := coverer{work: 2}
	if c.covers(testGlob("*"), [][]glob{{testGlob("*")}}) {
		t.Errorf("covers() with no work left = true, want false (not sure)")
	}
}

func stringsLists(entries []string) [][]string {
	out := make([][]string, len(entries))
	for i, e := range entries {
		out[i] = []string{e}
	}
	return out
}

func testGlob(e string) glob {
	if p, ok := strings.CutPrefix(e, "p:"); ok {
		return compileGlob(p, true)
	}
	return compileGlob(e, false)
}
