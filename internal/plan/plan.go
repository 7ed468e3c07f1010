// Package plan turns the evaluator's decisions into a plan: what to remove, in which
// storage class, why, and what that reclaims in deduplicated bytes and monthly cost.
package plan

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// DefaultPricePerGBMonth is ECR's standard storage price in US dollars (us-east-1).
const DefaultPricePerGBMonth = 0.10

// bytesPerGB is the gigabyte AWS bills storage in (2^30 bytes).
const bytesPerGB = 1 << 30

// Options tune a plan. The zero value uses the defaults.
type Options struct {
	// PricePerGBMonth prices reclaimed storage; 0 means DefaultPricePerGBMonth.
	PricePerGBMonth float64
	// Safety protects images beyond what the policy keeps.
	Safety Safety
}

// Plan is the outcome of planning one repository. Its JSON form is documented in the README
// and is stable.
type Plan struct {
	Repository string    `json:"repository"`
	Now        time.Time `json:"now"`
	// Blocked, when set, says why the plan deletes and archives nothing: the inventory is
	// incomplete (see Unreadable). Unlike Refusal, nothing overrides it.
	Blocked string `json:"blocked,omitempty"`
	// Unreadable lists the manifests the inventory could not read, which block the plan.
	Unreadable []inventory.Unreadable `json:"unreadable,omitempty"`
	Summary    Summary                `json:"summary"`
	Rules      []Rule                 `json:"rules"`
	Images     []Item                 `json:"images"`
	Warnings   []string               `json:"warnings,omitempty"`
	// Refusal, when set, says why the plan must not be applied (the blast-radius limit).
	Refusal string `json:"refusal,omitempty"`
	// ECRPreview, when set, compares ECR's own preview of the policy with shipshape's.
	ECRPreview *Comparison `json:"ecrPreview,omitempty"`

	// items writes the items of a plan whose Images is nil: see Build.
	items *items
}

// Summary counts the plan's decisions and what they reclaim.
type Summary struct {
	Images     int `json:"images"`
	Expire     int `json:"expire"`
	Transition int `json:"transition"`
	Keep       int `json:"keep"`
	// StoredBytes is the deduplicated size of everything in the repository.
	StoredBytes int64 `json:"storedBytes"`
	// ReclaimedBytes counts the blobs that only expired images reference.
	ReclaimedBytes int64 `json:"reclaimedBytes"`
	// TransitionedBytes is the deduplicated size of the images moved to archive.
	TransitionedBytes int64   `json:"transitionedBytes"`
	MonthlySavingsUSD float64 `json:"monthlySavingsUSD"`
	PricePerGBMonth   float64 `json:"pricePerGBMonth"`
}

// Rule sums up what one policy rule did.
type Rule struct {
	RulePriority int    `json:"rulePriority"`
	Description  string `json:"description,omitempty"`
	Summary      string `json:"summary"`
	Identified   int    `json:"identified"`
	Selected     int    `json:"selected"`
	Acted        int    `json:"acted"`
	Blocked      int    `json:"blocked"`
}

// Item is the plan for one image.
type Item struct {
	Digest       string         `json:"digest"`
	Tags         []string       `json:"tags"`
	PushedAt     *time.Time     `json:"pushedAt,omitempty"`
	StorageClass string         `json:"storageClass"`
	Action       policy.Verdict `json:"action"`
	RulePriority int            `json:"rulePriority,omitempty"`
	Reason       string         `json:"reason"`
	SizeBytes    int64          `json:"sizeBytes,omitempty"`
	MediaType    string         `json:"mediaType,omitempty"`
}

// Build evaluates p over inv at now and turns the decisions into a plan.
//
// On top of the evaluator's decisions for one ECR run, Build follows the image graph: an
// untagged child of an expired index that no kept index references goes with the index
// (ECR would remove it in a later run, once the index is gone and a rule selects it), and
// referrers go with their subject. The items are ordered newest first, then by digest.
//
// The plan of a compact inventory (see inventory.ReadCompact) is compact too: its Images is
// nil, and its items are written from the inventory when the plan is written, so that a
// plan of a million images takes little more memory than its inventory. Items returns them.
func Build(p *policy.Policy, inv *inventory.Inventory, now time.Time, opts Options) *Plan {
	price := opts.PricePerGBMonth
	if price == 0 {
		price = DefaultPricePerGBMonth
	}
	l := inv.List()
	g := l.Graph()
	ev := policy.EvaluateList(p, l, g, now)
	ds := evaluated(ev)
	protected := opts.Safety.protect(l, g, now)
	for i, why := range protected {
		if ds.action(i) == policy.Keep {
			ds.reasons[i] = why + "; " + ds.reason(i)
			continue
		}
		ds.set(i, policy.Keep, 0, ds.cause(i),
			why+"; rule "+strconv.Itoa(ds.rule(i))+" would otherwise "+verb(ds.action(i))+" it")
	}
	closeOver(l, g, ds, protected)
	hold(l, g, ds)

	results := ev.Rules()
	rules := make([]Rule, len(results))
	for i, r := range results {
		rules[i] = Rule{r.RulePriority, r.Description, r.Summary, r.Identified, r.Selected, r.Acted, r.Blocked}
	}
	return assemble(inv, ds, rules, now, price, opts.Safety)
}

