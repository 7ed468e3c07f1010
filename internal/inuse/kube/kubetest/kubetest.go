// Package kubetest is an in-memory Kubernetes API server for tests, served over HTTPS with
// the REST protocol of the real one, so that code under test uses the real client-go
// clients and kubeconfig loading.
//
// It serves the list calls of a read-only client of workloads: GET of
//
//	/api/v1/pods
//	/apis/apps/v1/{deployments,statefulsets,daemonsets,replicasets}
//	/apis/batch/v1/{jobs,cronjobs}
//
// across all namespaces, and of /api/v1/namespaces/NS/pods and the like in one namespace.
// Answers are JSON lists of the proper kinds (PodList, DeploymentList …) with
// metadata.resourceVersion, and errors are Status objects with the API server's reasons and
// codes. Requests must carry the bearer token of the server (else 401 Unauthorized).
//
// The API server's semantics are reproduced where the client can see them:
//
//   - Lists are ordered by namespace, then name, as the API server's storage keys order them.
//   - limit and continue page a list, with opaque continue tokens and remainingItemCount.
//     The pages of one list are served from the snapshot its first page saw: an object
//     added or replaced since is seen in its old version or not at all, as with the API
//     server's consistent paged lists.
//   - A continue token of a resource whose tokens Expire made stale is answered with 410
//     Gone, reason Expired, as after the API server's storage compaction.
//   - A list that Forbid denies is answered with 403 Forbidden, reason Forbidden, with the
//     message RBAC gives.
//
// Not reproduced: writes, watches, get of one object, label and field selectors (refused
// with 400 rather than ignored), resourceVersion and resourceVersionMatch parameters
// (refused likewise), discovery, protobuf and CBOR (the server answers JSON whatever the
// client accepts, as client-go allows), defaulting and validation of the objects added,
// and admission.
//
// The package is imported by tests only.
package kubetest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
)

// The identity the server knows.
const (
	// Token is the bearer token every request must carry.
	Token = "kubetest-token"
	// User is the user the token authenticates, as error messages name it.
	User = "kubetest-user"
)

// Server is an in-memory Kubernetes API server. It is safe for concurrent use.
type Server struct {
	// URL is the server's base URL, "https://127.0.0.1:PORT".
	URL string
	// CA is the PEM certificate that the server's TLS certificate is checked against.
	CA []byte

	t         testing.TB
	resources []resource

	mu        sync.Mutex
	rv        uint64              // resource version of the last change
	objects   map[string][]object // resource → every version added, oldest first
	forbidden map[string]bool     // resource + "/" + namespace ("" for all namespaces)
	expired   map[string]bool     // resource → its continue tokens are stale
	requests  []Request
}

// Request is one request the server answered.
type Request struct {
	Method string
	// Path is the URL path: "/api/v1/pods", "/apis/apps/v1/namespaces/web/deployments".
	Path  string
	Query url.Values
	// Code is the HTTP status the server answered with.
	Code int
}

// resource is a kind of object the server lists.
type resource struct {
	group, version string
	name           string // plural, as in the URL: "deployments"
	kind           string // "Deployment"
}

// object is one version of a stored object.
type object struct {
	namespace, name string
	rv              uint64
	obj             runtime.Object
}

// New starts a server with no objects. It is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t: t,
		resources: []resource{
			{"", "v1", "pods", "Pod"},
			{"apps", "v1", "deployments", "Deployment"},
			{"apps", "v1", "statefulsets", "StatefulSet"},
			{"apps", "v1", "daemonsets", "DaemonSet"},
			{"apps", "v1", "replicasets", "ReplicaSet"},
			{"batch", "v1", "jobs", "Job"},
			{"batch", "v1", "cronjobs", "CronJob"},
		},
		rv:        1000, // real resource versions are never small; clients must not care
		objects:   map[string][]object{},
		forbidden: map[string]bool{},
		expired:   map[string]bool{},
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.CA = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	return s
}

// RESTConfig returns a client configuration for the server, with its token and CA and
// no client-side rate limit.
func (s *Server) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            s.URL,
		BearerToken:     Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.CA},
		QPS:             -1,
	}
}

