package policy

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

// Verdict is what happens to an image.
type Verdict string

// Verdicts, spelt as in plan JSON.
const (
	Keep       Verdict = "keep"
	Expire     Verdict = "expire"
	Transition Verdict = "transition"
)

// Cause classifies why a decision was taken, for callers that build on decisions.
type Cause int

// Causes.
const (
	// CauseNoRule: no rule identifies the image.
	CauseNoRule Cause = iota
	// CauseRule: the deciding rule acts on the image.
	CauseRule
	// CauseIdentified: a rule identifies the image but its criterion keeps it; this
	// also protects the image from every lower-priority rule.
	CauseIdentified
	// CauseIndexChild: an index in the repository references the image.
	CauseIndexChild
	// CauseReferrer: the image is an OCI referrer and follows its subject.
	CauseReferrer
	// CauseActivating: the image is being restored from archive.
	CauseActivating
)

// Decision is the evaluator's verdict on one image.
type Decision struct {
	Digest string
	Action Verdict
	// RulePriority is the rule that decided the action, or that identifies (and so protects)
	// a kept image; 0 when no rule is involved.
	RulePriority int
	Cause        Cause
	// Reason says in one line why, for people.
	Reason string
}

// RuleResult sums up what one rule did.
type RuleResult struct {
	RulePriority int
	Description  string
	// Summary describes the rule in words.
	Summary string
	// Identified counts the images whose tags (and storage class) the rule matches.
	Identified int
	// Selected counts the identified images its criterion picks (over all it identifies).
	Selected int
	// Acted counts the images this rule expires or transitions.
	Acted int
	// Blocked counts the selected images it may not act on: identified by a higher rule
	// first, referenced by an index, or referrers that follow their subject.
	Blocked int
}

// Result is the outcome of one evaluation.
type Result struct {
	// Decisions holds one decision per input image, in input order.
	Decisions []Decision
	// Rules holds one entry per rule, in priority order.
	Rules []RuleResult
}

const day = 24 * time.Hour

// Storage classes of images, as the evaluator numbers them.
const (
	classNone     uint8 = iota // ACTIVATING (or an unknown status): no rule identifies it
	classStandard              // ACTIVE
	classArchive               // ARCHIVED
	classOther                 // a rule's storage class that no image has
)

// image facts the evaluator derives once. They are all a decision and its reason need,
// with the image itself: reasons are written from them when asked for.
type fact struct {
	ageRef    time.Time // push time, or the last restore from archive
	class     uint8
	parent    int32 // an index in the repository that references the image, or -1
	subject   int32 // the subject, when the image is a referrer of one present, or -1
	idRule    int32 // first rule (index into rules) that identifies it, or -1
	idRank    int32 // its rank (1 = newest) under idRule, for count rules
	actRule   int32 // first rule whose criterion selects it, or -1
	decided   int32 // rule that acts on it, or -1
	cascadeOf int32 // for a referrer that follows its subject: the subject's index, or -1
}