// decisions holds the plan's decision on each image: the evaluator's, until the safety
// layer or the graph changes it and gives it a reason of its own. Only those reasons are
// stored; the evaluator writes the others when asked.
type decisions struct {
	at []decision
	// ev writes the reasons that reasons does not hold; nil when it holds them all.
	ev      *policy.Evaluation
	reasons map[int]string
}

// decision is one image's: action, rule and cause, as a policy.Decision has them.
type decision struct {
	rule   int32
	action uint8 // actionKeep, actionExpire or actionTransition
	cause  uint8
}

// Actions of a decision.
const (
	actionKeep uint8 = iota
	actionExpire
	actionTransition
)

func actionCode(v policy.Verdict) uint8 {
	switch v {
	case policy.Expire:
		return actionExpire
	case policy.Transition:
		return actionTransition
	}
	return actionKeep
}

func (d decision) verdict() policy.Verdict {
	switch d.action {
	case actionExpire:
		return policy.Expire
	case actionTransition:
		return policy.Transition
	}
	return policy.Keep
}

// evaluated returns the decisions of ev.
func evaluated(ev *policy.Evaluation) *decisions {
	ds := &decisions{at: make([]decision, ev.Len()), ev: ev, reasons: map[int]string{}}
	for i := range ds.at {
		ds.at[i] = decision{int32(ev.RulePriority(i)), actionCode(ev.Action(i)), uint8(ev.Cause(i))}
	}
	return ds
}

func (ds *decisions) len() int                    { return len(ds.at) }
func (ds *decisions) action(i int) policy.Verdict { return ds.at[i].verdict() }
func (ds *decisions) rule(i int) int              { return int(ds.at[i].rule) }
func (ds *decisions) cause(i int) policy.Cause    { return policy.Cause(ds.at[i].cause) }
func (ds *decisions) isAction(i int, v policy.Verdict) bool {
	return ds.at[i].action == actionCode(v)
}

// set replaces the decision on image i.
func (ds *decisions) set(i int, action policy.Verdict, rule int, cause policy.Cause, reason string) {
	ds.at[i] = decision{int32(rule), actionCode(action), uint8(cause)}
	ds.reasons[i] = reason
}

// reason returns why image i gets its action.
func (ds *decisions) reason(i int) string {
	if r, ok := ds.reasons[i]; ok || ds.ev == nil {
		return r
	}
	return ds.ev.Reason(i)
}

// appendReason appends reason(i) to b.
func (ds *decisions) appendReason(b []byte, i int) []byte {
	if r, ok := ds.reasons[i]; ok || ds.ev == nil {
		return append(b, r...)
	}
	return ds.ev.AppendReason(b, i)
}

// assemble turns one decision per image of inv into a plan: items newest first, the
// summary, and the refusal.
func assemble(inv *inventory.Inventory, ds *decisions, rules []Rule, now time.Time, price float64, safety Safety) *Plan {
	l := inv.List()
	n := l.Len()
	pl := &Plan{
		Repository: inv.Repository,
		Now:        now.UTC(),
		Rules:      rules,
		Warnings:   warnings(l, inv.Unreadable),
	}
	if len(inv.Unreadable) > 0 {
		// The inventory is incomplete: keep everything, whatever was decided.
		pl.Unreadable = slices.Clone(inv.Unreadable)
		pl.Blocked = blockedMessage(inv.Unreadable)
		keepAll(l, ds, inv.Unreadable)
		for i := range rules {
			rules[i].Blocked += rules[i].Acted
			rules[i].Acted = 0
		}
	}
	removed := make([]bool, n)
	archived := make([]bool, n)
	for i := range n {
		switch ds.action(i) {
		case policy.Expire:
			pl.Summary.Expire++
			removed[i] = true
		case policy.Transition:
			pl.Summary.Transition++
			archived[i] = true
		default:
			pl.Summary.Keep++
		}
	}
	pl.Summary.Images = n
	sz := l.Storage()
	pl.Summary.StoredBytes = sz.Total()
	pl.Summary.ReclaimedBytes = sz.Only(removed)
	pl.Summary.TransitionedBytes = sz.Of(archived)
	pl.Summary.PricePerGBMonth = price
	pl.Summary.MonthlySavingsUSD = MonthlyCost(pl.Summary.ReclaimedBytes, price)
	pl.Refusal = safety.refusal(pl.Summary.Expire, pl.Summary.Images)

	// Items go newest first, then by digest (digests are unique, so the order is total).
	// The keys are sorted side by side with the images, for few cache misses.
	type key struct {
		pushed int64
		image  int32
	}
	keys := make([]key, n)
	for i := range keys {
		keys[i] = key{sortKey(l.PushedAt(i)), int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(b.pushed, a.pushed); c != 0 {
			return c
		}
		return l.CompareDigests(int(a.image), int(b.image))
	})
	order := make([]int32, n)
	for k := range keys {
		order[k] = keys[k].image
	}
	items := &items{images: l, ds: ds, order: order}
	if inv.Table != nil {
		pl.items = items
		return pl
	}
	pl.Images = items.all()
	return pl
}

