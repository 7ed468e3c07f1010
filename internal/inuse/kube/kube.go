// Package kube is the in-use source of a Kubernetes cluster: the images of its pods and of
// the pod templates of its workloads.
//
// List reads, across all namespaces, pods that have not ended (phase Pending, Running or
// Unknown: a Succeeded or Failed pod runs nothing and never will again), and the pod
// templates of Deployments (scaled to zero too, so that scaling back up or rolling back
// finds its image), StatefulSets, DaemonSets, ReplicaSets with replicas, Jobs and CronJobs.
// A ReplicaSet scaled to zero is a Deployment's rollout history and is left out; one still
// scaling down is not.
//
// A pod's container names its image in the spec and reports in its status the imageID the
// container runtime resolved it to. An imageID of the form NAME@sha256:… (Docker's
// "docker-pullable://" prefix removed) is the manifest digest that was pulled, and becomes
// the use's Digest. A bare "sha256:…" imageID is the digest of the image configuration,
// which containerd and Docker report when they know no repository digest for the image:
// it is not a manifest digest and no registry lists it, so the use then carries no Digest
// and its tag is resolved against the repository as it is now. Where the imageID names
// another repository than the spec (the runtime pulled the same image under that name
// before) or another digest than the spec's own (an index and its platform's manifest),
// the spec's reference is listed too, so that both are kept.
//
// Each use's Where is "kubernetes:CONTEXT/NAMESPACE/KIND/NAME ROLE CONTAINER", KIND as the
// API spells it and ROLE one of "container", "init container" and "ephemeral container":
// "kubernetes:prod-eu/payments/Deployment/api container api". Without a context (the
// in-cluster configuration) it starts "kubernetes/".
//
// Every list is paged, and must be read whole: a list the credentials may not make across
// all namespaces, a page that fails after client-go's retries, or a continue token that
// expired before the list was done (410 Gone) fails List. A cluster is never partly read:
// credentials that may list pods in some namespaces only are refused, not used namespace by
// namespace, since the namespaces they cannot see would be missing without a trace.
package kube

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/transport"
	"k8s.io/klog/v2"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// Defaults and bounds. Every request to the API server is bounded by one of these.
const (
	// DefaultPageSize is the limit of each list request: kubectl's default chunk size,
	// small enough that a page of large pods stays a few megabytes, large enough that a
	// cluster of ten thousand pods takes twenty requests.
	DefaultPageSize = 500
	// MaxPages bounds the pages of one list (five million objects at the default page
	// size), so that a server whose continue tokens loop cannot keep List busy.
	MaxPages = 10_000
	// MaxPageBytes bounds one list response. Five hundred pods of 100 KiB, more than real
	// pods with many containers and managed fields reach, make 50 MiB; a server that
	// ignores limit and sends a whole large cluster in one page is refused, not read into
	// memory.
	MaxPageBytes = 256 << 20
	// RequestTimeout bounds one request when the kubeconfig sets no timeout.
	RequestTimeout = 2 * time.Minute
)

// Options configure a Source. The zero value is usable: the default kubeconfig, its current
// context, DefaultPageSize, no logging.
type Options struct {
	// Kubeconfig is the kubeconfig file to read; "" follows kubectl's loading rules: the
	// files $KUBECONFIG lists, else ~/.kube/config, else the in-cluster configuration of a
	// pod's service account.
	Kubeconfig string
	// Context is the kubeconfig context to use; "" means its current context.
	Context string
	// PageSize is the limit of each list request; 0 means DefaultPageSize.
	PageSize int64
	// Logger receives debug messages (one per resource listed, client-go's own) and the
	// API server's warnings; nil discards them.
	Logger *slog.Logger
}

// Source lists the images in use in one Kubernetes cluster.
type Source struct {
	context  string // "" when the configuration names none (in-cluster, NewFromConfig)
	client   kubernetes.Interface
	pageSize int64
	log      *slog.Logger
}

var _ inuse.Source = (*Source)(nil)

// New returns a source reading the cluster of a kubeconfig context, as kubectl would.
func New(opts Options) (*Source, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: opts.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	name := opts.Context
	if name == "" {
		name = raw.CurrentContext
	}
	if _, ok := raw.Contexts[name]; !ok {
		name = "" // the in-cluster configuration
	}
	return NewFromConfig(name, cfg, opts)
}

