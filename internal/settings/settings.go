// Package settings keeps the settings of Amazon ECR repositories as declared, reading, comparing and writing each setting on its own.
package settings

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/shipshape-dev/shipshape/internal/policy"
	"github.com/shipshape-dev/shipshape/internal/progress"
	registry "github.com/shipshape-dev/shipshape/internal/registry/ecr"
)

// API is the part of the ECR API that Ensure calls; *ecr.Client implements it.
type API interface {
	DescribeRepositories(context.Context, *ecr.DescribeRepositoriesInput, ...func(*ecr.Options)) (*ecr.DescribeRepositoriesOutput, error)
	CreateRepository(context.Context, *ecr.CreateRepositoryInput, ...func(*ecr.Options)) (*ecr.CreateRepositoryOutput, error)
	GetLifecyclePolicy(context.Context, *ecr.GetLifecyclePolicyInput, ...func(*ecr.Options)) (*ecr.GetLifecyclePolicyOutput, error)
	PutLifecyclePolicy(context.Context, *ecr.PutLifecyclePolicyInput, ...func(*ecr.Options)) (*ecr.PutLifecyclePolicyOutput, error)
	PutImageTagMutability(context.Context, *ecr.PutImageTagMutabilityInput, ...func(*ecr.Options)) (*ecr.PutImageTagMutabilityOutput, error)
	PutImageScanningConfiguration(context.Context, *ecr.PutImageScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.PutImageScanningConfigurationOutput, error)
	BatchGetRepositoryScanningConfiguration(context.Context, *ecr.BatchGetRepositoryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.BatchGetRepositoryScanningConfigurationOutput, error)
	GetRegistryScanningConfiguration(context.Context, *ecr.GetRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.GetRegistryScanningConfigurationOutput, error)
	PutRegistryScanningConfiguration(context.Context, *ecr.PutRegistryScanningConfigurationInput, ...func(*ecr.Options)) (*ecr.PutRegistryScanningConfigurationOutput, error)
}

var _ API = (*ecr.Client)(nil)

// Bounds on the calls Ensure makes.
const (
	// Concurrency is how many repositories are reconciled at once. ECR throttles per
	// account and API without published rates; eight keeps a run over hundreds of
	// repositories quick while the SDK's adaptive retry absorbs the throttling.
	Concurrency = 8
	// pageSize is DescribeRepositories' largest page.
	pageSize = 1000
	// maxPages bounds the listing: twice ECR's default quota of 100,000 repositories.
	maxPages = 200
	// scanningBatch is BatchGetRepositoryScanningConfiguration's largest request.
	scanningBatch = 25
)

// Desired is the declared state of one registry's repositories.
type Desired struct {
	// Registry names the registry in the report.
	Registry string
	// RegistryID is the registry's AWS account ID, sent with every repository call; empty
	// means the caller's account. Registry-level settings apply to the caller's account
	// only, so they are not written when it is another.
	RegistryID string
	// Rules declare settings by repository name pattern. When several match a repository, a
	// later rule's setting overrides an earlier one's, setting by setting.
	Rules []Rule
	// RegistryScanning, when set, is the registry's scanning configuration.
	RegistryScanning *RegistryScanning
	// Only limits the run to these repository names (exact); empty means every repository
	// a rule matches.
	Only []string
	// DryRun reads and compares every setting but writes nothing: what would be written is
	// reported as WouldUpdate or WouldCreate.
	DryRun bool
}

// Rule declares the settings of the repositories whose names match Patterns. Nil settings
// are left as they are.
type Rule struct {
	// Patterns are repository names in which '*' matches any run of characters.
	Patterns []string
	// Create creates the repositories Patterns names literally (without '*') when missing,
	// with the settings declared for them.
	Create     bool
	Lifecycle  *Lifecycle
	Mutability *Mutability
	ScanOnPush *bool
	Encryption *Encryption
}

// Lifecycle is a lifecycle policy: its text, sent as it is, and its parsed form, compared
// normalised.
type Lifecycle struct {
	// Source names the policy in the report (its file).
	Source string
	Text   string
	Policy *policy.Policy
}

// Mutability is a repository's tag mutability.
type Mutability struct {
	// Mode is MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION.
	Mode string
	// Exclusions are the tag filters of the *_WITH_EXCLUSION modes, compared as a set.
	Exclusions []string
}

