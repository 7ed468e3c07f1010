package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Registry is one Amazon ECR registry: an account in a region, and how to reach it.
type Registry struct {
	// Account is the 12-digit AWS account ID that owns the registry.
	Account string `yaml:"account"`
	// Region is the registry's AWS region; empty takes the SDK's default chain.
	Region string `yaml:"region"`
	// Profile names a shared-config profile; empty takes the SDK's default chain.
	Profile string `yaml:"profile"`
	// RoleARN, when set, is assumed for every call, with ExternalID when set.
	RoleARN    string `yaml:"roleArn"`
	ExternalID string `yaml:"externalId"`
	// Endpoint overrides the ECR API endpoint URL (tests, VPC endpoints).
	Endpoint string `yaml:"endpoint"`
}

// RepositorySettings is one entry of repositories: the settings of the repositories whose
// names match Names. Unset settings are left as they are. When several entries match a
// repository, a later entry's setting overrides an earlier one's, setting by setting.
type RepositorySettings struct {
	// Registry names an entry of registries; Parse fills it in when exactly one is declared.
	Registry string `yaml:"registry"`
	// Names are repository names and patterns in which '*' matches any run of characters.
	Names []string `yaml:"names"`
	// Create creates the repositories Names lists literally (without '*') when missing.
	Create bool `yaml:"create"`
	// LifecyclePolicy is the path of a lifecycle policy file, relative to the configuration file.
	LifecyclePolicy string `yaml:"lifecyclePolicy"`
	// Lifecycle is the policy file, read and validated by Parse and Load; nil without one.
	Lifecycle *Lifecycle `yaml:"-"`
	// TagMutability is MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION.
	TagMutability string `yaml:"tagMutability"`
	// TagMutabilityExclusions are the tag filters of the *_WITH_EXCLUSION modes: tags
	// matching one keep the other behaviour.
	TagMutabilityExclusions []string `yaml:"tagMutabilityExclusions"`
	// ScanOnPush is the repository-level scan-on-push setting; nil leaves it alone.
	ScanOnPush *bool `yaml:"scanOnPush"`
	// RegistryScanning is the registry-level scanning configuration, declared once per registry.
	RegistryScanning *RegistryScanning `yaml:"registryScanning"`
	// Encryption is the expected encryption, used when creating; drift is only reported.
	Encryption *Encryption `yaml:"encryption"`
}

// Lifecycle is a lifecycle policy file: its text, sent to ECR as it is, and its parsed form.
type Lifecycle struct {
	File   string
	Text   []byte
	Policy *policy.Policy
}

// RegistryScanning is a registry's scanning configuration.
type RegistryScanning struct {
	// ScanType is BASIC (the default) or ENHANCED.
	ScanType string         `yaml:"scanType"`
	Rules    []ScanningRule `yaml:"rules"`
}

// ScanningRule scans the repositories matching Filters at ScanFrequency.
type ScanningRule struct {
	// ScanFrequency is SCAN_ON_PUSH, or CONTINUOUS_SCAN with ENHANCED scanning.
	ScanFrequency string `yaml:"scanFrequency"`
	// Filters are repository name patterns ('*' wildcards).
	Filters []string `yaml:"filters"`
}

// Encryption is a repository's encryption configuration.
type Encryption struct {
	// Type is AES256, KMS or KMS_DSSE.
	Type string `yaml:"type"`
	// KMSKey is the key's ARN, ID or alias; only with KMS and KMS_DSSE. Empty means the AWS
	// managed key.
	KMSKey string `yaml:"kmsKey"`
}

// Accepted values of the repository settings, as the ECR API spells them.
var (
	TagMutabilities = []string{"MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"}
	EncryptionTypes = []string{"AES256", "KMS", "KMS_DSSE"}
	ScanTypes       = []string{"BASIC", "ENHANCED"}
)

// Limits of the ECR API model (PutImageTagMutability, PutRegistryScanningConfiguration).
const (
	maxExclusions     = 5
	maxExclusionStars = 2 // Terraform's limit; ECR documents none, so stay within it
	maxScanningRules  = 2
	maxScanFilters    = 100
)

