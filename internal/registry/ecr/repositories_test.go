package ecr_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/shipshape-dev/shipshape/internal/registry"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr"
	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
)

// TestRepositories proves Repositories lists every repository of the registry, sorted, in
// pages of 1000, and retries a throttled page.
func TestRepositories(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		repos, wantCalls int
	}{
		{0, 1},
		{1, 1},
		{1000, 1},
		{2500, 3}, // the default page of 100 would take 25
	} {
		t.Run(fmt.Sprint(tc.repos), func(t *testing.T) {
			t.Parallel()
			s := ecrtest.New(t)
			var want []string
			for i := range tc.repos {
				name := fmt.Sprintf("team-%d/app", tc.repos-i) // created out of order
				s.CreateRepository(name, ecrtest.Repo{})
				want = append(want, name)
			}
			slices.Sort(want)
			c := ecr.NewFromConfig(s.AWSConfig(), ecr.Options{RegistryID: ecrtest.Account, Host: host})
			got, err := c.Repositories(t.Context())
			if err != nil {
				t.Fatalf("Repositories() error = %v", err)
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Repositories() (-want +got):\n%s", diff)
			}
			if n := s.Calls("DescribeRepositories"); n != tc.wantCalls {
				t.Errorf("Repositories() made %d DescribeRepositories calls, want %d", n, tc.wantCalls)
			}
			if n := c.Stats().ByKind["DescribeRepositories"]; n != tc.wantCalls {
				t.Errorf("Stats() counted %d DescribeRepositories calls, want %d", n, tc.wantCalls)
			}
		})
	}

	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		s := ecrtest.New(t)
		s.CreateRepository("app", ecrtest.Repo{})
		s.Fail("DescribeRepositories", 2, "ThrottlingException", "Rate exceeded")
		got, err := ecr.New(s.ECR(), ecr.Options{RegistryID: ecrtest.Account}).Repositories(t.Context())
		if err != nil || !slices.Equal(got, []string{"app"}) {
			t.Errorf("Repositories() after two throttled calls = %v, %v; want [app]", got, err)
		}
	})
}

// TestRepositoriesErrors proves Repositories maps ECR's refusals onto the registry's
// sentinels and names the registry.
func TestRepositoriesErrors(t *testing.T) {
	t.Parallel()
	s := ecrtest.New(t)
	s.CreateRepository("app", ecrtest.Repo{})

	other := ecr.New(s.ECR(), ecr.Options{RegistryID: "111111111111"})
	_, err := other.Repositories(t.Context())
	if !errors.Is(err, registry.ErrDenied) || !strings.HasPrefix(err.Error(), "listing the repositories of registry 111111111111: ") ||
		!strings.Contains(err.Error(), "not authorized to perform: ecr:DescribeRepositories") {
		t.Errorf("Repositories() of another account: error = %v, want ErrDenied naming registry 111111111111, with ECR's message", err)
	}

	s.Fail("DescribeRepositories", 1, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/base is not authorized to perform: ecr:DescribeRepositories")
	_, err = ecr.New(s.ECR(), ecr.Options{RegistryID: ecrtest.Account, Host: host}).Repositories(t.Context())
	if !errors.Is(err, registry.ErrDenied) || !strings.HasPrefix(err.Error(), "listing the repositories of "+host+": ") {
		t.Errorf("Repositories() denied: error = %v, want ErrDenied naming %s", err, host)
	}
	if errors.Is(err, registry.ErrNoCatalog) {
		t.Errorf("Repositories() denied: error = %v wraps ErrNoCatalog: ECR always lists its repositories", err)
	}
}
