// Package sources opens the in-use sources a user names ("kubernetes:prod-eu", "ecs",
// "lambda", "manifests:deploy"), wiring each to its client.
package sources

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/ecs"
	"github.com/shipshape-dev/shipshape/internal/inuse/kube"
	"github.com/shipshape-dev/shipshape/internal/inuse/lambda"
	"github.com/shipshape-dev/shipshape/internal/inuse/manifests"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// Options say how to reach the sources. The zero value uses the defaults: the kubeconfig
// of $KUBECONFIG or ~/.kube/config, and the AWS SDK's default chain.
type Options struct {
	// AWS is the account, region and role the ecs and lambda sources use.
	AWS ecr.Account
	// Kubeconfig names a kubeconfig file; "" uses the default loading rules.
	Kubeconfig string
	// BaseDir resolves a relative manifests directory; "" is the working directory.
	BaseDir string
}

// Open returns the source spec names.
func Open(ctx context.Context, spec inuse.Spec, opts Options) (inuse.Source, error) {
	switch spec.Kind {
	case inuse.KindKubernetes:
		return kube.New(kube.Options{Kubeconfig: opts.Kubeconfig, Context: spec.Arg})
	case inuse.KindECS, inuse.KindLambda:
		cfg, err := ecr.LoadAWSConfig(ctx, opts.AWS)
		if err != nil {
			return nil, fmt.Errorf("in-use source %s: %w", spec, err)
		}
		if spec.Kind == inuse.KindLambda {
			return lambda.NewFromConfig(cfg, lambda.Options{}), nil
		}
		var clusters []string
		if spec.Arg != "" {
			clusters = strings.Split(spec.Arg, ",")
		}
		return ecs.NewFromConfig(cfg, ecs.Options{Clusters: clusters}), nil
	case inuse.KindManifests:
		dir := spec.Arg
		if !filepath.IsAbs(dir) && opts.BaseDir != "" {
			dir = filepath.Join(opts.BaseDir, dir)
		}
		return manifests.New(dir), nil
	}
	return nil, fmt.Errorf("in-use source %s: unknown kind", spec)
}