// Encryption is a repository's encryption; it can be set only when the repository is created.
type Encryption struct {
	// Type is AES256, KMS or KMS_DSSE.
	Type string
	// KMSKey is a key ARN, key ID or alias; empty means any key (the AWS managed key when
	// creating). An alias is not resolved, so only the type is compared.
	KMSKey string
}

// RegistryScanning is a registry's scanning configuration.
type RegistryScanning struct {
	// ScanType is BASIC (when empty) or ENHANCED.
	ScanType string
	Rules    []ScanningRule
}

// ScanningRule scans the repositories matching Filters at Frequency.
type ScanningRule struct {
	Frequency string
	Filters   []string
}

// Setting names what an outcome is about.
type Setting string

// Settings, in report order.
const (
	SettingRegistryScanning Setting = "registryScanning"
	SettingRepository       Setting = "repository"
	SettingLifecyclePolicy  Setting = "lifecyclePolicy"
	SettingTagMutability    Setting = "tagMutability"
	SettingScanOnPush       Setting = "scanOnPush"
	SettingEncryption       Setting = "encryption"
)

var settingOrder = []Setting{SettingRegistryScanning, SettingRepository, SettingLifecyclePolicy, SettingTagMutability, SettingScanOnPush, SettingEncryption}

// Status is what became of one setting.
type Status string

// Statuses.
const (
	// Unchanged: the setting was already as declared; nothing was written.
	Unchanged Status = "unchanged"
	// Updated: the setting differed and was written.
	Updated Status = "updated"
	// Created: the repository was created, with the setting.
	Created Status = "created"
	// Failed: reading or writing the setting failed; Reason says why. The next run retries.
	Failed Status = "failed"
	// Drifted: the setting differs and shipshape does not change it; Reason says why.
	Drifted Status = "drifted"
	// WouldUpdate and WouldCreate are Updated and Created in a dry run: nothing was written.
	WouldUpdate Status = "wouldUpdate"
	WouldCreate Status = "wouldCreate"
)

// Statuses lists every status, in report order.
var Statuses = []Status{Unchanged, Updated, Created, Failed, Drifted, WouldUpdate, WouldCreate}

// Outcome is what became of one setting of one repository, or of the registry.
type Outcome struct {
	Registry string `json:"registry"`
	// Repository is empty for registry-level settings.
	Repository string  `json:"repository,omitempty"`
	Setting    Setting `json:"setting"`
	Status     Status  `json:"status"`
	// Detail is the state found and, when written, the state set: "MUTABLE → IMMUTABLE".
	Detail string `json:"detail,omitempty"`
	// Reason explains a failure (the ECR API's error) or a drift.
	Reason string `json:"reason,omitempty"`
}

// Report is the outcome of every setting in a run, and the failures outside any one setting.
type Report struct {
	Outcomes []Outcome `json:"outcomes"`
	// Errors are failures that concern no single setting, such as a registry that could
	// not be listed; every setting they hide is retried by the next run.
	Errors []string `json:"errors,omitempty"`
}

// Count returns how many outcomes have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}

// Failed reports whether anything failed: a setting, or the run itself.
func (r Report) Failed() bool { return r.Count(Failed) > 0 || len(r.Errors) > 0 }

// Append adds another registry's report.
func (r *Report) Append(o Report) {
	r.Outcomes = append(r.Outcomes, o.Outcomes...)
	r.Errors = append(r.Errors, o.Errors...)
}

// Matches reports whether a rule declares settings for the repository name.
func (d Desired) Matches(name string) bool {
	for _, r := range d.Rules {
		if r.matches(name) {
			return true
		}
	}
	return false
}

func (r Rule) matches(name string) bool {
	for _, p := range r.Patterns {
		if policy.MatchTag(p, name) { // ECR's '*' wildcards, as in scanning filters
			return true
		}
	}
	return false
}

// want is the merged declaration for one repository.
type want struct {
	create     bool
	lifecycle  *Lifecycle
	mutability *Mutability
	scanOnPush *bool
	encryption *Encryption
}

func (d Desired) want(name string) want {
	var w want
	for _, r := range d.Rules {
		if !r.matches(name) {
			continue
		}
		if r.Create && slices.Contains(r.Patterns, name) {
			w.create = true
		}
		w.lifecycle = cmp.Or(r.Lifecycle, w.lifecycle)
		w.mutability = cmp.Or(r.Mutability, w.mutability)
		w.scanOnPush = cmp.Or(r.ScanOnPush, w.scanOnPush)
		w.encryption = cmp.Or(r.Encryption, w.encryption)
	}
	return w
}

