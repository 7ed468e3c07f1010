package ecs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/ecs"
	"github.com/shipshape-dev/shipshape/internal/inuse/ecs/ecstest"
)

const (
	repo  = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
	xray  = "public.ecr.aws/xray/aws-xray-daemon:3"
	other = "123456789012.dkr.ecr.us-east-1.amazonaws.com/worker"
)

// digest returns a digest made from s.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// rollingBack fills a server with two clusters: prod, whose api service rolls back from
// revision 2 to revision 1 while a task of each runs, and batch, whose jobs service is
// deployed by an external controller.
func rollingBack(t *testing.T, s *ecstest.Server) {
	t.Helper()
	s.CreateCluster("prod")
	s.CreateCluster("batch")
	api1 := s.RegisterTaskDefinition("api",
		ecstest.ContainerDefinition{Name: "api", Image: repo + ":v1"},
		ecstest.ContainerDefinition{Name: "xray", Image: xray})
	api2 := s.RegisterTaskDefinition("api",
		ecstest.ContainerDefinition{Name: "api", Image: repo + ":v2"},
		ecstest.ContainerDefinition{Name: "xray", Image: xray})
	api0 := s.RegisterTaskDefinition("old-api", ecstest.ContainerDefinition{Name: "api", Image: repo + ":v0"})
	worker := s.RegisterTaskDefinition("worker", ecstest.ContainerDefinition{Name: "worker", Image: other + "@" + digest("worker")})

	s.CreateService("prod", ecstest.Service{Name: "api", Deployments: []ecstest.Deployment{
		{Status: "PRIMARY", TaskDefinition: api1}, // the rollback
		{Status: "ACTIVE", TaskDefinition: api2},  // the failed rollout
		{Status: "INACTIVE", TaskDefinition: api0},
	}})
	s.RunTask("prod", ecstest.Task{ID: "aaa111", TaskDefinition: api1, Containers: []ecstest.Container{
		{Name: "api", Image: repo + ":v1", ImageDigest: digest("v1")},
		{Name: "xray", Image: xray, ImageDigest: digest("xray")},
	}})
	s.RunTask("prod", ecstest.Task{ID: "bbb222", TaskDefinition: api2, LastStatus: "PENDING", Containers: []ecstest.Container{
		{Name: "api", Image: repo + ":v2"}, // not pulled yet
		{Name: "xray", Image: xray},
	}})
	s.RunTask("prod", ecstest.Task{ID: "ccc333", TaskDefinition: api0, DesiredStatus: "STOPPED", Containers: []ecstest.Container{
		{Name: "api", Image: repo + ":v0", ImageDigest: digest("v0")},
	}})

	s.CreateService("batch", ecstest.Service{Name: "jobs", TaskSets: []ecstest.TaskSet{
		{Status: "PRIMARY", TaskDefinition: worker},
		{Status: "DRAINING", TaskDefinition: api1},
	}})
	s.RunTask("batch", ecstest.Task{ID: "ddd444", TaskDefinition: worker, Containers: []ecstest.Container{
		{Name: "worker", Image: other + "@" + digest("worker"), ImageDigest: digest("worker")},
	}})
}