// Evaluate reproduces one run of Amazon ECR's lifecycle evaluation over images at now and
// returns a decision per image. It implements ECR's documented algorithm:
//
//   - Every rule identifies, at once, the images of its storage class whose tags satisfy its
//     tag filter (all entries of a tag list must match some tag: the lists are ANDed).
//   - Each rule's criterion is computed over everything it identifies, including images a
//     higher-priority rule acts on or protects: imageCountMoreThan ranks them newest first
//     and selects all past countNumber; the since* types select those older than countNumber
//     days.
//   - Rules apply in priority order. An image identified by a higher-priority rule is never
//     acted on by a lower one, and each image is acted on by at most one rule.
//   - Identification is per storage class: standard rules see only ACTIVE images, archive
//     rules only ARCHIVED ones.
//   - An image that an index in the repository references is never acted on while the index
//     exists, even if the index itself expires in this run.
//   - Age is measured from the push time, or from the last restore from archive.
//     sinceImagePulled uses the last recorded pull, falling back to the last restore, then
//     to the push time. sinceImageTransitioned uses the time the image was archived.
//
// Where ECR's behaviour is not documented, Evaluate makes these choices:
//
//   - Index children and OCI referrers are identified and counted by the rules that match
//     them (they take places in an imageCountMoreThan count), but are never acted on by a
//     rule: children wait for their index, referrers follow their subject, expiring or
//     transitioning with it. A referrer whose subject is absent is an ordinary image.
//   - "Older than N days" means strictly more than N×24 hours before now.
//   - Images with equal ages rank by digest, lowest first, as the newer.
//   - ACTIVATING images (mid-restore) are identified by no rule and never acted on.
//   - An image whose reference time is unknown (zero) is never selected by a since* rule
//     and ranks as the newest in a count.
//
// p should be valid (see Validate); rules are applied in priority order whatever their order
// in p. Evaluate is deterministic and performs no I/O.
func Evaluate(p *Policy, images []inventory.Image, now time.Time) Result {
	return EvaluateGraph(p, images, inventory.NewGraph(images), now)
}

// EvaluateGraph is Evaluate for callers that already hold the graph of images.
func EvaluateGraph(p *Policy, images []inventory.Image, g *inventory.Graph, now time.Time) Result {
	return EvaluateList(p, inventory.ListOf(images), g, now).Result()
}

// Evaluation is the outcome of one evaluation: Evaluate's decisions, with their reasons
// written when asked for rather than stored. A plan of a million images writes each reason
// once, into its output, instead of holding a million strings. An Evaluation reads its
// images through the List it was made from, which must not change; it changes nothing
// itself once made, so any number of goroutines may read it.
type Evaluation struct {
	rules   []Rule // in priority order
	images  inventory.List
	facts   []fact
	now     time.Time
	results []RuleResult
	texts   []string // "rule N <summary>", per rule
}

// EvaluateList evaluates p over the images of l at now, as Evaluate does; g is the graph
// of l.
func EvaluateList(p *Policy, l inventory.List, g *inventory.Graph, now time.Time) *Evaluation {
	rules := slices.Clone(p.Rules)
	slices.SortStableFunc(rules, func(a, b Rule) int { return cmp.Compare(a.RulePriority, b.RulePriority) })

	n := l.Len()
	facts := make([]fact, n)
	monotonic := false // whether an age carries a monotonic clock reading
	for i := range facts {
		f := &facts[i]
		f.idRule, f.actRule, f.decided, f.cascadeOf = -1, -1, -1, -1
		switch l.ImageStatus(i) {
		case inventory.StatusArchived:
			f.class = classArchive
		case inventory.StatusActive:
			f.class = classStandard
		}
		f.ageRef = l.PushedAt(i)
		if t := l.LastActivatedAt(i); !t.IsZero() {
			f.ageRef = t
		}
		monotonic = monotonic || f.ageRef != f.ageRef.Round(0)
		f.parent, f.subject = -1, -1
		if ps := g.Parents(i); len(ps) > 0 {
			f.parent = int32(ps[0])
		}
		if s := l.Subject(i); s != "" {
			if j, ok := g.Index(s); ok && j != i {
				f.subject = int32(j)
			}
		}
	}

	e := &Evaluation{rules: rules, images: l, facts: facts, now: now,
		results: make([]RuleResult, len(rules)), texts: make([]string, len(rules))}
	identified := make([]int32, 0, n)
	var keys []ageKey
	for ri, r := range rules {
		rr := &e.results[ri]
		summary := summarize(r)
		e.texts[ri] = "rule " + strconv.Itoa(r.RulePriority) + " " + summary
		rr.RulePriority, rr.Description, rr.Summary = r.RulePriority, r.Description, summary

		identified = identify(r, l, facts, identified[:0])
		rr.Identified = len(identified)
		if r.Selection.CountType == CountImageCountMoreThan {
			if monotonic {
				slices.SortFunc(identified, func(a, b int32) int { return newerFirst(l, facts, a, b) })
			} else {
				keys = sortNewerFirst(l, facts, identified, keys)
			}
		}
		for rank, i := range identified {
			f := &facts[i]
			selected := selects(r, l, int(i), f, rank, now)
			if selected {
				rr.Selected++
			}
			if f.idRule < 0 {
				f.idRule, f.idRank = int32(ri), int32(rank+1)
				if selected && f.parent < 0 && f.subject < 0 {
					f.decided = int32(ri)
					rr.Acted++
					continue
				}
			}
			if selected {
				rr.Blocked++
				if f.actRule < 0 {
					f.actRule = int32(ri)
				}
			}
		}
	}

	// Referrers follow their subject, transitively.
	for i := range facts {
		if facts[i].decided >= 0 {
			cascade(facts, g, i)
		}
	}
	return e
}

