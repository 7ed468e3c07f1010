package kubetest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/shipshape-dev/shipshape/internal/inuse/kube/kubetest"
)

func pod(namespace, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
}

func client(t *testing.T, s *kubetest.Server) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(s.RESTConfig())
	if err != nil {
		t.Fatalf("NewForConfig() error: %v", err)
	}
	return c
}

func names(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	s.Add(pod("web", "b"), pod("api", "z"), pod("web", "a"), pod("", "x"), pod("api", "a"))
	c := client(t, s)
	ctx := context.Background()

	var pages [][]string
	var versions []string
	var remaining []int64
	opts := metav1.ListOptions{Limit: 2}
	for {
		l, err := c.CoreV1().Pods("").List(ctx, opts)
		if err != nil {
			t.Fatalf("List(%+v) error: %v", opts, err)
		}
		pages = append(pages, names(l.Items))
		versions = append(versions, l.ResourceVersion)
		if l.RemainingItemCount != nil {
			remaining = append(remaining, *l.RemainingItemCount)
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	want := [][]string{{"api/a", "api/z"}, {"default/x", "web/a"}, {"web/b"}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{3, 1}, remaining); diff != "" {
		t.Errorf("remainingItemCount (-want +got):\n%s", diff)
	}
	for _, v := range versions {
		if v == "" || v != versions[0] {
			t.Errorf("resourceVersions of the pages = %q, want one, the same on every page", versions)
			break
		}
	}
	if got := len(s.ListRequests("pods")); got != 3 {
		t.Errorf("ListRequests(pods) = %d requests, want 3", got)
	}

	// Without a limit, one page holds all; in a namespace, only its objects.
	l, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) != 5 || l.Continue != "" {
		t.Errorf("List() without limit = %d items, continue %q, error %v; want 5, none, nil", len(l.Items), l.Continue, err)
	}
	l, err = c.CoreV1().Pods("web").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("List(web) error: %v", err)
	}
	if diff := cmp.Diff([]string{"web/a", "web/b"}, names(l.Items)); diff != "" {
		t.Errorf("List(web) (-want +got):\n%s", diff)
	}
}

func TestPagesComeFromOneSnapshot(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	old := pod("ns", "b")
	old.Spec.NodeName = "old"
	s.Add(pod("ns", "a"), old)
	c := client(t, s)
	ctx := context.Background()

	first, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	replaced := old.DeepCopy()
	replaced.Spec.NodeName = "new"
	s.Add(replaced, pod("ns", "c"))
	rest, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 10, Continue: first.Continue})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rest.Items); len(got) != 1 || got[0] != "ns/b" || rest.Items[0].Spec.NodeName != "old" {
		t.Errorf("second page = %v (node %q), want only ns/b as the first page saw it", got, rest.Items[0].Spec.NodeName)
	}
	if rest.ResourceVersion != first.ResourceVersion {
		t.Errorf("second page resourceVersion = %q, want the first page's %q", rest.ResourceVersion, first.ResourceVersion)
	}
	now, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ns/a", "ns/b", "ns/c"}, names(now.Items)); diff != "" || now.Items[1].Spec.NodeName != "new" {
		t.Errorf("a new list (-want +got):\n%s (node %q, want new)", diff, now.Items[1].Spec.NodeName)
	}
}

