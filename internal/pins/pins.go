// Package pins records image-digest pins with their provenance: which digest a name (a
// runtime, a service) runs, from which source commit, whether its labels were verified, and
// every change in an append-only history. Cleanup never removes a pinned digest.
package pins

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Errors every Store maps its own onto.
var (
	// ErrNotFound: no pin has the name.
	ErrNotFound = errors.New("pin not found")
	// ErrConflict: a compare-and-swap found another digest than the expected one.
	ErrConflict = errors.New("pin changed since expected")
	// ErrInvalid: a pin given to Set breaks a rule of [Pin.Validate].
	ErrInvalid = errors.New("invalid pin")
)

// Operations recorded in a pin's history.
const (
	OpSet    = "set"
	OpDelete = "delete"
)

// Bounds every Store keeps so that one call reads a bounded amount; a call that would
// return more fails instead of returning part of the answer (plan protects every pinned
// digest, so a partial list would be unsafe).
const (
	MaxPins    = 100_000 // pins returned by List
	MaxHistory = 100_000 // changes returned by History for one name
	MaxText    = 4096    // bytes in Repository, Reason and UpdatedBy
)

// Verification outcomes recorded on a pin.
const (
	VerifyNone       = ""           // not checked (verification off)
	VerifyVerified   = "verified"   // the image's labels match the pin
	VerifyUnverified = "unverified" // a label is missing or does not match; Reason says which
)

// Pin is the digest a name is pinned to, and where it came from.
type Pin struct {
	Name       string    `json:"name"`
	Repository string    `json:"repository,omitempty"`
	Digest     string    `json:"digest"`
	SourceSHA  string    `json:"sourceSha"`
	Verified   string    `json:"verification,omitempty"`
	Reason     string    `json:"verificationReason,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
	UpdatedBy  string    `json:"updatedBy,omitempty"`
	// Version counts the pin's changes, starting at 1. It keeps counting across a
	// deletion: a pin set again after being deleted continues from the deletion's version.
	Version int64 `json:"version"`
}

// Change is one entry of a pin's history.
type Change struct {
	Pin
	// Op is OpSet or OpDelete. A deletion carries the pin's last fields, with UpdatedAt
	// and UpdatedBy of the deletion and the next Version.
	Op string `json:"op"`
}

// Store keeps pins and their history. Implementations are safe for concurrent use, also from
// several processes sharing one database.
type Store interface {
	// Set creates or replaces the pin p.Name atomically and appends the change to its
	// history. With expected non-empty, the pin must currently hold that digest (ErrConflict
	// otherwise, and ErrConflict too when it does not exist). It returns the pin as stored,
	// with UpdatedAt and Version set.
	Set(ctx context.Context, p Pin, expected string) (Pin, error)
	// Get returns the pin named name, or ErrNotFound.
	Get(ctx context.Context, name string) (Pin, error)
	// List returns every pin, ordered by name.
	List(ctx context.Context) ([]Pin, error)
	// History returns the changes of the pin named name, oldest first (also after the
	// pin was deleted); ErrNotFound when it never existed.
	History(ctx context.Context, name string) ([]Change, error)
	// Delete removes the pin named name, recording the deletion in its history; ErrNotFound
	// when there is none.
	Delete(ctx context.Context, name, by string) error
	// Close releases the store's resources.
	Close() error
}

var (
	digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	shaRE    = regexp.MustCompile(`^[a-f0-9]{40}$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$`)
)

// Validate checks what Set stores: a valid name and digest, a source SHA that is empty or
// valid, a known verification outcome, and free text within MaxText bytes. Its errors wrap
// ErrInvalid.
func (p Pin) Validate() error {
	switch {
	case !ValidName(p.Name):
		return fmt.Errorf("%w: name %q: want 1-128 letters, digits, '.', '_', '-' or '/'", ErrInvalid, p.Name)
	case !ValidDigest(p.Digest):
		return fmt.Errorf("%w: digest %q: want sha256: and 64 lowercase hex digits", ErrInvalid, p.Digest)
	case p.SourceSHA != "" && !ValidSourceSHA(p.SourceSHA):
		return fmt.Errorf("%w: source SHA %q: want 40 lowercase hex digits", ErrInvalid, p.SourceSHA)
	}
	switch p.Verified {
	case VerifyNone, VerifyVerified, VerifyUnverified:
	default:
		return fmt.Errorf("%w: verification %q: want %q, %q or none", ErrInvalid, p.Verified, VerifyVerified, VerifyUnverified)
	}
	for _, f := range []struct{ name, v string }{{"repository", p.Repository}, {"verification reason", p.Reason}, {"updated by", p.UpdatedBy}} {
		if len(f.v) > MaxText {
			return fmt.Errorf("%w: %s: %d bytes, more than %d", ErrInvalid, f.name, len(f.v), MaxText)
		}
	}
	return nil
}

// ValidDigest reports whether d is "sha256:" and 64 lowercase hex digits.
func ValidDigest(d string) bool { return digestRE.MatchString(d) }

// ValidSourceSHA reports whether s is a full 40-digit lowercase hex commit SHA.
func ValidSourceSHA(s string) bool { return shaRE.MatchString(s) }

// ValidName reports whether n is a pin name: 1–128 letters, digits, '.', '_', '-' and '/',
// starting with a letter or digit.
func ValidName(n string) bool { return nameRE.MatchString(n) }

// The fields of a pin write that CheckWrite names.
const (
	FieldName      = "name"
	FieldDigest    = "digest"
	FieldSourceSHA = "sourceSha"
	FieldExpected  = "expected"
)

// CheckWrite checks what a client asks Set to store: the name, digest and source SHA, all
// required, and the digest a compare-and-swap expects, when given. It returns the first
// field at fault (one of the Field constants) and what is wrong with it, or "" and "".
func CheckWrite(p Pin, expected string) (field, problem string) {
	switch {
	case p.Name == "":
		return FieldName, "required"
	case !ValidName(p.Name):
		return FieldName, "must be 1 to 128 letters, digits, '.', '_', '-' or '/', starting with a letter or digit; found " + Quote(p.Name)
	case p.Digest == "":
		return FieldDigest, "required"
	case !ValidDigest(p.Digest):
		return FieldDigest, "must be sha256: and 64 lowercase hex digits, found " + Quote(p.Digest)
	case p.SourceSHA == "":
		return FieldSourceSHA, "required"
	case !ValidSourceSHA(p.SourceSHA):
		return FieldSourceSHA, "must be a full commit SHA, 40 lowercase hex digits, found " + Quote(p.SourceSHA)
	case expected != "" && !ValidDigest(expected):
		return FieldExpected, "must be sha256: and 64 lowercase hex digits, found " + Quote(expected)
	}
	return "", ""
}

// Quote quotes s for a message, cut to 80 bytes: a client's value may be anything.
func Quote(s string) string {
	const limit = 80
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return fmt.Sprintf("%q", s)
}