// Result returns the evaluation as Evaluate does, a reason written for every image.
func (e *Evaluation) Result() Result {
	res := Result{Rules: slices.Clone(e.results), Decisions: make([]Decision, len(e.facts))}
	var b []byte
	for i := range res.Decisions {
		b = e.AppendReason(b[:0], i)
		action, rule, cause := e.decision(i)
		res.Decisions[i] = Decision{Digest: e.images.Digest(i), Action: action, RulePriority: rule, Cause: cause, Reason: string(b)}
	}
	return res
}

// Len returns the number of images evaluated.
func (e *Evaluation) Len() int { return len(e.facts) }

// Rules returns what each rule did, in priority order. The caller must not change it.
func (e *Evaluation) Rules() []RuleResult { return e.results }

// Action returns what happens to image i.
func (e *Evaluation) Action(i int) Verdict {
	a, _, _ := e.decision(i)
	return a
}

// RulePriority returns the rule that decided image i's action, or that identifies (and so
// protects) it when kept; 0 when no rule is involved.
func (e *Evaluation) RulePriority(i int) int {
	_, r, _ := e.decision(i)
	return r
}

// Cause returns why image i's action was taken.
func (e *Evaluation) Cause(i int) Cause {
	_, _, c := e.decision(i)
	return c
}

// Reason returns in one line why image i's action was taken, for people.
func (e *Evaluation) Reason(i int) string {
	return string(e.AppendReason(nil, i))
}

func identify(r Rule, l inventory.List, facts []fact, out []int32) []int32 {
	class := classOf(r.Selection.EffectiveStorageClass())
	filter := compileSelection(r.Selection)
	for i := range facts {
		if facts[i].class != class {
			continue
		}
		switch r.Selection.TagStatus {
		case TagStatusUntagged:
			if len(l.Tags(i)) > 0 {
				continue
			}
		case TagStatusTagged:
			if !filter.matches(l.Tags(i)) {
				continue
			}
		}
		out = append(out, int32(i))
	}
	return out
}

// classOf numbers a rule's storage class as facts number images'.
func classOf(c StorageClass) uint8 {
	switch c {
	case StorageStandard:
		return classStandard
	case StorageArchive:
		return classArchive
	}
	return classOther
}

// newerFirst orders images for imageCountMoreThan: newest first; unknown ages first of all;
// equal ages by digest.
func newerFirst(l inventory.List, facts []fact, a, b int32) int {
	ta, tb := facts[a].ageRef, facts[b].ageRef
	if c := tb.Compare(ta); c != 0 {
		switch {
		case ta.IsZero():
			return -1
		case tb.IsZero():
			return 1
		}
		return c
	}
	return l.CompareDigests(int(a), int(b))
}

// ageKey is the age of an image as sortNewerFirst compares it.
type ageKey struct {
	sec   int64 // Unix seconds
	nsec  int32
	zero  bool
	image int32
}

