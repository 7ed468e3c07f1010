package ecrtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Bounds of the repository and scanning APIs, from the ECR API model.
const (
	maxRepositoryNames         = 100  // DescribeRepositories repositoryNames
	defaultRepositoryPage      = 100  // DescribeRepositories without maxResults
	maxRepositoryPage          = 1000 // DescribeRepositories maxResults
	maxExclusionFilters        = 5    // imageTagMutabilityExclusionFilters
	maxScanningRules           = 2    // registry scanning rules
	maxScanningFilters         = 100  // repositoryFilters of one rule
	maxScanningRepositoryNames = 25   // BatchGetRepositoryScanningConfiguration
	maxKMSKey                  = 2048 // encryptionConfiguration.kmsKey
	// authorizationTokenTTL is how long GetAuthorizationToken's token lasts.
	authorizationTokenTTL = 12 * time.Hour
)

var (
	exclusionFilterPattern = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)
	scanningFilterPattern  = regexp.MustCompile(`^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$`)
)

const maxScanningFilterLength = 255

type exclusionFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

type scanningConfiguration struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type encryptionConfiguration struct {
	EncryptionType string `json:"encryptionType"`
	KMSKey         string `json:"kmsKey,omitempty"`
}

type repositoryOut struct {
	RepositoryArn                      string                  `json:"repositoryArn"`
	RegistryID                         string                  `json:"registryId"`
	RepositoryName                     string                  `json:"repositoryName"`
	RepositoryURI                      string                  `json:"repositoryUri"`
	CreatedAt                          *epoch                  `json:"createdAt"`
	ImageTagMutability                 string                  `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []exclusionFilter       `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         scanningConfiguration   `json:"imageScanningConfiguration"`
	EncryptionConfiguration            encryptionConfiguration `json:"encryptionConfiguration"`
}

func (r *repository) out() repositoryOut {
	o := repositoryOut{
		RepositoryArn:              repositoryARN(r.account, r.name),
		RegistryID:                 r.account,
		RepositoryName:             r.name,
		RepositoryURI:              repositoryURI(r.account, r.name),
		CreatedAt:                  ts(r.created),
		ImageTagMutability:         r.mutability,
		ImageScanningConfiguration: scanningConfiguration{ScanOnPush: r.scanOnPush},
		EncryptionConfiguration:    encryptionConfiguration{EncryptionType: r.encType, KMSKey: r.kmsKey},
	}
	for _, f := range r.filters {
		o.ImageTagMutabilityExclusionFilters = append(o.ImageTagMutabilityExclusionFilters, exclusionFilter{FilterType: "WILDCARD", Filter: f})
	}
	return o
}

// checkMutability validates a mutability setting and its exclusion filters. ECR requires
// filters with the *_WITH_EXCLUSION modes; with MUTABLE and IMMUTABLE this server rejects
// them too (what ECR does then is not documented).
func checkMutability(mode string, filters []exclusionFilter, given bool) ([]string, *apiError) {
	if err := enum("imageTagMutability", mode, "MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"); err != nil {
		return nil, err
	}
	withExclusion := mode == "IMMUTABLE_WITH_EXCLUSION" || mode == "MUTABLE_WITH_EXCLUSION"
	switch {
	case withExclusion && len(filters) == 0:
		return nil, invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can't be null when imageTagMutability is set as %s'", mode)
	case !withExclusion && given:
		return nil, invalidParameter("Invalid parameter at 'imageTagMutabilityExclusionFilters' failed to satisfy constraint: 'ImageTagMutabilityExclusionFilters can only be set when imageTagMutability is set as IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION'")
	}
	if err := listLength("imageTagMutabilityExclusionFilters", len(filters), given, 1, maxExclusionFilters); err != nil {
		return nil, err
	}
	var out []string
	for i, f := range filters {
		if f.FilterType != "WILDCARD" {
			return nil, modelViolation(fmt.Sprintf("imageTagMutabilityExclusionFilters.%d.member.filterType", i+1), "Member must satisfy enum value set: [WILDCARD]")
		}
		if !exclusionFilterPattern.MatchString(f.Filter) {
			return nil, modelViolation(fmt.Sprintf("imageTagMutabilityExclusionFilters.%d.member.filter", i+1), "Member must satisfy regular expression pattern: "+exclusionFilterPattern.String())
		}
		out = append(out, f.Filter)
	}
	return out, nil
}