func TestList(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	rollingBack(t, s)

	got, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := []inuse.Use{
		{Image: repo + ":v1", Where: "ecs:batch/service/jobs task set DRAINING container api"},
		{Image: xray, Where: "ecs:batch/service/jobs task set DRAINING container xray"},
		{Image: other + "@" + digest("worker"), Digest: digest("worker"), Where: "ecs:batch/service/jobs task set PRIMARY container worker"},
		{Image: other + "@" + digest("worker"), Digest: digest("worker"), Where: "ecs:batch/task/ddd444 container worker"},
		{Image: repo + ":v2", Where: "ecs:prod/service/api deployment ACTIVE container api"},
		{Image: xray, Where: "ecs:prod/service/api deployment ACTIVE container xray"},
		{Image: repo + ":v1", Where: "ecs:prod/service/api deployment PRIMARY container api"},
		{Image: xray, Where: "ecs:prod/service/api deployment PRIMARY container xray"},
		{Image: repo + ":v1", Digest: digest("v1"), Where: "ecs:prod/task/aaa111 container api"},
		{Image: xray, Digest: digest("xray"), Where: "ecs:prod/task/aaa111 container xray"},
		{Image: repo + ":v2", Where: "ecs:prod/task/bbb222 container api"},
		{Image: xray, Where: "ecs:prod/task/bbb222 container xray"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
	// Each task definition of a PRIMARY, ACTIVE or task-set deployment is described once;
	// the INACTIVE deployment's is not.
	if n := s.Calls("DescribeTaskDefinition"); n != 3 {
		t.Errorf("DescribeTaskDefinition calls = %d, want 3", n)
	}
}

func TestListGivenClusters(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	rollingBack(t, s)

	// By name and by ARN, once each.
	src := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{Clusters: []string{ecstest.ClusterARN("batch"), "batch"}})
	got, err := src.List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	for _, u := range got {
		if !strings.HasPrefix(u.Where, "ecs:batch/") {
			t.Errorf("List() returned %+v, outside cluster batch", u)
		}
	}
	if len(got) != 4 {
		t.Errorf("List() returned %d uses, want 4: %+v", len(got), got)
	}
	if n := s.Calls("ListClusters"); n != 0 {
		t.Errorf("ListClusters calls = %d, want 0 for clusters given", n)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	const (
		clusters = ecs.ListClustersPageSize + 1
		tasks    = 2*ecs.ListTasksPageSize + 5
		services = ecs.ListServicesPageSize + 1
	)
	s := ecstest.New(t)
	for n := range clusters {
		s.CreateCluster(fmt.Sprintf("c%03d", n))
	}
	td := s.RegisterTaskDefinition("web", ecstest.ContainerDefinition{Name: "web", Image: repo + ":web"})
	for n := range tasks {
		s.RunTask("c000", ecstest.Task{ID: fmt.Sprintf("t%03d", n), TaskDefinition: td, Containers: []ecstest.Container{
			{Name: "web", Image: repo + ":web", ImageDigest: digest("web")},
		}})
	}
	for n := range services {
		s.CreateService("c000", ecstest.Service{Name: fmt.Sprintf("s%03d", n), Deployments: []ecstest.Deployment{
			{Status: "PRIMARY", TaskDefinition: td},
		}})
	}

	got, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	if len(got) != tasks+services {
		t.Errorf("List() returned %d uses, want %d", len(got), tasks+services)
	}
	for op, want := range map[string]int{
		"ListClusters":           2,
		"ListTasks":              (clusters - 1) + 3,
		"DescribeTasks":          3,
		"ListServices":           (clusters - 1) + 2,
		"DescribeServices":       (services + ecs.DescribeServicesBatch - 1) / ecs.DescribeServicesBatch,
		"DescribeTaskDefinition": 1,
	} {
		if n := s.Calls(op); n != want {
			t.Errorf("%s calls = %d, want %d", op, n, want)
		}
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		clusters []string
		setup    func(s *ecstest.Server)
		want     []string // in the error's message
	}{
		{
			name: "cannot list clusters",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "ListClusters", Code: "AccessDeniedException", Message: "not authorized"})
			},
			want: []string{"ListClusters", "AccessDeniedException"},
		},
		{
			name: "cannot list the tasks of one cluster",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "ListTasks", Cluster: "batch", Code: "AccessDeniedException", Message: "not authorized"})
			},
			want: []string{"ListTasks in cluster batch", "AccessDeniedException", "not authorized"},
		},
		{
			name: "cannot describe tasks",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "DescribeTasks", Cluster: "prod", Code: "AccessDeniedException", Message: "not authorized"})
			},
			want: []string{"DescribeTasks in cluster prod", "AccessDeniedException"},
		},
		{
			name: "cannot list services",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "ListServices", Cluster: ecstest.ClusterARN("prod"), Code: "AccessDeniedException", Message: "not authorized"})
			},
			want: []string{"ListServices in cluster prod", "AccessDeniedException"},
		},
		{
			name: "cannot describe a task definition",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "DescribeTaskDefinition", Code: "AccessDeniedException", Message: "not authorized"})
			},
			want: []string{"DescribeTaskDefinition", "in cluster", "AccessDeniedException"},
		},
		{
			name:  "a task fails to be described",
			setup: func(s *ecstest.Server) { s.FailItem(ecstest.TaskARN("prod", "bbb222"), "ACCESS_DENIED", "") },
			want:  []string{"DescribeTasks in cluster prod", ecstest.TaskARN("prod", "bbb222") + ": ACCESS_DENIED"},
		},
		{
			name:  "a service fails to be described",
			setup: func(s *ecstest.Server) { s.FailItem(ecstest.ServiceARN("batch", "jobs"), "INTERNAL", "try again") },
			want:  []string{"DescribeServices in cluster batch", ecstest.ServiceARN("batch", "jobs") + ": INTERNAL (try again)"},
		},
		{
			name: "throttled beyond retries",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "ListServices", Code: "ThrottlingException", Message: "Rate exceeded"})
			},
			want: []string{"ListServices in cluster", "ThrottlingException", "Rate exceeded"},
		},
		{
			name: "server errors beyond retries",
			setup: func(s *ecstest.Server) {
				s.Fail(ecstest.Fault{Op: "DescribeServices", Code: "ServerException", Message: "oops"})
			},
			want: []string{"DescribeServices in cluster", "ServerException"},
		},
		{
			name:     "a cluster given does not exist",
			clusters: []string{"prod", "gone"},
			setup:    func(*ecstest.Server) {},
			want:     []string{"ListTasks in cluster gone", "ClusterNotFoundException"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := ecstest.New(t)
			rollingBack(t, s)
			tc.setup(s)
			got, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{Clusters: tc.clusters}).List(context.Background())
			if err == nil {
				t.Fatalf("List() = %d uses, want an error", len(got))
			}
			if got != nil {
				t.Errorf("List() = %v with the error, want no uses", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("List() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestListRetriesThrottling(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	rollingBack(t, s)
	want, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}

	before := s.Calls("ListTasks")
	s.Fail(ecstest.Fault{Op: "ListTasks", Cluster: "prod", Times: 2, Code: "ThrottlingException", Message: "Rate exceeded"})
	s.Fail(ecstest.Fault{Op: "DescribeTaskDefinition", Times: 2, Code: "ThrottlingException", Message: "Rate exceeded"})
	got, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v, want the SDK to retry", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() after throttling mismatch (-want +got):\n%s", diff)
	}
	// Two clusters, and three attempts for prod's one page.
	if n := s.Calls("ListTasks") - before; n != 4 {
		t.Errorf("ListTasks calls = %d, want 4", n)
	}
}