// literals returns the names the rules give without wildcards, sorted.
func (d Desired) literals() []string {
	var names []string
	for _, r := range d.Rules {
		for _, p := range r.Patterns {
			if !strings.Contains(p, "*") {
				names = append(names, p)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (d Desired) hasWildcards() bool {
	for _, r := range d.Rules {
		for _, p := range r.Patterns {
			if strings.Contains(p, "*") {
				return true
			}
		}
	}
	return false
}

// target is one repository to reconcile: found by the listing (repo set), known to be
// missing (listed and repo nil), or to be described first (not listed).
type target struct {
	name   string
	repo   *types.Repository
	listed bool
}

// EnsureIn loads the AWS configuration of acct (see the ECR backend's LoadAWSConfig) and ensures d in the
// registry it reaches.
// pr, when not nil, is told how many repositories are done.
func EnsureIn(ctx context.Context, acct registry.Account, d Desired, pr progress.Reporter) (Report, error) {
	cfg, err := registry.LoadAWSConfig(ctx, acct)
	if err != nil {
		return Report{}, err
	}
	return ensure(ctx, ecr.NewFromConfig(cfg), d, progress.OrNop(pr)), nil
}

// Ensure brings the registry's repositories to the desired state, setting by setting: each
// setting is read, compared with its declaration and written only when it differs, and one
// setting failing never stops another. Repositories are reconciled Concurrency at a time;
// the report lists the registry's settings first, then repositories by name, each setting
// in a fixed order.
func Ensure(ctx context.Context, api API, d Desired) Report {
	return ensure(ctx, api, d, progress.Nop{})
}

func ensure(ctx context.Context, api API, d Desired, pr progress.Reporter) Report {
	if d.DryRun {
		api = &dryRun{API: api, created: map[string]bool{}, scanOnPush: map[string]bool{}}
	}
	e := &ensurer{api: api, d: d}
	var rep Report
	registryChanges := false
	if d.RegistryScanning != nil {
		o := e.registryScanning(ctx)
		registryChanges = o.Status == Updated
		rep.Outcomes = append(rep.Outcomes, o)
	}
	pr.Phase("repositories of "+d.Registry, 0, 0)
	targets, err := e.targets(ctx)
	pr.Phase("settings of "+d.Registry, 0, len(targets))
	defer pr.End()
	if err != nil {
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s: listing repositories: %s", d.Registry, reason(err)))
	}
	results := make([][]Outcome, len(targets))
	sem := make(chan struct{}, Concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = e.repository(ctx, t)
			pr.Add(1)
		}()
	}
	wg.Wait()
	outs := slices.Concat(results...)
	// In a dry run the registry's scanning configuration is still the old one, so what
	// would be in effect after the run cannot be read.
	if !(d.DryRun && registryChanges) {
		e.effectiveScanning(ctx, outs)
	}
	slices.SortStableFunc(outs, func(a, b Outcome) int {
		return cmp.Or(strings.Compare(a.Repository, b.Repository),
			cmp.Compare(slices.Index(settingOrder, a.Setting), slices.Index(settingOrder, b.Setting)))
	})
	rep.Outcomes = append(rep.Outcomes, outs...)
	if d.DryRun {
		for i, o := range rep.Outcomes {
			switch o.Status {
			case Updated:
				rep.Outcomes[i].Status = WouldUpdate
			case Created:
				rep.Outcomes[i].Status = WouldCreate
			}
		}
	}
	return rep
}

// Changes counts the settings a run wrote, or in a dry run would write.
func (r Report) Changes() int {
	return r.Count(Updated) + r.Count(Created) + r.Count(WouldUpdate) + r.Count(WouldCreate)
}

type ensurer struct {
	api API
	d   Desired
}

func (e *ensurer) registryID() *string {
	if e.d.RegistryID == "" {
		return nil
	}
	return aws.String(e.d.RegistryID)
}

// targets finds the repositories to reconcile. Named repositories (Only, or rules without
// wildcards) are described one by one when reconciled; otherwise the registry is listed, and
// an error is the listing's, with the repositories found before it.
func (e *ensurer) targets(ctx context.Context) ([]target, error) {
	if len(e.d.Only) > 0 || !e.d.hasWildcards() {
		names := e.d.literals()
		if len(e.d.Only) > 0 {
			names = nil
			for _, n := range e.d.Only {
				if e.d.Matches(n) && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			slices.Sort(names)
		}
		targets := make([]target, len(names))
		for i, n := range names {
			targets[i] = target{name: n}
		}
		return targets, nil
	}
	var targets []target
	found := map[string]bool{}
	var token *string
	for page := 0; ; page++ {
		if page == maxPages {
			return targets, fmt.Errorf("more than %d pages of %d; the rest are not reconciled", maxPages, pageSize)
		}
		out, err := e.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
			RegistryId: e.registryID(), MaxResults: aws.Int32(pageSize), NextToken: token,
		})
		if err != nil {
			return targets, err
		}
		for i := range out.Repositories {
			r := &out.Repositories[i]
			name := aws.ToString(r.RepositoryName)
			if e.d.Matches(name) && !found[name] {
				found[name] = true
				targets = append(targets, target{name: name, repo: r, listed: true})
			}
		}
		if token = out.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	for _, n := range e.d.literals() {
		if !found[n] {
			targets = append(targets, target{name: n, listed: true})
		}
	}
	return targets, nil
}

// repository reconciles one repository: creates it when missing and declared so, then
// each declared setting on its own.
func (e *ensurer) repository(ctx context.Context, t target) []Outcome {
	w := e.d.want(t.name)
	out := func(s Setting, st Status, detail, why string) Outcome {
		return Outcome{Registry: e.d.Registry, Repository: t.name, Setting: s, Status: st, Detail: detail, Reason: why}
	}
	repo := t.repo
	if repo == nil && !t.listed {
		got, err := e.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{
			RegistryId: e.registryID(), RepositoryNames: []string{t.name},
		})
		switch {
		case isCode(err, "RepositoryNotFoundException"):
		case err != nil:
			return []Outcome{out(SettingRepository, Failed, "reading the repository", reason(err))}
		case len(got.Repositories) == 0:
		default:
			repo = &got.Repositories[0]
		}
	}
	created := false
	if repo == nil {
		if !w.create {
			return []Outcome{out(SettingRepository, Failed, "missing",
				"the repository does not exist; shipshape creates it only when an entry with create: true names it without wildcards")}
		}
		r, made, o, err := e.create(ctx, t.name, w)
		if err != nil {
			return []Outcome{o}
		}
		repo, created = r, made
	}
	var outs []Outcome
	if created {
		outs = append(outs, out(SettingRepository, Created, createdDetail(w), ""))
	}
	if w.lifecycle != nil {
		outs = append(outs, e.lifecycle(ctx, t.name, w.lifecycle, created))
	}
	if w.mutability != nil {
		outs = append(outs, e.mutability(ctx, t.name, repo, w.mutability))
	}
	if w.scanOnPush != nil {
		outs = append(outs, e.scanOnPush(ctx, t.name, repo, *w.scanOnPush))
	}
	if w.encryption != nil {
		outs = append(outs, encryption(repo, w.encryption))
	}
	for i := range outs {
		outs[i].Registry, outs[i].Repository = e.d.Registry, t.name
		// What a new repository was created with, or was given right after, is created.
		if created && (outs[i].Status == Unchanged || outs[i].Status == Updated) {
			outs[i].Status = Created
		}
	}
	if len(outs) == 0 {
		outs = append(outs, out(SettingRepository, Unchanged, "exists", ""))
	}
	return outs
}

// create creates a repository with its declared mutability, scanning and encryption, and
// reports whether it did: a repository created meanwhile (by a push) is described instead,
// and reconciled as any other.
func (e *ensurer) create(ctx context.Context, name string, w want) (*types.Repository, bool, Outcome, error) {
	in := &ecr.CreateRepositoryInput{RepositoryName: aws.String(name), RegistryId: e.registryID()}
	if m := w.mutability; m != nil {
		in.ImageTagMutability = types.ImageTagMutability(m.Mode)
		in.ImageTagMutabilityExclusionFilters = exclusionFilters(m)
	}
	if w.scanOnPush != nil {
		in.ImageScanningConfiguration = &types.ImageScanningConfiguration{ScanOnPush: *w.scanOnPush}
	}
	if c := w.encryption; c != nil {
		in.EncryptionConfiguration = &types.EncryptionConfiguration{EncryptionType: types.EncryptionType(c.Type)}
		if c.KMSKey != "" {
			in.EncryptionConfiguration.KmsKey = aws.String(c.KMSKey)
		}
	}
	fail := func(err error) (*types.Repository, bool, Outcome, error) {
		return nil, false, Outcome{Registry: e.d.Registry, Repository: name, Setting: SettingRepository, Status: Failed,
			Detail: "creating " + createdDetail(w), Reason: reason(err)}, err
	}
	got, err := e.api.CreateRepository(ctx, in)
	if isCode(err, "RepositoryAlreadyExistsException") {
		d, derr := e.api.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RegistryId: e.registryID(), RepositoryNames: []string{name}})
		if derr != nil {
			return fail(derr)
		}
		if len(d.Repositories) == 0 {
			return fail(err)
		}
		return &d.Repositories[0], false, Outcome{}, nil
	}
	if err != nil {
		return fail(err)
	}
	if got.Repository == nil {
		return fail(errors.New("CreateRepository returned no repository"))
	}
	return got.Repository, true, Outcome{}, nil
}

