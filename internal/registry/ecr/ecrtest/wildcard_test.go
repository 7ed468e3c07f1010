package ecrtest

import "testing"

func TestWildcardMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"team/app", "team/app", true},
		{"team/app", "team/app2", false},
		{"*", "", true},
		{"*", "team/app", true},
		{"team/*", "team/app", true},
		{"team/*", "team/", true},
		{"team/*", "other/team/app", false},
		{"*/app", "team/app", true},
		{"*/app", "team/app/x", false},
		{"t*m/*p", "team/app", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"*ab*ab*", "abab", true},
		{"*ab*ab*", "abba", false},
		{"x**y", "xy", true},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
