package kube_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/kube"
	"github.com/shipshape-dev/shipshape/internal/inuse/kube/kubetest"
)

// dg returns a digest made from s.
func dg(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// source returns a source of the server through a kubeconfig whose current context is prod-eu.
func source(t *testing.T, s *kubetest.Server, opts kube.Options) *kube.Source {
	t.Helper()
	opts.Kubeconfig = kubetest.Kubeconfig(t, s, "prod-eu")
	src, err := kube.New(opts)
	if err != nil {
		t.Fatalf("New() error: %v", err)
	}
	return src
}

func list(t *testing.T, src *kube.Source) []inuse.Use {
	t.Helper()
	uses, err := src.List(context.Background())
	if err != nil {
		t.Fatalf("List() error: %v", err)
	}
	return uses
}

func ctr(name, image string) corev1.Container { return corev1.Container{Name: name, Image: image} }

func status(name, imageID string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, ImageID: imageID}
}

// runningPod is a pod in namespace web whose one container c runs image with imageID.
func runningPod(name, image, imageID string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{ctr("c", image)}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if imageID != "" {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{status("c", imageID)}
	}
	return p
}

func TestListPods(t *testing.T) {
	t.Parallel()
	const where = "kubernetes:prod-eu/web/Pod/p container c"
	index, manifest, config := dg("index"), dg("manifest"), dg("config")
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want []inuse.Use
	}{
		{
			name: "Docker's docker-pullable imageID",
			pod:  runningPod("p", "nginx:1.27", "docker-pullable://nginx@"+manifest),
			want: []inuse.Use{{Image: "nginx:1.27", Digest: manifest, Where: where}},
		},
		{
			name: "containerd's NAME@DIGEST imageID",
			pod:  runningPod("p", "nginx:1.27", "docker.io/library/nginx@"+manifest),
			want: []inuse.Use{{Image: "nginx:1.27", Digest: manifest, Where: where}},
		},
		{
			name: "a Docker Hub alias in the imageID",
			pod:  runningPod("p", "docker.io/library/nginx:1.27", "index.docker.io/library/nginx@"+manifest),
			want: []inuse.Use{{Image: "docker.io/library/nginx:1.27", Digest: manifest, Where: where}},
		},
		{
			name: "bare config digest imageID: the tag is resolved",
			pod:  runningPod("p", "ghcr.io/org/app:v1", config),
			want: []inuse.Use{{Image: "ghcr.io/org/app:v1", Where: where}},
		},
		{
			name: "Docker's docker:// config digest imageID",
			pod:  runningPod("p", "ghcr.io/org/app:v1", "docker://"+config),
			want: []inuse.Use{{Image: "ghcr.io/org/app:v1", Where: where}},
		},
		{
			name: "not a digest after @",
			pod:  runningPod("p", "ghcr.io/org/app:v1", "ghcr.io/org/app@sha256:abc"),
			want: []inuse.Use{{Image: "ghcr.io/org/app:v1", Where: where}},
		},
		{
			name: "not pulled yet",
			pod:  runningPod("p", "ghcr.io/org/app:v1", ""),
			want: []inuse.Use{{Image: "ghcr.io/org/app:v1", Where: where}},
		},
		{
			name: "not pulled yet, by digest",
			pod:  runningPod("p", "ghcr.io/org/app@"+index, ""),
			want: []inuse.Use{{Image: "ghcr.io/org/app@" + index, Digest: index, Where: where}},
		},
		{
			name: "by digest, the same one running",
			pod:  runningPod("p", "ghcr.io/org/app@"+index, "ghcr.io/org/app@"+index),
			want: []inuse.Use{{Image: "ghcr.io/org/app@" + index, Digest: index, Where: where}},
		},
		{
			name: "by index digest, the platform's manifest running: both kept",
			pod:  runningPod("p", "ghcr.io/org/app@"+index, "ghcr.io/org/app@"+manifest),
			want: []inuse.Use{
				{Image: "ghcr.io/org/app@" + index, Digest: manifest, Where: where}, // sha256:05b3…
				{Image: "ghcr.io/org/app@" + index, Digest: index, Where: where},    // sha256:1bc0…
			},
		},
		{
			name: "the runtime names another repository",
			pod:  runningPod("p", "registry.example.com/team/app:v1", "docker-pullable://registry.example.com/other/app@"+manifest),
			want: []inuse.Use{
				{Image: "registry.example.com/other/app@" + manifest, Digest: manifest, Where: where},
				{Image: "registry.example.com/team/app:v1", Where: where},
			},
		},
		{
			name: "init, regular and ephemeral containers",
			pod: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "p"},
				Spec: corev1.PodSpec{
					InitContainers: []corev1.Container{ctr("migrate", "ghcr.io/org/migrate:v2")},
					Containers:     []corev1.Container{ctr("app", "ghcr.io/org/app:v1"), ctr("proxy", "envoyproxy/envoy:v1.31")},
					EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
						Name: "debug", Image: "busybox:1.36",
					}}},
				},
				Status: corev1.PodStatus{
					Phase:                      corev1.PodRunning,
					InitContainerStatuses:      []corev1.ContainerStatus{status("migrate", "ghcr.io/org/migrate@"+dg("migrate"))},
					ContainerStatuses:          []corev1.ContainerStatus{status("app", "ghcr.io/org/app@"+dg("app")), status("proxy", config)},
					EphemeralContainerStatuses: []corev1.ContainerStatus{status("debug", "docker.io/library/busybox@"+dg("busybox"))},
				},
			},
			want: []inuse.Use{
				{Image: "ghcr.io/org/app:v1", Digest: dg("app"), Where: "kubernetes:prod-eu/web/Pod/p container app"},
				{Image: "envoyproxy/envoy:v1.31", Where: "kubernetes:prod-eu/web/Pod/p container proxy"},
				{Image: "busybox:1.36", Digest: dg("busybox"), Where: "kubernetes:prod-eu/web/Pod/p ephemeral container debug"},
				{Image: "ghcr.io/org/migrate:v2", Digest: dg("migrate"), Where: "kubernetes:prod-eu/web/Pod/p init container migrate"},
			},
		},
		{
			name: "pending",
			pod: &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "p"},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{ctr("c", "nginx:1.27")}},
				Status:     corev1.PodStatus{Phase: corev1.PodPending},
			},
			want: []inuse.Use{{Image: "nginx:1.27", Where: where}},
		},
		{
			name: "unknown phase",
			pod: func() *corev1.Pod {
				p := runningPod("p", "nginx:1.27", "nginx@"+manifest)
				p.Status.Phase = corev1.PodUnknown
				return p
			}(),
			want: []inuse.Use{{Image: "nginx:1.27", Digest: manifest, Where: where}},
		},
		{
			name: "succeeded",
			pod: func() *corev1.Pod {
				p := runningPod("p", "nginx:1.27", "nginx@"+manifest)
				p.Status.Phase = corev1.PodSucceeded
				return p
			}(),
		},
		{
			name: "failed",
			pod: func() *corev1.Pod {
				p := runningPod("p", "nginx:1.27", "nginx@"+manifest)
				p.Status.Phase = corev1.PodFailed
				return p
			}(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := kubetest.New(t)
			s.Add(tc.pod)
			got := list(t, source(t, s, kube.Options{}))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("List() (-want +got):\n%s", diff)
			}
		})
	}
}

