package simulate

import (
	"strconv"
	"strings"
	"time"
)

// Format is the shape of the variable part of a tag stream's tags, after its prefix.
type Format string

// Tag formats, from the most to the least specific. Learn classifies each tag by the first
// that fits.
const (
	// FormatSemver is a version, MAJOR.MINOR[.PATCH], optionally with a pre-release or
	// build suffix: v1.2.3, release-2.0. New tags bump the last number.
	FormatSemver Format = "semver"
	// FormatDate is a date, 20260601 or 2026-06-01: new tags carry the push date.
	FormatDate Format = "date"
	// FormatNumber is a decimal number (a build, run or pull-request number): new tags count
	// up from the highest seen.
	FormatNumber Format = "number"
	// FormatHex starts with at least 7 hexadecimal digits (a commit or a digest), as in
	// sha-0a1b2c3 or sha256-….sig: new tags get random digits.
	FormatHex Format = "hex"
	// FormatName is anything else after a prefix (a branch name): new tags are numbered names.
	FormatName Format = "name"
)

// Template describes the tags of a stream: a fixed prefix and a variable part.
type Template struct {
	// Prefix is the fixed part, e.g. "sha-", "pr-", "v"; empty for bare commits or numbers.
	Prefix string `json:"prefix"`
	Format Format `json:"format"`
	// Last is the variable part of the newest tag seen (for semver and number, the highest);
	// new tags continue from it.
	Last string `json:"last,omitempty"`
	// Recent lists, newest first, the variable parts of the stream's recent tags that a push
	// may move to itself (branch streams: a new build of an open pull request).
	Recent []string `json:"recent,omitempty"`
}

// Pattern returns the template as a tag pattern, in ECR's tagPatternList syntax where it
// has a prefix: "sha-*", "v*"; bare formats read "<hex>", "<number>".
func (t Template) Pattern() string {
	if t.Prefix == "" {
		return "<" + string(t.Format) + ">"
	}
	return t.Prefix + "*"
}

// key identifies the template regardless of Last and Recent.
func (t Template) key() string { return t.Prefix + "\x00" + string(t.Format) }

// minHexDigits is how many leading hexadecimal digits make a tag's variable part a commit
// or digest (git's default abbreviation).
const minHexDigits = 7

// maxBranchNumberDigits is the longest number a branch stream's tags carry (pull-request
// numbers); longer numbers are build or run numbers, which are not reused.
const maxBranchNumberDigits = 5

// classify splits a tag into a template (prefix and format) and its variable part. A tag
// with no variable part (latest, main, stable) is fixed: ok is false.
func classify(tag string) (t Template, suffix string, ok bool) {
	if f, ok := suffixFormat(tag); ok && f != FormatName {
		prefix := ""
		if f == FormatSemver && (tag[0] == 'v' || tag[0] == 'V') {
			prefix, tag = tag[:1], tag[1:]
		}
		return Template{Prefix: prefix, Format: f}, tag, true
	}
	// The first separator after which the rest has a known format, or else the first one.
	first := -1
	for i := 1; i < len(tag)-1; i++ {
		if c := tag[i]; c != '-' && c != '_' && c != '.' {
			continue
		}
		if first < 0 {
			first = i
		}
		if f, ok := suffixFormat(tag[i+1:]); ok && f != FormatName {
			cut := i + 1
			if f == FormatSemver && (tag[cut] == 'v' || tag[cut] == 'V') {
				cut++ // app-v1.2.3: the v belongs to the prefix
			}
			return Template{Prefix: tag[:cut], Format: f}, tag[cut:], true
		}
	}
	if first < 0 {
		return Template{}, "", false
	}
	return Template{Prefix: tag[:first+1], Format: FormatName}, tag[first+1:], true
}

// suffixFormat classifies the variable part of a tag.
func suffixFormat(s string) (Format, bool) {
	switch {
	case s == "":
		return "", false
	case isSemver(s):
		return FormatSemver, true
	case isDate(s):
		return FormatDate, true
	case isDigits(s) && len(s) <= 18:
		return FormatNumber, true
	case hexRun(s) >= minHexDigits:
		return FormatHex, true
	}
	return FormatName, true
}

// isSemver reports whether s is [vV]MAJOR.MINOR[.PATCH] followed by nothing or by a
// pre-release or build suffix starting with '-' or '+'.
func isSemver(s string) bool {
	if s[0] == 'v' || s[0] == 'V' {
		s = s[1:]
	}
	core, _, _ := strings.Cut(s, "-")
	core, _, _ = strings.Cut(core, "+")
	parts := strings.Split(core, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if !isDigits(p) || len(p) > 9 {
			return false
		}
	}
	return true
}

func isDate(s string) bool {
	layout := dateLayout(s)
	if layout == "" {
		return false
	}
	t, err := time.Parse(layout, s)
	return err == nil && t.Year() >= 2000 && t.Year() < 2100
}

// dateLayout is the layout of a date-formatted tag part, by its length.
func dateLayout(s string) string {
	switch len(s) {
	case 8:
		if isDigits(s) {
			return "20060102"
		}
	case 10:
		if s[4] == '-' && s[7] == '-' {
			return "2006-01-02"
		}
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// hexRun counts the lower-case hexadecimal digits s starts with.
func hexRun(s string) int {
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return i
		}
	}
	return len(s)
}

// semverParts returns the numbers of a semver tag part (without its prefix).
func semverParts(s string) []int {
	core, _, _ := strings.Cut(s, "-")
	core, _, _ = strings.Cut(core, "+")
	var out []int
	for p := range strings.SplitSeq(core, ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

// later reports whether variable part a comes after b in format f (for the Last of a
// template: the highest version or number, else the newest).
func later(f Format, a, b string) bool {
	switch f {
	case FormatSemver:
		pa, pb := semverParts(a), semverParts(b)
		for i := range min(len(pa), len(pb)) {
			if pa[i] != pb[i] {
				return pa[i] > pb[i]
			}
		}
		return len(pa) > len(pb)
	case FormatNumber:
		na, _ := strconv.ParseUint(a, 10, 64)
		nb, _ := strconv.ParseUint(b, 10, 64)
		return na > nb
	}
	return false
}

// branchLike reports whether a template's tags may be reused by later pushes: pull-request
// numbers and branch names, not commits, versions, dates or long build numbers.
func (t Template) branchLike() bool {
	switch t.Format {
	case FormatName:
		return true
	case FormatNumber:
		return len(t.Last) <= maxBranchNumberDigits
	}
	return false
}
