// Package pinstest holds the conformance suite every pins.Store runs.
package pinstest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5"

	"github.com/shipshape-dev/shipshape/internal/pins"
)

// Environment of the PostgreSQL tests.
const (
	// PostgresDSNEnv names the variable holding the DSN of a PostgreSQL database the tests
	// may create schemas in (scripts/postgres.sh start sets it).
	PostgresDSNEnv = "SHIPSHAPE_TEST_POSTGRES_DSN"
	// RequirePostgresEnv, when set to 1, makes PostgreSQL tests fail instead of skipping
	// without PostgresDSNEnv.
	RequirePostgresEnv = "SHIPSHAPE_REQUIRE_POSTGRES"
)

// Racers is how many goroutines the race tests run at once.
const Racers = 50

// Digest returns a valid digest made from i.
func Digest(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// SHA returns a valid source commit SHA made from i.
func SHA(i int) string { return fmt.Sprintf("%040x", i) }

// Conformance runs the tests every pins.Store must pass. open is called once per subtest
// and must return an empty store; the suite closes it.
func Conformance(t *testing.T, open func(t *testing.T) pins.Store) {
	store := func(t *testing.T) pins.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close() error = %v", err)
			}
		})
		return s
	}

	t.Run("SetGet", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		before := time.Now()
		in := pins.Pin{
			Name: "runtime/python", Repository: "ghcr.io/acme/python", Digest: Digest(1), SourceSHA: SHA(1),
			Verified: pins.VerifyUnverified, Reason: "org.opencontainers.image.revision is missing", UpdatedBy: "ci",
		}
		got, err := s.Set(ctx, in, "")
		if err != nil {
			t.Fatalf("Set() error = %v", err)
		}
		after := time.Now()
		want := in
		want.Version = 1
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(pins.Pin{}, "UpdatedAt")); diff != "" {
			t.Errorf("Set() mismatch (-want +got):\n%s", diff)
		}
		checkTime(t, "Set().UpdatedAt", got.UpdatedAt, before, after)
		stored, err := s.Get(ctx, in.Name)
		if err != nil {
			t.Fatalf("Get() error = %v", err)
		}
		if diff := cmp.Diff(got, stored); diff != "" {
			t.Errorf("Get() mismatch with Set() (-want +got):\n%s", diff)
		}
		if stored.UpdatedAt.Location() != time.UTC {
			t.Errorf("Get().UpdatedAt location = %v, want UTC", stored.UpdatedAt.Location())
		}
	})

	t.Run("GetMissing", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		if _, err := s.Get(ctx, "absent"); !errors.Is(err, pins.ErrNotFound) {
			t.Errorf("Get(absent) error = %v, want ErrNotFound", err)
		}
		if _, err := s.History(ctx, "absent"); !errors.Is(err, pins.ErrNotFound) {
			t.Errorf("History(absent) error = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "absent", "me"); !errors.Is(err, pins.ErrNotFound) {
			t.Errorf("Delete(absent) error = %v, want ErrNotFound", err)
		}
		got, err := s.List(ctx)
		if err != nil || len(got) != 0 {
			t.Errorf("List() of an empty store = %v, %v; want none", got, err)
		}
	})

	t.Run("ListOrdersByName", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		names := []string{"b", "a/b", "B", "a.b", "a-b", "a", "Z9", "0", "a_b", "ab"}
		for i, n := range names {
			if _, err := s.Set(ctx, pins.Pin{Name: n, Digest: Digest(i)}, ""); err != nil {
				t.Fatalf("Set(%s) error = %v", n, err)
			}
		}
		list, err := s.List(ctx)
		if err != nil {
			t.Fatalf("List() error = %v", err)
		}
		var got []string
		for _, p := range list {
			got = append(got, p.Name)
		}
		want := []string{"0", "B", "Z9", "a", "a-b", "a.b", "a/b", "a_b", "ab", "b"} // bytewise
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("List() names (-want +got):\n%s", diff)
		}
	})

	t.Run("Versions", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		for i := 1; i <= 3; i++ {
			p, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(i), SourceSHA: SHA(i)}, "")
			if err != nil {
				t.Fatalf("Set() #%d error = %v", i, err)
			}
			if p.Version != int64(i) {
				t.Errorf("Set() #%d Version = %d, want %d", i, p.Version, i)
			}
		}
		if _, err := s.Set(ctx, pins.Pin{Name: "other", Digest: Digest(9)}, ""); err != nil {
			t.Fatalf("Set(other) error = %v", err)
		}
		if p, err := s.Get(ctx, "app"); err != nil || p.Version != 3 || p.Digest != Digest(3) {
			t.Errorf("Get(app) = version %d, digest %s, %v; want version 3, %s", p.Version, p.Digest, err, Digest(3))
		}
		if p, err := s.Get(ctx, "other"); err != nil || p.Version != 1 {
			t.Errorf("Get(other) = version %d, %v; want version 1", p.Version, err)
		}
	})

	t.Run("CompareAndSwap", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name     string
			exists   bool
			expected string
			wantErr  error
		}{
			{name: "MatchingDigest", exists: true, expected: Digest(1)},
			{name: "OtherDigest", exists: true, expected: Digest(7), wantErr: pins.ErrConflict},
			{name: "NoExpectation", exists: true},
			{name: "ExpectedOnMissingPin", expected: Digest(1), wantErr: pins.ErrConflict},
			{name: "CreateWithoutExpectation"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s, ctx := store(t), t.Context()
				if tt.exists {
					if _, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(1)}, ""); err != nil {
						t.Fatalf("Set() error = %v", err)
					}
				}
				_, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(2)}, tt.expected)
				if !errors.Is(err, tt.wantErr) || (err != nil && tt.wantErr == nil) {
					t.Fatalf("Set(expected %q) error = %v, want %v", tt.expected, err, tt.wantErr)
				}
				var want []string // digests in the history
				if tt.exists {
					want = append(want, Digest(1))
				}
				if tt.wantErr == nil {
					want = append(want, Digest(2))
				}
				p, err := s.Get(ctx, "app")
				switch {
				case len(want) == 0 && !errors.Is(err, pins.ErrNotFound):
					t.Errorf("Get() after a failed create error = %v, want ErrNotFound", err)
				case len(want) > 0 && (err != nil || p.Digest != want[len(want)-1] || p.Version != int64(len(want))):
					t.Errorf("Get() = %s version %d, %v; want %s version %d", p.Digest, p.Version, err, want[len(want)-1], len(want))
				}
				h, err := s.History(ctx, "app")
				if len(want) == 0 {
					if !errors.Is(err, pins.ErrNotFound) {
						t.Errorf("History() after a failed create error = %v, want ErrNotFound", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("History() error = %v", err)
				}
				if diff := cmp.Diff(want, digests(h)); diff != "" {
					t.Errorf("History() digests (-want +got):\n%s", diff)
				}
			})
		}
	})

	t.Run("DeleteKeepsHistory", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		start := time.Now()
		first := pins.Pin{Name: "app", Repository: "r.example/app", Digest: Digest(1), SourceSHA: SHA(1), Verified: pins.VerifyVerified, UpdatedBy: "alice"}
		second := pins.Pin{Name: "app", Repository: "r.example/app", Digest: Digest(2), SourceSHA: SHA(2), Verified: pins.VerifyUnverified, Reason: "revision differs", UpdatedBy: "bob"}
		for _, p := range []pins.Pin{first, second} {
			if _, err := s.Set(ctx, p, ""); err != nil {
				t.Fatalf("Set() error = %v", err)
			}
		}
		if err := s.Delete(ctx, "app", "carol"); err != nil {
			t.Fatalf("Delete() error = %v", err)
		}
		end := time.Now()
		if _, err := s.Get(ctx, "app"); !errors.Is(err, pins.ErrNotFound) {
			t.Errorf("Get() after Delete() error = %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "app", "carol"); !errors.Is(err, pins.ErrNotFound) {
			t.Errorf("Delete() twice error = %v, want ErrNotFound", err)
		}
		if list, err := s.List(ctx); err != nil || len(list) != 0 {
			t.Errorf("List() after Delete() = %v, %v; want none", list, err)
		}
		h, err := s.History(ctx, "app")
		if err != nil {
			t.Fatalf("History() after Delete() error = %v", err)
		}
		deleted := second
		deleted.UpdatedBy = "carol"
		want := []pins.Change{
			{Pin: withVersion(first, 1), Op: pins.OpSet},
			{Pin: withVersion(second, 2), Op: pins.OpSet},
			{Pin: withVersion(deleted, 3), Op: pins.OpDelete},
		}
		if diff := cmp.Diff(want, h, cmpopts.IgnoreFields(pins.Pin{}, "UpdatedAt")); diff != "" {
			t.Errorf("History() mismatch (-want +got):\n%s", diff)
		}
		for i, c := range h {
			checkTime(t, fmt.Sprintf("History()[%d].UpdatedAt", i), c.UpdatedAt, start, end)
			if i > 0 && c.UpdatedAt.Before(h[i-1].UpdatedAt) {
				t.Errorf("History()[%d].UpdatedAt = %v, before the change preceding it (%v)", i, c.UpdatedAt, h[i-1].UpdatedAt)
			}
		}

		// Set again: the version keeps counting and the history grows.
		p, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(4)}, "")
		if err != nil {
			t.Fatalf("Set() after Delete() error = %v", err)
		}
		if p.Version != 4 {
			t.Errorf("Set() after Delete() Version = %d, want 4", p.Version)
		}
		h, err = s.History(ctx, "app")
		if err != nil {
			t.Fatalf("History() error = %v", err)
		}
		if diff := cmp.Diff([]string{Digest(1), Digest(2), Digest(2), Digest(4)}, digests(h)); diff != "" {
			t.Errorf("History() digests (-want +got):\n%s", diff)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := store(t)
		tests := []struct {
			name string
			pin  pins.Pin
		}{
			{name: "EmptyName", pin: pins.Pin{Digest: Digest(1)}},
			{name: "BadName", pin: pins.Pin{Name: "/abs", Digest: Digest(1)}},
			{name: "BadDigest", pin: pins.Pin{Name: "app", Digest: "sha256:abc"}},
			{name: "ShortSHA", pin: pins.Pin{Name: "app", Digest: Digest(1), SourceSHA: "abc123"}},
			{name: "UnknownVerification", pin: pins.Pin{Name: "app", Digest: Digest(1), Verified: "maybe"}},
			{name: "LongReason", pin: pins.Pin{Name: "app", Digest: Digest(1), Reason: strings.Repeat("x", pins.MaxText+1)}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				if _, err := s.Set(t.Context(), tt.pin, ""); !errors.Is(err, pins.ErrInvalid) {
					t.Errorf("Set(%+v) error = %v, want ErrInvalid", tt.pin, err)
				}
			})
		}
	})

	t.Run("RaceCompareAndSwap", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		if _, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(0)}, ""); err != nil {
			t.Fatalf("Set() error = %v", err)
		}
		const rounds = 3
		want := []string{Digest(0)}
		for round := range rounds {
			expected := want[len(want)-1]
			winners, conflicts, errs := race(ctx, func(ctx context.Context, i int) error {
				_, err := s.Set(ctx, pins.Pin{Name: "app", Digest: Digest(1000*(round+1) + i)}, expected)
				return err
			})
			if len(winners) != 1 || conflicts != Racers-1 || len(errs) > 0 {
				t.Fatalf("round %d: %d racers expecting %s: %d won, %d conflicted, other errors %v; want 1 winner and %d conflicts",
					round, Racers, expected, len(winners), conflicts, errs, Racers-1)
			}
			want = append(want, Digest(1000*(round+1)+winners[0]))
		}
		p, err := s.Get(ctx, "app")
		if err != nil || p.Digest != want[rounds] || p.Version != rounds+1 {
			t.Errorf("Get() = %s version %d, %v; want %s version %d", p.Digest, p.Version, err, want[rounds], rounds+1)
		}
		h, err := s.History(ctx, "app")
		if err != nil {
			t.Fatalf("History() error = %v", err)
		}
		if diff := cmp.Diff(want, digests(h)); diff != "" {
			t.Errorf("History() digests (-want +got):\n%s", diff)
		}
		checkVersions(t, h)
	})

	t.Run("RaceUnconditional", func(t *testing.T) {
		t.Parallel()
		s, ctx := store(t), t.Context()
		// Everyone creates "new" at once, and everyone overwrites "old" at once: all win,
		// each change gets its own version and history entry.
		if _, err := s.Set(ctx, pins.Pin{Name: "old", Digest: Digest(0)}, ""); err != nil {
			t.Fatalf("Set() error = %v", err)
		}
		winners, conflicts, errs := race(ctx, func(ctx context.Context, i int) error {
			if _, err := s.Set(ctx, pins.Pin{Name: "new", Digest: Digest(i)}, ""); err != nil {
				return err
			}
			_, err := s.Set(ctx, pins.Pin{Name: "old", Digest: Digest(i)}, "")
			return err
		})
		if len(winners) != Racers || conflicts != 0 || len(errs) > 0 {
			t.Fatalf("%d racers: %d succeeded, %d conflicted, other errors %v; want all to succeed", Racers, len(winners), conflicts, errs)
		}
		for name, n := range map[string]int{"new": Racers, "old": Racers + 1} {
			h, err := s.History(ctx, name)
			if err != nil {
				t.Fatalf("History(%s) error = %v", name, err)
			}
			if len(h) != n {
				t.Errorf("History(%s) has %d changes, want %d", name, len(h), n)
			}
			checkVersions(t, h)
			p, err := s.Get(ctx, name)
			if err != nil || p.Version != int64(n) || p.Digest != h[len(h)-1].Digest {
				t.Errorf("Get(%s) = %s version %d, %v; want the last change, %s version %d", name, p.Digest, p.Version, err, h[len(h)-1].Digest, n)
			}
		}
	})

	t.Run("Hammer", func(t *testing.T) {
		t.Parallel()
		Hammer(t, store(t))
	})
}

