package ecr

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
)

// Bounds of Repositories.
const (
	// RepositoryPageSize is DescribeRepositories' maximum maxResults.
	RepositoryPageSize = 1000
	// MaxRepositoryPages bounds the pages of one listing: a million repositories, ten
	// times ECR's default quota of repositories per registry, so that a page token that
	// loops cannot keep a client busy.
	MaxRepositoryPages = 1000
)

// Repositories returns the name of every repository of the registry (Options.RegistryID,
// else the caller's own), sorted, through DescribeRepositories.
func (c *Client) Repositories(ctx context.Context) ([]string, error) {
	in := &ecrsdk.DescribeRepositoriesInput{RegistryId: c.registryID, MaxResults: aws.Int32(RepositoryPageSize)}
	var names []string
	for pages := 0; ; pages++ {
		if pages == MaxRepositoryPages {
			return nil, fmt.Errorf("listing the repositories of %s: more than %d pages", c.registryName(), MaxRepositoryPages)
		}
		out, err := c.api.DescribeRepositories(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing the repositories of %s: %w", c.registryName(), mapError(err))
		}
		for _, r := range out.Repositories {
			names = append(names, aws.ToString(r.RepositoryName))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// registryName names the registry in messages: its host, else its account, else "the
// caller's registry".
func (c *Client) registryName() string {
	switch {
	case c.host != "":
		return c.host
	case c.registryID != nil:
		return "registry " + *c.registryID
	}
	return "the caller's registry"
}
