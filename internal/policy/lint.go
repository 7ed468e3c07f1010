package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Warning is a finding about a valid policy that almost certainly does not do what its
// author meant. Path and position are as in Error.
type Warning struct {
	Path   string
	Line   int
	Column int
	// Check names the lint check, e.g. "and-trap", for filtering and documentation.
	Check string
	Msg   string
}

func (w *Warning) String() string {
	if w.Path == "" {
		return w.Msg
	}
	return w.Path + ": " + w.Msg
}

// Lint checks.
const (
	CheckANDTrap        = "and-trap"
	CheckShadowed       = "shadowed-rule"
	CheckAnyCount       = "any-keeps-few"
	CheckAnyAge         = "any-expires-by-age"
	CheckExactPattern   = "pattern-without-wildcard"
	CheckEmptyEntry     = "empty-tag-entry"
	CheckImpossibleTag  = "impossible-tag"
	CheckDuplicateEntry = "duplicate-tag-entry"
	CheckNoUntagged     = "untagged-never-expire"
)

// Lint returns warnings about a policy that ECR accepts but that is almost certainly wrong:
// tag lists whose entries ECR ANDs, rules that can never act because a higher-priority rule
// identifies everything they would select, "any" rules that would remove most of a
// repository, patterns that match less than they seem to, and policies that never clean up
// untagged images. Each warning says what will happen and how to write it instead.
// Lint assumes p is valid.
func Lint(p *Policy) []*Warning {
	l := linter{p: p}
	order := make([]int, len(p.Rules))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(p.Rules[a].RulePriority, p.Rules[b].RulePriority)
	})
	for n, i := range order {
		l.entries(i)
		l.andTrap(i, order[n+1:])
		l.shadowed(i, order[:n])
		l.broadAny(i, order[:n])
	}
	l.untagged()
	return l.out
}

type linter struct {
	p   *Policy
	out []*Warning
}

func (l *linter) warn(path, check, format string, args ...any) {
	w := &Warning{Path: path, Check: check, Msg: fmt.Sprintf(format, args...)}
	if off, ok := l.lookup(path); ok {
		w.Line, w.Column = lineCol(l.p.src, off)
	}
	l.out = append(l.out, w)
}

func (l *linter) lookup(path string) (int, bool) {
	if l.p.pos == nil {
		return 0, false
	}
	off, ok := l.p.pos[path]
	return off, ok
}

func listPath(i int, s Selection) (string, string) {
	if len(s.TagPrefixList) > 0 {
		return fmt.Sprintf("rules[%d].selection.tagPrefixList", i), "prefix"
	}
	return fmt.Sprintf("rules[%d].selection.tagPatternList", i), "pattern"
}

// entries checks each tag-list entry on its own.
func (l *linter) entries(i int) {
	s := l.p.Rules[i].Selection
	list, prefix := s.tagList()
	path, _ := listPath(i, s)
	seen := map[string]bool{}
	for j, e := range list {
		ep := fmt.Sprintf("%s[%d]", path, j)
		switch {
		case seen[e]:
			l.warn(ep, CheckDuplicateEntry, "%q is listed twice; remove the repeat", e)
			continue
		case e == "" && prefix:
			l.warn(ep, CheckEmptyEntry, `the empty prefix matches every tag; if that is meant, write tagStatus "tagged" with tagPatternList ["*"] to say so`)
		case e == "":
			l.warn(ep, CheckEmptyEntry, "the empty pattern matches no tag, so this rule never selects anything")
		case !prefix && !strings.Contains(e, "*") && strings.ContainsAny(e[len(e)-1:], "-._"):
			l.warn(ep, CheckExactPattern,
				"%q has no wildcard, so it matches only the tag %q itself; write %q to match the tags that start with it",
				e, e, e+"*")
		}
		if bad := invalidTagChar(e, !prefix); bad != "" {
			l.warn(ep, CheckImpossibleTag,
				"%q contains %q, which no image tag can contain (tags use letters, digits, '_', '.' and '-'); this entry never matches", e, bad)
		}
		seen[e] = true
	}
}

// invalidTagChar returns the first character of s that cannot appear in an OCI tag.
func invalidTagChar(s string, pattern bool) string {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
		case r == '*' && pattern:
		default:
			return string(r)
		}
	}
	return ""
}

// andTrap warns about tag lists with several entries, which ECR ANDs.
func (l *linter) andTrap(i int, lower []int) {
	r := l.p.Rules[i]
	list, _ := r.Selection.tagList()
	if len(list) < 2 {
		return
	}
	path, kind := listPath(i, r.Selection)
	q := quoteAll(list)
	kinds := kind + "s"
	if kind == "prefix" {
		kinds = "prefixes"
	}
	msg := fmt.Sprintf("%d %s in one list are ANDed: this rule selects only images that carry tags matching every one of %s at the same time, which few images do. ",
		len(list), kinds, strings.Join(q, ", "))
	for _, j := range lower {
		lr := l.p.Rules[j]
		if lr.Selection.EffectiveStorageClass() == r.Selection.EffectiveStorageClass() &&
			lr.Selection.TagStatus == TagStatusAny {
			msg += fmt.Sprintf("Images this rule misses fall through to rule %d, which %s. ", lr.RulePriority, summarize(lr))
			break
		}
	}
	msg += fmt.Sprintf("To select images with any one of them, write one rule per %s.", kind)
	l.warn(path, CheckANDTrap, "%s", msg)
}