// NewFromConfig returns a source reading the cluster cfg configures, e.g. the in-cluster
// configuration of rest.InClusterConfig. context names the cluster in Name and in each use's
// Where; "" names none. opts.Kubeconfig and opts.Context are ignored.
func NewFromConfig(context string, cfg *rest.Config, opts Options) (*Source, error) {
	if opts.PageSize < 0 {
		return nil, fmt.Errorf("page size %d is negative", opts.PageSize)
	}
	pageSize := opts.PageSize
	if pageSize == 0 {
		pageSize = DefaultPageSize
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = rest.CopyConfig(cfg)
	if cfg.Timeout == 0 {
		cfg.Timeout = RequestTimeout
	}
	cfg.WrapTransport = transport.Wrappers(cfg.WrapTransport, func(rt http.RoundTripper) http.RoundTripper {
		return bodyLimit{next: rt, max: MaxPageBytes}
	})
	cfg.WarningHandlerWithContext = warnings{logger}
	cfg.WarningHandler = nil
	if cfg.UserAgent == "" {
		cfg.UserAgent = "shipshape"
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring the Kubernetes client: %w", err)
	}
	return &Source{context: context, client: client, pageSize: pageSize, log: logger}, nil
}

// Name returns "kubernetes:CONTEXT", or "kubernetes" when no context is named.
func (s *Source) Name() string {
	if s.context == "" {
		return "kubernetes"
	}
	return "kubernetes:" + s.context
}

// List returns the images of the pods and pod templates of every namespace, sorted by
// Where, then Image and Digest, without duplicates.
func (s *Source) List(ctx context.Context) ([]inuse.Use, error) {
	ctx = klog.NewContext(ctx, logr.FromSlogHandler(s.log.Handler()))
	c := collector{source: s.Name()}
	for _, r := range s.resources(&c) {
		if err := s.listAll(ctx, r); err != nil {
			return nil, err
		}
	}
	uses := c.uses
	slices.SortFunc(uses, compareUses)
	return slices.Compact(uses), nil
}

// lister lists one page of a resource across all namespaces, hands its objects to a
// collector, and returns the continue token of the next page and how many objects it had.
type lister func(ctx context.Context, opts metav1.ListOptions) (next string, n int, err error)

type listedResource struct {
	name string // as in the API: "pods", "deployments"
	list lister
}

// resources returns a lister for each resource List reads, in the order it reads them.
func (s *Source) resources(c *collector) []listedResource {
	core, apps, batch := s.client.CoreV1(), s.client.AppsV1(), s.client.BatchV1()
	return []listedResource{
		{"pods", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := core.Pods(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for i := range l.Items {
				c.pod(&l.Items[i])
			}
			return l.Continue, len(l.Items), nil
		}},
		{"deployments", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := apps.Deployments(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				c.template(d.Namespace, "Deployment", d.Name, &d.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
		{"statefulsets", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := apps.StatefulSets(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				c.template(d.Namespace, "StatefulSet", d.Name, &d.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
		{"daemonsets", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := apps.DaemonSets(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				c.template(d.Namespace, "DaemonSet", d.Name, &d.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
		{"replicasets", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := apps.ReplicaSets(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				// spec.replicas defaults to 1; status.replicas counts pods not yet gone.
				if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 && d.Status.Replicas == 0 {
					continue
				}
				c.template(d.Namespace, "ReplicaSet", d.Name, &d.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
		{"jobs", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := batch.Jobs(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				c.template(d.Namespace, "Job", d.Name, &d.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
		{"cronjobs", func(ctx context.Context, o metav1.ListOptions) (string, int, error) {
			l, err := batch.CronJobs(metav1.NamespaceAll).List(ctx, o)
			if err != nil {
				return "", 0, err
			}
			for _, d := range l.Items {
				c.template(d.Namespace, "CronJob", d.Name, &d.Spec.JobTemplate.Spec.Template.Spec)
			}
			return l.Continue, len(l.Items), nil
		}},
	}
}

// listAll reads every page of a resource, or fails.
func (s *Source) listAll(ctx context.Context, r listedResource) error {
	scope := "in all namespaces"
	if s.context != "" {
		scope += " of context " + s.context
	}
	opts := metav1.ListOptions{Limit: s.pageSize}
	objects := 0
	for page := 1; ; page++ {
		if page > MaxPages {
			return fmt.Errorf("listing %s %s: more than %d pages of %d", r.name, scope, MaxPages, s.pageSize)
		}
		next, n, err := r.list(ctx, opts)
		if err != nil {
			if page > 1 {
				return fmt.Errorf("listing %s %s, page %d: %w", r.name, scope, page, err)
			}
			return fmt.Errorf("listing %s %s: %w", r.name, scope, err)
		}
		objects += n
		if next == "" {
			s.log.DebugContext(ctx, "listed", "source", s.Name(), "resource", r.name, "objects", objects, "pages", page)
			return nil
		}
		opts.Continue = next
	}
}

// bodyLimit fails the reading of a response body beyond max bytes.
type bodyLimit struct {
	next http.RoundTripper
	max  int64
}

func (b bodyLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: b.max}
	return resp, nil
}

// errTooLarge is the error of reading beyond MaxPageBytes.
var errTooLarge = fmt.Errorf("response larger than %d MiB", MaxPageBytes>>20)

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One more byte tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := l.ReadCloser.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	return n, err
}

// warnings passes the API server's warnings (deprecated APIs …) to the logger rather than
// to standard error, where client-go prints them by default.
type warnings struct{ log *slog.Logger }

func (w warnings) HandleWarningHeaderWithContext(ctx context.Context, code int, agent, text string) {
	if code != 299 || text == "" {
		return
	}
	w.log.WarnContext(ctx, "Kubernetes API server warning", "warning", text)
}