// Add stores objects: *corev1.Pod, *appsv1.Deployment, *appsv1.StatefulSet,
// *appsv1.DaemonSet, *appsv1.ReplicaSet, *batchv1.Job or *batchv1.CronJob. An object
// without a namespace is put in "default"; one with the namespace and name of a stored
// object replaces it. Each gets a new resource version and, if it has none, a UID. The
// server keeps copies: changing an object after Add changes nothing.
func (s *Server) Add(objs ...runtime.Object) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		r, ok := s.resourceOf(o)
		if !ok {
			s.t.Fatalf("kubetest: Add(%T): not a kind the server lists", o)
		}
		o = o.DeepCopyObject()
		meta, ok := o.(metav1.Object)
		if !ok || meta.GetName() == "" {
			s.t.Fatalf("kubetest: Add(%T): the object has no name", o)
		}
		if meta.GetNamespace() == "" {
			meta.SetNamespace(metav1.NamespaceDefault)
		}
		if meta.GetUID() == "" {
			sum := sha256.Sum256([]byte(r.name + "/" + meta.GetNamespace() + "/" + meta.GetName()))
			meta.SetUID(types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])))
		}
		s.rv++
		meta.SetResourceVersion(strconv.FormatUint(s.rv, 10))
		// Objects in lists carry no kind or apiVersion: the list's kind says them.
		o.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
		s.objects[r.name] = append(s.objects[r.name], object{meta.GetNamespace(), meta.GetName(), s.rv, o})
	}
}

// Forbid makes the server answer lists of resource ("pods", "deployments" …) with 403
// Forbidden: across all namespaces when namespace is "", else in that namespace.
func (s *Server) Forbid(resource, namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden[resource+"/"+namespace] = true
}

// Expire makes every continue token of resource stale, as if the API server had compacted
// its storage past the snapshot of every list in progress: requests with one are answered
// with 410 Gone, reason Expired. First pages are still served.
func (s *Server) Expire(resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired[resource] = true
}

// Requests returns the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ListRequests returns the list requests of resource answered so far, in order: one per page.
func (s *Server) ListRequests(resource string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if parts := strings.Split(r.Path, "/"); parts[len(parts)-1] == resource {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) resourceOf(o runtime.Object) (resource, bool) {
	var name string
	switch o.(type) {
	case *corev1.Pod:
		name = "pods"
	case *appsv1.Deployment:
		name = "deployments"
	case *appsv1.StatefulSet:
		name = "statefulsets"
	case *appsv1.DaemonSet:
		name = "daemonsets"
	case *appsv1.ReplicaSet:
		name = "replicasets"
	case *batchv1.Job:
		name = "jobs"
	case *batchv1.CronJob:
		name = "cronjobs"
	}
	for _, r := range s.resources {
		if r.name == name {
			return r, true
		}
	}
	return resource{}, false
}

// continueToken is what a continue token holds, base64-encoded JSON: the list's snapshot,
// its scope, and the key of the last object served.
type continueToken struct {
	RV        uint64 `json:"rv"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace"`
	After     string `json:"after"` // namespace + "/" + name
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code, body := s.answer(req)
	s.requests = append(s.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Code: code})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		s.t.Errorf("kubetest: writing a response: %v", err)
	}
}

