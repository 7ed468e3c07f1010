// Package ecstest is an in-memory Amazon ECS control plane for tests, served over HTTP with
// ECS's JSON 1.1 protocol, so that code under test uses the real AWS SDK client.
//
// It answers the read operations the in-use source makes — ListClusters, ListServices,
// ListTasks, DescribeServices, DescribeTasks and DescribeTaskDefinition — as POST / with
// X-Amz-Target "AmazonEC2ContainerServiceV20141113.<Op>" and application/x-amz-json-1.1
// bodies. Errors are {"__type": CODE, "message": …} with HTTP 400, or 500 for
// ServerException. Lists are in ARN order with opaque nextTokens; maxResults and the
// batch limits of the Describe calls are checked as ECS checks them. Request members the
// server does not implement (filters such as ListTasks' family) are refused with a
// SerializationException naming them, so that a test never passes on a filter ignored.
//
// Requests must carry a Signature Version 4 Authorization header by AccessKeyID for the
// service "ecs"; the signature itself is not verified.
//
// Tests set the state with CreateCluster, RegisterTaskDefinition, RunTask and
// CreateService, make calls fail with Fail, and make Describe calls report an item as a
// failure with FailItem.
//
// The package is imported by tests only.
package ecstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/shipshape-dev/shipshape/internal/awstest"
)

// The account, region and credentials of the server.
const (
	Account         = "123456789012"
	Region          = "us-east-1"
	AccessKeyID     = "AKIDECSTEST"
	SecretAccessKey = "secret"
)

// ClientMaxAttempts is how many attempts AWSConfig makes a call (awstest.Config).
const ClientMaxAttempts = awstest.ClientMaxAttempts

// maxBodyBytes bounds a request body: the largest request these operations take is a
// DescribeTasks of 100 ARNs, some 10 KiB.
const maxBodyBytes = 1 << 20

// targetPrefix is the X-Amz-Target prefix of every ECS operation.
const targetPrefix = "AmazonEC2ContainerServiceV20141113."

// Server is an in-memory ECS endpoint. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, "http://127.0.0.1:PORT".
	URL string

	t testing.TB

	mu        sync.Mutex
	clusters  map[string]*cluster // by name
	taskDefs  map[string]taskDef  // by "family:revision"
	revisions map[string]int      // family → latest revision
	faults    []*Fault
	items     map[string]failure // ARN → the failure Describe calls report for it
	calls     map[string]int
	replays   awstest.Replays
	serial    int
}

type cluster struct {
	tasks    map[string]Task    // by ID
	services map[string]Service // by name
}

type taskDef struct {
	family     string
	revision   int
	containers []ContainerDefinition
}

