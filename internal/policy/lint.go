package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Severity grades a lint finding.
type Severity string

// Severities.
const (
	// SeverityWarning: the policy almost certainly does not do what its author meant.
	SeverityWarning Severity = "warning"
	// SeverityInfo: something worth knowing that is usually meant, or that rests on an
	// assumption shipshape makes where ECR's documentation is silent. "policy lint --strict"
	// does not fail on infos.
	SeverityInfo Severity = "info"
)

// Warning is a finding of Lint about a policy: one that ECR accepts (or would, once its
// errors are fixed) but that does something its author should know. Path and position are
// as in Error.
type Warning struct {
	Path   string
	Line   int
	Column int
	// Check names the lint check, e.g. "and-trap", for filtering and documentation.
	Check string
	// Severity grades the finding; empty means SeverityWarning.
	Severity Severity
	Msg      string
}

func (w *Warning) String() string {
	if w.Path == "" {
		return w.Msg
	}
	return w.Path + ": " + w.Msg
}

// Level returns w's severity: SeverityWarning when Severity is empty.
func (w *Warning) Level() Severity {
	if w.Severity == "" {
		return SeverityWarning
	}
	return w.Severity
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

// Lint returns findings about a policy that ECR accepts but that is almost certainly wrong:
// tag lists whose entries ECR ANDs, rules that can never act because the rules above them
// identify everything they would select, "any" rules that would remove most of a
// repository, entries that match less than they seem to or no tag at all, and policies that
// never clean up untagged images. Each finding says what will happen and how to write it
// instead. Most are warnings; a lone "keep the newest N" rule is an info. Messages name
// rules by their rulePriority; Path locates the problem in the text.
//
// Lint accepts any policy Parse or Load returned, valid or not, and never panics on one. On
// a policy with errors it checks what it can read with certainty: a tag list that failed to
// decode is skipped; a rule whose priority is missing, below 1 or shared is compared with
// no other rule; a rule whose tagStatus, tag list or storage class is unusable is taken to
// identify nothing, and checks that need to know every rule (any-keeps-few,
// any-expires-by-age, untagged-never-expire) are skipped while such a rule exists.
func Lint(p *Policy) []*Warning {
	l := &linter{p: p, parts: assess(p), cover: coverer{work: maxCoverWork}}
	ordered := func(i int) bool { return l.parts[i]&partOrder != 0 }
	// Rules in the order ECR applies them, then the rules without a usable priority.
	order := make([]int, len(p.Rules))
	n := 0
	for i := range order {
		order[i] = i
		if ordered(i) {
			n++
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if oa, ob := ordered(a), ordered(b); oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		if !ordered(a) {
			return 0
		}
		return cmp.Compare(p.Rules[a].RulePriority, p.Rules[b].RulePriority)
	})
	for k, i := range order {
		l.entries(i)
		if k >= n {
			l.andTrap(i, nil)
			continue
		}
		l.andTrap(i, order[k+1:n])
		l.shadowed(i, order[:k])
		l.broadAny(i)
	}
	l.untagged()
	return l.out
}

// part is a piece of a rule that Lint can rely on.
type part uint8

const (
	// partOrder: a rulePriority of 1 or more that no other rule has.
	partOrder part = 1 << iota
	// partTags: what the rule identifies: a tagStatus, the one tag list it needs (decoded
	// in full) or none, and a storage class.
	partTags
	// partCount: a countType and a positive countNumber.
	partCount
	// partAction: an action type.
	partAction
)

// assess finds the parts of each rule that are usable: all of them in a valid policy.
func assess(p *Policy) []part {
	uses := map[int]int{}
	for _, r := range p.Rules {
		uses[r.RulePriority]++
	}
	parts := make([]part, len(p.Rules))
	for i, r := range p.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		if r.RulePriority >= 1 && uses[r.RulePriority] == 1 && !p.brokenUnder(path+".rulePriority") {
			parts[i] |= partOrder
		}
		if tagsUsable(p, path+".selection", r.Selection) {
			parts[i] |= partTags
		}
		switch r.Selection.CountType {
		case CountImageCountMoreThan, CountSinceImagePushed, CountSinceImagePulled, CountSinceImageTransitioned:
			if r.Selection.CountNumber >= 1 {
				parts[i] |= partCount
			}
		}
		switch r.Action.Type {
		case ActionExpire, ActionTransition:
			parts[i] |= partAction
		}
	}
	return parts
}

