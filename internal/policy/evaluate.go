package policy

import (
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

// image facts the evaluator derives once.
type fact struct {
	class     StorageClass // "" while ACTIVATING: no rule selects it
	ageRef    time.Time    // push time, or the last restore from archive
	parent    int          // an index in the repository that references the image, or -1
	subject   int          // the subject, when the image is a referrer of one present, or -1
	idRule    int          // first rule (index into rules) that identifies it, or -1
	idRank    int          // its rank (1 = newest) under idRule, for count rules
	actRule   int          // first rule whose criterion selects it, or -1
	actRank   int
	decided   int // rule that acts on it, or -1
	cascadeOf int // for a referrer that follows its subject: the subject's index, or -1
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
	rules := slices.Clone(p.Rules)
	slices.SortStableFunc(rules, func(a, b Rule) int { return cmp.Compare(a.RulePriority, b.RulePriority) })

	facts := make([]fact, len(images))
	for i := range images {
		img := &images[i]
		f := &facts[i]
		f.idRule, f.actRule, f.decided, f.cascadeOf = -1, -1, -1, -1
		switch img.ImageStatus() {
		case inventory.StatusArchived:
			f.class = StorageArchive
		case inventory.StatusActive:
			f.class = StorageStandard
		}
		f.ageRef = img.PushedAt
		if !img.LastActivatedAt.IsZero() {
			f.ageRef = img.LastActivatedAt
		}
		f.parent, f.subject = -1, -1
		if ps := g.Parents(i); len(ps) > 0 {
			f.parent = ps[0]
		}
		if img.Subject != "" {
			if j, ok := g.Index(img.Subject); ok && j != i {
				f.subject = j
			}
		}
	}

	res := Result{Rules: make([]RuleResult, len(rules))}
	identified := make([]int, 0, len(images))
	ev := &evaluation{rules: rules, images: images, facts: facts, now: now, texts: make([]string, len(rules))}
	for ri, r := range rules {
		rr := &res.Rules[ri]
		ev.texts[ri] = "rule " + strconv.Itoa(r.RulePriority) + " " + summarize(r)
		rr.RulePriority, rr.Description, rr.Summary = r.RulePriority, r.Description, summarize(r)

		identified = identify(r, images, facts, identified[:0])
		rr.Identified = len(identified)
		count := r.Selection.CountType == CountImageCountMoreThan
		if count {
			slices.SortFunc(identified, func(a, b int) int { return newerFirst(images, facts, a, b) })
		}
		for rank, i := range identified {
			f := &facts[i]
			selected := selects(r, &images[i], f, rank, now)
			if selected {
				rr.Selected++
			}
			if f.idRule < 0 {
				f.idRule, f.idRank = ri, rank+1
				if selected && f.parent < 0 && f.subject < 0 {
					f.decided = ri
					rr.Acted++
					continue
				}
			}
			if selected {
				rr.Blocked++
				if f.actRule < 0 {
					f.actRule, f.actRank = ri, rank+1
				}
			}
		}
	}

	// Referrers follow their subject, transitively.
	for i := range images {
		if facts[i].decided >= 0 {
			cascade(images, facts, g, i)
		}
	}

	res.Decisions = make([]Decision, len(images))
	for i := range images {
		res.Decisions[i] = ev.decide(i)
	}
	return res
}

// evaluation holds what decide needs to explain one image.
type evaluation struct {
	rules  []Rule
	images []inventory.Image
	facts  []fact
	now    time.Time
	texts  []string // "rule N <summary>", per rule
}

func identify(r Rule, images []inventory.Image, facts []fact, out []int) []int {
	class := r.Selection.EffectiveStorageClass()
	filter := compileSelection(r.Selection)
	for i := range images {
		if facts[i].class != class {
			continue
		}
		tags := images[i].Tags
		switch r.Selection.TagStatus {
		case TagStatusUntagged:
			if len(tags) > 0 {
				continue
			}
		case TagStatusTagged:
			if !filter.matches(tags) {
				continue
			}
		}
		out = append(out, i)
	}
	return out
}

// newerFirst orders images for imageCountMoreThan: newest first; unknown ages first of all;
// equal ages by digest.
func newerFirst(images []inventory.Image, facts []fact, a, b int) int {
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
	return strings.Compare(images[a].Digest, images[b].Digest)
}

// selects reports whether rule r's criterion picks the image at rank (0-based) among those
// r identifies.
func selects(r Rule, img *inventory.Image, f *fact, rank int, now time.Time) bool {
	n := r.Selection.CountNumber
	switch r.Selection.CountType {
	case CountImageCountMoreThan:
		return rank >= n
	case CountSinceImagePushed:
		return olderThan(f.ageRef, n, now)
	case CountSinceImagePulled:
		t, _ := pullRef(img)
		return olderThan(t, n, now)
	case CountSinceImageTransitioned:
		return olderThan(img.LastArchivedAt, n, now)
	}
	return false
}

func olderThan(t time.Time, days int, now time.Time) bool {
	return !t.IsZero() && now.Sub(t) > time.Duration(days)*day
}

// pullRef is the time sinceImagePulled measures from, and what that time is.
func pullRef(img *inventory.Image) (time.Time, string) {
	pulled, activated := img.LastPulledAt, img.LastActivatedAt
	switch {
	case !pulled.IsZero() && (activated.IsZero() || pulled.After(activated)):
		return pulled, "last pulled"
	case !activated.IsZero():
		return activated, "not pulled since it was restored"
	case !img.PushedAt.IsZero():
		return img.PushedAt, "never pulled; pushed"
	}
	return time.Time{}, "never pulled, push time unknown"
}

func cascade(images []inventory.Image, facts []fact, g *inventory.Graph, i int) {
	for _, j := range g.Referrers(i) {
		if facts[j].decided >= 0 || facts[j].cascadeOf >= 0 {
			continue
		}
		facts[j].cascadeOf = i
		cascade(images, facts, g, j)
	}
}

func verdictOf(a ActionType) Verdict {
	if a == ActionTransition {
		return Transition
	}
	return Expire
}

func (ev *evaluation) decide(i int) Decision {
	rules, images, facts, now := ev.rules, ev.images, ev.facts, ev.now
	img, f := &images[i], &facts[i]
	d := Decision{Digest: img.Digest, Action: Keep}
	switch {
	case f.decided >= 0:
		r := rules[f.decided]
		d.Action, d.RulePriority, d.Cause = verdictOf(r.Action.Type), r.RulePriority, CauseRule
		d.Reason = ev.texts[f.decided] + "; " + standing(r, img, f, f.idRank, now)
	case f.cascadeOf >= 0:
		root := f.cascadeOf
		for facts[root].cascadeOf >= 0 {
			root = facts[root].cascadeOf
		}
		r := rules[facts[root].decided]
		d.Action, d.RulePriority, d.Cause = verdictOf(r.Action.Type), r.RulePriority, CauseReferrer
		d.Reason = "referrer of " + label(&images[f.cascadeOf]) + ", which rule " + strconv.Itoa(r.RulePriority) + " " +
			verbShort(r.Action.Type) + "; referrers go with their subject"
	case f.class == "":
		d.Cause = CauseActivating
		d.Reason = "being restored from archive (ACTIVATING); no rule acts on it until the restore completes"
	case f.parent >= 0:
		d.Cause = CauseIndexChild
		pi := f.parent
		d.Reason = "child of index " + label(&images[pi])
		if pf := facts[pi]; pf.decided >= 0 {
			pr := rules[pf.decided]
			d.Reason += ", which rule " + strconv.Itoa(pr.RulePriority) + " " + verbShort(pr.Action.Type) +
				"; ECR acts on a child only once no index references it"
		} else {
			d.Reason += "; ECR never acts on an image that an index references"
		}
		d.Reason += wouldHave(rules, f)
	case f.subject >= 0:
		d.Cause = CauseReferrer
		d.Reason = "referrer of " + label(&images[f.subject]) + ", which is kept; referrers go with their subject" + wouldHave(rules, f)
	case f.idRule >= 0:
		r := rules[f.idRule]
		d.RulePriority, d.Cause = r.RulePriority, CauseIdentified
		d.Reason = ev.texts[f.idRule] + "; " + standing(r, img, f, f.idRank, now)
		if f.actRule >= 0 && f.actRule != f.idRule {
			ar := rules[f.actRule]
			d.Reason += "; this protects it from rule " + strconv.Itoa(ar.RulePriority) + ", which would " + string(ar.Action.Type) + " it"
		}
	default:
		d.Reason = "no rule selects it"
		if f.class == StorageArchive {
			d.Reason = "archived, and no archive rule selects it"
		}
	}
	return d
}

// wouldHave names the rule that would have acted on an image that may not be acted on.
func wouldHave(rules []Rule, f *fact) string {
	if f.actRule < 0 {
		return ""
	}
	r := rules[f.actRule]
	return " (rule " + strconv.Itoa(r.RulePriority) + " would otherwise " + string(r.Action.Type) + " it)"
}

// standing says where the image stands against rule r's criterion.
func standing(r Rule, img *inventory.Image, f *fact, rank int, now time.Time) string {
	pushed := "pushed"
	if !img.LastActivatedAt.IsZero() {
		pushed = "restored from archive"
	}
	switch r.Selection.CountType {
	case CountImageCountMoreThan:
		return "this is number " + strconv.Itoa(rank) + " by age"
	case CountSinceImagePushed:
		if f.ageRef.IsZero() {
			return "its push time is unknown"
		}
		return pushed + " " + ago(now.Sub(f.ageRef))
	case CountSinceImagePulled:
		t, what := pullRef(img)
		if t.IsZero() {
			return what
		}
		return what + " " + ago(now.Sub(t))
	case CountSinceImageTransitioned:
		if img.LastArchivedAt.IsZero() {
			return "its archive time is unknown"
		}
		return "archived " + ago(now.Sub(img.LastArchivedAt))
	}
	return ""
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

// ago renders a duration coarsely: hours under two days, whole days above.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Hour:
		return "less than an hour ago"
	case d < 2*day:
		h := int(d / time.Hour)
		if h == 1 {
			return "1 hour ago"
		}
		return strconv.Itoa(h) + " hours ago"
	}
	return strconv.Itoa(int(d/day)) + " days ago"
}

// label names an image for people: its short digest and first tag.
func label(img *inventory.Image) string {
	s := inventory.ShortDigest(img.Digest)
	if len(img.Tags) > 0 {
		s += " (" + img.Tags[0] + ")"
	}
	return s
}