func TestListIsDeterministic(t *testing.T) {
	t.Parallel()
	// The same state built in another order lists the same.
	a, b := ecstest.New(t), ecstest.New(t)
	for _, s := range []*ecstest.Server{a, b} {
		s.CreateCluster("prod")
	}
	td := func(s *ecstest.Server, name string) string {
		return s.RegisterTaskDefinition(name, ecstest.ContainerDefinition{Name: name, Image: repo + ":" + name})
	}
	names := []string{"a", "b", "c", "d", "e"}
	for n, name := range names {
		a.CreateService("prod", ecstest.Service{Name: name, Deployments: []ecstest.Deployment{{Status: "PRIMARY", TaskDefinition: td(a, name)}}})
		a.RunTask("prod", ecstest.Task{ID: name, Containers: []ecstest.Container{{Name: "c", Image: repo + ":" + name}, {Name: "b", Image: repo + ":" + name}}})
		rev := names[len(names)-1-n]
		b.CreateService("prod", ecstest.Service{Name: rev, Deployments: []ecstest.Deployment{{Status: "PRIMARY", TaskDefinition: td(b, rev)}}})
		b.RunTask("prod", ecstest.Task{ID: rev, Containers: []ecstest.Container{{Name: "b", Image: repo + ":" + rev}, {Name: "c", Image: repo + ":" + rev}}})
	}
	first, err := ecs.NewFromConfig(a.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := ecs.NewFromConfig(b.AWSConfig(), ecs.Options{}).List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("List() differs (-first +got):\n%s", diff)
		}
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts ecs.Options
		want string
	}{
		{ecs.Options{}, "ecs"},
		{ecs.Options{Region: "eu-west-1"}, "ecs@eu-west-1"},
		{ecs.Options{Clusters: []string{"prod"}}, "ecs:prod"},
		{ecs.Options{Clusters: []string{"prod", "staging", "prod"}, Region: "eu-west-1"}, "ecs:prod,staging@eu-west-1"},
	} {
		if got := ecs.New(nil, tc.opts).Name(); got != tc.want {
			t.Errorf("New(%+v).Name() = %q, want %q", tc.opts, got, tc.want)
		}
	}
}

// TestListSkipsMissing: a task stopped between ListTasks and DescribeTasks (ECS reports it
// MISSING) runs nothing, so it is left out rather than failing the list.
func TestListSkipsMissing(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	rollingBack(t, s)
	all, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.FailItem(ecstest.TaskARN("prod", "bbb222"), "MISSING", "")
	got, err := ecs.NewFromConfig(s.AWSConfig(), ecs.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() with a MISSING task = %v, want it left out", err)
	}
	for _, u := range got {
		if strings.Contains(u.Where, "/task/bbb222 ") {
			t.Errorf("List() includes the missing task: %+v", u)
		}
	}
	if len(got) >= len(all) {
		t.Errorf("List() with a MISSING task = %d uses, want fewer than %d", len(got), len(all))
	}
}
