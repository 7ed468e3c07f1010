package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/shipshape-dev/shipshape/internal/config"
	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// InUseRequest is one listing of the images that run (shipshape inuse).
type InUseRequest struct {
	// ConfigFile names shipshape.yaml; "" reads ./shipshape.yaml when it exists.
	ConfigFile string
	// Sources are in-use sources ("kubernetes:prod-eu"); none means shipshape.yaml's
	// safety.inUse.
	Sources []string
	// Repository, when set, limits the list to one repository ("ghcr.io/acme/api"), with
	// its tags resolved to the digests they point at now.
	Repository string
	// AWS is the account the ecs and lambda sources use; its region defaults to that of
	// Repository's host on Amazon ECR.
	AWS ecr.Account
	// Open connects to Repository's registry (Open, with the registry flags); it is
	// called only when Repository is set.
	Open func(ctx context.Context, cfg *config.Config, ref string) (*Target, error)
}

// InUseList is what the sources said, as rows.
type InUseList struct {
	Rows []inuse.Row
	// Failures name the sources that could not be read completely.
	Failures []string
}

// InUse reads the in-use sources and lists what they run. A source that fails is named in
// Failures and the others are listed; the error is for what stops the listing (a bad
// source or repository, which is a FlagError, shipshape.yaml, the registry's tags).
func InUse(ctx context.Context, req InUseRequest) (*InUseList, error) {
	cfg, err := loadConfig(req.ConfigFile)
	if err != nil {
		return nil, err
	}
	flags, shipshape := req.Sources, cfg
	if len(flags) > 0 {
		shipshape = nil // sources given replace shipshape.yaml's
	}
	specs, err := InUseSpecs(flags, shipshape)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, &FlagError{Err: errors.New("inuse needs a SOURCE (kubernetes, ecs, lambda, manifests:DIR) or safety.inUse in shipshape.yaml")}
	}
	var host, repo string
	if req.Repository != "" {
		if host, repo, err = registry.ParseReference(req.Repository); err != nil {
			return nil, flagError("repository", "%v", err)
		}
	}
	r := ListInUse(ctx, specs, accountFor(req.AWS, host))
	list := &InUseList{Rows: inuse.Rows(r.Uses), Failures: r.Failures}
	if req.Repository == "" {
		return list, nil
	}
	t, err := req.Open(ctx, cfg, req.Repository)
	if err != nil {
		return nil, err
	}
	tags, err := t.Reg.Tags(ctx, t.Repo)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of %s: %w", t.Ref, err)
	}
	list.Rows = inuse.ResolveRows(list.Rows, host, repo, tags)
	return list, nil
}

// InUseSpecs parses the in-use sources of the flags, then those of cfg's safety.inUse (cfg
// may be nil), whose manifests directories are made relative to shipshape.yaml. A flag's
// source that does not parse is a FlagError of --in-use.
func InUseSpecs(flags []string, cfg *config.Config) ([]inuse.Spec, error) {
	var specs []inuse.Spec
	for _, s := range flags {
		sp, err := inuse.ParseSpec(s)
		if err != nil {
			return nil, flagError("in-use", "%v", err)
		}
		specs = append(specs, sp)
	}
	if cfg == nil {
		return specs, nil
	}
	for _, s := range cfg.Safety.InUse {
		sp, err := inuse.ParseSpec(s)
		if err != nil {
			return nil, err // config.Load validated it already
		}
		if sp.Kind == inuse.KindManifests {
			sp.Arg = cfg.Path(sp.Arg)
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

// loadConfig reads the shipshape.yaml at path, or ./shipshape.yaml when path is "" and it
// exists; nil when there is none.
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat(config.DefaultFile); err != nil {
			return nil, nil
		}
		path = config.DefaultFile
	}
	return config.Load(path)
}