// answer returns the status and body of the answer to req.
func (s *Server) answer(req *http.Request) (int, any) {
	if req.Header.Get("Authorization") != "Bearer "+Token {
		return failure(http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized", nil)
	}
	r, namespace, ok := s.route(req.URL.Path)
	if !ok {
		return failure(http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource", nil)
	}
	details := &metav1.StatusDetails{Group: r.group, Kind: r.name}
	if req.Method != http.MethodGet {
		return failure(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			"the server does not allow this method on the requested resource: kubetest serves GET only", details)
	}
	q := req.URL.Query()
	for _, p := range []string{"labelSelector", "fieldSelector", "resourceVersion", "resourceVersionMatch", "watch", "sendInitialEvents"} {
		if q.Get(p) != "" {
			return failure(http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf("kubetest does not support the %s parameter", p), details)
		}
	}
	if s.forbidden[r.name+"/"+namespace] {
		qualified, scope := r.name, "at the cluster scope"
		if r.group != "" {
			qualified += "." + r.group
		}
		if namespace != "" {
			scope = fmt.Sprintf("in the namespace %q", namespace)
		}
		return failure(http.StatusForbidden, metav1.StatusReasonForbidden,
			fmt.Sprintf("%s is forbidden: User %q cannot list resource %q in API group %q %s", qualified, User, r.name, r.group, scope), details)
	}
	var limit int64
	if v := q.Get("limit"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return failure(http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf("limit %q is not a non-negative integer", v), details)
		}
		limit = n
	}
	tok := continueToken{RV: s.rv, Resource: r.name, Namespace: namespace}
	if v := q.Get("continue"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			err = json.Unmarshal(raw, &tok)
		}
		if err != nil || tok.Resource != r.name || tok.Namespace != namespace || tok.After == "" {
			return failure(http.StatusBadRequest, metav1.StatusReasonBadRequest, "the continue token is not valid for this list", details)
		}
		if s.expired[r.name] {
			return failure(http.StatusGone, metav1.StatusReasonExpired,
				"the continue token is too old: the snapshot of the list it continues is no longer kept; start the list again without it", details)
		}
	}
	items := s.snapshot(r.name, namespace, tok.RV)
	items = items[sortedAfter(items, tok.After):]
	list := list{
		TypeMeta: metav1.TypeMeta{Kind: r.kind + "List", APIVersion: r.apiVersion()},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatUint(tok.RV, 10)},
		Items:    []runtime.Object{},
	}
	if limit > 0 && int64(len(items)) > limit {
		rest := int64(len(items)) - limit
		items = items[:limit]
		last := items[len(items)-1]
		next := tok
		next.After = last.namespace + "/" + last.name
		raw, err := json.Marshal(next)
		if err != nil {
			s.t.Errorf("kubetest: encoding a continue token: %v", err)
		}
		list.Continue = base64.RawURLEncoding.EncodeToString(raw)
		list.RemainingItemCount = &rest
	}
	for _, o := range items {
		list.Items = append(list.Items, o.obj)
	}
	return http.StatusOK, list
}

// route returns the resource and namespace ("" for all) a list path names.
func (s *Server) route(path string) (resource, string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var group, version string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, version, parts = parts[1], parts[2], parts[3:]
	default:
		return resource{}, "", false
	}
	namespace := ""
	if len(parts) == 3 && parts[0] == "namespaces" && parts[1] != "" {
		namespace, parts = parts[1], parts[2:]
	}
	if len(parts) != 1 {
		return resource{}, "", false
	}
	for _, r := range s.resources {
		if r.group == group && r.version == version && r.name == parts[0] {
			return r, namespace, true
		}
	}
	return resource{}, "", false
}

// snapshot returns the objects of a resource in namespace ("" for all) as they were at
// resource version rv, ordered by namespace and name.
func (s *Server) snapshot(name, namespace string, rv uint64) []object {
	latest := map[string]object{}
	for _, o := range s.objects[name] {
		if o.rv <= rv && (namespace == "" || o.namespace == namespace) {
			latest[o.namespace+"/"+o.name] = o
		}
	}
	out := make([]object, 0, len(latest))
	for _, o := range latest {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b object) int {
		return strings.Compare(a.namespace+"\x00"+a.name, b.namespace+"\x00"+b.name)
	})
	return out
}

// sortedAfter returns the index of the first object of items after the key "ns/name".
func sortedAfter(items []object, after string) int {
	if after == "" {
		return 0
	}
	ns, name, _ := strings.Cut(after, "/")
	key := ns + "\x00" + name
	i, found := slices.BinarySearchFunc(items, key, func(o object, k string) int {
		return strings.Compare(o.namespace+"\x00"+o.name, k)
	})
	if found {
		i++
	}
	return i
}

func (r resource) apiVersion() string {
	if r.group == "" {
		return r.version
	}
	return r.group + "/" + r.version
}

// list is the wire form of every XxxList kind.
type list struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []runtime.Object `json:"items"`
}

// failure returns an error answer: a Status object.
func failure(code int, reason metav1.StatusReason, message string, details *metav1.StatusDetails) (int, any) {
	return code, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Details:  details,
		Code:     int32(code),
	}
}
