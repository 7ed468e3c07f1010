// Package lambda is the in-use source for AWS Lambda: the images of every version of every
// function packaged as a container image.
package lambda

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// API is the narrow interface of the Lambda SDK calls the source makes; *lambda.Client
// from github.com/aws/aws-sdk-go-v2/service/lambda satisfies it.
type API interface {
	ListFunctions(ctx context.Context, in *lambdasdk.ListFunctionsInput, optFns ...func(*lambdasdk.Options)) (*lambdasdk.ListFunctionsOutput, error)
	ListAliases(ctx context.Context, in *lambdasdk.ListAliasesInput, optFns ...func(*lambdasdk.Options)) (*lambdasdk.ListAliasesOutput, error)
	GetFunction(ctx context.Context, in *lambdasdk.GetFunctionInput, optFns ...func(*lambdasdk.Options)) (*lambdasdk.GetFunctionOutput, error)
}

var (
	_ API          = (*lambdasdk.Client)(nil)
	_ inuse.Source = (*Source)(nil)
)

// Bounds of the calls List makes. Page counts keep a service whose markers loop from
// keeping a client busy forever.
const (
	// ListFunctionsPageSize is the most entries ListFunctions returns in one call.
	ListFunctionsPageSize = 50
	// MaxListFunctionsPages allows 100,000 function versions: with FunctionVersion ALL,
	// every published version is an entry.
	MaxListFunctionsPages = 2000
	// ListAliasesPageSize is ListAliases' default page, which every SDK uses.
	ListAliasesPageSize = 50
	// MaxListAliasesPages allows 5,000 aliases of one function, far more than deployment
	// tools create.
	MaxListAliasesPages = 100
	// FunctionConcurrency is how many functions List reads at once (ListAliases, then a
	// GetFunction per version): Lambda's control-plane quotas are per account and low
	// (tens of calls a second for some operations), and four keep an account of a few
	// hundred functions to seconds.
	FunctionConcurrency = 4
)

// Options configure a Source. The zero value is usable.
type Options struct {
	// Region is the region the client reaches, for Name only; empty leaves it out.
	Region string
	// Logger receives debug messages; nil logs nothing.
	Logger *slog.Logger
}

// Source lists the images of Lambda functions. It is safe for concurrent use.
type Source struct {
	api    API
	region string
	log    *slog.Logger
}

