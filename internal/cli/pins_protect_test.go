package cli_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipshape-dev/shipshape/internal/pins"
	pinstore "github.com/shipshape-dev/shipshape/internal/pins/store"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
	"github.com/shipshape-dev/shipshape/internal/server"
)

// TestPinnedDigestSurvives pins a digest the policy would expire: plan keeps it, with its
// children, and apply leaves it in the registry.
func TestPinnedDigestSurvives(t *testing.T) {
	t.Parallel()
	host := registrytest.NewInProcess(t)
	repo := host + "/team/app"
	pushBuilds(t, host, "team/app", 4)
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.json")
	if err := os.WriteFile(pol, []byte(keepNewest), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "plan", "--policy", pol, repo, "-o", "json", "--no-cache")
	var before planJSON
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, it := range before.Images {
		if it.Action == "expire" && len(it.Tags) > 0 {
			pinned = it.Digest
			break
		}
	}
	if pinned == "" {
		t.Fatal("the policy expires no tagged image to pin")
	}
	// The pins as "shipshape pin list -o json" prints them.
	pinsFile := filepath.Join(dir, "pins.json")
	doc := `[{"name": "api", "digest": "` + pinned + `", "sourceSha": "0123456789abcdef0123456789abcdef01234567", "version": 1}]`
	if err := os.WriteFile(pinsFile, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}

	r = run(t, nil, "", "plan", "--policy", pol, repo, "-o", "json", "--no-cache", "--pins", pinsFile)
	var after planJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatal(err)
	}
	if after.Summary.Expire != before.Summary.Expire-3 {
		t.Errorf("with the pin the plan expires %d, want %d (the pinned index and its two children kept)", after.Summary.Expire, before.Summary.Expire-3)
	}
	for _, it := range after.Images {
		if it.Digest == pinned && (it.Action != "keep" || !strings.Contains(it.Reason, "pin api @ 0123456789ab")) {
			t.Errorf("pinned digest: %s, %q", it.Action, it.Reason)
		}
	}

	r = run(t, nil, "", "apply", "--policy", pol, repo, "--yes", "--no-cache", "--pins", pinsFile, "--journal", filepath.Join(dir, "j"))
	if r.code != 0 {
		t.Fatalf("apply = %d: %s", r.code, r.err)
	}
	have := inventoryOf(t, host, "team/app")
	found := false
	for _, img := range have.Images {
		found = found || img.Digest == pinned
	}
	if !found {
		t.Errorf("apply deleted the pinned digest %s", pinned)
	}
	if len(have.Images) != 9 {
		t.Errorf("after apply %d images remain, want 9 (2 kept builds and the pinned one, 3 manifests each)", len(have.Images))
	}
}

// TestPinsFromStore reads pins straight from a SQLite pin store.
func TestPinsFromStore(t *testing.T) {
	t.Parallel()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "pins.db")
	st, err := pinstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	// The example repository's newest pr- build, which the example policy expires.
	var pinned string
	r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json")
	var before planJSON
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatal(err)
	}
	for _, it := range before.Images {
		if it.Action == "expire" && len(it.Tags) > 0 {
			pinned = it.Digest
			break
		}
	}
	if _, err := st.Set(context.Background(), pins.Pin{Name: "web", Digest: pinned, SourceSHA: strings.Repeat("a", 40)}, ""); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r = run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json", "--pins", dsn)
	var after planJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatalf("plan --pins %s = %d: %s", dsn, r.code, r.err)
	}
	for _, it := range after.Images {
		if it.Digest == pinned && (it.Action != "keep" || !strings.Contains(it.Reason, "pin web")) {
			t.Errorf("pinned digest in the plan: %s, %q", it.Action, it.Reason)
		}
	}
	if after.Summary.Expire >= before.Summary.Expire {
		t.Errorf("the pin kept nothing: %d expire before, %d after", before.Summary.Expire, after.Summary.Expire)
	}
}

// TestPipelinePinKeepsDigest is the pipeline's path end to end: a publish job records the
// pin through the compatibility route, and the next plan, reading pins from the server,
// keeps that digest.
func TestPipelinePinKeepsDigest(t *testing.T) {
	t.Parallel()
	st, err := pinstore.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "pins.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tokens, err := server.LoadTokens("pipeline-token", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(server.Config{Store: st, Tokens: tokens}))
	defer srv.Close()

	r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json")
	var before planJSON
	if err := json.Unmarshal([]byte(r.stdout), &before); err != nil {
		t.Fatal(err)
	}
	var pinned string
	for _, it := range before.Images {
		if it.Action == "expire" && len(it.Tags) > 0 {
			pinned = it.Digest
			break
		}
	}
	body := `{"runtime": "api", "digest": "` + pinned + `", "source_sha": "` + strings.Repeat("b", 40) + `"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/cp/admin/runtime-image-pins", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer pipeline-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /cp/admin/runtime-image-pins = %s", resp.Status)
	}

	r = run(t, map[string]string{"SHIPSHAPE_API_TOKEN": "pipeline-token"}, "",
		"plan", "--policy", examplePolicy, "--images", exampleImages, "--now", exampleNow, "-o", "json", "--pins", srv.URL)
	var after planJSON
	if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
		t.Fatalf("plan --pins %s = %d: %s", srv.URL, r.code, r.err)
	}
	for _, it := range after.Images {
		if it.Digest == pinned && (it.Action != "keep" || !strings.Contains(it.Reason, "pin api")) {
			t.Errorf("the pipeline's pinned digest in the next plan: %s, %q", it.Action, it.Reason)
		}
	}
	if r := run(t, nil, "", "plan", "--policy", examplePolicy, "--images", exampleImages, "--pins", srv.URL); r.code != 1 || !strings.Contains(r.err, "401") {
		t.Errorf("plan --pins without a token = %d %q, want an error naming the 401", r.code, r.err)
	}
}