// sortNewerFirst sorts images as newerFirst orders them, and returns keys for the next
// call. It compares keys that hold the ages side by side rather than looking them up in
// facts: sorting a million images, it is cache misses that take the time. Without monotonic
// clock readings (which Time.Compare would use) the keys compare as the times do.
func sortNewerFirst(l inventory.List, facts []fact, images []int32, keys []ageKey) []ageKey {
	keys = slices.Grow(keys[:0], len(images))
	for _, i := range images {
		t := facts[i].ageRef
		keys = append(keys, ageKey{t.Unix(), int32(t.Nanosecond()), t.IsZero(), i})
	}
	slices.SortFunc(keys, func(a, b ageKey) int {
		c := cmp.Compare(b.sec, a.sec)
		if c == 0 {
			c = cmp.Compare(b.nsec, a.nsec)
		}
		if c != 0 {
			switch {
			case a.zero:
				return -1
			case b.zero:
				return 1
			}
			return c
		}
		return l.CompareDigests(int(a.image), int(b.image))
	})
	for k := range keys {
		images[k] = keys[k].image
	}
	return keys
}

// selects reports whether rule r's criterion picks image i at rank (0-based) among those
// r identifies.
func selects(r Rule, l inventory.List, i int, f *fact, rank int, now time.Time) bool {
	n := r.Selection.CountNumber
	switch r.Selection.CountType {
	case CountImageCountMoreThan:
		return rank >= n
	case CountSinceImagePushed:
		return olderThan(f.ageRef, n, now)
	case CountSinceImagePulled:
		t, _ := pullRef(l, i)
		return olderThan(t, n, now)
	case CountSinceImageTransitioned:
		return olderThan(l.LastArchivedAt(i), n, now)
	}
	return false
}

func olderThan(t time.Time, days int, now time.Time) bool {
	return !t.IsZero() && now.Sub(t) > time.Duration(days)*day
}

// pullRef is the time sinceImagePulled measures from for image i, and what that time is.
func pullRef(l inventory.List, i int) (time.Time, string) {
	pulled, activated := l.LastPulledAt(i), l.LastActivatedAt(i)
	switch {
	case !pulled.IsZero() && (activated.IsZero() || pulled.After(activated)):
		return pulled, "last pulled"
	case !activated.IsZero():
		return activated, "not pulled since it was restored"
	}
	if pushed := l.PushedAt(i); !pushed.IsZero() {
		return pushed, "never pulled; pushed"
	}
	return time.Time{}, "never pulled, push time unknown"
}

func cascade(facts []fact, g *inventory.Graph, i int) {
	for _, j := range g.Referrers(i) {
		if facts[j].decided >= 0 || facts[j].cascadeOf >= 0 {
			continue
		}
		facts[j].cascadeOf = int32(i)
		cascade(facts, g, j)
	}
}

func verdictOf(a ActionType) Verdict {
	if a == ActionTransition {
		return Transition
	}
	return Expire
}

// decision returns image i's action, the rule behind it and its cause, as the cases of
// AppendReason find them.
func (e *Evaluation) decision(i int) (Verdict, int, Cause) {
	rules, facts := e.rules, e.facts
	f := &facts[i]
	switch {
	case f.decided >= 0:
		r := &rules[f.decided]
		return verdictOf(r.Action.Type), r.RulePriority, CauseRule
	case f.cascadeOf >= 0:
		r := &rules[facts[e.cascadeRoot(i)].decided]
		return verdictOf(r.Action.Type), r.RulePriority, CauseReferrer
	case f.class == classNone:
		return Keep, 0, CauseActivating
	case f.parent >= 0:
		return Keep, 0, CauseIndexChild
	case f.subject >= 0:
		return Keep, 0, CauseReferrer
	case f.idRule >= 0:
		return Keep, rules[f.idRule].RulePriority, CauseIdentified
	}
	return Keep, 0, CauseNoRule
}

