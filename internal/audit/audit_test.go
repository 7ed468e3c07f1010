package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/audit"
	"github.com/shipshape-dev/shipshape/internal/golden"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

const (
	exampleSnapshot = "../../examples/inventory.json"
	exampleDescribe = "../../examples/describe-images.json"
	examplePolicy   = "../../examples/policies/keep-streams.json"
)

var exampleNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func readInventory(t *testing.T, name string) *inventory.Inventory {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inv, err := inventory.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return inv
}

func readPolicy(t *testing.T, name string) *policy.Policy {
	t.Helper()
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// TestAuditGolden audits the example repository and hand-built snapshots that between them
// produce every count and every diagnosis, and compares the reports with golden files.
func TestAuditGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, images, policy string
		// rendered also checks the table and Markdown forms.
		rendered bool
	}{
		// buildx single-platform builds with provenance, superseded builds, signed releases.
		{name: "example", images: exampleSnapshot, rendered: true},
		{name: "example-policy", images: exampleSnapshot, policy: examplePolicy, rendered: true},
		// No children and no layers: unattributed images and upper-bound sizes.
		{name: "example-describe-images", images: exampleDescribe, rendered: true},
		// Multi-platform indexes, a manifest list, a superseded index, a missing child.
		{name: "multi-platform", images: "testdata/multi-platform.json"},
		// Exactly the threshold of single-platform indexes with an attestation.
		{name: "single-platform", images: "testdata/single-platform.json"},
		// Referrers of each kind, tag signatures, every kind of orphan, superseded images.
		{name: "leftovers", images: "testdata/leftovers.json", rendered: true},
		// The same under a policy that expires all but one of the superseded images.
		{name: "leftovers-policy", images: "testdata/leftovers.json", policy: "testdata/expire-untagged.policy.json", rendered: true},
		// Unknown push times, no capture time, a note from the source.
		{name: "generic-registry", images: "testdata/generic-registry.json", rendered: true},
		{name: "empty", images: "testdata/empty.json", rendered: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := readInventory(t, tt.images)
			opts := audit.Options{}
			if tt.policy != "" {
				opts.Policy, opts.Now = readPolicy(t, tt.policy), inv.CapturedAt
			}
			reports := []audit.Report{audit.Audit(inv, opts)}

			var buf bytes.Buffer
			if err := audit.WriteJSON(&buf, reports); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+".json", buf.String())
			if !tt.rendered {
				return
			}
			buf.Reset()
			if err := audit.WriteTable(&buf, reports, false); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+".txt", buf.String())
			buf.Reset()
			if err := audit.WriteMarkdown(&buf, reports); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tt.name+".md", buf.String())
		})
	}
}

// TestAuditAgreesWithPlan checks the audit's own storage accounting against the plan's, and
// its policy figures against the plan's summary.
func TestAuditAgreesWithPlan(t *testing.T) {
	t.Parallel()
	p := readPolicy(t, examplePolicy)
	for _, file := range []string{exampleSnapshot, exampleDescribe, "testdata/leftovers.json", "testdata/multi-platform.json"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			inv := readInventory(t, file)
			r := audit.Audit(inv, audit.Options{Policy: p, Now: exampleNow, PricePerGBMonth: 0.5})
			s := plan.Build(p, inv, exampleNow, plan.Options{PricePerGBMonth: 0.5}).Summary
			want := audit.Reclaim{Now: exampleNow, Expire: s.Expire, Transition: s.Transition, Keep: s.Keep,
				ReclaimedBytes: s.ReclaimedBytes, TransitionedBytes: s.TransitionedBytes, MonthlySavingsUSD: s.MonthlySavingsUSD}
			if r.Policy == nil {
				t.Fatal("Audit() with a policy reported no policy outcome")
			}
			if diff := cmp.Diff(want, *r.Policy); diff != "" {
				t.Errorf("Audit().Policy mismatch (-want +got):\n%s", diff)
			}
			if r.Storage.StoredBytes != s.StoredBytes || r.Storage.PricePerGBMonth != 0.5 {
				t.Errorf("Audit().Storage = %+v, want storedBytes %d at 0.5", r.Storage, s.StoredBytes)
			}
			if r.Storage.UnreachableBytes > r.Storage.StoredBytes || r.Storage.AttestationBytes > r.Storage.StoredBytes {
				t.Errorf("Audit().Storage = %+v: a part exceeds the whole", r.Storage)
			}
		})
	}
}

