package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/registry/ecr/ecrtest"
	"github.com/shipshape-dev/shipshape/internal/registry/registrytest"
)

type fleetJSON struct {
	Totals struct {
		Registries, Repositories, Failed, Images, Expire, WithoutPolicy int
		StoredBytes, ReclaimableBytes                                   int64
	} `json:"totals"`
	Repositories []struct {
		Repository string `json:"repository"`
		Images     int    `json:"images"`
		Policy     string `json:"policy"`
		Expire     int    `json:"expire"`
	} `json:"repositories"`
	Failures []struct {
		Repository, Error string
	} `json:"failures"`
}

// TestAuditAllOnDistribution: audit --all lists every repository of Debian's
// docker-registry through its catalog and reports on each; plan --all with a policy
// expires in each; --match and --repositories narrow the fleet; -o html renders.
func TestAuditAllOnDistribution(t *testing.T) {
	t.Parallel()
	host := registrytest.StartDistribution(t)
	names := registrytest.PushRepositories(t, host, "fleet", 12)
	pushBuilds(t, host, "fleet/big", 5)
	cache := filepath.Join(t.TempDir(), "cache")

	r := run(t, nil, "", "audit", "--all", host, "--cache-dir", cache, "-o", "json")
	var rep fleetJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("audit --all = %d (%v)\n%s%s", r.code, err, r.stdout, r.err)
	}
	if rep.Totals.Repositories != len(names)+1 || rep.Totals.Failed != 0 || rep.Repositories[0].Repository != host+"/fleet/big" || rep.Repositories[0].Images != 15 {
		t.Errorf("audit --all totals %+v, first %+v; want %d repositories, fleet/big first with 15 images", rep.Totals, rep.Repositories[0], len(names)+1)
	}
	if rep.Totals.WithoutPolicy != 0 || rep.Repositories[0].Policy != "unknown" {
		t.Errorf("a Distribution registry has no native policies: want policy unknown, got %+v", rep.Repositories[0])
	}

	pol := writeFile(t, "keep.json", keepNewest)
	r = run(t, nil, "", "plan", "--all", host, "--policy", pol, "--cache-dir", cache, "-o", "json", "--match", "fleet/big")
	rep = fleetJSON{}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Totals.Repositories != 1 || rep.Repositories[0].Expire != 9 || rep.Repositories[0].Policy != "given" {
		t.Errorf("plan --all --match fleet/big = %d (%v) %+v\n%s", r.code, err, rep, r.err)
	}

	list := writeFile(t, "repos.txt", "# two of them\n"+names[0]+"\n"+host+"/"+names[1]+"\n")
	r = run(t, nil, "", "audit", "--all", host, "--repositories", list, "--cache-dir", cache)
	if r.code != 0 || !strings.Contains(r.stdout, "2 repositories in 1 registry") {
		t.Errorf("audit --all --repositories = %d\n%s%s", r.code, r.stdout, r.err)
	}

	r = run(t, nil, "", "audit", "--all", host, "--cache-dir", cache, "-o", "html")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") || !strings.Contains(r.stdout, "Where the bytes are") {
		t.Errorf("audit --all -o html = %d, %d bytes: %s", r.code, len(r.stdout), r.err)
	}
	if r := run(t, nil, "", "audit", "--repositories", list, "--images", exampleImages); r.code != 2 || !strings.Contains(r.err, "--repositories needs --all") {
		t.Errorf("--repositories without --all = %d %q", r.code, r.err)
	}
}

