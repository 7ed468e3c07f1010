package pins

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	digestA = "sha256:" + strings.Repeat("a", 64)
	digestB = "sha256:" + strings.Repeat("b", 64)
	shaA    = strings.Repeat("0", 40)
)

// listJSON is a list as "shipshape pin list -o json" prints it and GET /v1/pins answers it:
// every field of Pin.
var listJSON = `{"pins": [
  {"name": "api", "repository": "ghcr.io/acme/api", "digest": "` + digestA + `", "sourceSha": "` + shaA + `",
   "verification": "unverified", "verificationReason": "no revision label",
   "updatedAt": "2026-05-01T10:00:00Z", "updatedBy": "ci", "version": 3},
  {"name": "web", "digest": "` + digestB + `", "sourceSha": "", "updatedAt": "2026-05-02T10:00:00Z", "version": 1}
]}
`

func TestDecodeList(t *testing.T) {
	t.Parallel()
	full := []Pin{
		{Name: "api", Repository: "ghcr.io/acme/api", Digest: digestA, SourceSHA: shaA, Verified: VerifyUnverified,
			Reason: "no revision label", UpdatedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), UpdatedBy: "ci", Version: 3},
		{Name: "web", Digest: digestB, UpdatedAt: time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC), Version: 1},
	}
	tests := []struct {
		name string
		in   string
		want []Pin
	}{
		{name: "PinList", in: listJSON, want: full},
		{name: "Array", in: `[{"name": "api", "digest": "` + digestA + `"}]`, want: []Pin{{Name: "api", Digest: digestA}}},
		{name: "EmptyArray", in: ` [] `, want: []Pin{}},
		{name: "EmptyPins", in: `{"pins": []}`, want: []Pin{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeList([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeList() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeList() (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecodeListMatchesWriters decodes what the pin list writers encode: every field of
// Pin must be accepted.
func TestDecodeListMatchesWriters(t *testing.T) {
	t.Parallel()
	p := Pin{Name: "api", Repository: "r", Digest: digestA, SourceSHA: shaA, Verified: VerifyVerified, Reason: "x",
		UpdatedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), UpdatedBy: "ci", Version: 2}
	b, err := json.Marshal(struct {
		Pins []Pin `json:"pins"`
	}{[]Pin{p}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeList(b)
	if err != nil {
		t.Fatalf("DecodeList(%s) error = %v", b, err)
	}
	if diff := cmp.Diff([]Pin{p}, got); diff != "" {
		t.Errorf("DecodeList() (-want +got):\n%s", diff)
	}
}

func TestDecodeListErrors(t *testing.T) {
	t.Parallel()
	pin := `{"name": "api", "digest": "` + digestA + `"}`
	tests := []struct {
		name, in, want string
	}{
		{name: "Empty", in: "", want: "empty"},
		{name: "Blank", in: " \n\t", want: "empty"},
		{name: "NotJSON", in: "<html>401</html>", want: "not a JSON object or array"},
		{name: "ErrorResponse", in: `{"error": {"code": "unauthorized", "message": "missing or unknown bearer token"}}`,
			want: "the source returned an error response, not pins: unauthorized: missing or unknown bearer token"},
		{name: "ErrorString", in: `{"error": "boom"}`, want: "error response, not pins: boom"},
		{name: "ErrorWithPins", in: `{"pins": [], "error": {"code": "internal"}}`, want: "error response, not pins: internal"},
		{name: "WrongKey", in: `{"pin": [` + pin + `]}`, want: `unknown key "pin"`},
		{name: "KeyCase", in: `{"Pins": [` + pin + `]}`, want: `unknown key "Pins"`},
		{name: "NoKey", in: `{}`, want: `no "pins" key`},
		{name: "PinsNull", in: `{"pins": null}`, want: `"pins" is null, want an array`},
		{name: "PinsObject", in: `{"pins": {"name": "api"}}`, want: `"pins" is an object, want an array`},
		{name: "RepeatedKey", in: `{"pins": [], "pins": [` + pin + `]}`, want: `key "pins" appears twice`},
		{name: "UnknownShape", in: `[{"image": "x"}]`, want: `[0]: unknown key "image" (a pin has name, repository, digest`},
		{name: "HistoryChange", in: `[{"name": "api", "digest": "` + digestA + `", "op": "set"}]`, want: `[0]: unknown key "op"`},
		{name: "FieldCase", in: `[{"Name": "api", "Digest": "` + digestA + `"}]`, want: `[0]: unknown key "Name"`},
		{name: "RepeatedDigest", in: `[{"name": "api", "digest": "` + digestA + `", "digest": "` + digestB + `"}]`, want: `[0]: key "digest" appears twice`},
		{name: "NoDigest", in: `{"pins": [` + pin + `, {"name": "web"}]}`, want: `pins[1]: no "digest"`},
		{name: "NoName", in: `[{"digest": "` + digestA + `"}]`, want: `[0]: no "name"`},
		{name: "BadDigest", in: `[{"name": "api", "digest": "sha256:abc"}]`, want: `[0]: invalid pin: digest "sha256:abc"`},
		{name: "UpperCaseDigest", in: `[{"name": "api", "digest": "` + strings.ToUpper(digestA) + `"}]`, want: `[0]: invalid pin: digest`},
		{name: "NullDigest", in: `[{"name": "api", "digest": null}]`, want: `[0]: invalid pin: digest ""`},
		{name: "BadName", in: `[{"name": "", "digest": "` + digestA + `"}]`, want: `[0]: invalid pin: name ""`},
		{name: "WrongType", in: `[{"name": "api", "digest": "` + digestA + `", "version": "3"}]`, want: `[0]: "version": string, want int64`},
		{name: "NotAnObject", in: `["` + digestA + `"]`, want: `[0]: a string, not an object, want a pin object`},
		{name: "NullPin", in: `[null]`, want: `[0]: null, not an object`},
		{name: "TrailingGarbage", in: `{"pins": []} x`, want: "line 1, column 14: data after the JSON value"},
		{name: "TwoValues", in: "[]\n[" + pin + "]", want: "line 2, column 1: data after the JSON value"},
		{name: "Truncated", in: `{"pins": [` + pin, want: "invalid JSON"},
		{name: "SyntaxError", in: "[\n  {\"name\": \"api\",,}]", want: "line 2, column 18: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeList([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeList(%s) = %v, want an error containing %q", tt.in, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeList(%s) error = %q, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzDecodeList(f *testing.F) {
	f.Add([]byte(listJSON))
	f.Add([]byte(`[{"name": "api", "digest": "` + digestA + `", "sourceSha": "` + shaA + `", "version": 1}]`))
	f.Add([]byte(`{"pins": []}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"error": {"code": "unauthorized", "message": "x"}}`))
	f.Add([]byte(`{"pin": []}`))
	f.Add([]byte(`[{"image": "x"}]`))
	f.Add([]byte(`[{"name": "api", "digest": "sha256:abc"}]`))
	f.Add([]byte(`{"pins": []} trailing`))
	f.Add([]byte(`{"pins": [], "pins": null}`))
	f.Add([]byte(`[{"name": "a", "digest": "` + digestA + `", "updatedAt": "2026-05-01T10:00:00.123+02:00"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := DecodeList(data)
		if err != nil {
			if list != nil {
				t.Fatalf("DecodeList() = %v with error %v, want no pins with an error", list, err)
			}
			return
		}
		for i, p := range list {
			if !ValidDigest(p.Digest) {
				t.Fatalf("DecodeList() pin %d digest %q is not valid", i, p.Digest)
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("DecodeList() pin %d does not validate: %v", i, err)
			}
		}
		// What the writers encode from the pins decodes to the same pins.
		b, err := json.Marshal(struct {
			Pins []Pin `json:"pins"`
		}{list})
		if err != nil {
			t.Fatalf("encoding decoded pins: %v", err)
		}
		again, err := DecodeList(b)
		if err != nil {
			t.Fatalf("DecodeList(encoded pins) error = %v\n%s", err, b)
		}
		if diff := cmp.Diff(list, again); diff != "" {
			t.Fatalf("pins changed by encoding and decoding again (-first +again):\n%s", diff)
		}
	})
}