// TestAuditCountsAddUp checks identities between the counts on every input.
func TestAuditCountsAddUp(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, exampleSnapshot, exampleDescribe)
	for _, file := range files {
		if strings.HasSuffix(file, ".policy.json") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			c := audit.Audit(readInventory(t, file), audit.Options{}).Counts
			checks := []struct {
				what        string
				left, right int
			}{
				{"tagged + untagged = images", c.Tagged + c.Untagged, c.Images},
				{"signatures + sboms + other = referrers", c.Signatures + c.SBOMs + c.OtherReferrers, c.Referrers},
			}
			for _, ch := range checks {
				if ch.left != ch.right {
					t.Errorf("Audit().Counts: %s: %d != %d (%+v)", ch.what, ch.left, ch.right, c)
				}
			}
			if c.Superseded+c.Unattributed+c.OrphanedAttestations > c.Untagged || c.SinglePlatformWithAttestation > c.SinglePlatformIndexes ||
				c.SinglePlatformIndexes > c.Indexes {
				t.Errorf("Audit().Counts = %+v: a part exceeds the whole", c)
			}
		})
	}
}

// TestAuditLeavesInventoryAlone audits twice and checks that neither the inventory nor the
// report changes.
func TestAuditLeavesInventoryAlone(t *testing.T) {
	t.Parallel()
	inv := readInventory(t, "testdata/leftovers.json")
	before := readInventory(t, "testdata/leftovers.json")
	opts := audit.Options{Policy: readPolicy(t, "testdata/expire-untagged.policy.json"), Now: exampleNow}
	first := audit.Audit(inv, opts)
	second := audit.Audit(inv, opts)
	if diff := cmp.Diff(before, inv); diff != "" {
		t.Errorf("Audit() changed the inventory (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("Audit() differs between two runs (-first +second):\n%s", diff)
	}
}

// Builders for the threshold tests.

func digest(name string) string {
	return fmt.Sprintf("sha256:%064x", []byte(name))
}

func buildxBuilds(n int, attest bool) []inventory.Image {
	var out []inventory.Image
	pushed := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		img := inventory.Image{Digest: digest(fmt.Sprintf("img%d", i)), MediaType: inventory.MediaTypeOCIManifest, PushedAt: pushed,
			Config: &inventory.Blob{Digest: digest(fmt.Sprintf("cfg%d", i)), Size: 4000}, Layers: []inventory.Blob{{Digest: digest("layer"), Size: 30 << 20}}}
		idx := inventory.Image{Digest: digest(fmt.Sprintf("idx%d", i)), Tags: []string{fmt.Sprintf("sha-%d", i)}, MediaType: inventory.MediaTypeOCIIndex,
			PushedAt: pushed, Children: []inventory.Child{{Digest: img.Digest, MediaType: img.MediaType, Platform: "linux/amd64"}}}
		out = append(out, img)
		if attest {
			att := inventory.Image{Digest: digest(fmt.Sprintf("att%d", i)), MediaType: inventory.MediaTypeOCIManifest, PushedAt: pushed,
				Config: &inventory.Blob{Digest: digest(fmt.Sprintf("attcfg%d", i)), Size: 240}, Layers: []inventory.Blob{{Digest: digest(fmt.Sprintf("prov%d", i)), Size: 20000}}}
			idx.Children = append(idx.Children, inventory.Child{Digest: att.Digest, MediaType: att.MediaType, Platform: inventory.PlatformUnknownUnknown,
				Annotations: map[string]string{inventory.AnnotationRefType: inventory.RefTypeAttestation, inventory.AnnotationRefDigest: img.Digest}})
			out = append(out, att)
		}
		out = append(out, idx)
	}
	return out
}

func untaggedImages(n int, prefix string, pushed time.Time) []inventory.Image {
	var out []inventory.Image
	for i := range n {
		out = append(out, inventory.Image{Digest: digest(fmt.Sprintf("%s%d", prefix, i)), MediaType: inventory.MediaTypeDockerV2, PushedAt: pushed,
			Config: &inventory.Blob{Digest: digest(fmt.Sprintf("%scfg%d", prefix, i)), Size: 5000}, Layers: []inventory.Blob{{Digest: digest("base"), Size: 50 << 20}}})
	}
	return out
}

