package ecstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse/ecs/ecstest"
)

// apiCode returns the error code of an SDK error, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestListTasksPages(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("prod")
	var want []string
	for n := range 5 {
		want = append(want, s.RunTask("prod", ecstest.Task{ID: fmt.Sprintf("t%d", n)}))
	}
	s.RunTask("prod", ecstest.Task{ID: "stopping", DesiredStatus: "STOPPED"})
	c := s.ECS()

	var got []string
	var sizes []int
	in := &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: types.DesiredStatusRunning, MaxResults: aws.Int32(2)}
	for {
		out, err := c.ListTasks(context.Background(), in)
		if err != nil {
			t.Fatalf("ListTasks() error = %v", err)
		}
		got = append(got, out.TaskArns...)
		sizes = append(sizes, len(out.TaskArns))
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTasks() mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
	}
	stopped, err := c.ListTasks(context.Background(), &ecs.ListTasksInput{Cluster: aws.String(ecstest.ClusterARN("prod")), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ecstest.TaskARN("prod", "stopping")}, stopped.TaskArns); diff != "" {
		t.Errorf("ListTasks(STOPPED) mismatch (-want +got):\n%s", diff)
	}
}

func TestDefaultPageSizes(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	for n := range 101 {
		s.CreateCluster(fmt.Sprintf("c%03d", n))
	}
	for n := range 11 {
		s.CreateService("c000", ecstest.Service{Name: fmt.Sprintf("s%02d", n)})
	}
	c := s.ECS()
	clusters, err := c.ListClusters(context.Background(), &ecs.ListClustersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(clusters.ClusterArns) != 100 || clusters.NextToken == nil {
		t.Errorf("ListClusters() = %d clusters, next %v; want 100 and a next page", len(clusters.ClusterArns), clusters.NextToken)
	}
	services, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("c000")})
	if err != nil {
		t.Fatal(err)
	}
	if len(services.ServiceArns) != 10 || services.NextToken == nil {
		t.Errorf("ListServices() = %d services, next %v; want 10 and a next page", len(services.ServiceArns), services.NextToken)
	}
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("prod")
	c := s.ECS()
	ctx := context.Background()
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("x%d", i)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"maxResults too large", func() error {
			_, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(101)})
			return err
		}, "InvalidParameterException"},
		{"maxResults zero", func() error {
			_, err := c.ListClusters(ctx, &ecs.ListClustersInput{MaxResults: aws.Int32(0)})
			return err
		}, "InvalidParameterException"},
		{"token of another operation", func() error {
			s.CreateService("prod", ecstest.Service{Name: "a"})
			s.CreateService("prod", ecstest.Service{Name: "b"})
			out, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("prod"), MaxResults: aws.Int32(1)})
			if err != nil {
				return err
			}
			_, err = c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), NextToken: out.NextToken})
			return err
		}, "InvalidParameterException"},
		{"eleven services", func() error {
			_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: many(11)})
			return err
		}, "InvalidParameterException"},
		{"101 tasks", func() error {
			_, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: many(101)})
			return err
		}, "InvalidParameterException"},
		{"unknown cluster", func() error {
			_, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("nope")})
			return err
		}, "ClusterNotFoundException"},
		{"default cluster absent", func() error {
			_, err := c.ListTasks(ctx, &ecs.ListTasksInput{})
			return err
		}, "ClusterNotFoundException"},
		{"unsupported filter", func() error {
			_, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), Family: aws.String("api")})
			return err
		}, "SerializationException"},
		{"unknown task definition", func() error {
			_, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope:1")})
			return err
		}, "ClientException"},
	} {
		if err := tc.call(); apiCode(err) != tc.want {
			t.Errorf("%s: error = %v, want %s", tc.name, err, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("prod")
	td1 := s.RegisterTaskDefinition("api", ecstest.ContainerDefinition{Name: "api", Image: "app:v1"})
	td2 := s.RegisterTaskDefinition("api", ecstest.ContainerDefinition{Name: "api", Image: "app:v2"})
	s.CreateService("prod", ecstest.Service{Name: "api", Deployments: []ecstest.Deployment{
		{ID: "ecs-svc/2", Status: "PRIMARY", TaskDefinition: td2},
		{ID: "ecs-svc/1", Status: "ACTIVE", TaskDefinition: td1},
	}})
	s.CreateService("prod", ecstest.Service{Name: "broken"})
	s.FailItem(ecstest.ServiceARN("prod", "broken"), "INTERNAL", "try again")
	task := s.RunTask("prod", ecstest.Task{ID: "abc", TaskDefinition: td1, LastStatus: "PENDING", Containers: []ecstest.Container{
		{Name: "api", Image: "app:v1", ImageDigest: "sha256:" + strings.Repeat("1", 64)},
	}})
	c := s.ECS()
	ctx := context.Background()

	svcs, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api", ecstest.ServiceARN("prod", "broken"), "gone"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs.Services) != 1 || aws.ToString(svcs.Services[0].ServiceArn) != ecstest.ServiceARN("prod", "api") {
		t.Fatalf("DescribeServices() services = %+v, want api", svcs.Services)
	}
	var deployments []string
	for _, d := range svcs.Services[0].Deployments {
		deployments = append(deployments, aws.ToString(d.Id)+" "+aws.ToString(d.Status)+" "+aws.ToString(d.TaskDefinition))
	}
	if diff := cmp.Diff([]string{"ecs-svc/2 PRIMARY " + td2, "ecs-svc/1 ACTIVE " + td1}, deployments); diff != "" {
		t.Errorf("deployments mismatch (-want +got):\n%s", diff)
	}
	var failures []string
	for _, f := range svcs.Failures {
		failures = append(failures, aws.ToString(f.Arn)+" "+aws.ToString(f.Reason)+" "+aws.ToString(f.Detail))
	}
	if diff := cmp.Diff([]string{ecstest.ServiceARN("prod", "broken") + " INTERNAL try again", ecstest.ServiceARN("prod", "gone") + " MISSING "}, failures); diff != "" {
		t.Errorf("failures mismatch (-want +got):\n%s", diff)
	}

	tasks, err := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{task}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks.Tasks) != 1 || len(tasks.Tasks[0].Containers) != 1 {
		t.Fatalf("DescribeTasks() = %+v, want one task of one container", tasks.Tasks)
	}
	ctr := tasks.Tasks[0].Containers[0]
	if got := aws.ToString(tasks.Tasks[0].LastStatus) + " " + aws.ToString(ctr.Name) + " " + aws.ToString(ctr.Image) + " " + aws.ToString(ctr.ImageDigest); got != "PENDING api app:v1 sha256:"+strings.Repeat("1", 64) {
		t.Errorf("DescribeTasks() task = %q", got)
	}

	for _, id := range []string{"api", "api:1", td1} {
		out, err := c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeTaskDefinition(%s) error = %v", id, err)
		}
		want := map[string]string{"api": "app:v2", "api:1": "app:v1", td1: "app:v1"}[id]
		if got := aws.ToString(out.TaskDefinition.ContainerDefinitions[0].Image); got != want {
			t.Errorf("DescribeTaskDefinition(%s) image = %q, want %q", id, got, want)
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("a")
	s.CreateCluster("b")
	c := s.ECS()
	ctx := context.Background()
	listTasks := func(cluster string) error {
		_, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(cluster)})
		return err
	}

	s.Fail(ecstest.Fault{Op: "ListTasks", Cluster: ecstest.ClusterARN("b"), Code: "AccessDeniedException", Message: "no"})
	if err := listTasks("a"); err != nil {
		t.Errorf("ListTasks(a) error = %v, want the fault to spare cluster a", err)
	}
	for _, cl := range []string{"b", ecstest.ClusterARN("b")} {
		if err := listTasks(cl); apiCode(err) != "AccessDeniedException" {
			t.Errorf("ListTasks(%s) error = %v, want AccessDeniedException", cl, err)
		}
	}

	before := s.Calls("ListServices")
	s.Fail(ecstest.Fault{Op: "ListServices", Times: 2, Code: "ThrottlingException", Message: "Rate exceeded"})
	if _, err := c.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("a")}); err != nil {
		t.Errorf("ListServices() error = %v, want success on the third attempt", err)
	}
	if n := s.Calls("ListServices") - before; n != 3 {
		t.Errorf("ListServices calls = %d, want 3", n)
	}

	before = s.Calls("ListClusters")
	s.Fail(ecstest.Fault{Op: "ListClusters", Code: "ThrottlingException", Message: "Rate exceeded"})
	if _, err := c.ListClusters(ctx, &ecs.ListClustersInput{}); apiCode(err) != "ThrottlingException" {
		t.Errorf("ListClusters() error = %v, want ThrottlingException", err)
	}
	if n := s.Calls("ListClusters") - before; n != ecstest.ClientMaxAttempts {
		t.Errorf("ListClusters calls = %d, want %d", n, ecstest.ClientMaxAttempts)
	}
}

