package kube

import (
	"cmp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// collector turns pods and pod templates into uses.
type collector struct {
	source string // the source's name, the start of every Where
	uses   []inuse.Use
}

// The roles of a pod's containers, as Where names them.
const (
	roleContainer = "container"
	roleInit      = "init container"
	roleEphemeral = "ephemeral container"
)

// where returns "SOURCE/NAMESPACE/KIND/NAME ROLE CONTAINER".
func (c *collector) where(namespace, kind, name, role, container string) string {
	return c.source + "/" + namespace + "/" + kind + "/" + name + " " + role + " " + container
}

// pod adds the images of a pod that has not ended, with the digests its containers run.
func (c *collector) pod(p *corev1.Pod) {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return
	}
	initIDs := imageIDs(p.Status.InitContainerStatuses)
	ids := imageIDs(p.Status.ContainerStatuses)
	ephemeralIDs := imageIDs(p.Status.EphemeralContainerStatuses)
	for _, ctr := range p.Spec.InitContainers {
		c.running(c.where(p.Namespace, "Pod", p.Name, roleInit, ctr.Name), ctr.Image, initIDs[ctr.Name])
	}
	for _, ctr := range p.Spec.Containers {
		c.running(c.where(p.Namespace, "Pod", p.Name, roleContainer, ctr.Name), ctr.Image, ids[ctr.Name])
	}
	for _, ctr := range p.Spec.EphemeralContainers {
		c.running(c.where(p.Namespace, "Pod", p.Name, roleEphemeral, ctr.Name), ctr.Image, ephemeralIDs[ctr.Name])
	}
}

// imageIDs maps container names to the imageIDs their statuses report.
func imageIDs(statuses []corev1.ContainerStatus) map[string]string {
	ids := make(map[string]string, len(statuses))
	for _, st := range statuses {
		ids[st.Name] = st.ImageID
	}
	return ids
}

// running adds the uses of a pod's container: its spec image, with the manifest digest its
// imageID names when the container runtime reports one.
func (c *collector) running(where, image, imageID string) {
	spec, specErr := inuse.ParseRef(image)
	pulled, ref, ok := pulledManifest(imageID)
	switch {
	case !ok:
		// No manifest digest is known: the spec's reference, a tag to resolve or a digest.
		c.add(where, image, spec.Digest)
	case specErr == nil && inuse.SameHost(spec.Host, pulled.Host) && spec.Repository == pulled.Repository:
		c.add(where, image, pulled.Digest)
		if spec.Digest != "" && spec.Digest != pulled.Digest {
			// The spec names an index and the runtime reports the platform's manifest (or
			// the reverse): a new pod pulls by the spec's digest, so it is kept too.
			c.add(where, image, spec.Digest)
		}
	default:
		// The runtime names another repository, one the same image was pulled from
		// before. What the spec names is kept by its own reference, and the digest that
		// runs in the repository the runtime names.
		c.add(where, image, spec.Digest)
		c.add(where, ref, pulled.Digest)
	}
}

// pulledManifest parses a container status's imageID. It returns the reference and its parts
// when the imageID names a manifest by digest: "docker-pullable://NAME@sha256:…" (Docker)
// or "NAME@sha256:…" (containerd, CRI-O). A bare "sha256:…" (or "docker://sha256:…") is the
// digest of the image's configuration blob, not of a manifest, and an empty imageID means
// the image is not pulled yet: in both cases ok is false.
func pulledManifest(imageID string) (r inuse.Ref, ref string, ok bool) {
	ref = imageID
	if _, rest, found := strings.Cut(ref, "://"); found {
		ref = rest
	}
	if !strings.Contains(ref, "@") {
		return inuse.Ref{}, "", false
	}
	r, err := inuse.ParseRef(ref)
	if err != nil || r.Digest == "" {
		return inuse.Ref{}, "", false
	}
	return r, ref, true
}

// template adds the images of a workload's pod template, with the digest a reference
// carries. A container without an image (the API allows it in templates, for configuration
// management to fill in) names nothing yet and is left out: the pods made from it name what
// they run.
func (c *collector) template(namespace, kind, name string, spec *corev1.PodSpec) {
	for _, ctr := range spec.InitContainers {
		c.declared(c.where(namespace, kind, name, roleInit, ctr.Name), ctr.Image)
	}
	for _, ctr := range spec.Containers {
		c.declared(c.where(namespace, kind, name, roleContainer, ctr.Name), ctr.Image)
	}
}

func (c *collector) declared(where, image string) {
	if image == "" {
		return
	}
	r, _ := inuse.ParseRef(image) // an unparsable reference is Protect's to report
	c.add(where, image, r.Digest)
}

func (c *collector) add(where, image, digest string) {
	if image == "" {
		return
	}
	c.uses = append(c.uses, inuse.Use{Image: image, Digest: digest, Where: where})
}

// compareUses orders uses by Where, then Image, Digest and Unresolved.
func compareUses(a, b inuse.Use) int {
	return cmp.Or(
		cmp.Compare(a.Where, b.Where),
		cmp.Compare(a.Image, b.Image),
		cmp.Compare(a.Digest, b.Digest),
		cmp.Compare(a.Unresolved, b.Unresolved),
	)
}