func createdDetail(w want) string {
	var parts []string
	if m := w.mutability; m != nil {
		parts = append(parts, mutabilityString(m.Mode, m.Exclusions))
	}
	if w.scanOnPush != nil {
		parts = append(parts, fmt.Sprintf("scanOnPush %t", *w.scanOnPush))
	}
	if c := w.encryption; c != nil {
		parts = append(parts, encryptionString(c.Type, c.KMSKey))
	}
	if len(parts) == 0 {
		return "with ECR's defaults"
	}
	return "with " + strings.Join(parts, ", ")
}

// lifecycle reconciles the lifecycle policy. ECR returns the text reordered and compacted,
// so the policies are compared normalised. fresh skips the read: a new repository has none.
func (e *ensurer) lifecycle(ctx context.Context, name string, want *Lifecycle, fresh bool) Outcome {
	o := Outcome{Setting: SettingLifecyclePolicy}
	was := "none"
	if !fresh {
		got, err := e.api.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RegistryId: e.registryID(), RepositoryName: aws.String(name)})
		switch {
		case isCode(err, "LifecyclePolicyNotFoundException"):
		case err != nil:
			o.Status, o.Detail, o.Reason = Failed, "reading the lifecycle policy", reason(err)
			return o
		default:
			was = "a different policy"
			if policy.Holds(aws.ToString(got.LifecyclePolicyText), want.Policy) {
				o.Status, o.Detail = Unchanged, "same as "+want.Source
				return o
			}
		}
	}
	o.Detail = was + " → " + want.Source
	_, err := e.api.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
		RegistryId: e.registryID(), RepositoryName: aws.String(name), LifecyclePolicyText: aws.String(strings.TrimSpace(want.Text)),
	})
	if err != nil {
		o.Status, o.Reason = Failed, reason(err)
		return o
	}
	o.Status = Updated
	return o
}