func tagsUsable(p *Policy, sel string, s Selection) bool {
	switch s.StorageClass {
	case "", StorageStandard, StorageArchive:
	default:
		return false
	}
	if p.brokenUnder(sel+".storageClass") || p.brokenUnder(sel+".tagStatus") {
		return false // a value that failed to decode reads as its zero value
	}
	prefixGiven := present(p, sel+".tagPrefixList", len(s.TagPrefixList))
	patternGiven := present(p, sel+".tagPatternList", len(s.TagPatternList))
	switch s.TagStatus {
	case TagStatusTagged:
		if prefixGiven == patternGiven {
			return false
		}
		list, prefix := s.tagList()
		return len(list) > 0 && !p.brokenUnder(listPath(sel, prefix))
	case TagStatusUntagged, TagStatusAny:
		return !prefixGiven && !patternGiven
	}
	return false
}

type linter struct {
	p     *Policy
	parts []part
	cover coverer
	out   []*Warning
}

func (l *linter) add(sev Severity, path, check, format string, args ...any) {
	w := &Warning{Path: path, Check: check, Severity: sev, Msg: fmt.Sprintf(format, args...)}
	if off, ok := l.lookup(path); ok {
		w.Line, w.Column = lineCol(l.p.src, off)
	}
	l.out = append(l.out, w)
}

func (l *linter) warn(path, check, format string, args ...any) {
	l.add(SeverityWarning, path, check, format, args...)
}

func (l *linter) lookup(path string) (int, bool) {
	if l.p.pos == nil {
		return 0, false
	}
	off, ok := l.p.pos[path]
	return off, ok
}

// name is how messages refer to rule i: by its priority, which is how people number rules
// (the JSON path in Warning.Path counts from 0).
func (l *linter) name(i int) string {
	if l.parts[i]&partOrder == 0 {
		return "this rule"
	}
	return fmt.Sprintf("the rule with priority %d", l.p.Rules[i].RulePriority)
}

func listPath(sel string, prefix bool) string {
	if prefix {
		return sel + ".tagPrefixList"
	}
	return sel + ".tagPatternList"
}

// lists returns the tag lists of rule i that decoded in full: the one it uses, in a valid
// policy.
func (l *linter) lists(i int) []tagList {
	s := l.p.Rules[i].Selection
	sel := fmt.Sprintf("rules[%d].selection", i)
	var out []tagList
	for _, prefix := range []bool{true, false} {
		list := s.TagPatternList
		if prefix {
			list = s.TagPrefixList
		}
		path := listPath(sel, prefix)
		if len(list) > 0 && !l.p.brokenUnder(path) {
			out = append(out, tagList{entries: list, prefix: prefix, path: path})
		}
	}
	return out
}

type tagList struct {
	entries []string
	prefix  bool
	path    string
}

// entries checks each tag-list entry on its own.
func (l *linter) entries(i int) {
	for _, tl := range l.lists(i) {
		seen := map[string]bool{}
		for j, e := range tl.entries {
			ep := fmt.Sprintf("%s[%d]", tl.path, j)
			if seen[e] {
				l.warn(ep, CheckDuplicateEntry, "%q is listed twice; remove the repeat", e)
				continue
			}
			seen[e] = true
			why, ok := possible(e, tl.prefix)
			switch {
			case e == "" && tl.prefix:
				l.warn(ep, CheckEmptyEntry, `the empty prefix matches every tag; if that is meant, write tagStatus "tagged" with tagPatternList ["*"] to say so`)
			case e == "":
				l.warn(ep, CheckEmptyEntry, "the empty pattern matches no tag, so %s never selects anything", l.name(i))
			case !ok:
				l.impossible(ep, e, tl.prefix, why)
			case !tl.prefix && !strings.Contains(e, "*") && strings.ContainsAny(e[len(e)-1:], "-._"):
				l.warn(ep, CheckExactPattern,
					"%q has no wildcard, so it matches only the tag %q itself; write %q to match the tags that start with it",
					e, e, e+"*")
			}
		}
	}
}

// impossible warns about an entry no tag can match.
func (l *linter) impossible(path, e string, prefix bool, why impossibility) {
	const never = "; this entry never matches"
	// contain is the pattern matching the tags that contain e, the usual intent.
	contain := strings.TrimSuffix(e, "*") + "*"
	if !strings.HasPrefix(contain, "*") {
		contain = "*" + contain
	}
	suggest := ""
	switch {
	case strings.Count(contain, "*") > MaxWildcards:
	case prefix:
		suggest = fmt.Sprintf(`; to match the tags that contain it, use "tagPatternList": [%q]`, contain)
	default:
		suggest = fmt.Sprintf("; to match the tags that contain it, write %q", contain)
	}
	switch why.reason {
	case "char":
		if prefix && why.char == "*" {
			pattern := strings.TrimSuffix(e, "*") + "*"
			hint := ""
			if strings.Count(pattern, "*") <= MaxWildcards {
				hint = fmt.Sprintf(`: write "tagPatternList": [%q]`, pattern)
			}
			l.warn(path, CheckImpossibleTag,
				"%q contains '*', but a tagPrefixList entry is a plain prefix: its '*' is a literal character, which no tag contains%s. Wildcards work only in tagPatternList%s",
				e, never, hint)
			return
		}
		l.warn(path, CheckImpossibleTag,
			"%q contains %q, which no image tag can contain (tags use letters, digits, '_', '.' and '-')%s", e, why.char, never)
	case "start":
		l.warn(path, CheckImpossibleTag,
			"%q starts with %q, but every image tag starts with a letter, a digit or '_'%s%s", e, why.char, never, suggest)
	case "length":
		l.warn(path, CheckImpossibleTag,
			"%q needs at least %d characters, but an image tag has at most %d%s", e, why.length, maxTagLength, never)
	}
}

