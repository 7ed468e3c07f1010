// Package ecs is the in-use source for Amazon ECS: the images of the running and pending
// tasks of each cluster, and those of every service deployment that may start tasks.
package ecs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecssdk "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// API is the narrow interface of the ECS SDK calls the source makes; *ecs.Client from
// github.com/aws/aws-sdk-go-v2/service/ecs satisfies it.
type API interface {
	ListClusters(ctx context.Context, in *ecssdk.ListClustersInput, optFns ...func(*ecssdk.Options)) (*ecssdk.ListClustersOutput, error)
	ListServices(ctx context.Context, in *ecssdk.ListServicesInput, optFns ...func(*ecssdk.Options)) (*ecssdk.ListServicesOutput, error)
	DescribeServices(ctx context.Context, in *ecssdk.DescribeServicesInput, optFns ...func(*ecssdk.Options)) (*ecssdk.DescribeServicesOutput, error)
	ListTasks(ctx context.Context, in *ecssdk.ListTasksInput, optFns ...func(*ecssdk.Options)) (*ecssdk.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecssdk.DescribeTasksInput, optFns ...func(*ecssdk.Options)) (*ecssdk.DescribeTasksOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecssdk.DescribeTaskDefinitionInput, optFns ...func(*ecssdk.Options)) (*ecssdk.DescribeTaskDefinitionOutput, error)
}

var (
	_ API          = (*ecssdk.Client)(nil)
	_ inuse.Source = (*Source)(nil)
)

// Bounds of the calls List makes. Page sizes are the API's maxima; page counts keep a
// service whose tokens loop from keeping a client busy forever.
const (
	// ListClustersPageSize is ListClusters' largest maxResults.
	ListClustersPageSize = 100
	// MaxListClustersPages allows 10,000 clusters, ECS's default quota per account and
	// region.
	MaxListClustersPages = 100
	// ListServicesPageSize is ListServices' largest maxResults.
	ListServicesPageSize = 100
	// MaxListServicesPages allows 5,000 services, ECS's default quota per cluster.
	MaxListServicesPages = 50
	// ListTasksPageSize is ListTasks' largest maxResults.
	ListTasksPageSize = 100
	// MaxListTasksPages allows 100,000 running tasks in one cluster, several times what
	// the largest clusters run.
	MaxListTasksPages = 1000
	// DescribeServicesBatch is the most services DescribeServices takes in one call.
	DescribeServicesBatch = 10
	// DescribeTasksBatch is the most tasks DescribeTasks takes in one call.
	DescribeTasksBatch = 100
)

// Options configure a Source. The zero value lists every cluster.
type Options struct {
	// Clusters are the names or ARNs of the clusters to list; empty means every cluster
	// of the account and region, found with ListClusters.
	Clusters []string
	// Region is the region the client reaches, for Name only; empty leaves it out.
	Region string
	// Logger receives debug messages; nil logs nothing.
	Logger *slog.Logger
}

// Source lists the images that ECS runs or may start. It is safe for concurrent use.
type Source struct {
	api      API
	clusters []string
	region   string
	log      *slog.Logger
}