// TestWire checks what the SDK does not show: status codes, and requests it would not send.
func TestWire(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("a")
	s.Fail(ecstest.Fault{Op: "ListServices", Code: "AccessDeniedException", Message: "no"})
	s.Fail(ecstest.Fault{Op: "ListTasks", Code: "ServerException", Message: "oops"})
	const signed = "AWS4-HMAC-SHA256 Credential=" + ecstest.AccessKeyID + "/20260601/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=00"
	for _, tc := range []struct {
		name, target, contentType, auth string
		wantStatus                      int
		wantCode                        string
	}{
		{"ok", "ListClusters", "application/x-amz-json-1.1", signed, 200, ""},
		{"denied", "ListServices", "application/x-amz-json-1.1", signed, 400, "AccessDeniedException"},
		{"server error", "ListTasks", "application/x-amz-json-1.1", signed, 500, "ServerException"},
		{"unsigned", "ListClusters", "application/x-amz-json-1.1", "", 400, "MissingAuthenticationTokenException"},
		{"another service", "ListClusters", "application/x-amz-json-1.1", strings.Replace(signed, "/ecs/", "/ecr/", 1), 400, "InvalidSignatureException"},
		{"wrong content type", "ListClusters", "application/json", signed, 400, "SerializationException"},
		{"unknown operation", "CreateCluster", "application/x-amz-json-1.1", signed, 400, "UnknownOperationException"},
	} {
		req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113."+tc.target)
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Set("X-Amz-Date", "20260601T000000Z")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Type string `json:"__type"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus || body.Type != tc.wantCode {
			t.Errorf("%s: status %d, __type %q; want %d, %q", tc.name, resp.StatusCode, body.Type, tc.wantStatus, tc.wantCode)
		}
	}
}

// lossyTransport loses the body of the first successful answer in transit, as net/http
// does when it closes a connection under a response being read.
type lossyTransport struct {
	next http.RoundTripper
	lost bool
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusOK && !l.lost {
		l.lost = true
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(iotest.ErrReader(&net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}))
	}
	return resp, err
}

// TestLostAnswerIsReplayed: the SDK re-sends a call whose answer was lost in transit; the
// server answers the re-send with the answer it gave, and counts one call, not two.
func TestLostAnswerIsReplayed(t *testing.T) {
	t.Parallel()
	s := ecstest.New(t)
	s.CreateCluster("prod")
	lossy := &lossyTransport{next: http.DefaultTransport}
	c := ecs.NewFromConfig(s.AWSConfig(), func(o *ecs.Options) { o.HTTPClient = &http.Client{Transport: lossy} })
	out, err := c.ListClusters(context.Background(), &ecs.ListClustersInput{})
	if err != nil {
		t.Fatalf("ListClusters() error = %v", err)
	}
	if !lossy.lost || len(out.ClusterArns) != 1 {
		t.Errorf("ListClusters() = %v after losing an answer: %v, want one cluster", lossy.lost, out.ClusterArns)
	}
	if n := s.Calls("ListClusters"); n != 1 {
		t.Errorf("ListClusters calls = %d, want 1: the re-send is the transport's", n)
	}
	if _, err := c.ListClusters(context.Background(), &ecs.ListClustersInput{}); err != nil || s.Calls("ListClusters") != 2 {
		t.Errorf("a second call: error %v, %d calls, want 2", err, s.Calls("ListClusters"))
	}
}
