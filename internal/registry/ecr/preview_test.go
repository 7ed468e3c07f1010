package ecr_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// docImage is an image of a preview case: pushed age before t0, and for an archived image
// archived age before t0; pulled, if not zero, is when it was last pulled, before t0.
type docImage struct {
	name             string
	tags             []string
	age              time.Duration
	archived, pulled time.Duration
}

// docVerdict is what ECR does to one image of a preview case.
type docVerdict struct {
	image  string
	action string // EXPIRE or TRANSITION
	rule   int
}

// previewCase is a lifecycle policy of AWS's documentation, a repository, and what ECR's
// preview reports on it, worked out by hand from the documentation: from the example's own
// explanation where AWS gives one, else from the rules of "Lifecycle policy evaluation
// rules" and "Lifecycle policy properties". Nothing in a case comes from shipshape.
type previewCase struct {
	name   string
	policy string
	images []docImage
	// build, if set, is the tag of a buildx build (an index and its two children, all
	// untagged but the index) pushed 3 days before t0.
	build string
	want  []docVerdict
}

func rule(priority int, selection, action string) string {
	return fmt.Sprintf(`{"rulePriority": %d, "description": "Rule %d", "selection": %s, "action": %s}`, priority, priority, selection, action)
}

func rules(r ...string) string { return `{"rules": [` + strings.Join(r, ",\n") + `]}` }

const expire = `{"type": "expire"}`

