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
func Build(p *policy.Policy, inv *inventory.Inventory, now time.Time, opts Options) *Plan {
	price := opts.PricePerGBMonth
	if price == 0 {
		price = DefaultPricePerGBMonth
	}
	images := inv.Images
	g := inventory.NewGraph(images)
	res := policy.EvaluateGraph(p, images, g, now)
	decisions := res.Decisions
	protected := opts.Safety.protect(images, g, now)
	for i, why := range protected {
		d := &decisions[i]
		if d.Action == policy.Keep {
			d.Reason = why + "; " + d.Reason
			continue
		}
		*d = policy.Decision{Digest: d.Digest, Action: policy.Keep, Cause: d.Cause,
			Reason: why + "; rule " + strconv.Itoa(d.RulePriority) + " would otherwise " + verb(d.Action) + " it"}
	}
	closeOver(images, g, decisions, protected)
	hold(images, g, decisions)

	rules := make([]Rule, len(res.Rules))
	for i, r := range res.Rules {
		rules[i] = Rule{r.RulePriority, r.Description, r.Summary, r.Identified, r.Selected, r.Acted, r.Blocked}
	}
	return assemble(inv, decisions, rules, now, price, opts.Safety)
}

// assemble turns one decision per image of inv into a plan: items newest first, the
// summary, and the refusal.
func assemble(inv *inventory.Inventory, decisions []policy.Decision, rules []Rule, now time.Time, price float64, safety Safety) *Plan {
	images := inv.Images
	pl := &Plan{
		Repository: inv.Repository,
		Now:        now.UTC(),
		Rules:      rules,
		Images:     make([]Item, len(images)),
		Warnings:   warnings(images, inv.Unreadable),
	}
	if len(inv.Unreadable) > 0 {
		// The inventory is incomplete: keep everything, whatever was decided.
		pl.Unreadable = slices.Clone(inv.Unreadable)
		pl.Blocked = blockedMessage(inv.Unreadable)
		keepAll(decisions, inv.Unreadable)
		for i := range rules {
			rules[i].Blocked += rules[i].Acted
			rules[i].Acted = 0
		}
	}
	removed := make([]bool, len(images))
	archived := make([]bool, len(images))
	// Items go newest first, then by digest (digests are unique, so the order is total).
	order := make([]int, len(images))
	keys := make([]int64, len(images))
	for i := range order {
		order[i], keys[i] = i, sortKey(&images[i])
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(keys[b], keys[a]); c != 0 {
			return c
		}
		return cmp.Compare(images[a].Digest, images[b].Digest)
	})
	for n, i := range order {
		img, d := &images[i], decisions[i]
		it := Item{
			Digest:       img.Digest,
			Tags:         img.Tags,
			StorageClass: storageClass(img),
			Action:       d.Action,
			RulePriority: d.RulePriority,
			Reason:       d.Reason,
			SizeBytes:    img.SizeBytes,
			MediaType:    img.MediaType,
		}
		if it.Tags == nil {
			it.Tags = []string{}
		}
		if !img.PushedAt.IsZero() {
			t := img.PushedAt.UTC()
			it.PushedAt = &t
		}
		switch d.Action {
		case policy.Expire:
			pl.Summary.Expire++
			removed[i] = true
		case policy.Transition:
			pl.Summary.Transition++
			archived[i] = true
		default:
			pl.Summary.Keep++
		}
		pl.Images[n] = it
	}
	pl.Summary.Images = len(images)
	sz := inventory.NewStorage(images)
	pl.Summary.StoredBytes = sz.Total()
	pl.Summary.ReclaimedBytes = sz.Only(removed)
	pl.Summary.TransitionedBytes = sz.Of(archived)
	pl.Summary.PricePerGBMonth = price
	pl.Summary.MonthlySavingsUSD = MonthlyCost(pl.Summary.ReclaimedBytes, price)
	pl.Refusal = safety.refusal(pl.Summary.Expire, pl.Summary.Images)

	return pl
}

