package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/shipshape-dev/shipshape/internal/inuse/ecs/ecstest"
	"github.com/shipshape-dev/shipshape/internal/inuse/kube/kubetest"
	"github.com/shipshape-dev/shipshape/internal/inuse/lambda/lambdatest"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/plan"
	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

// deployment runs image in namespace ns.
func deployment(ns, name, image string) *appsv1.Deployment {
	replicas := int32(2)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: image}}}}},
	}
}

// pod runs image, resolved by the runtime to digest.
func pod(ns, name, image, digest string) *corev1.Pod {
	repo, _, _ := strings.Cut(image, "@")
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", Image: image, ImageID: repo + "@" + digest}}},
	}
}

// builds returns the index digest of each sha- tag of an inventory.
func builds(inv *inventory.Inventory) map[string]*inventory.Image {
	out := map[string]*inventory.Image{}
	for i := range inv.Images {
		for _, t := range inv.Images[i].Tags {
			out[t] = &inv.Images[i]
		}
	}
	return out
}

// TestInUseKubernetes is issue 9's end-to-end case: a Deployment (served by the test API
// server) runs an image the policy would expire, and a pod runs another by digest. plan
// keeps both and says where they run, apply leaves them with their children, inuse lists
// them, and an API server that forbids listing pods makes apply refuse.
func TestInUseKubernetes(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host, repo := registrytest.StartDistribution(t), "team/run"
	pushBuilds(t, host, repo, 6)
	before := inventoryOf(t, host, repo)
	tags := builds(before)
	deployed, running := tags["sha-001"], tags["sha-000"]

	srv := kubetest.New(t)
	srv.Add(deployment("payments", "api", host+"/"+repo+":sha-001"),
		pod("jobs", "worker-7d9f", host+"/"+repo+"@"+running.Digest, running.Digest))
	dir := t.TempDir()
	env := append(os.Environ(), "KUBECONFIG="+kubetest.Kubeconfig(t, srv, "prod-eu"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	pol := writeFile(t, "policy.json", keepNewest)
	ref := host + "/" + repo

	code, out := runBin(t, bin, env, "plan", "--policy", pol, ref, "--in-use", "kubernetes", "-o", "json")
	if code != 0 {
		t.Fatalf("plan --in-use kubernetes = exit %d:\n%s", code, out)
	}
	var pl plan.Plan
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &pl); err != nil {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	reasons := map[string]plan.Item{}
	for _, it := range pl.Images {
		reasons[it.Digest] = it
	}
	for digest, where := range map[string]string{
		deployed.Digest: "in use: kubernetes:prod-eu/payments/Deployment/api container api",
		running.Digest:  "in use: kubernetes:prod-eu/jobs/Pod/worker-7d9f container app",
	} {
		if it := reasons[digest]; it.Action != policy.Keep || !strings.Contains(it.Reason, where) {
			t.Errorf("%s: %s (%s), want keep: %s", inventory.ShortDigest(digest), it.Action, it.Reason, where)
		}
	}

	// inuse lists both, with the tag resolved to its digest.
	code, out = runBin(t, bin, env, "inuse", "kubernetes", "--repository", ref, "-o", "json")
	var listed struct {
		Uses []struct{ Digest, Where string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed.Uses) != 2 {
		t.Errorf("inuse kubernetes --repository = exit %d, want two uses:\n%s", code, out)
	}
	for _, u := range listed.Uses {
		if u.Digest != deployed.Digest && u.Digest != running.Digest {
			t.Errorf("inuse lists %s at %s, which is not in use", u.Digest, u.Where)
		}
	}

	// apply keeps both builds whole and deletes the other expired ones.
	code, out = runBin(t, bin, env, "apply", "--policy", pol, ref, "--in-use", "kubernetes", "--yes")
	if code != 0 {
		t.Fatalf("apply --in-use kubernetes = exit %d:\n%s", code, out)
	}
	have := digestSet(t, host, repo)
	for _, b := range []*inventory.Image{deployed, running} {
		for _, d := range append([]string{b.Digest}, childDigests(b)...) {
			if !have[d] {
				t.Errorf("%s of a build in use was deleted", inventory.ShortDigest(d))
			}
		}
	}
	for _, tag := range []string{"sha-002", "sha-003"} {
		if have[tags[tag].Digest] {
			t.Errorf("%s, expired and not in use, is still there", tag)
		}
	}

	// A source that cannot be read completely: apply refuses, plan warns, inuse fails.
	for _, tag := range []string{"sha-006", "sha-007"} { // sha-004 and sha-005 expire now
		registrytest.PushBuild(t, host, repo, tag, registrytest.BuildOptions{Created: time.Now(), Base: "debian"})
	}
	srv.Forbid("pods", "")
	count := len(digestSet(t, host, repo))
	code, out = runBin(t, bin, env, "apply", "--policy", pol, ref, "--in-use", "kubernetes", "--yes")
	if code != 1 || !strings.Contains(out, "refusing to apply") || !strings.Contains(out, "forbidden") {
		t.Errorf("apply with a forbidden pod list = exit %d, want 1 and a refusal naming the source:\n%s", code, out)
	}
	if got := digestSet(t, host, repo); len(got) != count {
		t.Errorf("the refused apply deleted %d manifests", count-len(got))
	}
	code, out = runBin(t, bin, env, "plan", "--policy", pol, ref, "--in-use", "kubernetes")
	if code != 0 || !strings.Contains(out, "warning: in use: kubernetes") {
		t.Errorf("plan with a forbidden pod list = exit %d, want 0 and a warning:\n%s", code, out)
	}
	code, out = runBin(t, bin, env, "inuse", "kubernetes")
	if code != 1 || !strings.Contains(out, "forbidden") {
		t.Errorf("inuse with a forbidden pod list = exit %d, want 1:\n%s", code, out)
	}
}

func childDigests(img *inventory.Image) []string {
	var out []string
	for _, c := range img.Children {
		out = append(out, c.Digest)
	}
	return out
}

// TestInUseECS: an ECS service's active deployment (rolling back) uses a tag the policy
// would expire, and a running task a digest; apply keeps both. The real aws-sdk-go-v2 ECS
// client reaches the protocol-level test server through AWS_ENDPOINT_URL_ECS.
func TestInUseECS(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host, repo := registrytest.StartDistribution(t), "team/svc"
	pushBuilds(t, host, repo, 6)
	before := inventoryOf(t, host, repo)
	tags := builds(before)
	rollback, task := tags["sha-002"], tags["sha-000"]
	ref := host + "/" + repo

	srv := ecstest.New(t)
	srv.CreateCluster("prod")
	current := srv.RegisterTaskDefinition("web", ecstest.ContainerDefinition{Name: "web", Image: ref + ":sha-005"})
	previous := srv.RegisterTaskDefinition("web", ecstest.ContainerDefinition{Name: "web", Image: ref + ":sha-002"})
	srv.CreateService("prod", ecstest.Service{Name: "web", Deployments: []ecstest.Deployment{
		{Status: "PRIMARY", TaskDefinition: current}, {Status: "ACTIVE", TaskDefinition: previous}}})
	srv.RunTask("prod", ecstest.Task{ID: "t1", TaskDefinition: previous, Containers: []ecstest.Container{
		{Name: "web", Image: ref + ":moved-on", ImageDigest: task.Digest}}})

	dir := t.TempDir()
	env := append(os.Environ(), "AWS_ENDPOINT_URL_ECS="+srv.URL, "AWS_REGION="+ecstest.Region,
		"AWS_ACCESS_KEY_ID="+ecstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+ecstest.SecretAccessKey,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	pol := writeFile(t, "policy.json", keepNewest)
	code, out := runBin(t, bin, env, "apply", "--policy", pol, ref, "--in-use", "ecs:prod", "--yes")
	if code != 0 {
		t.Fatalf("apply --in-use ecs:prod = exit %d:\n%s", code, out)
	}
	have := digestSet(t, host, repo)
	for name, b := range map[string]*inventory.Image{"the rollback target": rollback, "the running task's image": task} {
		for _, d := range append([]string{b.Digest}, childDigests(b)...) {
			if !have[d] {
				t.Errorf("%s %s was deleted", name, inventory.ShortDigest(d))
			}
		}
	}
	for _, tag := range []string{"sha-001", "sha-003"} {
		if have[tags[tag].Digest] {
			t.Errorf("%s, expired and not in use, is still there", tag)
		}
	}
	if srv.Calls("DescribeTaskDefinition") == 0 {
		t.Error("the ECS test server saw no DescribeTaskDefinition call")
	}
}

// TestInUseManifests: a digest and a tag in a GitOps directory are kept; a templated
// reference to the repository makes apply refuse and plan warn.
func TestInUseManifests(t *testing.T) {
	t.Parallel()
	host, repo := registrytest.NewInProcess(t), "team/git"
	pushBuilds(t, host, repo, 6)
	tags := builds(inventoryOf(t, host, repo))
	ref := host + "/" + repo
	dir := t.TempDir()
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: prod}\nspec:\n  template:\n    spec:\n      containers:\n" +
		"        - name: api\n          image: " + ref + "@" + tags["sha-000"].Digest + "\n" +
		"        - name: sidecar\n          image: " + ref + ":sha-001\n"
	if err := os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_STATE_HOME": t.TempDir()}
	pol := writeFile(t, "policy.json", keepNewest)
	r := run(t, env, "", "plan", "--policy", pol, ref, "--in-use", "manifests:"+dir, "--no-cache", "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan --in-use manifests = %d\n%s", r.code, r.err)
	}
	for _, tag := range []string{"sha-000", "sha-001"} {
		if !strings.HasPrefix(planAction(t, r.stdout, tags[tag].Digest), "keep: in use: manifests:deploy.yaml Deployment/api container") {
			t.Errorf("%s is not kept as in use:\n%s", tag, planAction(t, r.stdout, tags[tag].Digest))
		}
	}

	// audit counts them and says the policy alone would expire them.
	r = run(t, env, "", "audit", ref, "--policy", pol, "--in-use", "manifests:"+dir, "--no-cache", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"inUse": 2`) || !strings.Contains(r.stdout, "in-use-would-expire") {
		t.Errorf("audit --in-use = %d, want 2 in use and in-use-would-expire\n%s\n%s", r.code, r.stdout, r.err)
	}
	// inuse lists them, the tag resolved.
	r = run(t, env, "", "inuse", "manifests:"+dir, "--repository", ref, "--no-cache")
	if r.code != 0 || !strings.Contains(r.stdout, inventory.ShortDigest(tags["sha-001"].Digest)) || !strings.Contains(r.stdout, "2 image references in use") {
		t.Errorf("inuse manifests --repository = %d\n%s\n%s", r.code, r.stdout, r.err)
	}

	compose := "services:\n  web:\n    image: " + ref + ":${TAG}\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	before := digestSet(t, host, repo)
	r = run(t, env, "", "apply", "--policy", pol, ref, "--in-use", "manifests:"+dir, "--no-cache", "--yes")
	if r.code != 1 || !strings.Contains(r.err, "refusing to apply") || !strings.Contains(r.err, "${TAG}") {
		t.Errorf("apply with a templated reference = %d, want a refusal naming it\n%s", r.code, r.err)
	}
	if after := digestSet(t, host, repo); len(after) != len(before) {
		t.Errorf("the refused apply deleted %d manifests", len(before)-len(after))
	}
	r = run(t, env, "", "plan", "--policy", pol, ref, "--in-use", "manifests:"+dir, "--no-cache")
	if r.code != 0 || !strings.Contains(r.err, "warning: in use:") {
		t.Errorf("plan with a templated reference = %d, want a warning\n%s", r.code, r.err)
	}
	// A directory that cannot be read is a failure, never an empty list.
	r = run(t, env, "", "apply", "--policy", pol, ref, "--in-use", "manifests:"+filepath.Join(dir, "missing"), "--no-cache", "--yes")
	if r.code != 1 || !strings.Contains(r.err, "refusing to apply") {
		t.Errorf("apply with a missing manifests directory = %d\n%s", r.code, r.err)
	}
}

// planAction returns the action and reason the JSON plan gives digest.
func planAction(t *testing.T, planJSON, digest string) string {
	t.Helper()
	var pl plan.Plan
	if err := json.Unmarshal([]byte(planJSON), &pl); err != nil {
		t.Fatalf("plan -o json: %v", err)
	}
	for _, it := range pl.Images {
		if it.Digest == digest {
			return string(it.Action) + ": " + it.Reason
		}
	}
	return "absent"
}

// TestInUseLambda: a published version of a container-image function runs a digest the
// policy would expire, though its tag has moved on; apply keeps it.
func TestInUseLambda(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	host, repo := registrytest.StartDistribution(t), "team/fn"
	pushBuilds(t, host, repo, 5)
	tags := builds(inventoryOf(t, host, repo))
	ref := host + "/" + repo
	srv := lambdatest.New(t)
	srv.CreateFunction("resize", lambdatest.Code{ImageURI: ref + ":sha-001", ResolvedImageURI: ref + "@" + tags["sha-001"].Digest})
	version := srv.PublishVersion("resize")
	srv.CreateAlias("resize", "live", version, nil)
	srv.UpdateFunctionCode("resize", lambdatest.Code{ImageURI: ref + ":sha-004", ResolvedImageURI: ref + "@" + tags["sha-004"].Digest})

	dir := t.TempDir()
	env := append(os.Environ(), "AWS_ENDPOINT_URL_LAMBDA="+srv.URL, "AWS_REGION="+lambdatest.Region,
		"AWS_ACCESS_KEY_ID="+lambdatest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+lambdatest.SecretAccessKey,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	pol := writeFile(t, "policy.json", keepNewest)
	code, out := runBin(t, bin, env, "apply", "--policy", pol, ref, "--in-use", "lambda", "--yes")
	if code != 0 {
		t.Fatalf("apply --in-use lambda = exit %d:\n%s", code, out)
	}
	have := digestSet(t, host, repo)
	if !have[tags["sha-001"].Digest] {
		t.Error("the image of the function's published version was deleted")
	}
	if have[tags["sha-000"].Digest] || have[tags["sha-002"].Digest] {
		t.Error("expired images that no function runs are still there")
	}
}
