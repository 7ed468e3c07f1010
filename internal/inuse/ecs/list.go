package ecs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecssdk "github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"golang.org/x/sync/errgroup"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// DescribeTaskDefinitionConcurrency is how many DescribeTaskDefinition calls List has in
// flight: services share few task definitions, and four calls keep a cluster of hundreds
// of services to seconds without nearing ECS's throttling.
const DescribeTaskDefinitionConcurrency = 4

// taskUses returns the images of the containers of the tasks of a cluster (given by name
// or ARN, named name) whose desired status is RUNNING.
func (s *Source) taskUses(ctx context.Context, cluster, name string) ([]inuse.Use, error) {
	in := &ecssdk.ListTasksInput{
		Cluster:       aws.String(cluster),
		DesiredStatus: types.DesiredStatusRunning,
		MaxResults:    aws.Int32(ListTasksPageSize),
	}
	var arns []string
	for page := 0; ; page++ {
		if page == MaxListTasksPages {
			return nil, fmt.Errorf("ListTasks in cluster %s: more than %d pages", name, MaxListTasksPages)
		}
		out, err := s.api.ListTasks(ctx, in)
		if err != nil {
			return nil, callError("ListTasks", name, err)
		}
		arns = append(arns, out.TaskArns...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(arns)
	arns = slices.Compact(arns)

	var uses []inuse.Use
	for batch := range slices.Chunk(arns, DescribeTasksBatch) {
		out, err := s.api.DescribeTasks(ctx, &ecssdk.DescribeTasksInput{Cluster: aws.String(cluster), Tasks: batch})
		if err != nil {
			return nil, callError("DescribeTasks", name, err)
		}
		got := make([]string, 0, len(out.Tasks))
		for _, t := range out.Tasks {
			got = append(got, aws.ToString(t.TaskArn))
		}
		if err := incomplete("DescribeTasks", name, batch, got, out.Failures); err != nil {
			return nil, err
		}
		for _, t := range out.Tasks {
			id := lastPart(aws.ToString(t.TaskArn))
			for _, c := range t.Containers {
				where := "ecs:" + name + "/task/" + id + " container " + aws.ToString(c.Name)
				image := aws.ToString(c.Image)
				if image == "" {
					return nil, fmt.Errorf("DescribeTasks in cluster %s: %s: no image", name, where)
				}
				digest := aws.ToString(c.ImageDigest)
				if digest == "" {
					digest = imageDigest(image)
				}
				uses = append(uses, inuse.Use{Image: image, Digest: digest, Where: where})
			}
		}
	}
	return uses, nil
}

// deployment is a task definition a service may start tasks of.
type deployment struct {
	cluster        string
	where          string // "ecs:CLUSTER/service/NAME deployment PRIMARY"
	taskDefinition string
}

// deployments returns the task definitions of the PRIMARY and ACTIVE deployments and of
// the task sets of every service of a cluster.
func (s *Source) deployments(ctx context.Context, cluster, name string) ([]deployment, error) {
	in := &ecssdk.ListServicesInput{Cluster: aws.String(cluster), MaxResults: aws.Int32(ListServicesPageSize)}
	var arns []string
	for page := 0; ; page++ {
		if page == MaxListServicesPages {
			return nil, fmt.Errorf("ListServices in cluster %s: more than %d pages", name, MaxListServicesPages)
		}
		out, err := s.api.ListServices(ctx, in)
		if err != nil {
			return nil, callError("ListServices", name, err)
		}
		arns = append(arns, out.ServiceArns...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(arns)
	arns = slices.Compact(arns)

	var ds []deployment
	add := func(where, td string) error {
		if td == "" {
			return fmt.Errorf("DescribeServices in cluster %s: %s: no task definition", name, where)
		}
		ds = append(ds, deployment{cluster: name, where: where, taskDefinition: td})
		return nil
	}
	for batch := range slices.Chunk(arns, DescribeServicesBatch) {
		out, err := s.api.DescribeServices(ctx, &ecssdk.DescribeServicesInput{Cluster: aws.String(cluster), Services: batch})
		if err != nil {
			return nil, callError("DescribeServices", name, err)
		}
		got := make([]string, 0, len(out.Services))
		for _, svc := range out.Services {
			got = append(got, aws.ToString(svc.ServiceArn))
		}
		if err := incomplete("DescribeServices", name, batch, got, out.Failures); err != nil {
			return nil, err
		}
		for _, svc := range out.Services {
			base := "ecs:" + name + "/service/" + aws.ToString(svc.ServiceName)
			for _, d := range svc.Deployments {
				switch status := aws.ToString(d.Status); status {
				case "PRIMARY", "ACTIVE":
					if err := add(base+" deployment "+status, aws.ToString(d.TaskDefinition)); err != nil {
						return nil, err
					}
				}
			}
			for _, ts := range svc.TaskSets {
				if err := add(base+" task set "+aws.ToString(ts.Status), aws.ToString(ts.TaskDefinition)); err != nil {
					return nil, err
				}
			}
		}
	}
	return ds, nil
}

// incomplete returns an error when a Describe call reports failures or leaves out an ARN
// it was asked about. Items are matched by the last part of their ARNs, which ECS's old
// and new ARN formats share.
func incomplete(op, cluster string, asked, got []string, failures []types.Failure) error {
	var problems []string
	for _, f := range failures {
		if aws.ToString(f.Reason) == "MISSING" {
			// Stopped or deleted between the list and the describe call: a task or service
			// that no longer exists runs nothing.
			got = append(got, aws.ToString(f.Arn))
			continue
		}
		p := aws.ToString(f.Arn) + ": " + aws.ToString(f.Reason)
		if d := aws.ToString(f.Detail); d != "" {
			p += " (" + d + ")"
		}
		problems = append(problems, p)
	}
	if len(problems) == 0 {
		answered := make(map[string]bool, len(got))
		for _, arn := range got {
			answered[lastPart(arn)] = true
		}
		for _, arn := range asked {
			if !answered[lastPart(arn)] {
				problems = append(problems, arn+": not in the answer")
			}
		}
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s in cluster %s: %s", op, cluster, problems[0])
	}
	slices.Sort(problems)
	return fmt.Errorf("%s in cluster %s: %d failures: %s", op, cluster, len(problems), strings.Join(problems, "; "))
}

// container is a container definition of a task definition.
type container struct{ name, image string }

// taskDefinitions describes each task definition the deployments name, once.
func (s *Source) taskDefinitions(ctx context.Context, ds []deployment) (map[string][]container, error) {
	first := make(map[string]deployment)
	for _, d := range ds {
		if _, ok := first[d.taskDefinition]; !ok {
			first[d.taskDefinition] = d
		}
	}
	var (
		mu   sync.Mutex
		defs = make(map[string][]container, len(first))
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(DescribeTaskDefinitionConcurrency)
	for td, d := range first {
		g.Go(func() error {
			out, err := s.api.DescribeTaskDefinition(ctx, &ecssdk.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
			if err != nil {
				return fmt.Errorf("DescribeTaskDefinition %s in cluster %s, for %s: %w", td, d.cluster, d.where, err)
			}
			if out.TaskDefinition == nil {
				return fmt.Errorf("DescribeTaskDefinition %s in cluster %s, for %s: no task definition in the answer", td, d.cluster, d.where)
			}
			var cs []container
			for _, c := range out.TaskDefinition.ContainerDefinitions {
				image := aws.ToString(c.Image)
				if image == "" {
					return fmt.Errorf("DescribeTaskDefinition %s in cluster %s: container %s has no image", td, d.cluster, aws.ToString(c.Name))
				}
				cs = append(cs, container{name: aws.ToString(c.Name), image: image})
			}
			mu.Lock()
			defs[td] = cs
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return defs, nil
}
