package server

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"os"
	"strings"
)

// Scope is what a token may do: read pins, or read and write them.
type Scope int

// Scopes, in increasing power.
const (
	ScopeRead Scope = iota + 1
	ScopeWrite
)

func (s Scope) String() string {
	switch s {
	case ScopeRead:
		return "read"
	case ScopeWrite:
		return "write"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// ParseScope parses "read" or "write".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "read":
		return ScopeRead, nil
	case "write":
		return ScopeWrite, nil
	}
	return 0, fmt.Errorf("scope %q is not read or write", s)
}

// EnvTokenName is the name under which the token of SHIPSHAPE_API_TOKEN is recorded as the
// author of the changes made with it.
const EnvTokenName = "api-token"

// Tokens are the bearer tokens the API accepts, each with a name and a scope. Only the
// SHA-256 digest of a token is kept. The zero value accepts no token.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	name  string
	scope Scope
	sum   [sha256.Size]byte
}

// Add accepts token under name with scope. Names must be unique: they identify who made
// a change.
func (t *Tokens) Add(name string, scope Scope, token string) error {
	if name == "" || strings.ContainsAny(name, " \t\r\n") {
		return fmt.Errorf("token name %q: must be one word", name)
	}
	if token == "" {
		return fmt.Errorf("token %s is empty", name)
	}
	if scope != ScopeRead && scope != ScopeWrite {
		return fmt.Errorf("token %s: %v is not read or write", name, scope)
	}
	for _, e := range t.entries {
		if e.name == name {
			return fmt.Errorf("token name %s appears twice", name)
		}
	}
	t.entries = append(t.entries, tokenEntry{name: name, scope: scope, sum: sha256.Sum256([]byte(token))})
	return nil
}

// Len returns how many tokens are accepted.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Parse adds the tokens of a token file: one "NAME SCOPE TOKEN" a line, fields separated
// by blanks, SCOPE read or write; blank lines and lines starting with '#' are ignored.
// Errors name the source and the line, never a field of it: a malformed line may hold its
// token in any field.
func (t *Tokens) Parse(r io.Reader, source string) error {
	names := map[string]int{} // line of each name
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 {
			return fmt.Errorf("%s:%d: want NAME SCOPE TOKEN, found %d fields", source, line, len(f))
		}
		scope, err := ParseScope(f[1])
		if err != nil {
			return fmt.Errorf("%s:%d: the scope (second field) is not read or write", source, line)
		}
		if first, ok := names[f[0]]; ok {
			return fmt.Errorf("%s:%d: the token name (first field) repeats the name of line %d", source, line, first)
		}
		if t.has(f[0]) {
			return fmt.Errorf("%s:%d: the token name (first field) is taken by another token", source, line)
		}
		names[f[0]] = line
		if err := t.Add(f[0], scope, f[2]); err != nil {
			return fmt.Errorf("%s:%d: invalid token line", source, line) // Add's errors quote the name
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", source, err)
	}
	return nil
}

// has reports whether a token is named name.
func (t *Tokens) has(name string) bool {
	for _, e := range t.entries {
		if e.name == name {
			return true
		}
	}
	return false
}

// LoadTokens returns the tokens of envToken (the value of SHIPSHAPE_API_TOKEN, a write
// token named EnvTokenName; "" for none) and of the token file at path ("" for none).
func LoadTokens(envToken, path string) (*Tokens, error) {
	t := &Tokens{}
	if envToken != "" {
		if err := t.Add(EnvTokenName, ScopeWrite, envToken); err != nil {
			return nil, err
		}
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("opening token file: %w", err)
		}
		defer f.Close()
		if err := t.Parse(f, path); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// lookup returns the name and scope of token. It compares the token's digest with every
// entry, in constant time, whether or not an earlier one matched.
func (t *Tokens) lookup(token string) (name string, scope Scope, ok bool) {
	if t == nil || token == "" {
		return "", 0, false
	}
	sum := sha256.Sum256([]byte(token))
	found := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(sum[:], t.entries[i].sum[:]) == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return "", 0, false
	}
	return t.entries[found].name, t.entries[found].scope, true
}
