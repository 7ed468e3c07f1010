package inventory_test

import (
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/inventory"
)

func TestValidDigest(t *testing.T) {
	t.Parallel()
	sha512 := "sha512:" + strings.Repeat("0123456789abcdef", 8)
	for _, tt := range []struct {
		in, want string // want is "" for a valid digest
	}{
		{digestA, ""},
		{"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{sha512, ""},
		{"blake3:abc", ""},
		{"multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", ""},
		{"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", ""},
		{"a.b_c-d+e:=", ""},
		{"", `invalid digest "": want algorithm:encoded, such as sha256:<64 hex digits>`},
		{"sha256", `invalid digest "sha256": want algorithm:encoded, such as sha256:<64 hex digits>`},
		{"sha256:", `invalid digest "sha256:": want algorithm:encoded, such as sha256:<64 hex digits>`},
		{":abc", `invalid digest ":abc": want algorithm:encoded, such as sha256:<64 hex digits>`},
		{"sha256:a", `invalid digest "sha256:a": want 64 lower-case hex digits after "sha256:"`},
		{digestA + "a", `invalid digest "` + digestA + `a": want 64 lower-case hex digits after "sha256:"`},
		{"sha256:" + strings.Repeat("g", 64), `invalid digest "sha256:` + strings.Repeat("g", 64) + `": want 64 lower-case hex digits after "sha256:"`},
		{"sha256:" + strings.Repeat("A", 64), `invalid digest "sha256:` + strings.Repeat("A", 64) + `": want 64 lower-case hex digits after "sha256:"`},
		{sha512[:71], `invalid digest "` + sha512[:71] + `": want 128 lower-case hex digits after "sha512:"`},
		{"Sha256:abc", `invalid digest "Sha256:abc": algorithm "Sha256" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`},
		{"sha-:abc", `invalid digest "sha-:abc": algorithm "sha-" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`},
		{"-sha:abc", `invalid digest "-sha:abc": algorithm "-sha" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`},
		{"sha+-256:abc", `invalid digest "sha+-256:abc": algorithm "sha+-256" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`},
		{"sha256:ab:cd", `invalid digest "sha256:ab:cd": character ':' after the colon (want letters, digits, '=', '_' and '-')`},
		{"blake3:a+b", `invalid digest "blake3:a+b": character '+' after the colon (want letters, digits, '=', '_' and '-')`},
		{"blake3:\xff", `invalid digest "blake3:\xff": invalid UTF-8 after the colon (want letters, digits, '=', '_' and '-')`},
		{" " + digestA, `invalid digest " ` + digestA + `": algorithm " sha256" is not lower-case letters and digits separated by single '+', '.', '_' or '-'`},
		{strings.Repeat("a", 100), `invalid digest "` + strings.Repeat("a", 80) + `"…: want algorithm:encoded, such as sha256:<64 hex digits>`},
	} {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			err := inventory.ValidDigest(tt.in)
			if got := errString(err); got != tt.want {
				t.Errorf("ValidDigest(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	t.Parallel()
	const chars = "(want letters, digits, '_', '.' and '-')"
	for _, tt := range []struct {
		in, want string // want is "" for a valid tag
	}{
		{"latest", ""},
		{"v1.2.3-rc.1_build", ""},
		{"_", ""},
		{"0", ""},
		{"sha256-" + digestA[7:] + ".sig", ""},
		{strings.Repeat("a", 300), ""},
		{"", `invalid tag "": want 1 to 300 letters, digits, '_', '.' and '-'`},
		{strings.Repeat("a", 301), `invalid tag "` + strings.Repeat("a", 80) + `"…: 301 characters (want at most 300)`},
		{".v1", `invalid tag ".v1": starts with '.' (want a letter, digit or '_' first)`},
		{"-v1", `invalid tag "-v1": starts with '-' (want a letter, digit or '_' first)`},
		{"v1/x", `invalid tag "v1/x": character '/' ` + chars},
		{"v1:x", `invalid tag "v1:x": character ':' ` + chars},
		{"v1 ", `invalid tag "v1 ": character ' ' ` + chars},
		{"v\x00", `invalid tag "v\x00": character '\x00' ` + chars},
		{"\x00", `invalid tag "\x00": character '\x00' ` + chars},
		{"v\xff", `invalid tag "v\xff": invalid UTF-8 ` + chars},
		{"v\uFFFD", "invalid tag \"v\uFFFD\": invalid UTF-8 " + chars},
		{"café", `invalid tag "café": character 'é' ` + chars},
	} {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			err := inventory.ValidTag(tt.in)
			if got := errString(err); got != tt.want {
				t.Errorf("ValidTag(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestValidAllocs checks that the checks allocate nothing when they pass: they run once per
// digest and tag of inputs of a hundred thousand images.
func TestValidAllocs(t *testing.T) {
	sha512 := "sha512:" + strings.Repeat("0123456789abcdef", 8)
	if n := testing.AllocsPerRun(100, func() {
		_ = inventory.ValidDigest(digestA)
		_ = inventory.ValidDigest(sha512)
		_ = inventory.ValidDigest("blake3:abc")
		_ = inventory.ValidTag("v1.2.3-rc.1")
	}); n != 0 {
		t.Errorf("ValidDigest and ValidTag allocate %v times, want 0", n)
	}
}

func BenchmarkValidDigest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := inventory.ValidDigest(digestA); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidTag(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := inventory.ValidTag("v1.2.3-rc.1"); err != nil {
			b.Fatal(err)
		}
	}
}