type failure struct {
	ARN    string `json:"arn"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Task is a task of a cluster.
type Task struct {
	// ID is the task's ID, the last part of its ARN; empty generates one.
	ID string
	// TaskDefinition is the ARN of the task's definition; the server does not check it.
	TaskDefinition string
	// LastStatus is PENDING, RUNNING (the default), STOPPED and so on.
	LastStatus string
	// DesiredStatus is RUNNING (the default) or STOPPED: a pending task's is RUNNING.
	DesiredStatus string
	Containers    []Container
}

// Container is a container of a task. ImageDigest is empty until the container's image
// has been pulled.
type Container struct {
	Name, Image, ImageDigest string
}

// Service is a service of a cluster.
type Service struct {
	Name        string
	Deployments []Deployment
	TaskSets    []TaskSet
}

// Deployment is a deployment of a service (ECS deployment controller).
type Deployment struct {
	// ID is generated when empty.
	ID string
	// Status is PRIMARY, ACTIVE or INACTIVE.
	Status         string
	TaskDefinition string
}

// TaskSet is a task set of a service deployed by CodeDeploy or an external controller.
type TaskSet struct {
	// ID is generated when empty.
	ID string
	// Status is PRIMARY, ACTIVE or DRAINING.
	Status         string
	TaskDefinition string
}

// ContainerDefinition is a container of a task definition.
type ContainerDefinition struct {
	Name, Image string
}

// Fault makes the server answer matching requests with an error instead of serving them.
type Fault struct {
	// Op is the operation, "ListTasks".
	Op string
	// Cluster, when set, limits the fault to requests that name this cluster (by name or
	// ARN; a request that names none means "default").
	Cluster string
	// Times is how many matching requests fail; 0 means every one.
	Times int
	// Code and Message make the answer: AccessDeniedException, ThrottlingException (which
	// the SDK retries), ServerException (HTTP 500, also retried), ClientException …
	Code, Message string
}

// New starts a server without clusters. It is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:         t,
		clusters:  make(map[string]*cluster),
		taskDefs:  make(map[string]taskDef),
		revisions: make(map[string]int),
		items:     make(map[string]failure),
		calls:     make(map[string]int),
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AWSConfig returns a configuration that reaches this server: region Region, the static
// key AccessKeyID, and fast retries (standard mode, ClientMaxAttempts attempts, at most
// 20 ms apart, no retry quota).
func (s *Server) AWSConfig() aws.Config {
	return awstest.Config(s.URL, Region, AccessKeyID, SecretAccessKey)
}

// ECS returns an ECS client of AWSConfig.
func (s *Server) ECS() *ecs.Client {
	return ecs.NewFromConfig(s.AWSConfig())
}

// ClusterARN, TaskARN and ServiceARN return the ARNs of a cluster and of a task and a
// service of a cluster, in ECS's current (long) format.
func ClusterARN(cluster string) string { return arn("cluster/" + cluster) }

func TaskARN(cluster, id string) string { return arn("task/" + cluster + "/" + id) }

func ServiceARN(cluster, name string) string { return arn("service/" + cluster + "/" + name) }

func arn(resource string) string { return "arn:aws:ecs:" + Region + ":" + Account + ":" + resource }

// CreateCluster creates a cluster without tasks or services and returns its ARN.
func (s *Server) CreateCluster(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clusters[name]; ok {
		s.t.Fatalf("ecstest: cluster %s exists", name)
	}
	s.clusters[name] = &cluster{tasks: make(map[string]Task), services: make(map[string]Service)}
	return ClusterARN(name)
}

// RegisterTaskDefinition registers the next revision of family and returns its ARN.
func (s *Server) RegisterTaskDefinition(family string, containers ...ContainerDefinition) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revisions[family]++
	td := taskDef{family: family, revision: s.revisions[family], containers: append([]ContainerDefinition(nil), containers...)}
	s.taskDefs[td.key()] = td
	return td.arn()
}

func (td taskDef) key() string { return fmt.Sprintf("%s:%d", td.family, td.revision) }
func (td taskDef) arn() string { return arn("task-definition/" + td.key()) }

// RunTask adds a task to a cluster, replacing any of the same ID, and returns its ARN.
func (s *Server) RunTask(clusterName string, t Task) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cluster(clusterName)
	if t.ID == "" {
		s.serial++
		t.ID = fmt.Sprintf("%032x", s.serial)
	}
	if t.LastStatus == "" {
		t.LastStatus = "RUNNING"
	}
	if t.DesiredStatus == "" {
		t.DesiredStatus = "RUNNING"
	}
	t.Containers = append([]Container(nil), t.Containers...)
	c.tasks[t.ID] = t
	return TaskARN(clusterName, t.ID)
}

// CreateService adds a service to a cluster, replacing any of the same name, and returns
// its ARN.
func (s *Server) CreateService(clusterName string, svc Service) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cluster(clusterName)
	svc.Deployments = append([]Deployment(nil), svc.Deployments...)
	for i := range svc.Deployments {
		if svc.Deployments[i].ID == "" {
			s.serial++
			svc.Deployments[i].ID = fmt.Sprintf("ecs-svc/%019d", s.serial)
		}
	}
	svc.TaskSets = append([]TaskSet(nil), svc.TaskSets...)
	for i := range svc.TaskSets {
		if svc.TaskSets[i].ID == "" {
			s.serial++
			svc.TaskSets[i].ID = fmt.Sprintf("ecs-svc/%019d", s.serial)
		}
	}
	c.services[svc.Name] = svc
	return ServiceARN(clusterName, svc.Name)
}

// cluster returns the cluster a test names, failing the test when there is none. s.mu is
// held.
func (s *Server) cluster(name string) *cluster {
	c, ok := s.clusters[name]
	if !ok {
		s.t.Fatalf("ecstest: no cluster %s", name)
	}
	return c
}

// Fail adds a fault. Faults are tried in the order they were added; the first that
// matches a request and has not run out answers it.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// FailItem makes DescribeTasks and DescribeServices report the task or service arn as a
// failure with reason (ECS's is "MISSING" for one it does not know) and detail, instead
// of describing it.
func (s *Server) FailItem(arn, reason, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[arn] = failure{ARN: arn, Reason: reason, Detail: detail}
}

// Calls returns how many requests of op the server received, whatever their outcome. The SDK's
// re-send of a call already answered (awstest.Replays) is not counted.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// apiError is an ECS error answer.
type apiError struct {
	code, message string
}

func (e *apiError) status() int {
	if e.code == "ServerException" {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		writeError(w, &apiError{code: "SerializationException", message: "request body unreadable or too large"})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || r.URL.Path != "/" || !ok {
		writeError(w, &apiError{code: "UnknownOperationException", message: "Unknown operation " + r.Header.Get("X-Amz-Target")})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, &apiError{code: "SerializationException", message: "Unsupported Content-Type " + ct})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.replays.Lookup(r); ok {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(b)
		return
	}
	s.calls[op]++
	if aerr := authenticate(r); aerr != nil {
		writeError(w, aerr)
		return
	}
	if f := s.fault(op, body); f != nil {
		writeError(w, &apiError{code: f.Code, message: f.Message})
		return
	}
	var out any
	var aerr *apiError
	switch op {
	case "ListClusters":
		out, aerr = s.listClusters(body)
	case "ListServices":
		out, aerr = s.listServices(body)
	case "ListTasks":
		out, aerr = s.listTasks(body)
	case "DescribeServices":
		out, aerr = s.describeServices(body)
	case "DescribeTasks":
		out, aerr = s.describeTasks(body)
	case "DescribeTaskDefinition":
		out, aerr = s.describeTaskDefinition(body)
	default:
		aerr = &apiError{code: "UnknownOperationException", message: "ecstest does not implement " + op}
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, &apiError{code: "ServerException", message: err.Error()})
		return
	}
	s.serial++
	s.replays.Store(r, b)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("00000000-0000-4000-8000-%012d", s.serial))
	_, _ = w.Write(b)
}

// fault returns the fault that answers a request of op, counting it, or nil. s.mu is held.
func (s *Server) fault(op string, body []byte) *Fault {
	var in struct {
		Cluster string `json:"cluster"`
	}
	_ = json.Unmarshal(body, &in)
	for _, f := range s.faults {
		if f.Op != op || (f.Cluster != "" && clusterName(f.Cluster) != clusterName(in.Cluster)) {
			continue
		}
		if awstest.Fire(&f.Times) {
			return f
		}
	}
	return nil
}

// authenticate checks that the request is signed with Signature Version 4 by AccessKeyID
// for ECS, without verifying the signature.
func authenticate(r *http.Request) *apiError {
	if code, msg := awstest.Authenticate(r, AccessKeyID, "ecs"); code != "" {
		return &apiError{code: code, message: msg}
	}
	return nil
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// decode reads a request body into v, refusing members v does not have.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &apiError{code: "SerializationException", message: "ecstest: " + err.Error()}
	}
	return nil
}

// clusterName returns the name of a cluster a request gives by name or ARN; "" is
// "default", as ECS takes it.
func clusterName(c string) string {
	if _, name, ok := strings.Cut(c, ":cluster/"); ok {
		return name
	}
	if c == "" {
		return "default"
	}
	return c
}