// items writes the items of a plan from its inventory and decisions.
type items struct {
	images inventory.List
	ds     *decisions
	// order holds the images in the plan's order.
	order []int32
}

// all returns every item, in order.
func (x *items) all() []Item {
	out := make([]Item, len(x.order))
	for n, i := range x.order {
		out[n] = x.item(int(i))
	}
	return out
}

// item returns the item of image i.
func (x *items) item(i int) Item {
	l, ds := x.images, x.ds
	it := Item{
		Digest:       l.Digest(i),
		Tags:         l.Tags(i),
		StorageClass: storageClass(l, i),
		Action:       ds.action(i),
		RulePriority: ds.rule(i),
		Reason:       ds.reason(i),
		SizeBytes:    l.SizeBytes(i),
		MediaType:    l.MediaType(i),
	}
	if it.Tags == nil {
		it.Tags = []string{}
	}
	if t := l.PushedAt(i); !t.IsZero() {
		t = t.UTC()
		it.PushedAt = &t
	}
	return it
}

// Items returns the plan's items: Images, or for the plan of a compact inventory (see
// Build), whose Images is nil, its items built anew at each call.
func (p *Plan) Items() []Item {
	if p.items != nil {
		return p.items.all()
	}
	return p.Images
}

// keepAll keeps every image, as an inventory with unreadable manifests is incomplete: any
// of them may be an index that lists, or a subject whose referrers are, any image.
func keepAll(l inventory.List, ds *decisions, unreadable []inventory.Unreadable) {
	why := unreadableReason(unreadable)
	for i := range ds.len() {
		d := l.Digest(i)
		if j := slices.IndexFunc(unreadable, func(u inventory.Unreadable) bool { return u.Digest == d }); j >= 0 {
			ds.set(i, policy.Keep, 0, ds.cause(i),
				"kept: this manifest could not be read ("+unreadable[j].Reason+"); its children and referrers are unknown")
			continue
		}
		if ds.action(i) == policy.Keep {
			ds.reasons[i] = why + "; " + ds.reason(i)
			continue
		}
		ds.set(i, policy.Keep, 0, ds.cause(i),
			why+"; rule "+strconv.Itoa(ds.rule(i))+" would otherwise "+verb(ds.action(i))+" it")
	}
}

// maxNamedUnreadable is how many unreadable manifests a reason names; the plan's
// Unreadable lists them all.
const maxNamedUnreadable = 3

// unreadableReason is the reason every image of a blocked plan is kept, e.g. "kept:
// manifest sha256:abcd… (tag prod) could not be read (GET answers 404 although HEAD
// answers 200); it may reference this image".
func unreadableReason(unreadable []inventory.Unreadable) string {
	name := func(u inventory.Unreadable) string {
		s := inventory.ShortDigest(u.Digest)
		switch len(u.Tags) {
		case 0:
		case 1:
			s += " (tag " + u.Tags[0] + ")"
		default:
			s += " (tags " + strings.Join(u.Tags, ", ") + ")"
		}
		return s
	}
	if len(unreadable) == 1 {
		u := unreadable[0]
		return "kept: manifest " + name(u) + " could not be read (" + u.Reason + "); it may reference this image"
	}
	var each []string
	for _, u := range unreadable[:min(len(unreadable), maxNamedUnreadable)] {
		each = append(each, name(u)+": "+u.Reason)
	}
	if rest := len(unreadable) - maxNamedUnreadable; rest > 0 {
		each = append(each, fmt.Sprintf("and %d more", rest))
	}
	return fmt.Sprintf("kept: %d manifests could not be read (%s); any of them may reference this image", len(unreadable), strings.Join(each, "; "))
}

// blockedMessage says why a plan with unreadable manifests deletes nothing.
func blockedMessage(unreadable []inventory.Unreadable) string {
	if len(unreadable) == 1 {
		return "1 manifest could not be read, so the inventory is incomplete and any image may depend on it: " +
			"nothing will be deleted or archived until it can be read (--force does not override this)"
	}
	return strconv.Itoa(len(unreadable)) + " manifests could not be read, so the inventory is incomplete and any image may depend on them: " +
		"nothing will be deleted or archived until they can be read (--force does not override this)"
}

