// Package lifecycle is shipshape's application layer, between the commands and the domain:
// it resolves a command's inputs (flags over shipshape.yaml over defaults) in one place,
// so that commands given the same inputs cannot disagree.
package lifecycle

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/plan"
)

// Flags are the values of the flags that plan, apply and audit share. A field left at its
// zero value (or with its Set flag false) takes shipshape.yaml's value, then the default.
type Flags struct {
	// ConfigFile names shipshape.yaml; "" reads ./shipshape.yaml when it exists.
	ConfigFile string
	// ProtectTags add to shipshape.yaml's protected tag patterns.
	ProtectTags []string
	// ProtectDigestsFiles name files of digests, one a line, to protect.
	ProtectDigestsFiles []string
	// Pins are pin sources (LoadPins), read with PinsToken.
	Pins      []string
	PinsToken string
	// InUse are in-use sources ("kubernetes:prod-eu"), added to shipshape.yaml's.
	InUse []string
	// Grace, when not "", overrides shipshape.yaml's grace ("48h", "7d").
	Grace string
	// MaxDeletePercent overrides shipshape.yaml's limit when MaxDeleteSet.
	MaxDeletePercent float64
	MaxDeleteSet     bool
	// PricePerGBMonth overrides shipshape.yaml's price when PriceSet.
	PricePerGBMonth float64
	PriceSet        bool
	// Now, when not "", fixes the clock (RFC 3339).
	Now string
}

// Inputs are what a plan is made from, resolved.
type Inputs struct {
	// Config is shipshape.yaml as read; empty when there is none.
	Config *config.Config
	// Options carry the price and the safety settings. Safety.InUse is filled per
	// repository, from InUse, once its inventory is known.
	Options plan.Options
	// InUse are the in-use sources of the flags and of shipshape.yaml (whose manifests
	// directories are made relative to the file).
	InUse []inuse.Spec
	// Now is the clock the plan is evaluated at.
	Now time.Time
}

// FlagError is a flag, or an argument when Flag is "", with a value that cannot be used;
// commands report it as a usage error.
type FlagError struct {
	Flag string
	Err  error
}

func (e *FlagError) Error() string {
	if e.Flag == "" {
		return e.Err.Error()
	}
	return "--" + e.Flag + ": " + e.Err.Error()
}
func (e *FlagError) Unwrap() error { return e.Err }

func flagError(flag, format string, args ...any) error {
	return &FlagError{Flag: flag, Err: fmt.Errorf(format, args...)}
}

// Resolve reads shipshape.yaml and the pin sources and merges them with the flags.
func Resolve(ctx context.Context, f Flags) (*Inputs, error) {
	in := &Inputs{Config: &config.Config{}, Now: time.Now().UTC()}
	if f.Now != "" {
		t, err := time.Parse(time.RFC3339, f.Now)
		if err != nil {
			return nil, flagError("now", "%q is not an RFC 3339 time such as 2026-06-01T12:00:00Z", f.Now)
		}
		in.Now = t
	}
	path := f.ConfigFile
	if path == "" {
		if _, err := os.Stat(config.DefaultFile); err == nil {
			path = config.DefaultFile
		}
	}
	if path != "" {
		var err error
		if in.Config, err = config.Load(path); err != nil {
			return nil, err
		}
	}
	cfg := in.Config
	digests, err := cfg.ProtectedDigests()
	if err != nil {
		return nil, err
	}
	for _, file := range f.ProtectDigestsFiles {
		if err := config.ReadDigestsFile(file, digests); err != nil {
			return nil, err
		}
	}
	for _, src := range f.Pins {
		pinned, err := LoadPins(ctx, src, f.PinsToken)
		if err != nil {
			return nil, err
		}
		for d, why := range pinned {
			digests[d] = why
		}
	}
	in.Options = plan.Options{
		PricePerGBMonth: cfg.PricePerGBMonth,
		Safety: plan.Safety{
			ProtectTags:      append(cfg.Safety.ProtectTags[:len(cfg.Safety.ProtectTags):len(cfg.Safety.ProtectTags)], f.ProtectTags...),
			ProtectDigests:   digests,
			Grace:            time.Duration(cfg.Safety.Grace),
			MaxDeletePercent: cfg.Safety.MaxDeletePercent,
		},
	}
	if f.PriceSet || in.Options.PricePerGBMonth == 0 {
		if f.PricePerGBMonth < 0 {
			return nil, flagError("price-per-gb-month", "must not be negative, got %v", f.PricePerGBMonth)
		}
		in.Options.PricePerGBMonth = f.PricePerGBMonth
		if !f.PriceSet && f.PricePerGBMonth == 0 {
			in.Options.PricePerGBMonth = plan.DefaultPricePerGBMonth
		}
	}
	if f.Grace != "" {
		g, err := config.ParseDuration(f.Grace)
		if err != nil {
			return nil, flagError("grace", "%v", err)
		}
		in.Options.Safety.Grace = g
	}
	if f.MaxDeleteSet {
		if f.MaxDeletePercent < 0 || f.MaxDeletePercent > 100 {
			return nil, flagError("max-delete-percent", "must be between 0 and 100, got %v", f.MaxDeletePercent)
		}
		in.Options.Safety.MaxDeletePercent = f.MaxDeletePercent
	}
	for _, p := range in.Options.Safety.ProtectTags {
		if strings.TrimSpace(p) == "" {
			return nil, flagError("protect-tag", "needs a pattern")
		}
	}
	if in.InUse, err = InUseSpecs(f.InUse, cfg); err != nil {
		return nil, err
	}
	return in, nil
}