// mutability reconciles tag mutability; exclusion filters compare as a set.
func (e *ensurer) mutability(ctx context.Context, name string, repo *types.Repository, want *Mutability) Outcome {
	o := Outcome{Setting: SettingTagMutability}
	mode := string(repo.ImageTagMutability)
	if mode == "" {
		mode = string(types.ImageTagMutabilityMutable)
	}
	var have []string
	for _, f := range repo.ImageTagMutabilityExclusionFilters {
		have = append(have, aws.ToString(f.Filter))
	}
	wantFilters := want.Exclusions
	if !strings.HasSuffix(want.Mode, "_WITH_EXCLUSION") {
		wantFilters = nil
	}
	if mode == want.Mode && sameSet(have, wantFilters) {
		o.Status, o.Detail = Unchanged, mutabilityString(mode, have)
		return o
	}
	o.Detail = mutabilityString(mode, have) + " → " + mutabilityString(want.Mode, wantFilters)
	_, err := e.api.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RegistryId: e.registryID(), RepositoryName: aws.String(name),
		ImageTagMutability:                 types.ImageTagMutability(want.Mode),
		ImageTagMutabilityExclusionFilters: exclusionFilters(want),
	})
	if err != nil {
		o.Status, o.Reason = Failed, reason(err)
		return o
	}
	o.Status = Updated
	return o
}