// keepAll keeps every image, as an inventory with unreadable manifests is incomplete: any
// of them may be an index that lists, or a subject whose referrers are, any image.
func keepAll(ds []policy.Decision, unreadable []inventory.Unreadable) {
	why := unreadableReason(unreadable)
	for i := range ds {
		d := &ds[i]
		if j := slices.IndexFunc(unreadable, func(u inventory.Unreadable) bool { return u.Digest == d.Digest }); j >= 0 {
			*d = policy.Decision{Digest: d.Digest, Action: policy.Keep, Cause: d.Cause,
				Reason: "kept: this manifest could not be read (" + unreadable[j].Reason + "); its children and referrers are unknown"}
			continue
		}
		if d.Action == policy.Keep {
			d.Reason = why + "; " + d.Reason
			continue
		}
		*d = policy.Decision{Digest: d.Digest, Action: policy.Keep, Cause: d.Cause,
			Reason: why + "; rule " + strconv.Itoa(d.RulePriority) + " would otherwise " + verb(d.Action) + " it"}
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
func closeOver(images []inventory.Image, g *inventory.Graph, ds []policy.Decision, protected map[int]string) {
	var queue []int
	for i, d := range ds {
		if d.Action == policy.Expire {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		parent := &images[i]
		for _, c := range parent.Children {
			j, ok := g.Index(c.Digest)
			if _, keep := protected[j]; !ok || keep || ds[j].Action == policy.Expire || len(images[j].Tags) > 0 {
				continue
			}
			if slices.ContainsFunc(g.Parents(j), func(k int) bool { return ds[k].Action != policy.Expire }) {
				continue
			}
			ds[j] = policy.Decision{
				Digest: images[j].Digest, Action: policy.Expire, RulePriority: ds[i].RulePriority,
				Cause: policy.CauseIndexChild,
				Reason: fmt.Sprintf("child of index %s, which rule %d expires; no kept index references it, so it goes with the index",
					label(parent), ds[i].RulePriority),
			}
			queue = append(queue, j)
		}
		for _, j := range g.Referrers(i) {
			if _, keep := protected[j]; keep || ds[j].Action == policy.Expire {
				continue
			}
			ds[j] = policy.Decision{
				Digest: images[j].Digest, Action: policy.Expire, RulePriority: ds[i].RulePriority,
				Cause:  policy.CauseReferrer,
				Reason: fmt.Sprintf("referrer of %s, which this plan removes; referrers go with their subject", label(parent)),
			}
			queue = append(queue, j)
		}
	}
}

// hold keeps whatever a kept image still references (an index's children, a referrer's
// subject) and its referrers, which follow it. The evaluator and the safety layer already keep most of these; hold makes it a
// rule that no plan, built or re-checked, breaks an image that stays.
func hold(images []inventory.Image, g *inventory.Graph, ds []policy.Decision) {
	var queue []int
	for i, d := range ds {
		if d.Action != policy.Expire {
			queue = append(queue, i)
		}
	}
	keep := func(j int, why string) {
		if ds[j].Action != policy.Expire {
			return
		}
		ds[j] = policy.Decision{Digest: images[j].Digest, Action: policy.Keep, Cause: ds[j].Cause,
			Reason: why + "; rule " + strconv.Itoa(ds[j].RulePriority) + " would otherwise expire it"}
		queue = append(queue, j)
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		img := &images[i]
		for _, c := range img.Children {
			if j, ok := g.Index(c.Digest); ok {
				keep(j, "child of index "+label(img)+", which stays")
			}
		}
		if j, ok := g.Index(img.Subject); ok && img.Subject != img.Digest {
			keep(j, "subject of "+label(img)+", which stays")
		}
		for _, j := range g.Referrers(i) {
			keep(j, "referrer of "+label(img)+", which stays")
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

func storageClass(img *inventory.Image) string {
	switch img.ImageStatus() {
	case inventory.StatusArchived:
		return "archive"
	case inventory.StatusActivating:
		return "activating"
	}
	return "standard"
}

// warnings says what makes the plan less exact. Unreadable manifests, which have no list
// of children either, are left to Blocked.
func warnings(images []inventory.Image, unreadable []inventory.Unreadable) []string {
	unknown := 0
	for i := range images {
		if images[i].IsIndex() && images[i].Children == nil &&
			!slices.ContainsFunc(unreadable, func(u inventory.Unreadable) bool { return u.Digest == images[i].Digest }) {
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

func label(img *inventory.Image) string {
	s := inventory.ShortDigest(img.Digest)
	if len(img.Tags) > 0 {
		s += " (" + img.Tags[0] + ")"
	}
	return s
}