var (
	registryNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	accountRE      = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE       = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleARNRE      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	externalIDRE   = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	// repositoryNameRE is ECR's repository name pattern (2–256 characters).
	repositoryNameRE = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	patternCharsRE   = regexp.MustCompile(`^[a-z0-9._/*-]{1,256}$`)
	exclusionRE      = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)
	scanFilterRE     = regexp.MustCompile(`^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$`)
)

// RegistryNames returns the names of the declared registries, sorted.
func (c *Config) RegistryNames() []string {
	names := make([]string, 0, len(c.Registries))
	for n := range c.Registries {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// validateEnsure checks registries and repositories, and reads the lifecycle policy files.
func (c *Config) validateEnsure(v *validator) {
	for _, name := range c.RegistryNames() {
		c.Registries[name] = validateRegistry(v, name, c.Registries[name])
	}
	if len(c.Repositories) > 0 && len(c.Registries) == 0 {
		v.add(v.at("repositories"), "no registries are declared: declare one under registries")
		return
	}
	scanningAt := map[string]int{} // registry → the entry declaring its scanning
	for i := range c.Repositories {
		r := &c.Repositories[i]
		path := func(keys ...any) loc { return v.at(append([]any{"repositories", i}, keys...)...) }
		switch {
		case r.Registry == "" && len(c.Registries) == 1:
			r.Registry = c.RegistryNames()[0]
		case r.Registry == "":
			v.add(path(), "registry: required when several registries are declared (%s)", strings.Join(c.RegistryNames(), ", "))
		default:
			if _, ok := c.Registries[r.Registry]; !ok {
				v.add(path("registry"), "%q is not declared under registries (%s)", r.Registry, strings.Join(c.RegistryNames(), ", "))
			}
		}
		validateNames(v, r, path)
		c.readLifecycle(v, r, path)
		validateMutability(v, r, path)
		if s := r.RegistryScanning; s != nil {
			if j, ok := scanningAt[r.Registry]; ok {
				v.add(path("registryScanning"), "the scanning of registry %s is already declared in repositories[%d]; declare it once", r.Registry, j)
			} else {
				scanningAt[r.Registry] = i
			}
			validateScanning(v, s, path)
		}
		if e := r.Encryption; e != nil {
			switch {
			case e.Type == "":
				v.add(path("encryption"), "type: required, one of %s", strings.Join(EncryptionTypes, ", "))
			case !slices.Contains(EncryptionTypes, e.Type):
				v.add(path("encryption", "type"), "%s", enumMessage(e.Type, EncryptionTypes))
			case e.KMSKey != "" && e.Type == "AES256":
				v.add(path("encryption", "kmsKey"), "only allowed with KMS or KMS_DSSE")
			case len(e.KMSKey) > 2048:
				v.add(path("encryption", "kmsKey"), "is longer than 2048 characters")
			}
		}
		if !r.Create && r.LifecyclePolicy == "" && r.TagMutability == "" && len(r.TagMutabilityExclusions) == 0 &&
			r.ScanOnPush == nil && r.RegistryScanning == nil && r.Encryption == nil {
			v.add(path(), "declares no settings: give lifecyclePolicy, tagMutability, scanOnPush, registryScanning, encryption or create")
		}
	}
}

func validateRegistry(v *validator, name string, r Registry) Registry {
	path := func(keys ...any) loc { return v.at(append([]any{"registries", name}, keys...)...) }
	if !registryNameRE.MatchString(name) {
		v.add(path(), "the name %q must be letters, digits, '.', '_' and '-'", name)
	}
	switch {
	case r.Account == "":
		v.add(path(), "account: required, the 12-digit AWS account ID of the registry")
	case !accountRE.MatchString(r.Account):
		v.add(path("account"), "%q is not a 12-digit AWS account ID", r.Account)
	}
	if r.Region != "" && !regionRE.MatchString(r.Region) {
		v.add(path("region"), "%q is not an AWS region such as us-east-2", r.Region)
	}
	if r.RoleARN != "" && !roleARNRE.MatchString(r.RoleARN) {
		v.add(path("roleArn"), "%q is not an IAM role ARN such as arn:aws:iam::123456789012:role/shipshape", r.RoleARN)
	}
	switch {
	case r.ExternalID != "" && r.RoleARN == "":
		v.add(path("externalId"), "only allowed with roleArn")
	case r.ExternalID != "" && (len(r.ExternalID) < 2 || len(r.ExternalID) > 1224 || !externalIDRE.MatchString(r.ExternalID)):
		v.add(path("externalId"), "must be 2 to 1224 letters, digits and +=,.@:/-")
	}
	if r.Endpoint != "" {
		if u, err := url.Parse(r.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add(path("endpoint"), "%q is not an http or https URL", r.Endpoint)
		}
	}
	return r
}

func validateNames(v *validator, r *RepositorySettings, path func(...any) loc) {
	if len(r.Names) == 0 {
		v.add(path(), "names: required, at least one repository name or pattern ('*' wildcards)")
		return
	}
	literal := false
	seen := map[string]bool{}
	for j, n := range r.Names {
		switch {
		case seen[n]:
			v.add(path("names", j), "%q is listed twice", n)
		case strings.Contains(n, "*"):
			if !patternCharsRE.MatchString(n) {
				v.add(path("names", j), "%q is not a repository name pattern: lower-case letters, digits, '.', '_', '-', '/' and '*'", n)
			}
		case len(n) < 2 || len(n) > 256 || !repositoryNameRE.MatchString(n):
			v.add(path("names", j), "%q is not an ECR repository name: 2 to 256 lower-case letters and digits, separated by '.', '_', '-' or '/'", n)
		default:
			literal = true
		}
		seen[n] = true
	}
	if r.Create && !literal {
		v.add(path("create"), "creates only repositories named literally (without '*'), and names lists none")
	}
}

func (c *Config) readLifecycle(v *validator, r *RepositorySettings, path func(...any) loc) {
	if r.LifecyclePolicy == "" {
		return
	}
	file := c.Path(r.LifecyclePolicy)
	text, err := os.ReadFile(file)
	if err != nil {
		v.add(path("lifecyclePolicy"), "reading %s: %v", file, pathCause(err))
		return
	}
	p, err := policy.Load(text)
	var list policy.ErrorList
	switch {
	case err == nil:
		r.Lifecycle = &Lifecycle{File: file, Text: text, Policy: p}
	case errors.As(err, &list):
		// As "shipshape policy validate" prints them: FILE: rules[1].selection…: message.
		for _, e := range list {
			v.list = append(v.list, &Error{File: file, Msg: e.Error()})
		}
	default:
		v.add(path("lifecyclePolicy"), "%s: %v", file, err)
	}
}

func validateMutability(v *validator, r *RepositorySettings, path func(...any) loc) {
	withExclusion := strings.HasSuffix(r.TagMutability, "_WITH_EXCLUSION")
	if r.TagMutability != "" && !slices.Contains(TagMutabilities, r.TagMutability) {
		v.add(path("tagMutability"), "%s", enumMessage(r.TagMutability, TagMutabilities))
		return
	}
	switch {
	case len(r.TagMutabilityExclusions) > 0 && !withExclusion:
		v.add(path("tagMutabilityExclusions"), "only allowed with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
		return
	case withExclusion && len(r.TagMutabilityExclusions) == 0:
		v.add(path(), "tagMutabilityExclusions: required with %s, 1 to %d tag filters", r.TagMutability, maxExclusions)
		return
	case len(r.TagMutabilityExclusions) > maxExclusions:
		v.add(path("tagMutabilityExclusions"), "has %d filters; ECR accepts 1 to %d", len(r.TagMutabilityExclusions), maxExclusions)
	}
	seen := map[string]bool{}
	for j, f := range r.TagMutabilityExclusions {
		switch {
		case !exclusionRE.MatchString(f):
			v.add(path("tagMutabilityExclusions", j), "%q is not a tag filter: 1 to 128 letters, digits, '.', '_', '-' and '*'", f)
		case strings.Count(f, "*") > maxExclusionStars:
			v.add(path("tagMutabilityExclusions", j), "%q has %d wildcards; at most %d are allowed", f, strings.Count(f, "*"), maxExclusionStars)
		case seen[f]:
			v.add(path("tagMutabilityExclusions", j), "%q is listed twice", f)
		}
		seen[f] = true
	}
}

func validateScanning(v *validator, s *RegistryScanning, path func(...any) loc) {
	if s.ScanType != "" && !slices.Contains(ScanTypes, s.ScanType) {
		v.add(path("registryScanning", "scanType"), "%s", enumMessage(s.ScanType, ScanTypes))
		return
	}
	frequencies := []string{"SCAN_ON_PUSH"}
	if s.ScanType == "ENHANCED" {
		frequencies = append(frequencies, "CONTINUOUS_SCAN")
	}
	if len(s.Rules) > maxScanningRules {
		v.add(path("registryScanning", "rules"), "has %d rules; ECR accepts at most %d", len(s.Rules), maxScanningRules)
	}
	seen := map[string]int{}
	for j, rule := range s.Rules {
		rpath := func(keys ...any) loc { return path(append([]any{"registryScanning", "rules", j}, keys...)...) }
		switch {
		case rule.ScanFrequency == "":
			v.add(rpath(), "scanFrequency: required, one of %s", strings.Join(frequencies, ", "))
		case !slices.Contains(frequencies, rule.ScanFrequency):
			scanType := cmpOr(s.ScanType, "BASIC")
			if rule.ScanFrequency == "CONTINUOUS_SCAN" || rule.ScanFrequency == "MANUAL" || strings.EqualFold(rule.ScanFrequency, "SCAN_ON_PUSH") {
				v.add(rpath("scanFrequency"), "%s scanning accepts %s, found %q", scanType, strings.Join(frequencies, ", "), rule.ScanFrequency)
			} else {
				v.add(rpath("scanFrequency"), "%s", enumMessage(rule.ScanFrequency, frequencies))
			}
		default:
			if k, ok := seen[rule.ScanFrequency]; ok {
				v.add(rpath("scanFrequency"), "rules[%d] already has %s; give each frequency one rule", k, rule.ScanFrequency)
			}
			seen[rule.ScanFrequency] = j
		}
		switch {
		case len(rule.Filters) == 0:
			v.add(rpath(), "filters: required, at least one repository filter (\"*\" matches every repository)")
		case len(rule.Filters) > maxScanFilters:
			v.add(rpath("filters"), "has %d filters; ECR accepts at most %d", len(rule.Filters), maxScanFilters)
		}
		for k, f := range rule.Filters {
			if len(f) > 255 || !scanFilterRE.MatchString(f) {
				v.add(rpath("filters", k), "%q is not a repository filter: lower-case letters, digits, '*' and single '.', '_', '-', '/' between them", f)
			}
		}
	}
}

// enumMessage says which values are accepted, pointing out a value in the wrong case.
func enumMessage(got string, values []string) string {
	for _, want := range values {
		if strings.EqualFold(got, want) {
			return fmt.Sprintf("%q: values are case-sensitive: write %s", got, want)
		}
	}
	return fmt.Sprintf("must be one of %s, found %q", strings.Join(values, ", "), got)
}

// pathCause strips the operation and path from a file error, which the caller names itself.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Error is one invalid value: in a configuration file, located by its line and key path
// ("repositories[0].tagMutability"), or in a lifecycle policy file it names, located by
// the policy's JSON path.
type Error struct {
	File string // the file, when known
	Line int    // 1-based; 0 when unknown
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var parts []string
	if e.File != "" {
		parts = append(parts, e.File)
	}
	if e.Line > 0 {
		parts = append(parts, "line "+strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		parts = append(parts, e.Path)
	}
	return strings.Join(append(parts, e.Msg), ": ")
}

// ErrorList is every invalid value of a configuration, in the order checked.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// validator collects errors, locating key paths in the document's nodes.
type validator struct {
	root *yaml.Node
	list ErrorList
}

// loc is a key path and its line.
type loc struct {
	path string
	line int
}

// at locates a key path given as map keys (string) and sequence indexes (int).
func (v *validator) at(keys ...any) loc {
	var b strings.Builder
	n := v.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
			n = child(n, k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
			if n != nil && n.Kind == yaml.SequenceNode && k < len(n.Content) {
				n = n.Content[k]
			} else {
				n = nil
			}
		}
		if n != nil {
			line = n.Line
		}
	}
	return loc{path: b.String(), line: line}
}

func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func (v *validator) add(l loc, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	v.list = append(v.list, &Error{Line: l.line, Path: l.path, Msg: msg})
}
