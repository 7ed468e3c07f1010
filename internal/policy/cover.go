package policy

import "strings"

// This file decides questions about the sets of tags that tag-list entries match, for Lint:
// whether an entry can match any tag at all, and whether the rules above a rule identify
// every image it would select. Answers are over the tags that can exist, and err on the side
// of "no": Lint warns only when the answer is certain.

// maxTagLength is the longest tag OCI and Docker allow: a tag matches
// [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
const maxTagLength = 128

// maxCoverWork bounds the work of the inclusion checks of one Lint call, in bytes of
// automaton state stepped over. A check that would need more gives up and reports no
// coverage, so a hostile policy (50 rules of long wildcard patterns) cannot make lint slow:
// it stays near 0.1s. Real policies need a few hundred; covering all 63 characters a tag can
// start with, one prefix rule each, needs about a million.
const maxCoverWork = 1 << 22

// tagStart and tagChar report whether c can start a tag, and appear in one.
func tagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func tagChar(c byte) bool { return tagStart(c) || c == '.' || c == '-' }

// star is the wildcard in a glob; every other element is a literal byte.
const star = -1

// glob is a tag-list entry as a wildcard pattern over bytes: a tagPatternList entry with its
// '*' as wildcards, or a tagPrefixList entry p as the literal p followed by a wildcard (a '*'
// inside a prefix is a literal character, which no tag contains).
type glob []int16

func compileGlob(entry string, prefix bool) glob {
	g := make(glob, 0, len(entry)+1)
	for i := 0; i < len(entry); i++ {
		switch {
		case entry[i] == '*' && !prefix:
			g = append(g, star)
		default:
			g = append(g, int16(entry[i]))
		}
	}
	if prefix {
		g = append(g, star)
	}
	return g
}

// impossibility says why no tag can match g, or "" when some tag can.
type impossibility struct {
	reason string // "char", "start", "length" or "empty"
	char   string // the offending character, for "char" and "start"
	length int    // the characters g needs at least, for "length"
}

// possible checks whether some tag matches entry; the first reason it finds wins.
func possible(entry string, prefix bool) (impossibility, bool) {
	if entry == "" {
		if prefix {
			return impossibility{}, true // the empty prefix matches every tag
		}
		return impossibility{reason: "empty"}, false
	}
	for _, r := range entry {
		if r == '*' && !prefix {
			continue
		}
		if r >= 0x80 || !tagChar(byte(r)) {
			return impossibility{reason: "char", char: string(r)}, false
		}
	}
	if c := entry[0]; c != '*' || prefix {
		if !tagStart(c) {
			return impossibility{reason: "start", char: string(c)}, false
		}
	}
	need := len(entry)
	if !prefix {
		need -= strings.Count(entry, "*")
	}
	if need > maxTagLength {
		return impossibility{reason: "length", length: need}, false
	}
	return impossibility{}, true
}

// contains reports whether every string pattern b matches is also matched by pattern a.
// It matches a against b with b's wildcards as a symbol only a's wildcards can absorb.
func contains(a, b glob) bool {
	// prev[j] reports whether a[:i] matches b[:j], row by row.
	prev := make([]bool, len(b)+1)
	prev[0] = true
	for _, pa := range a {
		cur := make([]bool, len(b)+1)
		if pa == star {
			cur[0] = prev[0]
			for j := 1; j <= len(b); j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		} else {
			for j := 1; j <= len(b); j++ {
				cur[j] = prev[j-1] && b[j-1] == pa
			}
		}
		prev = cur
	}
	return prev[len(b)]
}

// coverer decides inclusions between tag sets within a shared work budget.
type coverer struct {
	work int // steps left
}