// andTrap warns about tag lists with several entries, which ECR ANDs. lower holds the rules
// applied after rule i, when its place in the order is known.
func (l *linter) andTrap(i int, lower []int) {
	r := l.p.Rules[i]
	if l.parts[i]&partTags == 0 {
		lower = nil // the rule's storage class, and so where its images fall, is not known
	}
	for _, tl := range l.lists(i) {
		if len(tl.entries) < 2 {
			continue
		}
		kind, kinds := "pattern", "patterns"
		if tl.prefix {
			kind, kinds = "prefix", "prefixes"
		}
		msg := fmt.Sprintf("%d %s in one list are ANDed: %s selects only images that carry tags matching every one of %s at the same time, which few images do. ",
			len(tl.entries), kinds, l.name(i), strings.Join(quoteAll(tl.entries), ", "))
		for _, j := range lower {
			lr := l.p.Rules[j]
			if l.parts[j]&partTags == 0 ||
				lr.Selection.EffectiveStorageClass() != r.Selection.EffectiveStorageClass() || lr.Selection.TagStatus != TagStatusAny {
				continue
			}
			msg += fmt.Sprintf("Images it misses fall through to %s", l.name(j))
			if l.parts[j]&(partCount|partAction) == partCount|partAction {
				msg += ", which " + summarize(lr)
			}
			msg += ". "
			break
		}
		msg += fmt.Sprintf("To select images with any one of them, write one rule per %s.", kind)
		l.warn(tl.path, CheckANDTrap, "%s", msg)
	}
}

// shadowed warns about a rule whose every image the rules above identify: ECR never lets a
// rule act on an image a higher-priority rule of its storage class identifies, whatever
// that rule's count or age criterion does with it.
func (l *linter) shadowed(i int, higher []int) {
	if l.parts[i]&partTags == 0 {
		return
	}
	s := l.p.Rules[i].Selection
	if s.TagStatus == TagStatusTagged {
		list, prefix := s.tagList()
		for _, e := range list {
			if _, ok := possible(e, prefix); !ok {
				return // the rule identifies nothing; entries says why
			}
		}
	}
	var same []int
	for _, j := range higher {
		if l.parts[j]&partTags != 0 && l.p.Rules[j].Selection.EffectiveStorageClass() == s.EffectiveStorageClass() {
			same = append(same, j)
		}
	}
	by := l.shadowers(s, same)
	if len(by) == 0 {
		return
	}
	prios := make([]int, len(by))
	for k, j := range by {
		prios[k] = l.p.Rules[j].RulePriority
	}
	var msg string
	if len(by) == 1 {
		msg = fmt.Sprintf("%s can never act: the rule with priority %d identifies every image it selects", l.name(i), prios[0])
	} else {
		msg = fmt.Sprintf("%s can never act: together, the rules with priorities %s identify every image it selects", l.name(i), andList(prios))
	}
	msg += ", and an image a higher-priority rule identifies is never acted on by a lower one, whatever the higher rule's count or age criterion does with it. "
	switch {
	case s.TagStatus == TagStatusAny:
		msg += "Remove it, or narrow the rules above it so that the images it should clean up reach it"
	case len(by) == 1:
		msg += fmt.Sprintf("Give it a smaller rulePriority than %d, or narrow the rule with priority %d", prios[0], prios[0])
	default:
		msg += "Give it a smaller rulePriority than theirs, or narrow them"
	}
	l.warn(fmt.Sprintf("rules[%d]", i), CheckShadowed, "%s", msg)
}