// TestAuditAllECRAccounts: with three ECR accounts in shipshape.yaml, audit --all reads
// every repository of each, with its own lifecycle policy, and a repository that fails is
// reported, counted as failed, and makes the command exit 1.
func TestAuditAllECRAccounts(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", ecrtest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", ecrtest.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	const untagged = `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	var yaml strings.Builder
	yaml.WriteString("registries:\n")
	var servers []*ecrtest.Server
	for i, account := range []string{"111111111111", "222222222222", "333333333333"} {
		s := ecrtest.NewWithAccount(t, account)
		servers = append(servers, s)
		for j := range i + 2 {
			repo := fmt.Sprintf("acct%d/app-%d", i, j)
			r := ecrtest.Repo{}
			if j == 0 {
				r.LifecyclePolicy = untagged
			}
			s.CreateRepository(repo, r)
			for k := range 3 {
				s.PushBuild(repo, fmt.Sprintf("v%d", k), time.Now().Add(-time.Duration(k+1)*24*time.Hour))
			}
		}
		fmt.Fprintf(&yaml, "  r%d:\n    account: %q\n    region: us-east-1\n    endpoint: %s\n", i, account, s.URL)
	}
	cfg := filepath.Join(dir, "shipshape.yaml")
	if err := os.WriteFile(cfg, []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	servers[2].Fail("DescribeImages", 100, "ServerException", "internal failure")

	r := run(t, nil, "", "audit", "--all", "--config", cfg, "-o", "json")
	var rep fleetJSON
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 1 {
		t.Fatalf("audit --all = %d (%v)\n%s%s", r.code, err, r.stdout, r.err)
	}
	// 2 + 3 repositories read; the third account's 4 fail and are reported, not dropped.
	if rep.Totals.Registries != 3 || rep.Totals.Repositories != 5 || rep.Totals.Failed != 4 || len(rep.Failures) != 4 {
		t.Errorf("totals = %+v, failures %d", rep.Totals, len(rep.Failures))
	}
	own := 0
	for _, row := range rep.Repositories {
		if row.Policy == "own" {
			own++
		} else if row.Policy != "none" {
			t.Errorf("%s: policy %q, want own or none", row.Repository, row.Policy)
		}
	}
	if own != 2 || rep.Totals.WithoutPolicy != 3 {
		t.Errorf("%d repositories with their own policy, %d without; want 2 and 3", own, rep.Totals.WithoutPolicy)
	}
	if !strings.Contains(r.err, "4 of 9 repositories could not be read") {
		t.Errorf("stderr = %q", r.err)
	}
}

// TestSimulateCommand: simulate projects the example over 90 days under two policies and
// no policy, over the same pushes, deterministically; the table shows the curves, and
// HTML renders.
func TestSimulateCommand(t *testing.T) {
	t.Parallel()
	args := []string{"simulate", "--policy", examplePolicy, "--images", exampleImages, "--compare", "none", "--days", "60"}
	r := run(t, nil, "", append(args, "-o", "json")...)
	var rep struct {
		Days     int `json:"days"`
		Outcomes []struct {
			Policy string `json:"policy"`
			Days   []struct {
				Images      int   `json:"images"`
				Pushed      int   `json:"pushed"`
				StoredBytes int64 `json:"storedBytes"`
			} `json:"days"`
		} `json:"outcomes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || len(rep.Outcomes) != 2 || rep.Days != 60 {
		t.Fatalf("simulate -o json = %d (%v): %s", r.code, err, r.err)
	}
	keep, none := rep.Outcomes[0], rep.Outcomes[1]
	if keep.Policy != "keep-streams" || none.Policy != "no policy" || len(keep.Days) != 61 {
		t.Fatalf("outcomes %q, %q with %d days", keep.Policy, none.Policy, len(keep.Days))
	}
	for d := range keep.Days {
		if keep.Days[d].Pushed != none.Days[d].Pushed {
			t.Fatalf("day %d: %d pushes under keep-streams, %d under no policy; want the same pushes", d, keep.Days[d].Pushed, none.Days[d].Pushed)
		}
	}
	if last := len(keep.Days) - 1; keep.Days[last].StoredBytes*2 > none.Days[last].StoredBytes || none.Days[last].Images <= none.Days[0].Images {
		t.Errorf("day 60: keep-streams %d bytes, no policy %d bytes (%d images from %d)", keep.Days[last].StoredBytes, none.Days[last].StoredBytes, none.Days[last].Images, none.Days[0].Images)
	}
	if again := run(t, nil, "", append(args, "-o", "json")...); again.stdout != r.stdout {
		t.Error("simulate is not deterministic for the same seed")
	}
	if other := run(t, nil, "", append(args, "-o", "json", "--seed", "2")...); other.stdout == r.stdout {
		t.Error("another seed gave the same projection")
	}
	table := run(t, nil, "", args...)
	if table.code != 0 || !strings.Contains(table.stdout, "* keep-streams   + no policy") || !strings.Contains(table.stdout, "DAY 60") {
		t.Errorf("simulate table = %d\n%s%s", table.code, table.stdout, table.err)
	}
	html := run(t, nil, "", append(args, "-o", "html")...)
	if html.code != 0 || !strings.Contains(html.stdout, "Stored bytes (standard and archive)") {
		t.Errorf("simulate -o html = %d: %s", html.code, html.err)
	}
	for _, bad := range [][]string{
		{"simulate", "--images", exampleImages},
		{"simulate", "--policy", examplePolicy, "--images", exampleImages, "--days", "0"},
		{"simulate", "--policy", examplePolicy},
	} {
		if r := run(t, nil, "", bad...); r.code != 2 {
			t.Errorf("%v = %d %q, want a usage error", bad, r.code, r.err)
		}
	}
}
