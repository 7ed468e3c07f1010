package plan

import (
	"fmt"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Safety is shipshape's own protection on top of a policy. It lives in shipshape's
// configuration, never in the ECR policy JSON, so the same policy file still goes to ECR
// unchanged. The zero value protects nothing.
type Safety struct {
	// ProtectTags are tag patterns ('*' matches any run of characters, as in ECR's
	// tagPatternList); an image carrying a matching tag is kept.
	ProtectTags []string
	// ProtectDigests are pinned digests, each with where the pin comes from (a file and
	// line, a pin name), for the reason shown to people.
	ProtectDigests map[string]string
	// InUse are the digests that run, each with where (a Kubernetes workload, an ECS
	// service, a Lambda function, a manifest), for the reason shown to people.
	InUse map[string]string
	// Grace keeps images pushed less than this long before now. Images whose push time is
	// unknown are not covered by it.
	Grace time.Duration
	// MaxDeletePercent refuses a plan that expires more than this share of the repository's
	// images; 0 means no limit.
	MaxDeletePercent float64
}

// protect finds the images of l that Safety keeps, with the reason for each: the protected
// images themselves, and everything they hold on to (an index's children, an image's
// referrers).
func (s Safety) protect(l inventory.List, g *inventory.Graph, now time.Time) map[int]string {
	out := map[int]string{}
	var queue []int
	for i := range l.Len() {
		if why := s.reason(l, i, now); why != "" {
			out[i] = why
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		hold := func(j int, why string) {
			if _, done := out[j]; !done {
				out[j] = why
				queue = append(queue, j)
			}
		}
		for _, c := range l.Children(i) {
			if j, ok := g.Index(c.Digest); ok {
				hold(j, "child of protected index "+label(l, i))
			}
		}
		for _, j := range g.Referrers(i) {
			hold(j, "referrer of protected image "+label(l, i))
		}
	}
	return out
}

// reason says why Safety keeps image i of l, or "".
func (s Safety) reason(l inventory.List, i int, now time.Time) string {
	if len(s.InUse) > 0 || len(s.ProtectDigests) > 0 {
		d := l.Digest(i)
		if where, ok := s.InUse[d]; ok {
			return "in use: " + where
		}
		if src, ok := s.ProtectDigests[d]; ok {
			if src == "" {
				return "pinned digest"
			}
			return "pinned digest (" + src + ")"
		}
	}
	if len(s.ProtectTags) > 0 {
		for _, t := range l.Tags(i) {
			for _, p := range s.ProtectTags {
				if policy.MatchTag(p, t) {
					return fmt.Sprintf("protected tag %q (matches %q)", t, p)
				}
			}
		}
	}
	if s.Grace > 0 {
		if pushed := l.PushedAt(i); !pushed.IsZero() && now.Sub(pushed) < s.Grace {
			return fmt.Sprintf("pushed %s ago, within the %s grace period", roundAge(now.Sub(pushed)), s.Grace)
		}
	}
	return ""
}

func roundAge(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}

// refusal says why a plan must not be applied, or "" when it may.
func (s Safety) refusal(expire, images int) string {
	if s.MaxDeletePercent <= 0 || images == 0 {
		return ""
	}
	share := float64(expire) * 100 / float64(images)
	if share <= s.MaxDeletePercent {
		return ""
	}
	return fmt.Sprintf("the plan expires %d of %d images (%.0f%%), more than the %.4g%% limit; check the policy, raise the limit, or force it",
		expire, images, share, s.MaxDeletePercent)
}
