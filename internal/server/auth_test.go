package server_test

import (
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
		{"bad scope", "ci admin s3cret\n", 0, "tokens:1: scope \"admin\" is not read or write"},
		{"missing field", "# header\nci write\n", 0, "tokens:2: want NAME SCOPE TOKEN, found 2 fields"},
		{"duplicate name", "ci write a\nci read b\n", 0, "tokens:2: token name ci appears twice"},
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
				if strings.Contains(err.Error(), "s3cret") {
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