// createRepository: CreateRepository. A KMS or KMS_DSSE repository without a key gets the
// AWS managed key, as ECR reports it; a key with AES256 is rejected.
func (s *Server) createRepository(body []byte) (any, *apiError) {
	var in struct {
		RegistryID                         string                   `json:"registryId"`
		RepositoryName                     string                   `json:"repositoryName"`
		Tags                               []json.RawMessage        `json:"tags"`
		ImageTagMutability                 string                   `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []exclusionFilter        `json:"imageTagMutabilityExclusionFilters"`
		ImageScanningConfiguration         *scanningConfiguration   `json:"imageScanningConfiguration"`
		EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := checkRepositoryName(in.RepositoryName); err != nil {
		return nil, err
	}
	if in.RegistryID != "" && in.RegistryID != s.account {
		return nil, s.foreignRegistry(in.RegistryID, in.RepositoryName)
	}
	mode := in.ImageTagMutability
	if mode == "" {
		mode = "MUTABLE"
	}
	filters, err := checkMutability(mode, in.ImageTagMutabilityExclusionFilters, in.ImageTagMutabilityExclusionFilters != nil)
	if err != nil {
		return nil, err
	}
	enc := encryptionConfiguration{EncryptionType: "AES256"}
	if in.EncryptionConfiguration != nil {
		enc = *in.EncryptionConfiguration
		if err := enum("encryptionConfiguration.encryptionType", enc.EncryptionType, "AES256", "KMS", "KMS_DSSE"); err != nil {
			return nil, err
		}
		switch {
		case enc.EncryptionType == "":
			return nil, modelViolation("encryptionConfiguration.encryptionType", "Member must not be null")
		case enc.EncryptionType == "AES256" && enc.KMSKey != "":
			return nil, invalidParameter("Invalid parameter at 'encryptionConfiguration' failed to satisfy constraint: 'kmsKey can only be specified when encryptionType is KMS or KMS_DSSE'")
		case len(enc.KMSKey) > maxKMSKey:
			return nil, modelViolation("encryptionConfiguration.kmsKey", fmt.Sprintf("Member must have length less than or equal to %d", maxKMSKey))
		case enc.EncryptionType != "AES256" && enc.KMSKey == "":
			enc.KMSKey = "arn:aws:kms:" + Region + ":" + s.account + ":alias/aws/ecr"
		}
	}
	if _, ok := s.repos[in.RepositoryName]; ok {
		return nil, &apiError{
			code:    "RepositoryAlreadyExistsException",
			message: fmt.Sprintf("The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, s.account),
		}
	}
	r := &repository{
		account:    s.account,
		name:       in.RepositoryName,
		created:    s.now(),
		mutability: mode,
		filters:    filters,
		encType:    enc.EncryptionType,
		kmsKey:     enc.KMSKey,
		images:     make(map[string]*image),
		tags:       make(map[string]string),
	}
	if in.ImageScanningConfiguration != nil {
		r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	s.repos[r.name] = r
	return map[string]any{"repository": r.out()}, nil
}

// describeRepositories: DescribeRepositories, ordered by name.
func (s *Server) describeRepositories(body []byte) (any, *apiError) {
	var in struct {
		RegistryID      string   `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("repositoryNames", len(in.RepositoryNames), in.RepositoryNames != nil, 1, maxRepositoryNames); err != nil {
		return nil, err
	}
	if in.RepositoryNames != nil && (in.MaxResults != nil || in.NextToken != "") {
		return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and nextToken cannot be used with repositoryNames'")
	}
	limit, err := pageSize(in.MaxResults, defaultRepositoryPage, maxRepositoryPage)
	if err != nil {
		return nil, err
	}
	if in.RegistryID != "" && !registryIDPattern.MatchString(in.RegistryID) {
		return nil, modelViolation("registryId", "Member must satisfy regular expression pattern: [0-9]{12}")
	}
	if in.RegistryID != "" && in.RegistryID != s.account {
		name := "*"
		if len(in.RepositoryNames) > 0 {
			name = in.RepositoryNames[0]
		}
		return nil, s.foreignRegistry(in.RegistryID, name)
	}
	var out []repositoryOut
	if in.RepositoryNames != nil {
		for _, name := range in.RepositoryNames {
			r, ok := s.repos[name]
			if !ok {
				return nil, repositoryNotFound(name, s.account)
			}
			out = append(out, r.out())
		}
		return map[string]any{"repositories": out}, nil
	}
	after, err := decodeToken("DescribeRepositories", in.NextToken)
	if err != nil {
		return nil, err
	}
	resp := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(s.repos)) {
		if name <= after {
			continue
		}
		if len(out) == limit {
			resp["nextToken"] = encodeToken("DescribeRepositories", out[len(out)-1].RepositoryName)
			break
		}
		out = append(out, s.repos[name].out())
	}
	resp["repositories"] = out
	return resp, nil
}

