package policy

import "strings"

// matcher matches one tagPrefixList or tagPatternList entry against a tag.
type matcher struct {
	prefix bool
	lit    string   // the prefix, for prefix entries
	parts  []string // the pattern split at '*', for pattern entries
}

func compileEntry(entry string, prefix bool) matcher {
	if prefix {
		return matcher{prefix: true, lit: entry}
	}
	return matcher{parts: strings.Split(entry, "*")}
}

// match reports whether tag satisfies the entry: a plain prefix test, or a wildcard pattern
// anchored at both ends where '*' matches any run of characters, the empty run included.
func (m matcher) match(tag string) bool {
	if m.prefix {
		return strings.HasPrefix(tag, m.lit)
	}
	return globMatch(m.parts, tag)
}

func globMatch(parts []string, s string) bool {
	if len(parts) == 1 {
		return s == parts[0]
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}

// MatchTag reports whether tag matches one tagPatternList entry, with ECR's wildcard rules.
func MatchTag(pattern, tag string) bool {
	return compileEntry(pattern, false).match(tag)
}

// tagFilter is a rule's compiled tag list: every entry must match some tag of the image.
type tagFilter []matcher

func compileSelection(s Selection) tagFilter {
	list, prefix := s.tagList()
	f := make(tagFilter, len(list))
	for i, e := range list {
		f[i] = compileEntry(e, prefix)
	}
	return f
}

// matches applies ECR's AND semantics: each entry must match at least one of the tags.
func (f tagFilter) matches(tags []string) bool {
	if len(tags) == 0 {
		return false
	}
	for _, m := range f {
		ok := false
		for _, t := range tags {
			if m.match(t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
