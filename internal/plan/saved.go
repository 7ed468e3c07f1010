package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// savedKind and savedVersion identify a saved plan file.
const (
	savedKind    = "shipshape.plan"
	savedVersion = 1
)

// Saved is a plan written to a file by "shipshape plan --out", to be applied later by
// "shipshape apply PLANFILE": the plan itself, and everything it is bound to, so that it is
// never applied to another repository, and so that its age and inputs can be checked.
type Saved struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	// Host is the registry host the plan was made against, as given ("localhost:5000").
	Host string `json:"host"`
	// Repository is the repository within the host ("team/app").
	Repository string    `json:"repository"`
	CreatedAt  time.Time `json:"createdAt"`
	// PolicyDigest is the sha256 of the normalised policy: two files that differ only in
	// formatting or rule order have the same digest.
	PolicyDigest string      `json:"policyDigest"`
	Safety       SavedSafety `json:"safety"`
	// Inventory identifies the repository's contents the plan was made from.
	Inventory SavedInventory `json:"inventory"`
	Plan      *Plan          `json:"plan"`
}

// SavedSafety records the safety settings a plan was made with. Applying re-applies the
// settings in force then; these say what the plan already took into account.
type SavedSafety struct {
	ProtectTags      []string `json:"protectTags"`
	ProtectDigests   []string `json:"protectDigests"`
	InUse            []string `json:"inUse"`
	Grace            string   `json:"grace"`
	MaxDeletePercent float64  `json:"maxDeletePercent"`
}

// SavedInventory identifies an inventory: when it was taken, how many images it had, and a
// fingerprint of every digest with its tags.
type SavedInventory struct {
	CapturedAt  time.Time `json:"capturedAt"`
	Images      int       `json:"images"`
	Fingerprint string    `json:"fingerprint"`
}

// Save binds p to the repository host/repo, the policy and the safety settings it was made
// with, and the inventory it was made from.
func Save(p *Plan, host, repo string, pol *policy.Policy, inv *inventory.Inventory, opts Options, now time.Time) *Saved {
	s := SavedSafety{
		ProtectTags:      slices.Clone(opts.Safety.ProtectTags),
		ProtectDigests:   make([]string, 0, len(opts.Safety.ProtectDigests)),
		MaxDeletePercent: opts.Safety.MaxDeletePercent,
	}
	if s.ProtectTags == nil {
		s.ProtectTags = []string{}
	}
	for d := range opts.Safety.ProtectDigests {
		s.ProtectDigests = append(s.ProtectDigests, d)
	}
	slices.Sort(s.ProtectDigests)
	s.InUse = slices.Sorted(maps.Keys(opts.Safety.InUse))
	if s.InUse == nil {
		s.InUse = []string{}
	}
	if opts.Safety.Grace > 0 {
		s.Grace = opts.Safety.Grace.String()
	}
	if p.items != nil {
		// A saved plan holds its items.
		full := *p
		full.Images, full.items = p.Items(), nil
		p = &full
	}
	return &Saved{
		Kind:         savedKind,
		Version:      savedVersion,
		Host:         host,
		Repository:   repo,
		CreatedAt:    now.UTC(),
		PolicyDigest: PolicyDigest(pol),
		Safety:       s,
		Inventory: SavedInventory{
			CapturedAt:  inv.CapturedAt.UTC(),
			Images:      inv.Len(),
			Fingerprint: fingerprint(inv.List()),
		},
		Plan: p,
	}
}

// PolicyDigest is the sha256 of the policy's normalised form.
func PolicyDigest(p *policy.Policy) string {
	sum := sha256.Sum256(policy.Format(p))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Fingerprint is a sha256 over every image's digest and tags, in digest order: two
// inventories with the same fingerprint hold the same manifests under the same tags.
func Fingerprint(images []inventory.Image) string {
	return fingerprint(inventory.ListOf(images))
}

func fingerprint(l inventory.List) string {
	order := make([]int, l.Len())
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, l.CompareDigests)
	h := sha256.New()
	for _, i := range order {
		tags := slices.Clone(l.Tags(i))
		slices.Sort(tags)
		io.WriteString(h, l.Digest(i))
		for _, t := range tags {
			io.WriteString(h, "\x00"+t)
		}
		io.WriteString(h, "\n")
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Digest identifies the saved plan: the sha256 of its JSON encoding. A journal records it,
// so that an interrupted apply resumes only the plan it started.
func (s *Saved) Digest() string {
	b, err := json.Marshal(s)
	if err != nil { // a Saved holds only plain values
		panic(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Ref is the repository the plan is for, as an image reference without tag.
func (s *Saved) Ref() string { return s.Host + "/" + s.Repository }

// Write writes the saved plan as indented JSON.
func (s *Saved) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// ErrNotSaved is returned by ReadSaved for a document that is not a saved plan.
var ErrNotSaved = errors.New("not a saved shipshape plan")

// ReadSaved reads a saved plan. Anything but exactly the format Write writes is an error:
// an unknown field, a missing binding, an action other than keep, expire or transition.
func ReadSaved(data []byte) (*Saved, error) {
	var probe struct {
		Kind    string `json:"kind"`
		Version int    `json:"version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&probe); err != nil || probe.Kind != savedKind {
		return nil, ErrNotSaved
	}
	if probe.Version != savedVersion {
		return nil, fmt.Errorf("saved plan version %d; this shipshape reads version %d", probe.Version, savedVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	s := &Saved{}
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("decoding the saved plan: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decoding the saved plan: data after the plan")
	}
	switch {
	case s.Host == "" || s.Repository == "":
		return nil, errors.New("the saved plan names no host or repository")
	case s.CreatedAt.IsZero():
		return nil, errors.New("the saved plan has no createdAt")
	case s.Plan == nil:
		return nil, errors.New("the saved plan holds no plan")
	}
	seen := make(map[string]bool, len(s.Plan.Images))
	for i, it := range s.Plan.Images {
		switch it.Action {
		case policy.Keep, policy.Expire, policy.Transition:
		default:
			return nil, fmt.Errorf("plan.images[%d].action: %q is not keep, expire or transition", i, it.Action)
		}
		if err := inventory.ValidDigest(it.Digest); err != nil {
			return nil, fmt.Errorf("plan.images[%d].digest: %w", i, err)
		}
		if seen[it.Digest] {
			return nil, fmt.Errorf("plan.images[%d].digest: %s appears twice", i, it.Digest)
		}
		seen[it.Digest] = true
	}
	return s, nil
}

// Targets returns the images the plan removes or archives, by digest.
func (s *Saved) Targets() map[string]Item {
	out := map[string]Item{}
	for _, it := range s.Plan.Images {
		if it.Action == policy.Expire || it.Action == policy.Transition {
			out[it.Digest] = it
		}
	}
	return out
}