// template is a pod template with an init container and a container.
func template(app string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{ctr("init", "ghcr.io/org/init:v1")},
		Containers:     []corev1.Container{ctr("app", app)},
	}}
}

func replicas(n int32) *int32 { return &n }

func TestListWorkloads(t *testing.T) {
	t.Parallel()
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: "shop", Name: name} }
	pinned := "ghcr.io/org/pinned@" + dg("pinned")
	s := kubetest.New(t)
	s.Add(
		&appsv1.Deployment{ObjectMeta: meta("api"), Spec: appsv1.DeploymentSpec{Replicas: replicas(3), Template: template("ghcr.io/org/api:v3")}},
		&appsv1.Deployment{ObjectMeta: meta("idle"), Spec: appsv1.DeploymentSpec{Replicas: replicas(0), Template: template("ghcr.io/org/idle:v1")}},
		&appsv1.StatefulSet{ObjectMeta: meta("db"), Spec: appsv1.StatefulSetSpec{Template: template(pinned)}},
		&appsv1.DaemonSet{ObjectMeta: meta("agent"), Spec: appsv1.DaemonSetSpec{Template: template("ghcr.io/org/agent:v1")}},
		&appsv1.ReplicaSet{ObjectMeta: meta("api-new"), Spec: appsv1.ReplicaSetSpec{Replicas: replicas(3), Template: template("ghcr.io/org/api:v3")}},
		&appsv1.ReplicaSet{ObjectMeta: meta("api-defaulted"), Spec: appsv1.ReplicaSetSpec{Template: template("ghcr.io/org/api:v3")}},
		&appsv1.ReplicaSet{ObjectMeta: meta("api-history"), Spec: appsv1.ReplicaSetSpec{Replicas: replicas(0), Template: template("ghcr.io/org/api:v1")}},
		&appsv1.ReplicaSet{
			ObjectMeta: meta("api-old"),
			Spec:       appsv1.ReplicaSetSpec{Replicas: replicas(0), Template: template("ghcr.io/org/api:v2")},
			Status:     appsv1.ReplicaSetStatus{Replicas: 1}, // a pod still terminating
		},
		&batchv1.Job{ObjectMeta: meta("migrate"), Spec: batchv1.JobSpec{Template: template("ghcr.io/org/migrate:v2")}},
		&batchv1.CronJob{ObjectMeta: meta("report"), Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: template("ghcr.io/org/report:v1")},
		}}},
		&appsv1.Deployment{ObjectMeta: meta("configured"), Spec: appsv1.DeploymentSpec{Template: template("")}},
	)
	got := list(t, source(t, s, kube.Options{}))

	var want []inuse.Use
	for _, w := range []struct{ kind, name, image, digest string }{
		{"CronJob", "report", "ghcr.io/org/report:v1", ""},
		{"DaemonSet", "agent", "ghcr.io/org/agent:v1", ""},
		{"Deployment", "api", "ghcr.io/org/api:v3", ""},
		{"Deployment", "configured", "", ""},
		{"Deployment", "idle", "ghcr.io/org/idle:v1", ""},
		{"Job", "migrate", "ghcr.io/org/migrate:v2", ""},
		{"ReplicaSet", "api-defaulted", "ghcr.io/org/api:v3", ""},
		{"ReplicaSet", "api-new", "ghcr.io/org/api:v3", ""},
		{"ReplicaSet", "api-old", "ghcr.io/org/api:v2", ""},
		{"StatefulSet", "db", pinned, dg("pinned")},
	} {
		if w.image != "" {
			want = append(want, inuse.Use{Image: w.image, Digest: w.digest, Where: "kubernetes:prod-eu/shop/" + w.kind + "/" + w.name + " container app"})
		}
		want = append(want, inuse.Use{Image: "ghcr.io/org/init:v1", Where: "kubernetes:prod-eu/shop/" + w.kind + "/" + w.name + " init container init"})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	want := map[string]int{} // resource → objects added
	for i := range 7 {
		s.Add(runningPod(fmt.Sprintf("p%d", i), fmt.Sprintf("ghcr.io/org/pod%d:v1", i), ""))
		want["pods"]++
	}
	for i := range 5 {
		meta := metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", i%3), Name: fmt.Sprintf("w%d", i)}
		tpl := template(fmt.Sprintf("ghcr.io/org/app%d:v1", i))
		s.Add(
			&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tpl}},
			&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: tpl}},
			&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tpl}},
			&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: tpl}},
			&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tpl}},
			&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tpl}}}},
		)
		for _, r := range []string{"deployments", "statefulsets", "daemonsets", "replicasets", "jobs", "cronjobs"} {
			want[r]++
		}
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := kube.NewFromConfig("prod-eu", s.RESTConfig(), kube.Options{PageSize: 2, Logger: logger})
	if err != nil {
		t.Fatalf("NewFromConfig() error: %v", err)
	}
	got := list(t, src)

	// Each pod has one use, each workload two (init container and container).
	if n := want["pods"] + 2*5*6; len(got) != n {
		t.Errorf("List() = %d uses, want %d", len(got), n)
	}
	for resource, objects := range want {
		reqs := s.ListRequests(resource)
		if pages := (objects + 1) / 2; len(reqs) != pages {
			t.Errorf("%s: %d list requests, want %d pages of 2", resource, len(reqs), pages)
		}
		for i, r := range reqs {
			if r.Query.Get("limit") != "2" || (i == 0) != (r.Query.Get("continue") == "") {
				t.Errorf("%s: request %d has query %v, want limit 2 and a continue token after the first", resource, i, r.Query)
			}
		}
		if line := fmt.Sprintf("resource=%s objects=%d pages=%d", resource, objects, (objects+1)/2); !strings.Contains(logs.String(), line) {
			t.Errorf("logs have no %q:\n%s", line, logs.String())
		}
	}
	for i := range 7 {
		image := fmt.Sprintf("ghcr.io/org/pod%d:v1", i)
		if !slices.ContainsFunc(got, func(u inuse.Use) bool { return u.Image == image }) {
			t.Errorf("List() has no use of %s", image)
		}
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		setup   func(*kubetest.Server)
		want    string // the error's start
		isError func(error) bool
	}{
		{"pods forbidden", func(s *kubetest.Server) { s.Forbid("pods", "") },
			"listing pods in all namespaces of context prod-eu: pods is forbidden: ", apierrors.IsForbidden},
		{"deployments forbidden", func(s *kubetest.Server) { s.Forbid("deployments", "") },
			"listing deployments in all namespaces of context prod-eu: deployments.apps is forbidden: ", apierrors.IsForbidden},
		{"statefulsets forbidden", func(s *kubetest.Server) { s.Forbid("statefulsets", "") },
			"listing statefulsets in all namespaces of context prod-eu: statefulsets.apps is forbidden: ", apierrors.IsForbidden},
		{"daemonsets forbidden", func(s *kubetest.Server) { s.Forbid("daemonsets", "") },
			"listing daemonsets in all namespaces of context prod-eu: daemonsets.apps is forbidden: ", apierrors.IsForbidden},
		{"replicasets forbidden", func(s *kubetest.Server) { s.Forbid("replicasets", "") },
			"listing replicasets in all namespaces of context prod-eu: replicasets.apps is forbidden: ", apierrors.IsForbidden},
		{"jobs forbidden", func(s *kubetest.Server) { s.Forbid("jobs", "") },
			"listing jobs in all namespaces of context prod-eu: jobs.batch is forbidden: ", apierrors.IsForbidden},
		{"cronjobs forbidden", func(s *kubetest.Server) { s.Forbid("cronjobs", "") },
			"listing cronjobs in all namespaces of context prod-eu: cronjobs.batch is forbidden: ", apierrors.IsForbidden},
		{"pods continue token expired", func(s *kubetest.Server) { s.Expire("pods") },
			"listing pods in all namespaces of context prod-eu, page 2: the continue token is too old", apierrors.IsResourceExpired},
		{"jobs continue token expired", func(s *kubetest.Server) { s.Expire("jobs") },
			"listing jobs in all namespaces of context prod-eu, page 2: the continue token is too old", apierrors.IsResourceExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := kubetest.New(t)
			for i := range 3 {
				name := fmt.Sprintf("x%d", i)
				meta := metav1.ObjectMeta{Namespace: "ns", Name: name}
				tpl := template("ghcr.io/org/app:v1")
				s.Add(runningPod(name, "ghcr.io/org/app:v1", ""),
					&appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tpl}},
					&appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: tpl}},
					&appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tpl}},
					&appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: tpl}},
					&batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tpl}},
					&batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tpl}}}},
				)
			}
			tc.setup(s)
			uses, err := source(t, s, kube.Options{PageSize: 2}).List(context.Background())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !tc.isError(err) {
				t.Fatalf("List() error = %v, want one starting %q", err, tc.want)
			}
			if uses != nil {
				t.Errorf("List() = %v with the error, want no uses", uses)
			}
		})
	}
}