// New returns a source that reads Lambda through api.
func New(api API, opts Options) *Source {
	s := &Source{api: api, region: opts.Region, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// NewFromConfig returns a source that reads Lambda with an SDK client of cfg, which sets
// the region, credentials and retryer: the adaptive one of ecr.LoadAWSConfig backs off on
// throttling (TooManyRequestsException), which Lambda's low control-plane quotas make
// common.
func NewFromConfig(cfg aws.Config, opts Options) *Source {
	return New(lambdasdk.NewFromConfig(cfg), opts)
}

// Name is "lambda", followed by "@REGION" when Options.Region is set.
func (s *Source) Name() string {
	if s.region != "" {
		return "lambda@" + s.region
	}
	return "lambda"
}

// List returns the image of $LATEST and of every published version of every function
// packaged as an image, whatever its state (an inactive function pulls its image again
// when invoked): Image is the function's image URI, Digest the digest Lambda resolved it
// to, and Where "lambda:FUNCTION:VERSION", followed by the aliases that route to the
// version: "lambda:api:7 (aliases live, prod)". Functions packaged as .zip archives are
// left out.
//
// Any call that fails makes List return an error: the list would be incomplete.
func (s *Source) List(ctx context.Context) ([]inuse.Use, error) {
	functions, err := s.imageFunctions(ctx)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		uses []inuse.Use
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(FunctionConcurrency)
	for _, name := range slices.Sorted(maps.Keys(functions)) {
		g.Go(func() error {
			fu, err := s.functionUses(ctx, name, functions[name])
			if err != nil {
				return err
			}
			mu.Lock()
			uses = append(uses, fu...)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.log.Debug("lambda", "image functions", len(functions), "uses", len(uses))
	slices.SortFunc(uses, func(a, b inuse.Use) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Image, b.Image), cmp.Compare(a.Digest, b.Digest))
	})
	return slices.Compact(uses), nil
}

// imageFunctions lists every version of every function, and returns those of the
// functions packaged as images, by function name.
func (s *Source) imageFunctions(ctx context.Context) (map[string][]string, error) {
	in := &lambdasdk.ListFunctionsInput{
		FunctionVersion: types.FunctionVersionAll,
		MaxItems:        aws.Int32(ListFunctionsPageSize),
	}
	functions := make(map[string][]string)
	for page := 0; ; page++ {
		if page == MaxListFunctionsPages {
			return nil, fmt.Errorf("ListFunctions: more than %d pages", MaxListFunctionsPages)
		}
		out, err := s.api.ListFunctions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListFunctions: %w", err)
		}
		for _, f := range out.Functions {
			if f.PackageType != types.PackageTypeImage {
				continue
			}
			name, version := aws.ToString(f.FunctionName), aws.ToString(f.Version)
			if name == "" || version == "" {
				return nil, fmt.Errorf("ListFunctions: an entry without function name or version: %q %q", name, version)
			}
			functions[name] = append(functions[name], version)
		}
		if aws.ToString(out.NextMarker) == "" {
			break
		}
		in.Marker = out.NextMarker
	}
	return functions, nil
}

// functionUses returns the image of each listed version of a function, and of each
// version an alias routes to.
func (s *Source) functionUses(ctx context.Context, name string, versions []string) ([]inuse.Use, error) {
	aliases, err := s.aliases(ctx, name)
	if err != nil {
		return nil, err
	}
	// An alias may route to a version published after the listing: it runs too.
	for v := range aliases {
		if !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	slices.SortFunc(versions, compareVersions)
	versions = slices.Compact(versions)

	uses := make([]inuse.Use, 0, len(versions))
	for _, v := range versions {
		where := "lambda:" + name + ":" + v
		switch names := aliases[v]; len(names) {
		case 0:
		case 1:
			where += " (alias " + names[0] + ")"
		default:
			where += " (aliases " + strings.Join(names, ", ") + ")"
		}
		out, err := s.api.GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String(name), Qualifier: aws.String(v)})
		if err != nil {
			return nil, fmt.Errorf("GetFunction of %s:%s: %w", name, v, err)
		}
		var image, resolved string
		if out.Code != nil {
			image, resolved = aws.ToString(out.Code.ImageUri), aws.ToString(out.Code.ResolvedImageUri)
		}
		if image == "" {
			return nil, fmt.Errorf("GetFunction of %s:%s: no image URI", name, v)
		}
		digest := imageDigest(resolved)
		if digest == "" {
			digest = imageDigest(image)
		}
		uses = append(uses, inuse.Use{Image: image, Digest: digest, Where: where})
	}
	return uses, nil
}

// aliases returns the sorted names of the aliases of a function, by the versions they
// route to (their own, and any they send a share of traffic to).
func (s *Source) aliases(ctx context.Context, name string) (map[string][]string, error) {
	in := &lambdasdk.ListAliasesInput{FunctionName: aws.String(name), MaxItems: aws.Int32(ListAliasesPageSize)}
	byVersion := make(map[string][]string)
	for page := 0; ; page++ {
		if page == MaxListAliasesPages {
			return nil, fmt.Errorf("ListAliases of function %s: more than %d pages", name, MaxListAliasesPages)
		}
		out, err := s.api.ListAliases(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListAliases of function %s: %w", name, err)
		}
		for _, a := range out.Aliases {
			alias := aws.ToString(a.Name)
			targets := []string{aws.ToString(a.FunctionVersion)}
			if a.RoutingConfig != nil {
				for v := range a.RoutingConfig.AdditionalVersionWeights {
					targets = append(targets, v)
				}
			}
			for _, v := range targets {
				if v != "" && !slices.Contains(byVersion[v], alias) {
					byVersion[v] = append(byVersion[v], alias)
				}
			}
		}
		if aws.ToString(out.NextMarker) == "" {
			break
		}
		in.Marker = out.NextMarker
	}
	for _, names := range byVersion {
		slices.Sort(names)
	}
	return byVersion, nil
}

// compareVersions orders $LATEST first, then published versions by number.
func compareVersions(a, b string) int {
	na, errA := strconv.Atoi(a)
	nb, errB := strconv.Atoi(b)
	switch {
	case errA == nil && errB == nil:
		return cmp.Compare(na, nb)
	case errA == nil:
		return 1
	case errB == nil:
		return -1
	}
	return cmp.Compare(a, b)
}

// imageDigest returns the digest an image URI pins ("repo@sha256:…"), or "".
func imageDigest(uri string) string {
	if i := strings.LastIndexByte(uri, '@'); i >= 0 && strings.HasPrefix(uri[i+1:], "sha256:") {
		return uri[i+1:]
	}
	return ""
}