// exclusionFilters are sent only with the *_WITH_EXCLUSION modes.
func exclusionFilters(m *Mutability) []types.ImageTagMutabilityExclusionFilter {
	if !strings.HasSuffix(m.Mode, "_WITH_EXCLUSION") {
		return nil
	}
	out := make([]types.ImageTagMutabilityExclusionFilter, len(m.Exclusions))
	for i, f := range m.Exclusions {
		out[i] = types.ImageTagMutabilityExclusionFilter{Filter: aws.String(f), FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard}
	}
	return out
}

func mutabilityString(mode string, filters []string) string {
	if len(filters) == 0 {
		return mode
	}
	filters = slices.Clone(filters)
	slices.Sort(filters)
	return mode + " (" + strings.Join(filters, ", ") + ")"
}

// scanOnPush reconciles the repository-level scan-on-push flag. Whether it takes effect is
// checked afterwards against the effective configuration (effectiveScanning).
func (e *ensurer) scanOnPush(ctx context.Context, name string, repo *types.Repository, want bool) Outcome {
	o := Outcome{Setting: SettingScanOnPush}
	have := repo.ImageScanningConfiguration != nil && repo.ImageScanningConfiguration.ScanOnPush
	if have == want {
		o.Status, o.Detail = Unchanged, fmt.Sprint(want)
		return o
	}
	o.Detail = fmt.Sprintf("%t → %t", have, want)
	_, err := e.api.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RegistryId: e.registryID(), RepositoryName: aws.String(name),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: want},
	})
	if err != nil {
		o.Status, o.Reason = Failed, reason(err)
		return o
	}
	o.Status = Updated
	return o
}

// effectiveScanning reads, in batches, the scanning configuration in effect for every
// repository whose scanOnPush was reconciled, and reports as drifted those where the
// registry's configuration overrides the flag.
func (e *ensurer) effectiveScanning(ctx context.Context, outs []Outcome) {
	var idx []int
	for i, o := range outs {
		if o.Setting == SettingScanOnPush && o.Status != Failed {
			idx = append(idx, i)
		}
	}
	for len(idx) > 0 {
		batch := idx[:min(scanningBatch, len(idx))]
		idx = idx[len(batch):]
		names := make([]string, len(batch))
		for j, i := range batch {
			names[j] = outs[i].Repository
		}
		got, err := e.api.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: names})
		if err != nil {
			for _, i := range batch {
				outs[i].Status, outs[i].Reason = Failed, "reading the scanning configuration in effect: "+reason(err)
			}
			continue
		}
		effective := map[string]types.RepositoryScanningConfiguration{}
		for _, c := range got.ScanningConfigurations {
			effective[aws.ToString(c.RepositoryName)] = c
		}
		failures := map[string]string{}
		for _, f := range got.Failures {
			failures[aws.ToString(f.RepositoryName)] = string(f.FailureCode) + ": " + aws.ToString(f.FailureReason)
		}
		for _, i := range batch {
			o := &outs[i]
			c, ok := effective[o.Repository]
			if !ok {
				o.Status, o.Reason = Failed, "reading the scanning configuration in effect: "+cmp.Or(failures[o.Repository], "not returned")
				continue
			}
			if want := e.d.want(o.Repository).scanOnPush; want != nil && c.ScanOnPush != *want {
				o.Status = Drifted
				o.Reason = fmt.Sprintf("the registry's scanning configuration overrides the repository's scanOnPush (in effect: scanOnPush %t, scan frequency %s); declare registryScanning to change it",
					c.ScanOnPush, cmp.Or(string(c.ScanFrequency), "MANUAL"))
			}
		}
	}
}

// encryption compares the repository's encryption; it cannot be changed, so it is never written.
func encryption(repo *types.Repository, want *Encryption) Outcome {
	o := Outcome{Setting: SettingEncryption}
	haveType, haveKey := string(types.EncryptionTypeAes256), ""
	if c := repo.EncryptionConfiguration; c != nil {
		haveType, haveKey = cmp.Or(string(c.EncryptionType), haveType), aws.ToString(c.KmsKey)
	}
	have := encryptionString(haveType, haveKey)
	if haveType == want.Type && sameKey(want.KMSKey, haveKey) {
		o.Status, o.Detail = Unchanged, have
		return o
	}
	o.Status = Drifted
	o.Detail = have + ", declared " + encryptionString(want.Type, want.KMSKey)
	o.Reason = "encryption cannot be changed after a repository is created; recreate it to change"
	return o
}