// TestDiagnosisThresholds checks each diagnosis just below and at its threshold.
func TestDiagnosisThresholds(t *testing.T) {
	t.Parallel()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	expireUntagged := readPolicy(t, "testdata/expire-untagged.policy.json")
	tagged := inventory.Image{Digest: digest("tagged"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeOCIManifest, PushedAt: old,
		Config: &inventory.Blob{Digest: digest("cfg"), Size: 5000}}
	tests := []struct {
		name   string
		images []inventory.Image
		policy *policy.Policy
		want   []string // codes and severities
	}{
		{"no images", nil, nil, nil},
		{"9 single-platform indexes with attestation", buildxBuilds(9, true), nil, nil},
		{"10 single-platform indexes with attestation", buildxBuilds(10, true), nil, []string{"warning single-platform-attestations"}},
		{"10 single-platform indexes without attestation", buildxBuilds(10, false), nil, nil},
		{"9 superseded", untaggedImages(9, "u", old), nil, nil},
		{"10 superseded", untaggedImages(10, "u", old), nil, []string{"warning superseded-untagged"}},
		{"10 superseded, all expired by the policy", untaggedImages(10, "u", old), expireUntagged, []string{"info superseded-untagged"}},
		{"20 superseded, 10 too new for the policy", append(untaggedImages(10, "u", old), untaggedImages(10, "n", exampleNow)...), expireUntagged,
			[]string{"warning superseded-untagged"}},
		{"orphaned referrer", []inventory.Image{{Digest: digest("ref"), MediaType: inventory.MediaTypeOCIManifest, Subject: digest("gone"), PushedAt: old}}, nil,
			[]string{"warning orphaned-referrers"}},
		{"referrer of a tagged image", []inventory.Image{tagged, {Digest: digest("ref"), MediaType: inventory.MediaTypeOCIManifest, Subject: tagged.Digest, PushedAt: old}}, nil, nil},
		{"unknown push time of a tagged image", []inventory.Image{{Digest: digest("x"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeOCIManifest}}, nil,
			[]string{"warning unknown-push-time"}},
		{"unknown push time of an index child", []inventory.Image{
			{Digest: digest("idx"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeOCIIndex, PushedAt: old, Children: []inventory.Child{{Digest: digest("child")}}},
			{Digest: digest("child"), MediaType: inventory.MediaTypeOCIManifest}}, nil, nil},
		{"index with a missing child", []inventory.Image{{Digest: digest("idx"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeOCIIndex, PushedAt: old,
			Children: []inventory.Child{{Digest: digest("gone"), Platform: "linux/amd64"}}}}, nil, []string{"warning broken-indexes"}},
		{"index with unknown children", []inventory.Image{{Digest: digest("idx"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeOCIIndex, PushedAt: old}}, nil,
			[]string{"info unknown-children"}},
		{"image without layers", []inventory.Image{{Digest: digest("x"), Tags: []string{"v1"}, MediaType: inventory.MediaTypeDockerV2, PushedAt: old, SizeBytes: 1}}, nil,
			[]string{"info unknown-layers"}},
		{"tag signature", []inventory.Image{tagged, {Digest: digest("sig"), Tags: []string{"sha256-" + tagged.Digest[7:] + ".sig"}, PushedAt: old}}, nil,
			[]string{"info tag-signatures"}},
		{"orphaned tag signature", []inventory.Image{{Digest: digest("sig"), Tags: []string{"sha256-" + digest("gone")[7:] + ".sbom"}, PushedAt: old}}, nil,
			[]string{"warning orphaned-tag-signatures"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := audit.Audit(&inventory.Inventory{Images: tt.images}, audit.Options{Policy: tt.policy, Now: exampleNow})
			var got []string
			for _, d := range r.Diagnoses {
				got = append(got, string(d.Severity)+" "+d.Code)
				if d.Message == "" || d.Fix == "" {
					t.Errorf("diagnosis %s lacks a message or a fix: %+v", d.Code, d)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Audit() diagnoses mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestRender(t *testing.T) {
	t.Parallel()
	reports := []audit.Report{
		audit.Audit(readInventory(t, "testdata/leftovers.json"), audit.Options{}),
		audit.Audit(readInventory(t, "testdata/empty.json"), audit.Options{}),
	}
	t.Run("json of nothing", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		if err := audit.WriteJSON(&buf, nil); err != nil || buf.String() != "[]\n" {
			t.Errorf("WriteJSON(nil) = %q, %v, want \"[]\\n\"", buf.String(), err)
		}
	})
	t.Run("several repositories", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		if err := audit.WriteTable(&buf, reports, false); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(buf.String(), "\nAudit of ") + strings.Count(buf.String()[:9], "Audit of "); got != 2 {
			t.Errorf("WriteTable() of 2 reports printed %d headings:\n%s", got, buf.String())
		}
		buf.Reset()
		if err := audit.WriteMarkdown(&buf, reports); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(buf.String(), "### shipshape audit: "); got != 2 {
			t.Errorf("WriteMarkdown() of 2 reports printed %d headings", got)
		}
	})
	t.Run("colour", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		if err := audit.WriteTable(&buf, reports, true); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "\x1b[33mwarning\x1b[0m: ") || !strings.Contains(buf.String(), "\x1b[36minfo\x1b[0m: ") {
			t.Errorf("WriteTable(color) did not colour the severities:\n%s", buf.String())
		}
	})
	t.Run("write errors", func(t *testing.T) {
		t.Parallel()
		for name, write := range map[string]func() error{
			"table":    func() error { return audit.WriteTable(failingWriter{}, reports, false) },
			"json":     func() error { return audit.WriteJSON(failingWriter{}, reports) },
			"markdown": func() error { return audit.WriteMarkdown(failingWriter{}, reports) },
		} {
			if err := write(); !errors.Is(err, errWrite) {
				t.Errorf("%s: error = %v, want %v", name, err, errWrite)
			}
		}
	})
}

// TestAuditIsPure keeps the audit free of I/O and of the clock: it imports no file system,
// network or process packages, and never reads the time.
func TestAuditIsPure(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		switch imp {
		case "os", "os/exec", "io/ioutil", "net", "net/http", "database/sql", "syscall", "context":
			t.Errorf("internal/audit imports %s; the audit must do no I/O", imp)
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, clock := range []string{"time.Now(", "time.Since(", "time.Until("} {
			if bytes.Contains(src, []byte(clock)) {
				t.Errorf("%s calls %s; the audit takes the time from Options.Now", f, clock)
			}
		}
	}
}

// BenchmarkAudit100k audits a 100,000-image repository with the example policy.
func BenchmarkAudit100k(b *testing.B) {
	inv := synth.Large(100_000, 1, exampleNow)
	text, err := os.ReadFile(examplePolicy)
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Load(text)
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opts audit.Options
	}{{"counts", audit.Options{}}, {"with policy", audit.Options{Policy: p, Now: exampleNow}}} {
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				audit.Audit(inv, tt.opts)
			}
		})
	}
}

// TestInUseWouldExpire: an image in use that the policy alone would expire is diagnosed,
// because ECR's native lifecycle would delete it, while the plan's figures keep it.
func TestInUseWouldExpire(t *testing.T) {
	t.Parallel()
	inv := readInventory(t, exampleSnapshot)
	text, err := os.ReadFile(examplePolicy)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(text)
	if err != nil {
		t.Fatal(err)
	}
	bare := plan.Build(pol, inv, exampleNow, plan.Options{})
	var victim, kept string
	for _, it := range bare.Images {
		switch {
		case it.Action == policy.Expire && len(it.Tags) > 0 && victim == "":
			victim = it.Digest
		case it.Action == policy.Keep && len(it.Tags) > 0 && kept == "":
			kept = it.Digest
		}
	}
	inUse := map[string]string{victim: "kubernetes:prod/Deployment/api container api", kept: "ecs:prod/service/web deployment PRIMARY container web"}
	r := audit.Audit(inv, audit.Options{Policy: pol, Now: exampleNow, Safety: plan.Safety{InUse: inUse}})
	if r.Counts.InUse != 2 {
		t.Errorf("Counts.InUse = %d, want 2", r.Counts.InUse)
	}
	var found *audit.Diagnosis
	for i := range r.Diagnoses {
		if r.Diagnoses[i].Code == audit.CodeInUseWouldExpire {
			found = &r.Diagnoses[i]
		}
	}
	if found == nil || found.Severity != audit.Warning || !strings.Contains(found.Message, "1 image that runs") ||
		!strings.Contains(found.Message, "kubernetes:prod/Deployment/api") || strings.Contains(found.Message, "ecs:") {
		t.Fatalf("diagnoses = %+v, want in-use-would-expire naming the Deployment only", r.Diagnoses)
	}
	if r.Policy.Expire >= bare.Summary.Expire {
		t.Errorf("with the image in use the policy expires %d, want fewer than %d", r.Policy.Expire, bare.Summary.Expire)
	}
	// Without in-use sources there is no such diagnosis.
	for _, d := range audit.Audit(inv, audit.Options{Policy: pol, Now: exampleNow}).Diagnoses {
		if d.Code == audit.CodeInUseWouldExpire {
			t.Errorf("in-use-would-expire without in-use sources: %+v", d)
		}
	}
}