// shadowers returns higher rules (of same, in priority order) that together identify every
// image s identifies, as few as it finds, or nil when it cannot be sure there are any.
func (l *linter) shadowers(s Selection, same []int) []int {
	untagged := -1
	var tagged []int
	for _, j := range same {
		switch l.p.Rules[j].Selection.TagStatus {
		case TagStatusAny:
			return []int{j} // only in an invalid policy: "any" must come last
		case TagStatusUntagged:
			if untagged < 0 {
				untagged = j
			}
		case TagStatusTagged:
			tagged = append(tagged, j)
		}
	}
	switch s.TagStatus {
	case TagStatusUntagged:
		if untagged >= 0 {
			return []int{untagged}
		}
	case TagStatusTagged:
		for _, j := range tagged {
			if covers(l.p.Rules[j].Selection, s) {
				return []int{j}
			}
		}
		// An image the rule identifies has, for each entry, a tag matching it. When every
		// tag one entry matches falls to the rules above, so does the image.
		list, prefix := s.tagList()
		for _, e := range list {
			g := compileGlob(e, prefix)
			if l.unionCovers(g, tagged) {
				return l.fewest(g, tagged)
			}
		}
	case TagStatusAny:
		// Untagged images fall to an untagged rule, tagged ones to the tagged rules when
		// every possible tag does.
		if untagged < 0 || !l.unionCovers(glob{star}, tagged) {
			return nil
		}
		by := append(l.fewest(glob{star}, tagged), untagged)
		slices.SortFunc(by, func(a, b int) int { return cmp.Compare(l.p.Rules[a].RulePriority, l.p.Rules[b].RulePriority) })
		return by
	}
	return nil
}

// unionCovers reports whether every tag g matches satisfies all entries of one of rules.
func (l *linter) unionCovers(g glob, rules []int) bool {
	if len(rules) == 0 {
		return false
	}
	by := make([][]glob, len(rules))
	for k, j := range rules {
		list, prefix := l.p.Rules[j].Selection.tagList()
		for _, e := range list {
			by[k] = append(by[k], compileGlob(e, prefix))
		}
	}
	return l.cover.covers(g, by)
}

// fewest drops from rules, which cover g, each rule the others cover g without.
func (l *linter) fewest(g glob, rules []int) []int {
	keep := slices.Clone(rules)
	for k := 0; k < len(keep); {
		without := slices.Delete(slices.Clone(keep), k, k+1)
		if l.unionCovers(g, without) {
			keep = without
		} else {
			k++
		}
	}
	return keep
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
			if contains(compileGlob(he, hp), compileGlob(se, sp)) {
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

// broadAny warns about "any" rules that expire tagged images nothing above protects. A
// keep-N "any" rule alone among the standard rules is an info: usually it is meant.
func (l *linter) broadAny(i int) {
	r := l.p.Rules[i]
	s := r.Selection
	const need = partTags | partCount | partAction
	if l.parts[i]&need != need || s.TagStatus != TagStatusAny || r.Action.Type != ActionExpire || s.EffectiveStorageClass() != StorageStandard {
		return
	}
	alone := true
	for j, o := range l.p.Rules {
		if j == i {
			continue
		}
		if l.parts[j]&partTags == 0 {
			return // a rule Lint cannot read may protect tagged images
		}
		if o.Selection.EffectiveStorageClass() != StorageStandard {
			continue
		}
		alone = false
		if o.Selection.TagStatus == TagStatusTagged && (l.parts[j]&partOrder == 0 || o.RulePriority < r.RulePriority) {
			return
		}
	}
	path := fmt.Sprintf("rules[%d]", i)
	switch s.CountType {
	case CountImageCountMoreThan:
		// ECR does not document whether index children count toward N; Evaluate assumes
		// they do and lists that choice in its doc comment.
		assumption := fmt.Sprintf("ECR does not document whether index children (the per-platform images and attestations of a multi-arch image, which it never expires while their index exists) count toward the %d; shipshape assumes they do, so fewer than %d multi-arch builds may survive",
			s.CountNumber, s.CountNumber)
		if alone {
			l.add(SeverityInfo, path, CheckAnyCount,
				"%s keeps the %d newest images of the repository, tagged or not, and expires the rest; as the only rule for standard images, that is usually the intent. %s",
				l.name(i), s.CountNumber, assumption)
			return
		}
		l.warn(path, CheckAnyCount,
			"%s keeps only the %d newest images of the whole repository and expires every other one, tagged releases included: no tagged rule above it protects them. Keep what must stay with higher-priority tagged rules (one per tag prefix), and let this rule clean up the rest. %s",
			l.name(i), s.CountNumber, assumption)
	case CountSinceImagePushed:
		l.warn(path, CheckAnyAge,
			"%s expires every image pushed more than %s ago, tagged releases and images production still runs included (re-tagging does not reset an image's age). Protect them with higher-priority tagged rules, e.g. a tagPrefixList [\"v\"] rule keeping the newest releases",
			l.name(i), days(s.CountNumber))
	}
}

// untagged warns when no rule ever cleans up untagged images.
func (l *linter) untagged() {
	if len(l.p.Rules) == 0 {
		return
	}
	for i, r := range l.p.Rules {
		if l.parts[i]&partTags == 0 {
			return // a rule Lint cannot read may select them
		}
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

// andList is "1", "1 and 2" or "1, 2 and 3".
func andList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