func encryptionString(typ, key string) string {
	if key == "" {
		return typ
	}
	return typ + " " + key
}

// sameKey compares a declared KMS key (ARN, ID or alias) with the key ARN ECR reports. An
// alias cannot be resolved without KMS, so it matches any key.
func sameKey(want, have string) bool {
	switch {
	case want == "" || want == have:
		return true
	case strings.HasPrefix(want, "alias/") || strings.Contains(want, ":alias/"):
		return true
	case !strings.HasPrefix(want, "arn:"):
		return strings.HasSuffix(have, ":key/"+want)
	}
	return false
}

// registryScanning reconciles the registry's scanning configuration: scan type, and rules
// compared as a set of frequencies each with a set of filters.
func (e *ensurer) registryScanning(ctx context.Context) Outcome {
	o := Outcome{Registry: e.d.Registry, Setting: SettingRegistryScanning}
	want := normalScanning(e.d.RegistryScanning)
	got, err := e.api.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil {
		o.Status, o.Detail, o.Reason = Failed, "reading the registry's scanning configuration", reason(err)
		return o
	}
	if id := aws.ToString(got.RegistryId); e.d.RegistryID != "" && id != "" && id != e.d.RegistryID {
		o.Status, o.Detail = Failed, "not written"
		o.Reason = fmt.Sprintf("the credentials reach registry %s, not %s; registry-level settings apply to the caller's own account", id, e.d.RegistryID)
		return o
	}
	have := RegistryScanning{}
	if c := got.ScanningConfiguration; c != nil {
		have.ScanType = string(c.ScanType)
		for _, r := range c.Rules {
			rule := ScanningRule{Frequency: string(r.ScanFrequency)}
			for _, f := range r.RepositoryFilters {
				rule.Filters = append(rule.Filters, aws.ToString(f.Filter))
			}
			have.Rules = append(have.Rules, rule)
		}
	}
	have = normalScanning(&have)
	if scanningString(have) == scanningString(want) {
		o.Status, o.Detail = Unchanged, scanningString(want)
		return o
	}
	o.Detail = scanningString(have) + " → " + scanningString(want)
	in := &ecr.PutRegistryScanningConfigurationInput{ScanType: types.ScanType(want.ScanType), Rules: []types.RegistryScanningRule{}}
	for _, r := range want.Rules {
		rule := types.RegistryScanningRule{ScanFrequency: types.ScanFrequency(r.Frequency)}
		for _, f := range r.Filters {
			rule.RepositoryFilters = append(rule.RepositoryFilters, types.ScanningRepositoryFilter{Filter: aws.String(f), FilterType: types.ScanningRepositoryFilterTypeWildcard})
		}
		in.Rules = append(in.Rules, rule)
	}
	if _, err := e.api.PutRegistryScanningConfiguration(ctx, in); err != nil {
		o.Status, o.Reason = Failed, reason(err)
		return o
	}
	o.Status = Updated
	return o
}

// normalScanning sorts rules and filters, drops duplicates and spells the default scan type.
func normalScanning(s *RegistryScanning) RegistryScanning {
	out := RegistryScanning{ScanType: cmp.Or(s.ScanType, string(types.ScanTypeBasic))}
	for _, r := range s.Rules {
		f := slices.Clone(r.Filters)
		slices.Sort(f)
		out.Rules = append(out.Rules, ScanningRule{Frequency: r.Frequency, Filters: slices.Compact(f)})
	}
	slices.SortFunc(out.Rules, func(a, b ScanningRule) int { return strings.Compare(a.Frequency, b.Frequency) })
	return out
}

func scanningString(s RegistryScanning) string {
	if len(s.Rules) == 0 {
		return s.ScanType + ", no rules"
	}
	rules := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		rules[i] = r.Frequency + " (" + strings.Join(r.Filters, ", ") + ")"
	}
	return s.ScanType + ": " + strings.Join(rules, "; ")
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// isCode reports whether err is the ECR API error with the given code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// reason is the ECR API's error as the report gives it: operation, code and message.
func reason(err error) string {
	var ae smithy.APIError
	if registry.NoCredentials(err) {
		return registry.NoCredentialsHelp
	}
	if !errors.As(err, &ae) {
		return err.Error()
	}
	msg := ae.ErrorCode()
	if m := ae.ErrorMessage(); m != "" {
		msg += ": " + m
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		msg = oe.Operation() + ": " + msg
	}
	return msg
}