func TestEveryKind(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	om := metav1.ObjectMeta{Namespace: "ns", Name: "x"}
	s.Add(&corev1.Pod{ObjectMeta: om}, &appsv1.Deployment{ObjectMeta: om}, &appsv1.StatefulSet{ObjectMeta: om},
		&appsv1.DaemonSet{ObjectMeta: om}, &appsv1.ReplicaSet{ObjectMeta: om}, &batchv1.Job{ObjectMeta: om},
		&batchv1.CronJob{ObjectMeta: om})
	c := client(t, s)
	ctx := context.Background()
	o := metav1.ListOptions{}
	for resource, list := range map[string]func() (runtime.Object, error){
		"pods":         func() (runtime.Object, error) { return c.CoreV1().Pods("").List(ctx, o) },
		"deployments":  func() (runtime.Object, error) { return c.AppsV1().Deployments("").List(ctx, o) },
		"statefulsets": func() (runtime.Object, error) { return c.AppsV1().StatefulSets("").List(ctx, o) },
		"daemonsets":   func() (runtime.Object, error) { return c.AppsV1().DaemonSets("").List(ctx, o) },
		"replicasets":  func() (runtime.Object, error) { return c.AppsV1().ReplicaSets("").List(ctx, o) },
		"jobs":         func() (runtime.Object, error) { return c.BatchV1().Jobs("").List(ctx, o) },
		"cronjobs":     func() (runtime.Object, error) { return c.BatchV1().CronJobs("").List(ctx, o) },
	} {
		l, err := list()
		if err != nil {
			t.Errorf("listing %s: %v", resource, err)
			continue
		}
		items, err := meta.ExtractList(l)
		if err != nil || len(items) != 1 {
			t.Errorf("listing %s = %d objects (error %v), want 1", resource, len(items), err)
			continue
		}
		if m, err := meta.Accessor(items[0]); err != nil || m.GetNamespace() != "ns" || m.GetName() != "x" || m.GetResourceVersion() == "" || m.GetUID() == "" {
			t.Errorf("listing %s: object %+v, want ns/x with a resourceVersion and UID", resource, items[0])
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		setup   func(*kubetest.Server)
		list    func(kubernetes.Interface) error
		check   func(error) bool
		code    int32
		message string
	}{
		{
			name:  "forbidden at the cluster scope",
			setup: func(s *kubetest.Server) { s.Forbid("deployments", "") },
			list: func(c kubernetes.Interface) error {
				_, err := c.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
				return err
			},
			check:   apierrors.IsForbidden,
			code:    http.StatusForbidden,
			message: `deployments.apps is forbidden: User "kubetest-user" cannot list resource "deployments" in API group "apps" at the cluster scope`,
		},
		{
			name:  "forbidden in a namespace",
			setup: func(s *kubetest.Server) { s.Forbid("pods", "kube-system") },
			list: func(c kubernetes.Interface) error {
				_, err := c.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
				return err
			},
			check:   apierrors.IsForbidden,
			code:    http.StatusForbidden,
			message: `pods is forbidden: User "kubetest-user" cannot list resource "pods" in API group "" in the namespace "kube-system"`,
		},
		{
			name:  "expired continue token",
			setup: func(s *kubetest.Server) { s.Expire("pods") },
			list: func(c kubernetes.Interface) error {
				l, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
				if err != nil {
					return err
				}
				_, err = c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1, Continue: l.Continue})
				return err
			},
			check:   apierrors.IsResourceExpired,
			code:    http.StatusGone,
			message: "the continue token is too old",
		},
		{
			name: "continue token of another resource",
			list: func(c kubernetes.Interface) error {
				l, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{Limit: 1})
				if err != nil {
					return err
				}
				_, err = c.BatchV1().Jobs("").List(ctx, metav1.ListOptions{Continue: l.Continue})
				return err
			},
			check:   apierrors.IsBadRequest,
			code:    http.StatusBadRequest,
			message: "the continue token is not valid",
		},
		{
			name: "label selector",
			list: func(c kubernetes.Interface) error {
				_, err := c.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app=x"})
				return err
			},
			check:   apierrors.IsBadRequest,
			code:    http.StatusBadRequest,
			message: "kubetest does not support the labelSelector parameter",
		},
		{
			name: "get of one object",
			list: func(c kubernetes.Interface) error {
				_, err := c.CoreV1().Pods("ns").Get(ctx, "a", metav1.GetOptions{})
				return err
			},
			check: apierrors.IsNotFound,
			code:  http.StatusNotFound,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := kubetest.New(t)
			s.Add(pod("ns", "a"), pod("ns", "b"))
			if tc.setup != nil {
				tc.setup(s)
			}
			err := tc.list(client(t, s))
			if !tc.check(err) {
				t.Fatalf("error = %v, want another", err)
			}
			var status apierrors.APIStatus
			if !errors.As(err, &status) || status.Status().Code != tc.code || !strings.Contains(status.Status().Message, tc.message) {
				t.Errorf("error = %#v, want code %d and a message with %q", err, tc.code, tc.message)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	cfg := s.RESTConfig()
	cfg.BearerToken = "wrong"
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("List() with a wrong token: error = %v, want Unauthorized", err)
	}
}

func TestKubeconfig(t *testing.T) {
	t.Parallel()
	prod, staging := kubetest.New(t), kubetest.New(t)
	path := kubetest.KubeconfigContexts(t, "prod-eu", map[string]*kubetest.Server{"prod-eu": prod, "staging": staging})
	for _, tc := range []struct {
		context string
		want    *kubetest.Server
	}{
		{"", prod},
		{"staging", staging},
	} {
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: path}
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: tc.context}).ClientConfig()
		if err != nil {
			t.Fatalf("loading the kubeconfig for context %q: %v", tc.context, err)
		}
		c, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		before := len(tc.want.Requests())
		if _, err := c.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Errorf("List() with context %q: %v", tc.context, err)
		}
		if got := len(tc.want.Requests()); got != before+1 {
			t.Errorf("context %q: its server answered %d requests, want 1", tc.context, got-before)
		}
	}
}
