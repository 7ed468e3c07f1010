package inventory

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// The identifiers a cleanup plan acts on are checked as they are read, since a digest or tag
// that is not what it seems can make a plan delete the wrong image. The checks run once per
// digest and tag of inputs of a hundred thousand images, so they are table lookups that
// allocate nothing unless they fail.

// Limits of the OCI grammars.
const (
	// maxTagLen is the longest tag accepted: the OCI distribution spec allows 128
	// characters, and Amazon ECR's API documents tags of up to 300.
	maxTagLen = 300
	// sha256Len and sha512Len are the lengths of the hex encodings of the registered algorithms.
	sha256Len = 64
	sha512Len = 128
)

// Character classes of the OCI grammars.
const (
	classLowerHex  = 1 << iota // [0-9a-f]
	classAlgorithm             // [a-z0-9]: an algorithm component
	classAlgSep                // [+._-]: between algorithm components
	classEncoded               // [a-zA-Z0-9=_-]: the encoded part of a digest
	classTagFirst              // [a-zA-Z0-9_]: a tag's first character
	classTag                   // [a-zA-Z0-9._-]: a tag's other characters
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		lower, upper, digit := 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9'
		if digit || 'a' <= c && c <= 'f' {
			t[c] |= classLowerHex
		}
		if lower || digit {
			t[c] |= classAlgorithm
		}
		if c == '+' || c == '.' || c == '_' || c == '-' {
			t[c] |= classAlgSep
		}
		if lower || upper || digit || c == '=' || c == '_' || c == '-' {
			t[c] |= classEncoded
		}
		if lower || upper || digit || c == '_' {
			t[c] |= classTagFirst | classTag
		}
		if c == '.' || c == '-' {
			t[c] |= classTag
		}
	}
	return t
}()

// ValidDigest checks that s is a digest as the OCI image spec defines it: an algorithm, a
// colon and an encoded part, algorithm being lower-case letters and digits in components
// separated by one of + . _ -, and encoded being letters, digits, = _ and -. The registered
// algorithms are checked further: sha256 takes exactly 64 lower-case hex digits and sha512
// exactly 128. Other algorithms pass on the grammar alone.
func ValidDigest(s string) error {
	if len(s) == len("sha256:")+sha256Len && s[:len("sha256:")] == "sha256:" && lowerHex(s[len("sha256:"):]) {
		return nil // the common case, first
	}
	algo, encoded, ok := strings.Cut(s, ":")
	if !ok || algo == "" || encoded == "" {
		return fmt.Errorf("invalid digest %s: want algorithm:encoded, such as sha256:<64 hex digits>", quoteShort(s))
	}
	if !validAlgorithm(algo) {
		return fmt.Errorf("invalid digest %s: algorithm %s is not lower-case letters and digits separated by single '+', '.', '_' or '-'", quoteShort(s), quoteShort(algo))
	}
	for i := 0; i < len(encoded); i++ {
		if charClass[encoded[i]]&classEncoded == 0 {
			return fmt.Errorf("invalid digest %s: %s after the colon (want letters, digits, '=', '_' and '-')", quoteShort(s), badChar(encoded[i:]))
		}
	}
	want := 0
	switch algo {
	case "sha256":
		want = sha256Len
	case "sha512":
		want = sha512Len
	default:
		return nil
	}
	if len(encoded) != want || !lowerHex(encoded) {
		return fmt.Errorf("invalid digest %s: want %d lower-case hex digits after %q", quoteShort(s), want, algo+":")
	}
	return nil
}

// lowerHex reports whether s is all lower-case hex digits. It does not branch per byte:
// digests are nearly always valid, so it is faster to look at all of one than to stop early.
func lowerHex(s string) bool {
	c := uint8(classLowerHex)
	for i := 0; i < len(s); i++ {
		c &= charClass[s[i]]
	}
	return c != 0
}

// validAlgorithm checks [a-z0-9]+([+._-][a-z0-9]+)*.
func validAlgorithm(s string) bool {
	component := false // whether the last character belongs to a component
	for i := 0; i < len(s); i++ {
		switch c := charClass[s[i]]; {
		case c&classAlgorithm != 0:
			component = true
		case c&classAlgSep != 0 && component:
			component = false
		default:
			return false
		}
	}
	return component
}

// ValidTag checks that s is a tag in the OCI distribution spec's alphabet: letters,
// digits, '_', '.' and '-', the first not '.' or '-'; and at most 300 characters, the
// longest tag Amazon ECR's API documents (the OCI spec stops at 128, and ECR repositories
// may hold longer ones).
// Invalid UTF-8 never passes: the readers decode it as U+FFFD, which is not allowed either.
func ValidTag(s string) error {
	if s == "" {
		return fmt.Errorf("invalid tag \"\": want 1 to %d letters, digits, '_', '.' and '-'", maxTagLen)
	}
	if charClass[s[0]]&classTagFirst == 0 {
		if charClass[s[0]]&classTag != 0 {
			return fmt.Errorf("invalid tag %s: starts with %q (want a letter, digit or '_' first)", quoteShort(s), s[0])
		}
		return fmt.Errorf("invalid tag %s: %s (want letters, digits, '_', '.' and '-')", quoteShort(s), badChar(s))
	}
	for i := 1; i < len(s); i++ {
		if charClass[s[i]]&classTag == 0 {
			return fmt.Errorf("invalid tag %s: %s (want letters, digits, '_', '.' and '-')", quoteShort(s), badChar(s[i:]))
		}
	}
	if len(s) > maxTagLen {
		return fmt.Errorf("invalid tag %s: %d characters (want at most %d)", quoteShort(s), len(s), maxTagLen)
	}
	return nil
}

// badChar describes the character s starts with, for an error message.
func badChar(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		// The lexer turns invalid UTF-8 into U+FFFD, as encoding/json does.
		return "invalid UTF-8"
	}
	return fmt.Sprintf("character %q", r)
}

// quoteShort quotes s for an error message, cut short if long.
func quoteShort(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// parseSize parses the text of a JSON number as a count of bytes: a non-negative integer
// that fits in an int64. The error says what was wrong, without the path.
func parseSize(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return 0, fmt.Errorf("want a number of bytes, got %s", abbreviate(b))
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("want a number of bytes, got %s", abbreviate(b))
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, fmt.Errorf("want a number of bytes, got %s (more than %d)", abbreviate(b), int64(math.MaxInt64))
		}
		n = n*10 + d
	}
	return n, nil
}