// previewCases are the examples of AWS's "Examples of lifecycle policies in Amazon ECR"
// page, with its repositories where the page gives one.
func previewCases() []previewCase {
	hours := func(n int) time.Duration { return time.Duration(n) * time.Hour }
	// "Filtering on image count": keep only one untagged image. 120 untagged images pushed
	// an hour apart, and tagged ones older and newer, which the rule does not see: ECR
	// expires every untagged image but the newest, u1. More than a page of results.
	count := previewCase{
		name:   "image count: keep only one untagged image",
		policy: rules(rule(1, `{"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
		images: []docImage{{name: "latest", tags: []string{"latest"}, age: 0}, {name: "v1", tags: []string{"v1"}, age: day(30)}},
	}
	for i := 1; i <= 120; i++ {
		name := fmt.Sprint("u", i)
		count.images = append(count.images, docImage{name: name, age: hours(i)})
		if i > 1 {
			count.want = append(count.want, docVerdict{name, "EXPIRE", 1})
		}
	}

	return []previewCase{
		{
			// "Filtering on image age": expire images with a tag matching prod* pushed more
			// than 14 days ago. A tag must match from its start; one matching tag is enough.
			name:   "image age: prod* older than 14 days",
			policy: rules(rule(1, `{"tagStatus": "tagged", "tagPatternList": ["prod*"], "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"prod-1"}, age: day(20)},
				{name: "B", tags: []string{"prod-2"}, age: day(10)},
				{name: "C", tags: []string{"preprod-1"}, age: day(30)},
				{name: "D", age: day(30)},
				{name: "E", tags: []string{"beta-1", "prod-3"}, age: day(15)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}, {"E", "EXPIRE", 1}},
		},
		{
			// The same section's earlier version: untagged images older than 14 days.
			name:   "image age: untagged older than 14 days",
			policy: rules(rule(1, `{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}`, expire)),
			images: []docImage{
				{name: "A", age: day(15)},
				{name: "B", age: day(13)},
				{name: "C", tags: []string{"v1"}, age: day(30)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}},
		},
		count,
		{
			// "Filtering on multiple rules", Example A, as the page explains it: rule 2
			// would mark A and B, but both were seen by rule 1, which marks only A.
			name: "multiple rules, example A",
			policy: rules(
				rule(1, `{"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire),
				rule(2, `{"tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"beta-1", "prod-1"}, age: day(10)},
				{name: "B", tags: []string{"beta-2", "prod-2"}, age: day(9)},
				{name: "C", tags: []string{"beta-3"}, age: day(8)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}},
		},
		{
			// Example B: the same repository with the priorities swapped. Rule 1 (beta)
			// marks A and B; rule 2 sees nothing rule 1 has not seen.
			name: "multiple rules, example B",
			policy: rules(
				rule(1, `{"tagStatus": "tagged", "tagPrefixList": ["beta"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire),
				rule(2, `{"tagStatus": "tagged", "tagPrefixList": ["prod"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"beta-1", "prod-1"}, age: day(10)},
				{name: "B", tags: []string{"beta-2", "prod-2"}, age: day(9)},
				{name: "C", tags: []string{"beta-3"}, age: day(8)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}, {"B", "EXPIRE", 1}},
		},
		{
			// "Filtering on multiple tags in a single rule", Example A: an image must match
			// every prefix; of C and F only C is older than five days.
			name:   "multiple tags in a rule, example A",
			policy: rules(rule(1, `{"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "sinceImagePushed", "countNumber": 5, "countUnit": "days"}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"alpha-1"}, age: day(12)},
				{name: "B", tags: []string{"beta-1"}, age: day(11)},
				{name: "C", tags: []string{"alpha-2", "beta-2"}, age: day(10)},
				{name: "D", tags: []string{"alpha-3"}, age: day(4)},
				{name: "E", tags: []string{"beta-3"}, age: day(3)},
				{name: "F", tags: []string{"alpha-4", "beta-4"}, age: day(2)},
			},
			want: []docVerdict{{"C", "EXPIRE", 1}},
		},
		{
			// Example B: tags are not exclusive; all three images match both prefixes, and
			// all but the newest expire.
			name:   "multiple tags in a rule, example B",
			policy: rules(rule(1, `{"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"alpha-1", "beta-1", "gamma-1"}, age: day(10)},
				{name: "B", tags: []string{"alpha-2", "beta-2"}, age: day(9)},
				{name: "C", tags: []string{"alpha-3", "beta-3", "gamma-2"}, age: day(8)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}, {"B", "EXPIRE", 1}},
		},
		{
			// "Filtering on all images", Example A: keep the newest image of all.
			name:   "all images, example A",
			policy: rules(rule(1, `{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"alpha-1"}, age: day(4)},
				{name: "B", tags: []string{"beta-1"}, age: day(3)},
				{name: "C", age: day(2)},
				{name: "D", tags: []string{"alpha-2"}, age: day(1)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}, {"B", "EXPIRE", 1}, {"C", "EXPIRE", 1}},
		},
		{
			// Example B, the page's combination of all rule types. Rule 3 counts A, B, C,
			// D and E, keeps the newest (E) and marks the rest, but may act only on D: the
			// others were identified by rules 1 and 2. The page pushes D and E "1 day ago"
			// and has rule 2 leave E and rule 3 keep E; here E is pushed 20 hours ago and D
			// 22, which gives exactly that.
			name: "all images, example B",
			policy: rules(
				rule(1, `{"tagStatus": "tagged", "tagPrefixList": ["alpha"], "countType": "imageCountMoreThan", "countNumber": 1}`, expire),
				rule(2, `{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}`, expire),
				rule(3, `{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"alpha-1", "beta-1"}, age: day(4)},
				{name: "B", age: day(3)},
				{name: "C", tags: []string{"alpha-2"}, age: day(2)},
				{name: "D", tags: []string{"git hash"}, age: hours(22)},
				{name: "E", age: hours(20)},
			},
			want: []docVerdict{{"A", "EXPIRE", 1}, {"B", "EXPIRE", 2}, {"D", "EXPIRE", 3}},
		},
		{
			// "Combining archive and expire rules": archive images pushed more than 30 days
			// ago; expire images archived more than 365 days ago. Rules select only their
			// storage class, so rule 1 neither archives nor protects archived images.
			name: "archive and expire",
			policy: rules(
				rule(1, `{"tagStatus": "any", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 30}`, `{"type": "transition", "targetStorageClass": "archive"}`),
				rule(2, `{"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned", "countUnit": "days", "countNumber": 365}`, expire)),
			images: []docImage{
				{name: "A", tags: []string{"v2"}, age: day(40)},
				{name: "B", age: day(10)},
				{name: "C", tags: []string{"v0"}, age: day(900), archived: day(400)},
				{name: "D", tags: []string{"v1"}, age: day(500), archived: day(100)},
			},
			want: []docVerdict{{"A", "TRANSITION", 1}, {"C", "EXPIRE", 2}},
		},
		{
			// "Archiving images not pulled in a specified number of days" (90): the last
			// recorded pull counts, not the push.
			name:   "archive images not pulled in 90 days",
			policy: rules(rule(1, `{"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 90}`, `{"type": "transition", "targetStorageClass": "archive"}`)),
			images: []docImage{
				{name: "A", tags: []string{"v1"}, age: day(200), pulled: day(100)},
				{name: "B", tags: []string{"v2"}, age: day(200), pulled: day(10)},
				{name: "C", age: day(30), pulled: day(29)},
			},
			want: []docVerdict{{"A", "TRANSITION", 1}},
		},
		{
			// Untagged images a day after their push, beside a buildx build: the build's
			// image and attestation manifests are untagged and old, but "if an image is
			// referenced by a manifest list, it cannot be expired ... without the manifest
			// list being deleted" ("Lifecycle policy evaluation rules").
			name:   "untagged images beside a multi-arch build",
			policy: rules(rule(1, `{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}`, expire)),
			images: []docImage{
				{name: "A", age: day(3)},
				{name: "B", age: day(2)},
				{name: "C", age: hours(12)},
			},
			build: "v1",
			want:  []docVerdict{{"A", "EXPIRE", 1}, {"B", "EXPIRE", 1}},
		},
	}
}

// pushDocImage pushes img, made unique by its case and name, and returns its digest.
func pushDocImage(s *ecrtest.Server, repo, unique string, img docImage) string {
	in := ecrtest.Image{
		Manifest: fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[]}`, blobOf(unique)),
		Tags:     img.tags,
		PushedAt: t0.Add(-img.age),
	}
	if img.archived != 0 {
		in.Status, in.LastArchivedAt = "ARCHIVED", t0.Add(-img.archived)
	}
	if img.pulled != 0 {
		in.LastPulledAt = t0.Add(-img.pulled)
	}
	return s.PutImage(repo, in)
}

// blobOf is the digest of content.
func blobOf(content string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(content)))
}

// TestPreviewAgreesWithECR scripts ECR's preview of each of AWS's documented lifecycle
// policy examples with the result worked out by hand, reads it through the backend, and
// checks that shipshape's evaluation of the same policy over the backend's inventory agrees
// with it image for image: the check `plan --ecr-preview` makes against a real account.
func TestPreviewAgreesWithECR(t *testing.T) {
	t.Parallel()
	for _, tc := range previewCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ecrtest.New(t)
			s.CreateRepository("app", ecrtest.Repo{})
			c := ecr.New(s.ECR(), ecr.Options{RegistryID: ecrtest.Account, Host: host, PreviewPoll: time.Millisecond})
			names := map[string]string{} // digest → name, for messages
			digests := map[string]string{}
			archived := map[string]bool{}
			for _, img := range tc.images {
				d := pushDocImage(s, "app", tc.name+"/"+img.name, img)
				digests[img.name], names[d] = d, img.name
				archived[img.name] = img.archived != 0
			}
			if tc.build != "" {
				b := s.PushBuild("app", tc.build, t0.Add(-day(3)))
				names[b.Index], names[b.Image], names[b.Attestation] = "build index", "build image", "build attestation"
			}

			var script []ecrtest.PreviewResult
			var want []registry.PreviewResult
			for _, v := range tc.want {
				img := slices.IndexFunc(tc.images, func(i docImage) bool { return i.name == v.image })
				script = append(script, ecrtest.PreviewResult{Digest: digests[v.image], Action: v.action, RulePriority: v.rule})
				class := "standard"
				if archived[v.image] {
					class = "archive"
				}
				tags := slices.Sorted(slices.Values(tc.images[img].tags))
				want = append(want, registry.PreviewResult{Digest: digests[v.image], Tags: tags, Action: strings.ToLower(v.action), RulePriority: v.rule, StorageClass: class})
			}
			s.SetPreview("app", script)

			got, err := c.PreviewLifecyclePolicy(t.Context(), "app", tc.policy)
			if err != nil {
				t.Fatalf("PreviewLifecyclePolicy() error = %v", err)
			}
			byDigest := func(a, b registry.PreviewResult) int { return strings.Compare(a.Digest, b.Digest) }
			slices.SortFunc(got, byDigest)
			slices.SortFunc(want, byDigest)
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
				t.Fatalf("PreviewLifecyclePolicy() (-ECR +backend):\n%s", diff)
			}

			inv, err := c.Inventory(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			p, err := policy.Load([]byte(tc.policy))
			if err != nil {
				t.Fatalf("policy.Load(AWS's example) error = %v", err)
			}
			items := make([]plan.PreviewItem, len(got))
			for i, r := range got {
				items[i] = plan.PreviewItem{Digest: r.Digest, Action: policy.Verdict(r.Action), RulePriority: r.RulePriority}
			}
			res := policy.Evaluate(p, inv.Images, t0)
			cmpn := plan.Compare(inv.Images, res.Decisions, items)
			verdict := func(v policy.Verdict, rule int) string {
				if v == policy.Keep {
					return string(v)
				}
				return fmt.Sprintf("%s by rule %d", v, rule)
			}
			for _, d := range cmpn.Differences {
				t.Errorf("image %s: ECR would %s, shipshape would %s: %s",
					names[d.Digest], verdict(d.Registry, d.RegistryRule), verdict(d.Shipshape, d.ShipshapeRule), d.ShipshapeReason)
			}
			if cmpn.Agree != len(names) {
				t.Errorf("plan.Compare() agrees on %d images, want all %d", cmpn.Agree, len(names))
			}
		})
	}
}

const waitPolicy = `{"rules": [{"rulePriority": 1, "description": "expire untagged images a day after their push",
  "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
  "action": {"type": "expire"}}]}`

// TestPreviewLifecyclePolicyWaits checks that the backend waits for another preview of the
// repository to end before starting its own, and then for its own to complete, polling for
// as long as the server holds each.
func TestPreviewLifecyclePolicyWaits(t *testing.T) {
	t.Parallel()
	s, c := open(t, "app")
	old := pushPlain(s, "app", 2)
	s.SetPreview("app", []ecrtest.PreviewResult{{Digest: old[0], Action: "EXPIRE", RulePriority: 1}, {Digest: old[1], Action: "EXPIRE", RulePriority: 1}})
	want := []string{old[0], old[1]}
	slices.Sort(want)

	type result struct {
		got []registry.PreviewResult
		err error
	}
	preview := func() <-chan result {
		done := make(chan result, 1)
		go func() {
			got, err := c.PreviewLifecyclePolicy(t.Context(), "app", waitPolicy)
			done <- result{got, err}
		}()
		return done
	}
	check := func(phase string, r result) {
		t.Helper()
		var got []string
		for _, p := range r.got {
			got = append(got, p.Digest)
		}
		slices.Sort(got)
		if r.err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: PreviewLifecyclePolicy() = %v, %v; want the 2 scripted results", phase, got, r.err)
		}
	}

	// Another preview of the repository is in progress: the backend's start is refused,
	// and it retries until that preview ends.
	s.HoldPreviews("app")
	if _, err := s.ECR().StartLifecyclePolicyPreview(t.Context(), &ecrsdk.StartLifecyclePolicyPreviewInput{
		RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String(waitPolicy),
	}); err != nil {
		t.Fatal(err)
	}
	done := preview()
	select {
	case <-s.CallsReached("StartLifecyclePolicyPreview", 1+3): // the test's start, three refused
	case r := <-done:
		t.Fatalf("PreviewLifecyclePolicy() returned %v, %v while another preview was in progress", r.got, r.err)
	}
	s.ReleasePreviews("app")
	check("after another preview", <-done)

	// Its own preview is in progress: the backend polls until it completes.
	s.HoldPreviews("app")
	starts, gets := s.Calls("StartLifecyclePolicyPreview"), s.Calls("GetLifecyclePolicyPreview")
	done = preview()
	select {
	case <-s.CallsReached("GetLifecyclePolicyPreview", gets+3):
	case r := <-done:
		t.Fatalf("PreviewLifecyclePolicy() returned %v, %v while its preview was in progress", r.got, r.err)
	}
	s.ReleasePreviews("app")
	check("its own preview held", <-done)
	if n := s.Calls("StartLifecyclePolicyPreview") - starts; n != 1 {
		t.Errorf("PreviewLifecyclePolicy() started %d previews, want 1", n)
	}
}

func TestPreviewLifecyclePolicyTimeout(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{LifecyclePolicy: waitPolicy})
	c := ecr.New(s.ECR(), ecr.Options{PreviewPoll: 5 * time.Millisecond, PreviewTimeout: 50 * time.Millisecond})
	s.HoldPreviews("app") // never released
	if _, err := s.ECR().StartLifecyclePolicyPreview(t.Context(), &ecrsdk.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PreviewLifecyclePolicy(t.Context(), "app", "")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "no result within 50ms: ") {
		t.Errorf("PreviewLifecyclePolicy() while another never ends: error = %v, want a timeout", err)
	}

	s2 := ecrtest.New(t)
	s2.CreateRepository("app", ecrtest.Repo{LifecyclePolicy: waitPolicy})
	s2.Fail("GetLifecyclePolicyPreview", 1, "ServerException", "boom")
	c2 := ecr.New(s2.ECR(), ecr.Options{PreviewPoll: time.Millisecond})
	results, err := c2.PreviewLifecyclePolicy(t.Context(), "app", "")
	if err != nil || len(results) != 0 {
		t.Errorf("PreviewLifecyclePolicy(the repository's own policy, no images) = %v, %v; want no results", results, err)
	}
}