// putImageTagMutability: PutImageTagMutability.
func (s *Server) putImageTagMutability(body []byte) (any, *apiError) {
	var in struct {
		RegistryID                         string            `json:"registryId"`
		RepositoryName                     string            `json:"repositoryName"`
		ImageTagMutability                 string            `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []exclusionFilter `json:"imageTagMutabilityExclusionFilters"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ImageTagMutability == "" {
		return nil, modelViolation("imageTagMutability", "Member must not be null")
	}
	filters, err := checkMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters, in.ImageTagMutabilityExclusionFilters != nil)
	if err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r.mutability, r.filters = in.ImageTagMutability, filters
	out := r.out()
	return map[string]any{
		"registryId":                         r.account,
		"repositoryName":                     r.name,
		"imageTagMutability":                 r.mutability,
		"imageTagMutabilityExclusionFilters": out.ImageTagMutabilityExclusionFilters,
	}, nil
}

// putImageScanningConfiguration: PutImageScanningConfiguration (deprecated by AWS in favour
// of the registry-level configuration, still served).
func (s *Server) putImageScanningConfiguration(body []byte) (any, *apiError) {
	var in struct {
		RegistryID                 string                 `json:"registryId"`
		RepositoryName             string                 `json:"repositoryName"`
		ImageScanningConfiguration *scanningConfiguration `json:"imageScanningConfiguration"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ImageScanningConfiguration == nil {
		return nil, modelViolation("imageScanningConfiguration", "Member must not be null")
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r.scanOnPush = in.ImageScanningConfiguration.ScanOnPush
	return map[string]any{
		"registryId":                 r.account,
		"repositoryName":             r.name,
		"imageScanningConfiguration": scanningConfiguration{ScanOnPush: r.scanOnPush},
	}, nil
}

type scanningFilterWire struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type scanningRuleWire struct {
	ScanFrequency     string               `json:"scanFrequency"`
	RepositoryFilters []scanningFilterWire `json:"repositoryFilters"`
}

type registryScanningWire struct {
	ScanType string             `json:"scanType"`
	Rules    []scanningRuleWire `json:"rules"`
}

func (c ScanningConfig) wire() registryScanningWire {
	w := registryScanningWire{ScanType: c.ScanType, Rules: []scanningRuleWire{}}
	for _, r := range c.Rules {
		rw := scanningRuleWire{ScanFrequency: r.ScanFrequency, RepositoryFilters: []scanningFilterWire{}}
		for _, f := range r.Filters {
			rw.RepositoryFilters = append(rw.RepositoryFilters, scanningFilterWire{Filter: f, FilterType: "WILDCARD"})
		}
		w.Rules = append(w.Rules, rw)
	}
	return w
}

// getRegistryScanningConfiguration: GetRegistryScanningConfiguration.
func (s *Server) getRegistryScanningConfiguration(body []byte) (any, *apiError) {
	var in struct{}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return map[string]any{"registryId": s.account, "scanningConfiguration": s.scanning.wire()}, nil
}

// putRegistryScanningConfiguration: PutRegistryScanningConfiguration. BASIC scanning takes
// only SCAN_ON_PUSH rules; ENHANCED takes SCAN_ON_PUSH and CONTINUOUS_SCAN.
func (s *Server) putRegistryScanningConfiguration(body []byte) (any, *apiError) {
	var in struct {
		ScanType string             `json:"scanType"`
		Rules    []scanningRuleWire `json:"rules"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := enum("scanType", in.ScanType, "BASIC", "ENHANCED"); err != nil {
		return nil, err
	}
	if err := listLength("rules", len(in.Rules), true, 0, maxScanningRules); err != nil {
		return nil, err
	}
	scanType := in.ScanType
	if scanType == "" {
		scanType = "BASIC"
	}
	c := ScanningConfig{ScanType: scanType}
	for i, r := range in.Rules {
		member := fmt.Sprintf("rules.%d.member", i+1)
		if r.ScanFrequency == "" {
			return nil, modelViolation(member+".scanFrequency", "Member must not be null")
		}
		if err := enum(member+".scanFrequency", r.ScanFrequency, "SCAN_ON_PUSH", "CONTINUOUS_SCAN", "MANUAL"); err != nil {
			return nil, err
		}
		if scanType == "BASIC" && r.ScanFrequency != "SCAN_ON_PUSH" {
			return nil, invalidParameter("Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'BASIC scan type supports only the SCAN_ON_PUSH scan frequency'")
		}
		if scanType == "ENHANCED" && r.ScanFrequency == "MANUAL" {
			return nil, invalidParameter("Invalid parameter at 'scanFrequency' failed to satisfy constraint: 'ENHANCED scan type supports the SCAN_ON_PUSH and CONTINUOUS_SCAN scan frequencies'")
		}
		if r.RepositoryFilters == nil {
			return nil, modelViolation(member+".repositoryFilters", "Member must not be null")
		}
		if err := listLength(member+".repositoryFilters", len(r.RepositoryFilters), true, 0, maxScanningFilters); err != nil {
			return nil, err
		}
		rule := ScanningRule{ScanFrequency: r.ScanFrequency}
		for j, f := range r.RepositoryFilters {
			fm := fmt.Sprintf("%s.repositoryFilters.%d.member", member, j+1)
			if f.FilterType != "WILDCARD" {
				return nil, modelViolation(fm+".filterType", "Member must satisfy enum value set: [WILDCARD]")
			}
			if len(f.Filter) < 1 || len(f.Filter) > maxScanningFilterLength || !scanningFilterPattern.MatchString(f.Filter) {
				return nil, modelViolation(fm+".filter", "Member must satisfy regular expression pattern: "+scanningFilterPattern.String())
			}
			rule.Filters = append(rule.Filters, f.Filter)
		}
		c.Rules = append(c.Rules, rule)
	}
	s.scanning = c
	return map[string]any{"registryScanningConfiguration": c.wire()}, nil
}

// batchGetRepositoryScanningConfiguration: BatchGetRepositoryScanningConfiguration. The
// effective setting of a repository is that of the first registry rule whose filters match
// its name, CONTINUOUS_SCAN rules first; else its own scanOnPush (SCAN_ON_PUSH), else
// MANUAL. Unknown repositories fail the call, as ECR does.
func (s *Server) batchGetRepositoryScanningConfiguration(body []byte) (any, *apiError) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("repositoryNames", len(in.RepositoryNames), true, 1, maxScanningRepositoryNames); err != nil {
		return nil, err
	}
	type config struct {
		RepositoryArn      string               `json:"repositoryArn"`
		RepositoryName     string               `json:"repositoryName"`
		ScanOnPush         bool                 `json:"scanOnPush"`
		ScanFrequency      string               `json:"scanFrequency"`
		AppliedScanFilters []scanningFilterWire `json:"appliedScanFilters"`
	}
	out := []config{}
	for _, name := range in.RepositoryNames {
		r, err := s.repository("", name)
		if err != nil {
			return nil, err
		}
		c := config{RepositoryArn: repositoryARN(s.account, name), RepositoryName: name, ScanFrequency: "MANUAL", AppliedScanFilters: []scanningFilterWire{}}
		if r.scanOnPush {
			c.ScanOnPush, c.ScanFrequency = true, "SCAN_ON_PUSH"
		}
		rules := slices.Clone(s.scanning.Rules)
		slices.SortStableFunc(rules, func(a, b ScanningRule) int {
			return boolOrder(b.ScanFrequency == "CONTINUOUS_SCAN") - boolOrder(a.ScanFrequency == "CONTINUOUS_SCAN")
		})
	rules:
		for _, rule := range rules {
			for _, f := range rule.Filters {
				if wildcardMatch(f, name) {
					c.ScanFrequency = rule.ScanFrequency
					c.ScanOnPush = true // both SCAN_ON_PUSH and CONTINUOUS_SCAN scan on push
					for _, g := range rule.Filters {
						c.AppliedScanFilters = append(c.AppliedScanFilters, scanningFilterWire{Filter: g, FilterType: "WILDCARD"})
					}
					break rules
				}
			}
		}
		out = append(out, c)
	}
	return map[string]any{"scanningConfigurations": out, "failures": []any{}}, nil
}

// wildcardMatch reports whether name matches the WILDCARD filter pattern: each * stands for
// any run of characters, the empty one too, and the rest must match exactly, from name's
// first character to its last.
func wildcardMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	head, tail := parts[0], parts[len(parts)-1]
	if len(name) < len(head)+len(tail) || !strings.HasPrefix(name, head) || !strings.HasSuffix(name, tail) {
		return false
	}
	rest := name[len(head) : len(name)-len(tail)]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return true
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// getAuthorizationToken: GetAuthorizationToken, a base64 "AWS:<password>" token valid for
// 12 hours.
func (s *Server) getAuthorizationToken(body []byte) (any, *apiError) {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.serial++
	password := fmt.Sprintf("ecrtest-password-%d", s.serial)
	return map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
		"expiresAt":          ts(s.now().Add(authorizationTokenTTL)),
		"proxyEndpoint":      "https://" + s.Host(),
	}}}, nil
}