// cascadeRoot returns the image whose rule image i, a referrer, follows.
func (e *Evaluation) cascadeRoot(i int) int32 {
	root := e.facts[i].cascadeOf
	for e.facts[root].cascadeOf >= 0 {
		root = e.facts[root].cascadeOf
	}
	return root
}

// AppendReason appends Reason(i) to b.
func (e *Evaluation) AppendReason(b []byte, i int) []byte {
	rules, facts, l := e.rules, e.facts, e.images
	f := &facts[i]
	switch {
	case f.decided >= 0:
		b = append(b, e.texts[f.decided]...)
		b = append(b, "; "...)
		return e.appendStanding(b, &rules[f.decided], i, f, int(f.idRank))
	case f.cascadeOf >= 0:
		r := &rules[facts[e.cascadeRoot(i)].decided]
		b = append(b, "referrer of "...)
		b = appendLabel(b, l, int(f.cascadeOf))
		b = append(b, ", which rule "...)
		b = strconv.AppendInt(b, int64(r.RulePriority), 10)
		b = append(b, ' ')
		b = append(b, verbShort(r.Action.Type)...)
		return append(b, "; referrers go with their subject"...)
	case f.class == classNone:
		return append(b, "being restored from archive (ACTIVATING); no rule acts on it until the restore completes"...)
	case f.parent >= 0:
		b = append(b, "child of index "...)
		b = appendLabel(b, l, int(f.parent))
		if pf := &facts[f.parent]; pf.decided >= 0 {
			pr := &rules[pf.decided]
			b = append(b, ", which rule "...)
			b = strconv.AppendInt(b, int64(pr.RulePriority), 10)
			b = append(b, ' ')
			b = append(b, verbShort(pr.Action.Type)...)
			b = append(b, "; ECR acts on a child only once no index references it"...)
		} else {
			b = append(b, "; ECR never acts on an image that an index references"...)
		}
		return appendWouldHave(b, rules, f)
	case f.subject >= 0:
		b = append(b, "referrer of "...)
		b = appendLabel(b, l, int(f.subject))
		b = append(b, ", which is kept; referrers go with their subject"...)
		return appendWouldHave(b, rules, f)
	case f.idRule >= 0:
		b = append(b, e.texts[f.idRule]...)
		b = append(b, "; "...)
		b = e.appendStanding(b, &rules[f.idRule], i, f, int(f.idRank))
		if f.actRule >= 0 && f.actRule != f.idRule {
			ar := &rules[f.actRule]
			b = append(b, "; this protects it from rule "...)
			b = strconv.AppendInt(b, int64(ar.RulePriority), 10)
			b = append(b, ", which would "...)
			b = append(b, ar.Action.Type...)
			b = append(b, " it"...)
		}
		return b
	case f.class == classArchive:
		return append(b, "archived, and no archive rule selects it"...)
	}
	return append(b, "no rule selects it"...)
}

// appendWouldHave names the rule that would have acted on an image that may not be acted on.
func appendWouldHave(b []byte, rules []Rule, f *fact) []byte {
	if f.actRule < 0 {
		return b
	}
	r := &rules[f.actRule]
	b = append(b, " (rule "...)
	b = strconv.AppendInt(b, int64(r.RulePriority), 10)
	b = append(b, " would otherwise "...)
	b = append(b, r.Action.Type...)
	return append(b, " it)"...)
}

// appendStanding says where image i stands against rule r's criterion.
func (e *Evaluation) appendStanding(b []byte, r *Rule, i int, f *fact, rank int) []byte {
	l, now := e.images, e.now
	switch r.Selection.CountType {
	case CountImageCountMoreThan:
		b = append(b, "this is number "...)
		b = strconv.AppendInt(b, int64(rank), 10)
		return append(b, " by age"...)
	case CountSinceImagePushed:
		if f.ageRef.IsZero() {
			return append(b, "its push time is unknown"...)
		}
		if l.LastActivatedAt(i).IsZero() {
			b = append(b, "pushed "...)
		} else {
			b = append(b, "restored from archive "...)
		}
		return appendAgo(b, now.Sub(f.ageRef))
	case CountSinceImagePulled:
		t, what := pullRef(l, i)
		b = append(b, what...)
		if t.IsZero() {
			return b
		}
		b = append(b, ' ')
		return appendAgo(b, now.Sub(t))
	case CountSinceImageTransitioned:
		archived := l.LastArchivedAt(i)
		if archived.IsZero() {
			return append(b, "its archive time is unknown"...)
		}
		b = append(b, "archived "...)
		return appendAgo(b, now.Sub(archived))
	}
	return b
}