func TestContexts(t *testing.T) {
	t.Parallel()
	prod, staging := kubetest.New(t), kubetest.New(t)
	prod.Add(runningPod("p", "ghcr.io/org/app:prod", ""))
	staging.Add(runningPod("p", "ghcr.io/org/app:staging", ""))
	path := kubetest.KubeconfigContexts(t, "prod-eu", map[string]*kubetest.Server{"prod-eu": prod, "staging": staging})
	for _, tc := range []struct {
		context  string
		wantName string
		want     []inuse.Use
	}{
		{"", "kubernetes:prod-eu", []inuse.Use{{Image: "ghcr.io/org/app:prod", Where: "kubernetes:prod-eu/web/Pod/p container c"}}},
		{"prod-eu", "kubernetes:prod-eu", []inuse.Use{{Image: "ghcr.io/org/app:prod", Where: "kubernetes:prod-eu/web/Pod/p container c"}}},
		{"staging", "kubernetes:staging", []inuse.Use{{Image: "ghcr.io/org/app:staging", Where: "kubernetes:staging/web/Pod/p container c"}}},
	} {
		t.Run("context="+tc.context, func(t *testing.T) {
			t.Parallel()
			src, err := kube.New(kube.Options{Kubeconfig: path, Context: tc.context})
			if err != nil {
				t.Fatalf("New() error: %v", err)
			}
			if got := src.Name(); got != tc.wantName {
				t.Errorf("Name() = %q, want %q", got, tc.wantName)
			}
			if diff := cmp.Diff(tc.want, list(t, src)); diff != "" {
				t.Errorf("List() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	path := kubetest.Kubeconfig(t, s, "prod-eu")
	for _, tc := range []struct {
		name string
		opts kube.Options
		want string
	}{
		{"unknown context", kube.Options{Kubeconfig: path, Context: "nope"}, `loading kubeconfig: context "nope" does not exist`},
		{"missing file", kube.Options{Kubeconfig: path + ".missing"}, "loading kubeconfig: "},
		{"negative page size", kube.Options{Kubeconfig: path, PageSize: -1}, "page size -1 is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := kube.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New(%+v) error = %v, want one with %q", tc.opts, err, tc.want)
			}
		})
	}
}

// TestDefaultKubeconfig cannot run in parallel: it sets $KUBECONFIG.
func TestDefaultKubeconfig(t *testing.T) {
	s := kubetest.New(t)
	s.Add(runningPod("p", "nginx:1.27", ""))
	t.Setenv("KUBECONFIG", kubetest.Kubeconfig(t, s, "from-env"))
	src, err := kube.New(kube.Options{})
	if err != nil {
		t.Fatalf("New() error: %v", err)
	}
	if got, want := src.Name(), "kubernetes:from-env"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got := list(t, src); len(got) != 1 {
		t.Errorf("List() = %v, want the pod's one use", got)
	}
}

func TestNewFromConfigWithoutContext(t *testing.T) {
	t.Parallel()
	s := kubetest.New(t)
	s.Add(runningPod("p", "nginx:1.27", "nginx@"+dg("nginx")))
	src, err := kube.NewFromConfig("", s.RESTConfig(), kube.Options{})
	if err != nil {
		t.Fatalf("NewFromConfig() error: %v", err)
	}
	if got := src.Name(); got != "kubernetes" {
		t.Errorf("Name() = %q, want kubernetes", got)
	}
	want := []inuse.Use{{Image: "nginx:1.27", Digest: dg("nginx"), Where: "kubernetes/web/Pod/p container c"}}
	if diff := cmp.Diff(want, list(t, src)); diff != "" {
		t.Errorf("List() (-want +got):\n%s", diff)
	}
	s.Forbid("pods", "")
	if _, err := src.List(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "listing pods in all namespaces: pods is forbidden") {
		t.Errorf("List() error = %v, want one naming pods in all namespaces", err)
	}
}

func TestListIsDeterministic(t *testing.T) {
	t.Parallel()
	var objs []runtime.Object
	for i := range 4 {
		ns := fmt.Sprintf("ns%d", 3-i)
		p := runningPod(fmt.Sprintf("p%d", i), "ghcr.io/org/app:v1", "ghcr.io/org/app@"+dg("v1"))
		p.Namespace = ns
		// Two containers of one name, as no valid pod has, make identical uses: one is kept.
		p.Spec.Containers = append(p.Spec.Containers, ctr("c", "ghcr.io/org/app:v1"))
		objs = append(objs, p,
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("d%d", i)},
				Spec: appsv1.DeploymentSpec{Template: template(fmt.Sprintf("ghcr.io/org/app:v%d", i))}})
	}
	forward, backward := kubetest.New(t), kubetest.New(t)
	forward.Add(objs...)
	reversed := slices.Clone(objs)
	slices.Reverse(reversed)
	backward.Add(reversed...)

	got := list(t, source(t, forward, kube.Options{PageSize: 3}))
	if n := 4 + 4*2; len(got) != n {
		t.Errorf("List() = %d uses, want %d: duplicates kept?", len(got), n)
	}
	if !slices.IsSortedFunc(got, func(a, b inuse.Use) int { return strings.Compare(a.Where+a.Image+a.Digest, b.Where+b.Image+b.Digest) }) {
		t.Errorf("List() is not sorted by Where, Image, Digest: %v", got)
	}
	if diff := cmp.Diff(got, list(t, source(t, backward, kube.Options{}))); diff != "" {
		t.Errorf("List() of objects added in reverse (-forward +backward):\n%s", diff)
	}
	if diff := cmp.Diff(got, list(t, source(t, forward, kube.Options{}))); diff != "" {
		t.Errorf("List() again (-first +second):\n%s", diff)
	}
}