// Sizes of Hammer: as many writers as a busy server has requests in flight, each making
// enough writes that the store's queue of writers stays full for a while.
const (
	HammerWriters = 16
	HammerWrites  = 200
	hammerPins    = 4
)

// Hammer has HammerWriters goroutines make HammerWrites writes each to s at once, over a few
// pins: compare-and-swaps expecting the digest they last read, alternating with
// unconditional sets. Every write must succeed, or conflict if it is a compare-and-swap;
// any other error (SQLITE_BUSY, a deadlock, a serialisation failure) fails the test. Then
// every pin's history must hold exactly the writes that succeeded, in versions 1, 2, … and
// in time order, each compare-and-swap right after a change to the digest it expected, and
// Get must return the last change.
func Hammer(t *testing.T, s pins.Store) {
	t.Helper()
	ctx := t.Context()
	type write struct {
		name, expected string
		version        int64
	}
	var (
		mu         sync.Mutex
		wg         sync.WaitGroup
		writes     = map[string]write{} // by digest, unique to each write
		conflicts  int
		errs       []error
		start      = make(chan struct{})
		pinName    = func(i int) string { return fmt.Sprintf("hammer-%d", i%hammerPins) }
		swapsTried int
	)
	for g := range HammerWriters {
		wg.Go(func() {
			<-start
			for i := range HammerWrites {
				p := pins.Pin{Name: pinName(g + i), Digest: Digest(1 + g*HammerWrites + i), SourceSHA: SHA(g), UpdatedBy: fmt.Sprintf("writer %d", g)}
				expected := ""
				if i%2 == 1 {
					cur, err := s.Get(ctx, p.Name)
					switch {
					case err == nil:
						expected = cur.Digest
					case !errors.Is(err, pins.ErrNotFound):
						mu.Lock()
						errs = append(errs, fmt.Errorf("Get(%s): %w", p.Name, err))
						mu.Unlock()
						continue
					}
				}
				stored, err := s.Set(ctx, p, expected)
				mu.Lock()
				if expected != "" {
					swapsTried++
				}
				switch {
				case err == nil:
					writes[p.Digest] = write{name: p.Name, expected: expected, version: stored.Version}
				case expected != "" && errors.Is(err, pins.ErrConflict):
					conflicts++
				default:
					errs = append(errs, fmt.Errorf("Set(%s, expected %q): %w", p.Name, expected, err))
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d writes failed with errors other than a conflict; the first: %v", len(errs), HammerWriters*HammerWrites, errs[0])
	}
	swaps := 0
	for _, w := range writes {
		if w.expected != "" {
			swaps++
		}
	}
	if swaps == 0 {
		t.Errorf("none of %d compare-and-swaps succeeded (%d conflicts), want some", swapsTried, conflicts)
	}
	recorded := 0
	for i := range hammerPins {
		name := pinName(i)
		h, err := s.History(ctx, name)
		if err != nil {
			t.Fatalf("History(%s) error = %v", name, err)
		}
		recorded += len(h)
		checkVersions(t, h)
		for k, c := range h {
			w, ok := writes[c.Digest]
			switch {
			case !ok:
				t.Errorf("History(%s)[%d] holds %s, which no successful write set", name, k, c.Digest)
			case w.name != name || w.version != c.Version:
				t.Errorf("History(%s)[%d] = %s version %d; Set() returned %s version %d", name, k, c.Digest, c.Version, w.name, w.version)
			case w.expected != "" && (k == 0 || h[k-1].Digest != w.expected):
				t.Errorf("History(%s)[%d]: a compare-and-swap expecting %s follows %v", name, k, w.expected, digests(h[max(k-1, 0):k]))
			}
			if k > 0 && c.UpdatedAt.Before(h[k-1].UpdatedAt) {
				t.Errorf("History(%s)[%d].UpdatedAt = %v, before the change preceding it (%v)", name, k, c.UpdatedAt, h[k-1].UpdatedAt)
			}
		}
		p, err := s.Get(ctx, name)
		if last := h[len(h)-1]; err != nil || p.Digest != last.Digest || p.Version != last.Version {
			t.Errorf("Get(%s) = %s version %d, %v; want the last change, %s version %d", name, p.Digest, p.Version, err, last.Digest, last.Version)
		}
	}
	if recorded != len(writes) {
		t.Errorf("histories hold %d changes, want the %d successful writes (%d conflicts)", recorded, len(writes), conflicts)
	}
}

// Replicas runs the race tests over two stores sharing one database, as two processes or
// two replicas of `shipshape serve` would: open returns both, over an empty database, and
// the suite closes them.
func Replicas(t *testing.T, open func(t *testing.T) (a, b pins.Store)) {
	a, b := open(t)
	for _, s := range []pins.Store{a, b} {
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close() error = %v", err)
			}
		})
	}
	ctx := t.Context()
	stores := []pins.Store{a, b}
	if _, err := a.Set(ctx, pins.Pin{Name: "app", Digest: Digest(0)}, ""); err != nil {
		t.Fatalf("Set() error = %v", err)
	}
	winners, conflicts, errs := race(ctx, func(ctx context.Context, i int) error {
		_, err := stores[i%2].Set(ctx, pins.Pin{Name: "app", Digest: Digest(i + 1)}, Digest(0))
		return err
	})
	if len(winners) != 1 || conflicts != Racers-1 || len(errs) > 0 {
		t.Fatalf("%d racers over two stores: %d won, %d conflicted, other errors %v; want 1 winner and %d conflicts",
			Racers, len(winners), conflicts, errs, Racers-1)
	}
	winners, conflicts, errs = race(ctx, func(ctx context.Context, i int) error {
		_, err := stores[i%2].Set(ctx, pins.Pin{Name: "app", Digest: Digest(100 + i)}, "")
		return err
	})
	if len(winners) != Racers || conflicts != 0 || len(errs) > 0 {
		t.Fatalf("%d unconditional racers over two stores: %d succeeded, %d conflicted, other errors %v; want all to succeed", Racers, len(winners), conflicts, errs)
	}
	for _, s := range stores {
		h, err := s.History(ctx, "app")
		if err != nil {
			t.Fatalf("History() error = %v", err)
		}
		if len(h) != Racers+2 {
			t.Errorf("History() has %d changes, want %d", len(h), Racers+2)
		}
		checkVersions(t, h)
	}
}

// race runs f(i) for i in [0, Racers) at once and sorts the outcomes.
func race(ctx context.Context, f func(ctx context.Context, i int) error) (winners []int, conflicts int, errs []error) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range Racers {
		wg.Go(func() {
			<-start
			err := f(ctx, i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, i)
			case errors.Is(err, pins.ErrConflict):
				conflicts++
			default:
				errs = append(errs, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return winners, conflicts, errs
}

func checkVersions(t *testing.T, h []pins.Change) {
	t.Helper()
	for i, c := range h {
		if c.Version != int64(i+1) {
			t.Errorf("History()[%d].Version = %d, want %d", i, c.Version, i+1)
		}
	}
}

func checkTime(t *testing.T, what string, got, before, after time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Errorf("%s location = %v, want UTC", what, got.Location())
	}
	// Stores keep microseconds.
	if got.Before(before.Truncate(time.Microsecond)) || got.After(after) {
		t.Errorf("%s = %v, want between %v and %v", what, got, before.UTC(), after.UTC())
	}
}

func withVersion(p pins.Pin, v int64) pins.Pin {
	p.Version = v
	return p
}

func digests(h []pins.Change) []string {
	out := make([]string, len(h))
	for i, c := range h {
		out[i] = c.Digest
	}
	return out
}

// SkipWithoutPostgres skips the test when PostgresDSNEnv is unset (fails it when
// RequirePostgresEnv is 1) and returns the DSN.
func SkipWithoutPostgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(PostgresDSNEnv)
	if dsn == "" {
		if os.Getenv(RequirePostgresEnv) == "1" {
			t.Fatalf("%s not set and %s=1: PostgreSQL suite cannot run", PostgresDSNEnv, RequirePostgresEnv)
		}
		t.Skip(PostgresDSNEnv + " not set: PostgreSQL suite skipped")
	}
	return dsn
}

// PostgresDSN returns the DSN of a fresh schema in the database PostgresDSNEnv names,
// dropped when the test ends, so that parallel tests do not meet. Without the variable the
// test is skipped, or fails when RequirePostgresEnv is 1.
func PostgresDSN(t *testing.T) string {
	t.Helper()
	dsn := SkipWithoutPostgres(t)
	schema := "pinstest_" + strings.ToLower(rand.Text())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to %s: %v", PostgresDSNEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("connecting to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema // keyword/value form
}
