package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/server"
)

func TestTokenFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		want       int    // tokens accepted
		err        string // a part of the error; "" for none
	}{
		{"tokens and comments", "# name scope token\n\nci write s3cret-a\n  dashboard read s3cret-b  \n", 2, ""},
		{"bad scope", "ci admin s3cret\n", 0, "tokens:1: the scope (second field) is not read or write"},
		{"token as scope", "ci s3cret-tok write\n", 0, "tokens:1: the scope (second field) is not read or write"},
		{"missing field", "# header\nci write\n", 0, "tokens:2: want NAME SCOPE TOKEN, found 2 fields"},
		{"token only", "s3cret-tok\n", 0, "tokens:1: want NAME SCOPE TOKEN, found 1 fields"},
		{"extra field", "ci write s3cret-tok s3cret-more\n", 0, "tokens:1: want NAME SCOPE TOKEN, found 4 fields"},
		{"duplicate name", "ci write a\nci read b\n", 0, "tokens:2: the token name (first field) repeats the name of line 1"},
		{"token as name", "s3cret-tok write ci\ns3cret-tok read dashboard\n", 0, "tokens:2: the token name (first field) repeats the name of line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var tokens server.Tokens
			err := tokens.Parse(strings.NewReader(tt.file), "tokens")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse() = %v, want an error with %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "admin") {
					t.Errorf("Parse() error %q shows a token", err)
				}
				return
			}
			if err != nil || tokens.Len() != tt.want {
				t.Errorf("Parse() = %v with %d tokens, want %d", err, tokens.Len(), tt.want)
			}
		})
	}
}

// TestLoadTokensHidesTokens reads a token file whose lines are malformed: the error names
// the file and the line, and shows no field of the line.
func TestLoadTokensHidesTokens(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte("# tokens\nci write s3cret-a\napi-token write s3cret-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := server.LoadTokens("s3cret-env", path)
	want := path + ":3: the token name (first field) is taken by another token"
	if err == nil || err.Error() != want {
		t.Errorf("LoadTokens() error = %v, want %q", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("LoadTokens() error %q shows a token", err)
	}
}
