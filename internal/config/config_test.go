package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/config"
)

const digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pins.txt"), []byte("# production\n"+digestB+"  # api\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shipshape.yaml")
	if err := os.WriteFile(path, []byte(`
pricePerGBMonth: 0.12
safety:
  protectTags: ["prod*", latest]
  protectDigests: [`+digestA+`]
  protectDigestsFiles: [pins.txt]
  grace: 7d
  maxDeletePercent: 40
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.PricePerGBMonth != 0.12 || time.Duration(c.Safety.Grace) != 7*24*time.Hour || c.Safety.MaxDeletePercent != 40 ||
		!cmp.Equal(c.Safety.ProtectTags, []string{"prod*", "latest"}) {
		t.Errorf("Load() = %+v", c)
	}
	got, err := c.ProtectedDigests()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{digestA: "shipshape.yaml", digestB: filepath.Join(dir, "pins.txt") + ":2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProtectedDigests() (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ doc, want string }{
		"unknown key":      {"safety:\n  protectTag: [x]\n", "line 2: field protectTag not found"},
		"bad duration":     {"safety:\n  grace: soon\n", `line 2: "soon" is not a duration`},
		"negative price":   {"pricePerGBMonth: -1\n", "must not be negative"},
		"percent too high": {"safety:\n  maxDeletePercent: 150\n", "between 0 and 100"},
		"bad digest":       {"safety:\n  protectDigests: [sha256:abc]\n", `safety.protectDigests[0]: "sha256:abc" is not a digest`},
		"wrong type":       {"safety:\n  protectTags: prod\n", "line 2: cannot unmarshal"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestReadDigests(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	err := config.ReadDigests(strings.NewReader(digestA+"\nnot-a-digest\n"), "pins.txt", got)
	if err == nil || err.Error() != `pins.txt:2: not a digest such as sha256:<64 hex digits>` {
		t.Errorf("ReadDigests() = %v", err)
	}
	for _, s := range []string{"7d", "48h", "90m"} {
		if _, err := config.ParseDuration(s); err != nil {
			t.Errorf("ParseDuration(%q) = %v", s, err)
		}
	}
}

const policyText = `{"rules": [{"rulePriority": 1, "description": "expire untagged images a day after push",
  "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
  "action": {"type": "expire"}}]}`

func TestLoadRepositories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policies", "untagged.json"), []byte(policyText), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "shipshape.yaml")
	if err := os.WriteFile(path, []byte(`
pricePerGBMonth: 0.10
registries:
  prod:
    account: "123456789012"
    region: us-east-2
    roleArn: arn:aws:iam::123456789012:role/shipshape
    externalId: ci-7f3a
    endpoint: http://127.0.0.1:4566
repositories:
  - names: ["team/*", infra/api]
    create: true
    lifecyclePolicy: policies/untagged.json
    tagMutability: IMMUTABLE_WITH_EXCLUSION
    tagMutabilityExclusions: [cache, latest]
    scanOnPush: true
    registryScanning: {scanType: BASIC, rules: [{scanFrequency: SCAN_ON_PUSH, filters: ["team/*"]}]}
    encryption: {type: KMS, kmsKey: "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
  - registry: prod
    names: [team/cache]
    tagMutability: MUTABLE
    scanOnPush: false
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	wantRegistries := map[string]config.Registry{"prod": {
		Account: "123456789012", Region: "us-east-2", RoleARN: "arn:aws:iam::123456789012:role/shipshape",
		ExternalID: "ci-7f3a", Endpoint: "http://127.0.0.1:4566",
	}}
	if diff := cmp.Diff(wantRegistries, c.Registries); diff != "" {
		t.Errorf("Registries (-want +got):\n%s", diff)
	}
	if len(c.Repositories) != 2 {
		t.Fatalf("Repositories = %+v, want 2 entries", c.Repositories)
	}
	r := c.Repositories[0]
	if r.Registry != "prod" {
		t.Errorf("Repositories[0].Registry = %q, want prod (the only registry)", r.Registry)
	}
	if r.Lifecycle == nil || string(r.Lifecycle.Text) != policyText || len(r.Lifecycle.Policy.Rules) != 1 ||
		r.Lifecycle.File != filepath.Join(dir, "policies", "untagged.json") {
		t.Errorf("Repositories[0].Lifecycle = %+v", r.Lifecycle)
	}
	r.Lifecycle = nil
	want := config.RepositorySettings{
		Registry: "prod", Names: []string{"team/*", "infra/api"}, Create: true,
		LifecyclePolicy: "policies/untagged.json", TagMutability: "IMMUTABLE_WITH_EXCLUSION",
		TagMutabilityExclusions: []string{"cache", "latest"}, ScanOnPush: ptr(true),
		RegistryScanning: &config.RegistryScanning{ScanType: "BASIC", Rules: []config.ScanningRule{{ScanFrequency: "SCAN_ON_PUSH", Filters: []string{"team/*"}}}},
		Encryption:       &config.Encryption{Type: "KMS", KMSKey: "arn:aws:kms:us-east-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("Repositories[0] (-want +got):\n%s", diff)
	}
	if got := c.Repositories[1]; got.ScanOnPush == nil || *got.ScanOnPush {
		t.Errorf("Repositories[1].ScanOnPush = %v, want false (set, not absent)", got.ScanOnPush)
	}
}

func ptr[T any](v T) *T { return &v }

func TestParseRejectsRepositories(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"rules": [
  {"rulePriority": 1, "description": "keep a few untagged images around",
   "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 3},
   "action": {"type": "expire"}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const prod = "registries:\n  prod: {account: \"123456789012\"}\n"
	tests := map[string]struct{ doc, want string }{
		"exclusions without exclusion mode": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: IMMUTABLE\n    tagMutabilityExclusions: [latest]\n",
			"line 6: repositories[0].tagMutabilityExclusions: only allowed with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION",
		},
		"exclusion mode without exclusions": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: MUTABLE_WITH_EXCLUSION\n",
			"line 4: repositories[0]: tagMutabilityExclusions: required with MUTABLE_WITH_EXCLUSION, 1 to 5 tag filters",
		},
		"too many exclusions": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: IMMUTABLE_WITH_EXCLUSION\n    tagMutabilityExclusions: [a, b, c, d, e, f]\n",
			"repositories[0].tagMutabilityExclusions: has 6 filters; ECR accepts 1 to 5",
		},
		"bad exclusion filter": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: IMMUTABLE_WITH_EXCLUSION\n    tagMutabilityExclusions: [latest, \"v1/x\"]\n",
			`line 6: repositories[0].tagMutabilityExclusions[1]: "v1/x" is not a tag filter`,
		},
		"three wildcards": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: IMMUTABLE_WITH_EXCLUSION\n    tagMutabilityExclusions: [\"*a*b*\"]\n",
			`repositories[0].tagMutabilityExclusions[0]: "*a*b*" has 3 wildcards; at most 2 are allowed`,
		},
		"mutability in the wrong case": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: immutable\n",
			`line 5: repositories[0].tagMutability: "immutable": values are case-sensitive: write IMMUTABLE`,
		},
		"unknown mutability": {
			prod + "repositories:\n  - names: [team/app]\n    tagMutability: FROZEN\n",
			`repositories[0].tagMutability: must be one of MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION, found "FROZEN"`,
		},
		"unknown key in an entry": {
			prod + "repositories:\n  - names: [team/app]\n    scanOnPsh: true\n",
			"line 5: field scanOnPsh not found",
		},
		"unknown key in a registry": {
			"registries:\n  prod: {account: \"123456789012\", regoin: us-east-2}\n",
			"line 2: field regoin not found",
		},
		"unknown registry": {
			prod + "repositories:\n  - registry: staging\n    names: [team/app]\n    scanOnPush: true\n",
			`line 4: repositories[0].registry: "staging" is not declared under registries (prod)`,
		},
		"registry required with several": {
			"registries:\n  prod: {account: \"123456789012\"}\n  dev: {account: \"210987654321\"}\nrepositories:\n  - names: [team/app]\n    scanOnPush: true\n",
			"repositories[0]: registry: required when several registries are declared (dev, prod)",
		},
		"no registries": {
			"repositories:\n  - names: [team/app]\n    scanOnPush: true\n",
			"repositories: no registries are declared",
		},
		"short account": {
			"registries:\n  prod: {account: 12345678901}\n",
			`line 2: registries.prod.account: "12345678901" is not a 12-digit AWS account ID`,
		},
		"account missing": {
			"registries:\n  prod: {region: us-east-2}\n",
			"registries.prod: account: required",
		},
		"bad region": {
			"registries:\n  prod: {account: \"123456789012\", region: Ohio}\n",
			`registries.prod.region: "Ohio" is not an AWS region`,
		},
		"bad role": {
			"registries:\n  prod: {account: \"123456789012\", roleArn: shipshape}\n",
			`registries.prod.roleArn: "shipshape" is not an IAM role ARN`,
		},
		"external ID without role": {
			"registries:\n  prod: {account: \"123456789012\", externalId: abc}\n",
			"registries.prod.externalId: only allowed with roleArn",
		},
		"bad endpoint": {
			"registries:\n  prod: {account: \"123456789012\", endpoint: localhost:4566}\n",
			`registries.prod.endpoint: "localhost:4566" is not an http or https URL`,
		},
		"no names": {
			prod + "repositories:\n  - scanOnPush: true\n",
			"repositories[0]: names: required",
		},
		"upper-case name": {
			prod + "repositories:\n  - names: [Team/App]\n    scanOnPush: true\n",
			`repositories[0].names[0]: "Team/App" is not an ECR repository name`,
		},
		"create without a literal name": {
			prod + "repositories:\n  - names: [\"team/*\"]\n    create: true\n",
			"repositories[0].create: creates only repositories named literally",
		},
		"nothing declared": {
			prod + "repositories:\n  - names: [team/app]\n",
			"repositories[0]: declares no settings",
		},
		"missing policy file": {
			prod + "repositories:\n  - names: [team/app]\n    lifecyclePolicy: " + filepath.Join(dir, "none.json") + "\n",
			"repositories[0].lifecyclePolicy: reading " + filepath.Join(dir, "none.json") + ": no such file or directory",
		},
		"invalid policy": {
			prod + "repositories:\n  - names: [team/app]\n    lifecyclePolicy: " + bad + "\n",
			bad + ": rules[0].selection.countUnit: must be omitted when countType is imageCountMoreThan",
		},
		"encryption key with AES256": {
			prod + "repositories:\n  - names: [team/app]\n    encryption: {type: AES256, kmsKey: alias/ecr}\n",
			"repositories[0].encryption.kmsKey: only allowed with KMS or KMS_DSSE",
		},
		"encryption without type": {
			prod + "repositories:\n  - names: [team/app]\n    encryption: {kmsKey: alias/ecr}\n",
			"repositories[0].encryption: type: required, one of AES256, KMS, KMS_DSSE",
		},
		"scanning declared twice": {
			prod + "repositories:\n  - names: [a/b]\n    registryScanning: {rules: [{scanFrequency: SCAN_ON_PUSH, filters: [\"*\"]}]}\n" +
				"  - names: [c/d]\n    registryScanning: {rules: [{scanFrequency: SCAN_ON_PUSH, filters: [\"*\"]}]}\n",
			"line 7: repositories[1].registryScanning: the scanning of registry prod is already declared in repositories[0]; declare it once",
		},
		"continuous scanning with BASIC": {
			prod + "repositories:\n  - names: [a/b]\n    registryScanning: {scanType: BASIC, rules: [{scanFrequency: CONTINUOUS_SCAN, filters: [\"*\"]}]}\n",
			`repositories[0].registryScanning.rules[0].scanFrequency: BASIC scanning accepts SCAN_ON_PUSH, found "CONTINUOUS_SCAN"`,
		},
		"scanning rule without filters": {
			prod + "repositories:\n  - names: [a/b]\n    registryScanning: {scanType: ENHANCED, rules: [{scanFrequency: CONTINUOUS_SCAN}]}\n",
			"repositories[0].registryScanning.rules[0]: filters: required",
		},
		"bad scanning filter": {
			prod + "repositories:\n  - names: [a/b]\n    registryScanning: {rules: [{scanFrequency: SCAN_ON_PUSH, filters: [\"Team/*\"]}]}\n",
			`repositories[0].registryScanning.rules[0].filters[0]: "Team/*" is not a repository filter`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Parse([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadNamesFileLineAndPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shipshape.yaml")
	if err := os.WriteFile(path, []byte("registries:\n  prod: {account: \"123456789012\"}\nrepositories:\n"+
		"  - names: [team/app]\n    tagMutability: IMMUTABLE\n    tagMutabilityExclusions: [latest]\n    scanOnPush: maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+": line 7: cannot unmarshal") {
		t.Errorf("Load() = %v, want the YAML type error with file and line", err)
	}

	if err := os.WriteFile(path, []byte("registries:\n  prod: {account: \"123456789012\"}\nrepositories:\n"+
		"  - names: [team/app]\n    tagMutability: IMMUTABLE\n    tagMutabilityExclusions: [latest]\n  - names: [\"*\"]\n    create: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = config.Load(path)
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Load() = %v, want a config.ErrorList", err)
	}
	want := []string{
		path + ": line 6: repositories[0].tagMutabilityExclusions: only allowed with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION",
		path + ": line 8: repositories[1].create: creates only repositories named literally (without '*'), and names lists none",
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load() errors (-want +got):\n%s", diff)
	}
}