// New returns a source that reads ECS through api.
func New(api API, opts Options) *Source {
	s := &Source{api: api, region: opts.Region, log: opts.Logger}
	for _, c := range opts.Clusters {
		if c != "" && !slices.Contains(s.clusters, c) {
			s.clusters = append(s.clusters, c)
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// NewFromConfig returns a source that reads ECS with an SDK client of cfg, which sets the
// region, credentials and retryer: the adaptive one of ecr.LoadAWSConfig backs off on
// throttling, which ECS answers heavy listings with.
func NewFromConfig(cfg aws.Config, opts Options) *Source {
	return New(ecssdk.NewFromConfig(cfg), opts)
}

// Name is "ecs", or "ecs:CLUSTER[,CLUSTER…]" for the clusters given, followed by
// "@REGION" when Options.Region is set: "ecs:prod,staging@eu-west-1".
func (s *Source) Name() string {
	name := "ecs"
	if len(s.clusters) > 0 {
		name += ":" + strings.Join(s.clusters, ",")
	}
	if s.region != "" {
		name += "@" + s.region
	}
	return name
}

// List returns the images of every cluster's tasks and services:
//
//   - each container of every task whose desired status is RUNNING (running tasks, and
//     pending ones, which are about to pull), with the digest the task runs when ECS
//     reports it: "ecs:CLUSTER/task/TASKID container NAME";
//   - each container definition of the task definition of every PRIMARY or ACTIVE
//     deployment of every service (the one rolling out and those it replaces, which a
//     rollback returns to), and of every task set of services deployed by CodeDeploy or an
//     external controller: "ecs:CLUSTER/service/NAME deployment PRIMARY container NAME",
//     "ecs:CLUSTER/service/NAME task set ACTIVE container NAME". A definition names an
//     image by tag or digest; a tag is left for the caller to resolve.
//
// Any call that fails, and any task or service ECS reports as a failure, makes List
// return an error: the list would be incomplete.
func (s *Source) List(ctx context.Context) ([]inuse.Use, error) {
	clusters := s.clusters
	if len(clusters) == 0 {
		var err error
		if clusters, err = s.listClusters(ctx); err != nil {
			return nil, err
		}
	}
	var uses []inuse.Use
	var deployed []deployment
	for _, c := range clusters {
		name := clusterName(c)
		tasks, err := s.taskUses(ctx, c, name)
		if err != nil {
			return nil, err
		}
		ds, err := s.deployments(ctx, c, name)
		if err != nil {
			return nil, err
		}
		s.log.Debug("ecs cluster", "cluster", name, "task images", len(tasks), "service deployments", len(ds))
		uses = append(uses, tasks...)
		deployed = append(deployed, ds...)
	}
	defs, err := s.taskDefinitions(ctx, deployed)
	if err != nil {
		return nil, err
	}
	for _, d := range deployed {
		for _, c := range defs[d.taskDefinition] {
			uses = append(uses, inuse.Use{
				Image:  c.image,
				Digest: imageDigest(c.image),
				Where:  d.where + " container " + c.name,
			})
		}
	}
	return sortUses(uses), nil
}

// listClusters returns the ARNs of every cluster of the account and region.
func (s *Source) listClusters(ctx context.Context) ([]string, error) {
	in := &ecssdk.ListClustersInput{MaxResults: aws.Int32(ListClustersPageSize)}
	var arns []string
	for page := 0; ; page++ {
		if page == MaxListClustersPages {
			return nil, fmt.Errorf("ListClusters: more than %d pages", MaxListClustersPages)
		}
		out, err := s.api.ListClusters(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListClusters: %w", err)
		}
		arns = append(arns, out.ClusterArns...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(arns)
	return slices.Compact(arns), nil
}

// clusterName returns the name of a cluster given by name or ARN
// ("arn:aws:ecs:REGION:ACCOUNT:cluster/NAME").
func clusterName(c string) string {
	if _, name, ok := strings.Cut(c, ":cluster/"); ok && strings.HasPrefix(c, "arn:") {
		return name
	}
	return c
}

// lastPart returns what follows the last '/' of an ARN: a task's ID.
func lastPart(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// imageDigest returns the digest an image reference pins ("repo@sha256:…"), or "".
func imageDigest(image string) string {
	if i := strings.LastIndexByte(image, '@'); i >= 0 && strings.HasPrefix(image[i+1:], "sha256:") {
		return image[i+1:]
	}
	return ""
}

// callError wraps the error of the ECS call op on a cluster.
func callError(op, cluster string, err error) error {
	return fmt.Errorf("%s in cluster %s: %w", op, cluster, err)
}

// sortUses sorts uses by where they run, then image and digest, and drops repeats.
func sortUses(uses []inuse.Use) []inuse.Use {
	slices.SortFunc(uses, func(a, b inuse.Use) int {
		return cmp.Or(cmp.Compare(a.Where, b.Where), cmp.Compare(a.Image, b.Image), cmp.Compare(a.Digest, b.Digest))
	})
	return slices.Compact(uses)
}
