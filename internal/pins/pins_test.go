package pins

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("a", 64)
	tests := []struct {
		name    string
		pin     Pin
		wantErr bool
	}{
		{name: "Minimal", pin: Pin{Name: "app", Digest: digest}},
		{name: "Full", pin: Pin{Name: "runtime/python-3.12", Repository: "ghcr.io/acme/python", Digest: digest, SourceSHA: strings.Repeat("0", 40), Verified: VerifyUnverified, Reason: "no revision label", UpdatedBy: "ci"}},
		{name: "NoName", pin: Pin{Digest: digest}, wantErr: true},
		{name: "NameStartsWithDot", pin: Pin{Name: ".app", Digest: digest}, wantErr: true},
		{name: "NameTooLong", pin: Pin{Name: strings.Repeat("a", 129), Digest: digest}, wantErr: true},
		{name: "UpperCaseDigest", pin: Pin{Name: "app", Digest: strings.ToUpper(digest)}, wantErr: true},
		{name: "ShortSHA", pin: Pin{Name: "app", Digest: digest, SourceSHA: "abc"}, wantErr: true},
		{name: "UnknownVerification", pin: Pin{Name: "app", Digest: digest, Verified: "ok"}, wantErr: true},
		{name: "LongUpdatedBy", pin: Pin{Name: "app", Digest: digest, UpdatedBy: strings.Repeat("x", MaxText+1)}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.pin.Validate()
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrInvalid)) {
				t.Errorf("Validate() error = %v, want an ErrInvalid: %v", err, tt.wantErr)
			}
		})
	}
}