// shadowed warns about rules that a higher-priority rule's identification covers entirely.
func (l *linter) shadowed(i int, higher []int) {
	r := l.p.Rules[i]
	for _, j := range higher {
		h := l.p.Rules[j]
		if h.Selection.EffectiveStorageClass() != r.Selection.EffectiveStorageClass() || !covers(h.Selection, r.Selection) {
			continue
		}
		l.warn(fmt.Sprintf("rules[%d]", i), CheckShadowed,
			"can never act: rule %d has a higher priority and identifies every image this rule selects, and an image identified by a higher-priority rule is never acted on by a lower one. Give this rule the smaller rulePriority, or narrow rule %d",
			h.RulePriority, h.RulePriority)
		return
	}
}

// covers reports whether every image selection s identifies is identified by h as well.
func covers(h, s Selection) bool {
	switch {
	case h.TagStatus == TagStatusAny:
		return true
	case h.TagStatus != s.TagStatus || h.TagStatus != TagStatusTagged:
		return h.TagStatus == TagStatusUntagged && s.TagStatus == TagStatusUntagged
	}
	hl, hp := h.tagList()
	sl, sp := s.tagList()
	// Every entry of h must be implied by some entry of s: an image satisfying all of s's
	// entries then has, for each entry of h, a tag that satisfies it.
	for _, he := range hl {
		implied := false
		for _, se := range sl {
			if contains(asPattern(he, hp), asPattern(se, sp)) {
				implied = true
				break
			}
		}
		if !implied {
			return false
		}
	}
	return true
}

func asPattern(entry string, prefix bool) string {
	if prefix {
		return entry + "*"
	}
	return entry
}

// contains reports whether every tag pattern b matches is also matched by pattern a.
// It matches a against b with b's wildcards as a symbol only a's wildcards can absorb.
func contains(a, b string) bool {
	const wild = -1
	sym := make([]rune, 0, len(b))
	for _, r := range b {
		if r == '*' {
			sym = append(sym, wild)
		} else {
			sym = append(sym, r)
		}
	}
	// match[j] reports whether a[:pi] matches sym[:j], row by row.
	prev := make([]bool, len(sym)+1)
	prev[0] = true
	for _, pr := range a {
		cur := make([]bool, len(sym)+1)
		if pr == '*' {
			cur[0] = prev[0]
			for j := 1; j <= len(sym); j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		} else {
			for j := 1; j <= len(sym); j++ {
				cur[j] = prev[j-1] && sym[j-1] == pr
			}
		}
		prev = cur
	}
	return prev[len(sym)]
}

// broadAny warns about "any" rules that expire tagged images nothing above protects.
func (l *linter) broadAny(i int, higher []int) {
	r := l.p.Rules[i]
	s := r.Selection
	if s.TagStatus != TagStatusAny || r.Action.Type != ActionExpire || s.EffectiveStorageClass() != StorageStandard {
		return
	}
	for _, j := range higher {
		if l.p.Rules[j].Selection.TagStatus == TagStatusTagged && l.p.Rules[j].Selection.EffectiveStorageClass() == StorageStandard {
			return
		}
	}
	path := fmt.Sprintf("rules[%d]", i)
	switch s.CountType {
	case CountImageCountMoreThan:
		l.warn(path, CheckAnyCount,
			"keeps only the %d newest images of the whole repository and expires every other one, tagged releases included; the count also includes index children, attestation manifests and signatures, so fewer builds survive than %d suggests. Keep what must stay with higher-priority tagged rules (one per tag prefix), and let this rule clean up the rest",
			s.CountNumber, s.CountNumber)
	case CountSinceImagePushed:
		l.warn(path, CheckAnyAge,
			"expires every image pushed more than %s ago, tagged releases and images production still runs included (re-tagging does not reset an image's age). Protect them with higher-priority tagged rules, e.g. a tagPrefixList [\"v\"] rule keeping the newest releases",
			days(s.CountNumber))
	}
}

// untagged warns when no rule ever cleans up untagged images.
func (l *linter) untagged() {
	for _, r := range l.p.Rules {
		ts := r.Selection.TagStatus
		if (ts == TagStatusUntagged || ts == TagStatusAny) && r.Selection.EffectiveStorageClass() == StorageStandard {
			return
		}
	}
	l.warn("rules", CheckNoUntagged,
		`no rule selects untagged images, so superseded builds and orphaned manifests stay forever; add a rule such as {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1} with action expire`)
}

func quoteAll(list []string) []string {
	q := make([]string, len(list))
	for i, e := range list {
		q[i] = strconv.Quote(e)
	}
	return q
}