// summarize describes a rule in words: "expires untagged images pushed more than 1 day ago".
func summarize(r Rule) string {
	s := r.Selection
	what := subject(s)
	n := s.CountNumber
	verb := verbShort(r.Action.Type)
	switch s.CountType {
	case CountImageCountMoreThan:
		if n == 1 {
			return fmt.Sprintf("keeps only the newest of the %s and %s the rest", what, verbShort(r.Action.Type))
		}
		return fmt.Sprintf("keeps the %d newest %s and %s the rest", n, what, verbShort(r.Action.Type))
	case CountSinceImagePushed:
		return fmt.Sprintf("%s %s pushed more than %s ago", verb, what, days(n))
	case CountSinceImagePulled:
		return fmt.Sprintf("%s %s not pulled for more than %s", verb, what, days(n))
	case CountSinceImageTransitioned:
		return fmt.Sprintf("%s %s archived more than %s ago", verb, what, days(n))
	}
	return verb + " " + what
}

func verbShort(a ActionType) string {
	if a == ActionTransition {
		return "archives"
	}
	return "expires"
}

// subject describes which images a selection identifies.
func subject(s Selection) string {
	noun := "images"
	if s.EffectiveStorageClass() == StorageArchive {
		noun = "archived images"
	}
	switch s.TagStatus {
	case TagStatusUntagged:
		return "untagged " + noun
	case TagStatusAny:
		if noun == "images" {
			return "images"
		}
		return noun
	}
	list, prefix := s.tagList()
	q := make([]string, len(list))
	for i, e := range list {
		q[i] = strconv.Quote(e)
	}
	switch {
	case prefix && len(q) == 1:
		return fmt.Sprintf("%s with a tag starting with %s", noun, q[0])
	case prefix:
		return fmt.Sprintf("%s with tags starting with each of %s", noun, strings.Join(q, ", "))
	case len(q) == 1:
		return fmt.Sprintf("%s with a tag matching %s", noun, q[0])
	}
	return fmt.Sprintf("%s with tags matching each of %s", noun, strings.Join(q, ", "))
}

func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// appendAgo renders a duration coarsely: hours under two days, whole days above.
func appendAgo(b []byte, d time.Duration) []byte {
	switch {
	case d < 0:
		return append(b, "in the future"...)
	case d < time.Hour:
		return append(b, "less than an hour ago"...)
	case d < 2*day:
		h := int(d / time.Hour)
		if h == 1 {
			return append(b, "1 hour ago"...)
		}
		b = strconv.AppendInt(b, int64(h), 10)
		return append(b, " hours ago"...)
	}
	b = strconv.AppendInt(b, int64(d/day), 10)
	return append(b, " days ago"...)
}

// appendLabel names image i for people: its short digest and first tag.
func appendLabel(b []byte, l inventory.List, i int) []byte {
	start := len(b)
	b = l.AppendDigest(b, i)
	// inventory.ShortDigest, in place.
	if colon := bytes.IndexByte(b[start:], ':'); colon >= 0 && len(b)-start-colon-1 > 12 {
		b = b[:start+colon+1+12]
	}
	if tags := l.Tags(i); len(tags) > 0 {
		b = append(b, " ("...)
		b = append(b, tags[0]...)
		b = append(b, ')')
	}
	return b
}
