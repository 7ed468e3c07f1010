package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/config"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pins.txt"), []byte("# production\n"+digestB+"  # api\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shipshape.yaml")
	if err := os.WriteFile(path, []byte(`
pricePerGBMonth: 0.12
safety:
  protectTags: ["prod*", latest]
  protectDigests: [`+digestA+`]
  protectDigestsFiles: [pins.txt]
  grace: 7d
  maxDeletePercent: 40
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.PricePerGBMonth != 0.12 || time.Duration(c.Safety.Grace) != 7*24*time.Hour || c.Safety.MaxDeletePercent != 40 ||
		!cmp.Equal(c.Safety.ProtectTags, []string{"prod*", "latest"}) {
		t.Errorf("Load() = %+v", c)
	}
	got, err := c.ProtectedDigests()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{digestA: "shipshape.yaml", digestB: filepath.Join(dir, "pins.txt") + ":2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProtectedDigests() (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ doc, want string }{
		"unknown key":      {"safety:\n  protectTag: [x]\n", "line 2: field protectTag not found"},
		"bad duration":     {"safety:\n  grace: soon\n", `line 2: "soon" is not a duration`},
		"negative price":   {"pricePerGBMonth: -1\n", "must not be negative"},
		"percent too high": {"safety:\n  maxDeletePercent: 150\n", "between 0 and 100"},
		"bad digest":       {"safety:\n  protectDigests: [sha256:abc]\n", `safety.protectDigests[0]: "sha256:abc" is not a digest`},
		"wrong type":       {"safety:\n  protectTags: prod\n", "line 2: cannot unmarshal"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestReadDigests(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	err := config.ReadDigests(strings.NewReader(digestA+"\nnot-a-digest\n"), "pins.txt", got)
	if err == nil || err.Error() != `pins.txt:2: "not-a-digest" is not a digest such as sha256:<64 hex digits>` {
		t.Errorf("ReadDigests() = %v", err)
	}
	for _, s := range []string{"7d", "48h", "90m"} {
		if _, err := config.ParseDuration(s); err != nil {
			t.Errorf("ParseDuration(%q) = %v", s, err)
		}
	}
}
