package simulate

import "testing"

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tag    string
		prefix string
		format Format
		suffix string
		fixed  bool
	}{
		{tag: "sha-0a1b2c3", prefix: "sha-", format: FormatHex, suffix: "0a1b2c3"},
		{tag: "pr-123", prefix: "pr-", format: FormatNumber, suffix: "123"},
		{tag: "v1.2.3", prefix: "v", format: FormatSemver, suffix: "1.2.3"},
		{tag: "1.2.3-rc.1", prefix: "", format: FormatSemver, suffix: "1.2.3-rc.1"},
		{tag: "release-2.0", prefix: "release-", format: FormatSemver, suffix: "2.0"},
		{tag: "app-v1.4.0", prefix: "app-v", format: FormatSemver, suffix: "1.4.0"},
		{tag: "my-app-1.2.3", prefix: "my-app-", format: FormatSemver, suffix: "1.2.3"},
		{tag: "nightly-20260601", prefix: "nightly-", format: FormatDate, suffix: "20260601"},
		{tag: "nightly-2026-06-01", prefix: "nightly-", format: FormatDate, suffix: "2026-06-01"},
		{tag: "0a1b2c3d4e5f", prefix: "", format: FormatHex, suffix: "0a1b2c3d4e5f"},
		{tag: "4711", prefix: "", format: FormatNumber, suffix: "4711"},
		{tag: "feature-login-form", prefix: "feature-", format: FormatName, suffix: "login-form"},
		{tag: "sha256-0123456789abcdef.sig", prefix: "sha256-", format: FormatHex, suffix: "0123456789abcdef.sig"},
		{tag: "latest", fixed: true},
		{tag: "main", fixed: true},
		{tag: "cafe", fixed: true},
	}
	for _, tt := range tests {
		t.Run(tt.tag, func(t *testing.T) {
			t.Parallel()
			tmpl, suffix, ok := classify(tt.tag)
			if ok == tt.fixed {
				t.Fatalf("classify(%q) ok = %v, want %v", tt.tag, ok, !tt.fixed)
			}
			if tt.fixed {
				return
			}
			if tmpl.Prefix != tt.prefix || tmpl.Format != tt.format || suffix != tt.suffix {
				t.Errorf("classify(%q) = %q %s %q, want %q %s %q", tt.tag, tmpl.Prefix, tmpl.Format, suffix, tt.prefix, tt.format, tt.suffix)
			}
		})
	}
}