// covers reports whether every tag that s matches satisfies every entry of at least one of
// the entry lists in by: whether a tag s matches always falls to one of those rules. It
// searches the product of the entries' automata, breadth first, for a tag that s matches
// and every list misses. It answers false when it finds one, and when the budget runs out.
func (c *coverer) covers(s glob, by [][]glob) bool {
	globs := []glob{s}
	for _, list := range by {
		globs = append(globs, list...)
	}
	a := newProduct(globs)
	// owner[k] is the list glob k belongs to (-1 for s); first[j] its first glob.
	owner := []int{-1}
	first := make([]int, len(by))
	for j, list := range by {
		first[j] = len(owner)
		for range list {
			owner = append(owner, j)
		}
	}
	missed := func(st []byte) bool {
		if st[0] == 0 || !a.accepts(st, 0) {
			return false
		}
		for j, list := range by {
			all := true
			for k := range list {
				if !a.accepts(st, first[j]+k) {
					all = false
					break
				}
			}
			if all {
				return false
			}
		}
		return true
	}
	// settle clears the globs of lists that can no longer match (one entry is dead), so
	// states that differ only there merge.
	settle := func(st []byte) {
		for j, list := range by {
			for k := range list {
				if a.dead(st, first[j]+k) {
					for k2 := range list {
						a.clear(st, first[j]+k2)
					}
					break
				}
			}
		}
	}
	alphabet := a.alphabet()
	start := a.start()
	settle(start)
	seen := map[string]bool{string(start): true}
	queue := [][]byte{start}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		if missed(st) {
			return false
		}
		for _, ch := range alphabet {
			if st[0] == 0 && !tagStart(ch) {
				continue
			}
			c.work -= a.size
			if c.work < 0 {
				return false
			}
			next := a.step(st, ch)
			if a.dead(next, 0) {
				continue // s can no longer match
			}
			settle(next)
			if !seen[string(next)] {
				seen[string(next)] = true
				queue = append(queue, next)
			}
		}
	}
	return true
}

// product runs several glob automata side by side over one input. A state is a byte slice:
// st[0] is 1 once a character has been read, then one bitmap per glob of the positions
// (0..len(glob)) the glob can be at.
type product struct {
	globs []glob
	off   []int // each glob's bitmap offset in a state
	size  int   // bytes in a state
}

func newProduct(globs []glob) *product {
	a := &product{globs: globs, off: make([]int, len(globs)), size: 1}
	for k, g := range globs {
		a.off[k] = a.size
		a.size += (len(g) + 8) / 8
	}
	return a
}

func (a *product) has(st []byte, k, pos int) bool {
	i := a.off[k] + pos/8
	return st[i]&(1<<(pos%8)) != 0
}

func (a *product) set(st []byte, k, pos int) {
	st[a.off[k]+pos/8] |= 1 << (pos % 8)
}

func (a *product) accepts(st []byte, k int) bool { return a.has(st, k, len(a.globs[k])) }

func (a *product) dead(st []byte, k int) bool {
	for i := a.off[k]; i < a.off[k]+(len(a.globs[k])+8)/8; i++ {
		if st[i] != 0 {
			return false
		}
	}
	return true
}

func (a *product) clear(st []byte, k int) {
	clear(st[a.off[k] : a.off[k]+(len(a.globs[k])+8)/8])
}

// close adds to glob k's positions those a wildcard may skip (a wildcard matches nothing).
func (a *product) close(st []byte, k int) {
	g := a.globs[k]
	for pos := range g {
		if g[pos] == star && a.has(st, k, pos) {
			a.set(st, k, pos+1)
		}
	}
}

func (a *product) start() []byte {
	st := make([]byte, a.size)
	for k := range a.globs {
		a.set(st, k, 0)
		a.close(st, k)
	}
	return st
}

func (a *product) step(st []byte, ch byte) []byte {
	next := make([]byte, a.size)
	next[0] = 1
	for k, g := range a.globs {
		for pos := range g {
			if !a.has(st, k, pos) {
				continue
			}
			switch g[pos] {
			case star:
				a.set(next, k, pos)
			case int16(ch):
				a.set(next, k, pos+1)
			}
		}
		a.close(next, k)
	}
	return next
}

// alphabet returns one character of each class the automata cannot tell apart: every tag
// character some glob spells out, one other character that can start a tag, and one other
// that can only follow ('.' or '-').
func (a *product) alphabet() []byte {
	var literal [256]bool
	for _, g := range a.globs {
		for _, e := range g {
			if e != star {
				literal[e] = true
			}
		}
	}
	var out []byte
	otherStart, otherChar := false, false
	for c := 0; c < 256; c++ {
		b := byte(c)
		switch {
		case !tagChar(b):
		case literal[c]:
			out = append(out, b)
		case tagStart(b) && !otherStart:
			out, otherStart = append(out, b), true
		case !tagStart(b) && !otherChar:
			out, otherChar = append(out, b), true
		}
	}
	return out
}