// closeOver extends expiry along the graph: untagged children of expired indexes that no
// surviving index references, and the referrers of everything that goes.
func closeOver(l inventory.List, g *inventory.Graph, ds *decisions, protected map[int]string) {
	var queue []int32
	for i := range ds.len() {
		if ds.isAction(i, policy.Expire) {
			queue = append(queue, int32(i))
		}
	}
	for len(queue) > 0 {
		i := int(queue[0])
		queue = queue[1:]
		for _, c := range l.Children(i) {
			j, ok := g.Index(c.Digest)
			if _, keep := protected[j]; !ok || keep || ds.isAction(j, policy.Expire) || len(l.Tags(j)) > 0 {
				continue
			}
			if slices.ContainsFunc(g.Parents(j), func(k int) bool { return !ds.isAction(k, policy.Expire) }) {
				continue
			}
			ds.set(j, policy.Expire, ds.rule(i), policy.CauseIndexChild,
				fmt.Sprintf("child of index %s, which rule %d expires; no kept index references it, so it goes with the index",
					label(l, i), ds.rule(i)))
			queue = append(queue, int32(j))
		}
		for _, j := range g.Referrers(i) {
			if _, keep := protected[j]; keep || ds.isAction(j, policy.Expire) {
				continue
			}
			ds.set(j, policy.Expire, ds.rule(i), policy.CauseReferrer,
				fmt.Sprintf("referrer of %s, which this plan removes; referrers go with their subject", label(l, i)))
			queue = append(queue, int32(j))
		}
	}
}

// hold keeps whatever a kept image still references (an index's children, a referrer's
// subject) and its referrers, which follow it. The evaluator and the safety layer already keep most of these; hold makes it a
// rule that no plan, built or re-checked, breaks an image that stays.
func hold(l inventory.List, g *inventory.Graph, ds *decisions) {
	queue := make([]int32, 0, ds.len())
	for i := range ds.len() {
		if !ds.isAction(i, policy.Expire) {
			queue = append(queue, int32(i))
		}
	}
	// keep keeps image j, if expired, as the what of image i, which stays.
	keep := func(j int, what string, i int) {
		if !ds.isAction(j, policy.Expire) {
			return
		}
		ds.set(j, policy.Keep, 0, ds.cause(j),
			what+" "+label(l, i)+", which stays; rule "+strconv.Itoa(ds.rule(j))+" would otherwise expire it")
		queue = append(queue, int32(j))
	}
	for len(queue) > 0 {
		i := int(queue[0])
		queue = queue[1:]
		for _, c := range l.Children(i) {
			if j, ok := g.Index(c.Digest); ok {
				keep(j, "child of index", i)
			}
		}
		// Even "" is looked up: it names an image without a digest, which only an
		// inventory built in code can have.
		s := l.Subject(i)
		if j, ok := g.Index(s); ok && s != l.Digest(i) {
			keep(j, "subject of", i)
		}
		for _, j := range g.Referrers(i) {
			keep(j, "referrer of", i)
		}
	}
}

// MonthlyCost prices bytes of storage for a month at price US dollars per GB-month
// (GB = 2^30 bytes, as AWS bills storage), rounded to cents.
func MonthlyCost(bytes int64, price float64) float64 {
	return math.Round(float64(bytes)/bytesPerGB*price*100) / 100
}

func verb(v policy.Verdict) string {
	if v == policy.Transition {
		return "archive"
	}
	return string(v)
}

func storageClass(l inventory.List, i int) string {
	switch l.ImageStatus(i) {
	case inventory.StatusArchived:
		return "archive"
	case inventory.StatusActivating:
		return "activating"
	}
	return "standard"
}

// warnings says what makes the plan less exact. Unreadable manifests, which have no list
// of children either, are left to Blocked.
func warnings(l inventory.List, unreadable []inventory.Unreadable) []string {
	unknown := 0
	for i := range l.Len() {
		if l.IsIndex(i) && l.Children(i) == nil &&
			!slices.ContainsFunc(unreadable, func(u inventory.Unreadable) bool { return u.Digest == l.Digest(i) }) {
			unknown++
		}
	}
	if unknown == 0 {
		return nil
	}
	return []string{fmt.Sprintf(
		"%d indexes have no list of children (describe-images output does not carry one): untagged images they reference are evaluated as standalone images, although ECR never removes an image an index references; take a snapshot with `shipshape inventory` for exact results",
		unknown)}
}

// label names image i for people: its short digest and first tag.
func label(l inventory.List, i int) string {
	s := inventory.ShortDigest(l.Digest(i))
	if tags := l.Tags(i); len(tags) > 0 {
		s += " (" + tags[0] + ")"
	}
	return s
}
