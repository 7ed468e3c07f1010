package ecrtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

// Bounds of the lifecycle APIs, from the ECR API model and ECR's service quotas.
const (
	defaultPreviewPage = 100    // GetLifecyclePolicyPreview without maxResults
	maxPreviewPage     = 100    // GetLifecyclePolicyPreview maxResults
	minPolicyText      = 100    // lifecyclePolicyText, in UTF-16 code units
	maxPolicyText      = 30_720 // lifecyclePolicyText; also the quota "Lifecycle policy length"
	maxRules           = 50     // the quota "Rules per lifecycle policy", not adjustable
)

// Lifecycle policy preview statuses, and the actions a preview reports.
const (
	previewInProgress = "IN_PROGRESS"
	previewComplete   = "COMPLETE"
	actionExpire      = "EXPIRE"
	actionTransition  = "TRANSITION"
)

// PreviewResult is one image a lifecycle policy preview acts on, as a test scripts it with
// SetPreview.
type PreviewResult struct {
	Digest string
	// Action is EXPIRE, or TRANSITION (to the archive storage class).
	Action string
	// RulePriority is the priority of the rule that acts on the image.
	RulePriority int
}

// SetPreview scripts the answer of repo's lifecycle policy previews: every preview started
// from now on, whatever the policy text, reports results, with the tags, push time and
// storage class each image has when the preview starts. An image no longer in the
// repository by then is left out. Without a script a preview acts on no image.
//
// The server evaluates no lifecycle policy: the test says what ECR would do, derived from
// ECR's documentation, so that the code under test is checked against something other than
// itself. SetPreview fails the test if repo does not exist, or a result names an image repo
// does not hold, names one twice, or has an unknown action or a priority below 1.
func (s *Server) SetPreview(repo string, results []PreviewResult) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		s.t.Fatalf("ecrtest: SetPreview: no repository %s", repo)
	}
	seen := make(map[string]bool, len(results))
	for _, pr := range results {
		switch {
		case r.images[pr.Digest] == nil:
			s.t.Fatalf("ecrtest: SetPreview(%s): no image %s", repo, pr.Digest)
		case seen[pr.Digest]:
			s.t.Fatalf("ecrtest: SetPreview(%s): image %s listed twice", repo, pr.Digest)
		case pr.Action != actionExpire && pr.Action != actionTransition:
			s.t.Fatalf("ecrtest: SetPreview(%s): action %q of %s is neither %s nor %s", repo, pr.Action, pr.Digest, actionExpire, actionTransition)
		case pr.RulePriority < 1:
			s.t.Fatalf("ecrtest: SetPreview(%s): rule priority %d of %s is below 1", repo, pr.RulePriority, pr.Digest)
		}
		seen[pr.Digest] = true
	}
	r.script = slices.Clone(results)
	slices.SortFunc(r.script, func(a, b PreviewResult) int { return strings.Compare(a.Digest, b.Digest) })
}

// HoldPreviews keeps repo's lifecycle policy preview, the one in progress or the next to
// start, IN_PROGRESS until ReleasePreviews: GetLifecyclePolicyPreview reports it without
// results, and StartLifecyclePolicyPreview refuses another with
// LifecyclePolicyPreviewInProgressException. It fails the test if repo does not exist.
func (s *Server) HoldPreviews(repo string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		s.t.Fatalf("ecrtest: HoldPreviews: no repository %s", repo)
	}
	r.holdPreviews = true
}

// ReleasePreviews ends HoldPreviews: a preview of repo in progress is COMPLETE at once, and
// later previews run as usual. It fails the test if repo does not exist.
func (s *Server) ReleasePreviews(repo string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[repo]
	if !ok {
		s.t.Fatalf("ecrtest: ReleasePreviews: no repository %s", repo)
	}
	r.holdPreviews = false
	if r.preview != nil && r.preview.status == previewInProgress {
		r.preview.status = previewComplete
	}
}

// preview is a repository's latest lifecycle policy preview.
type preview struct {
	text    string
	status  string
	results []previewResult // ordered by digest
}

type previewAction struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

type previewResult struct {
	ImageTags           []string      `json:"imageTags,omitempty"`
	ImageDigest         string        `json:"imageDigest"`
	ImagePushedAt       *epoch        `json:"imagePushedAt,omitempty"`
	Action              previewAction `json:"action"`
	AppliedRulePriority int           `json:"appliedRulePriority"`
	StorageClass        string        `json:"storageClass"`
}

// checkPolicyText validates policy text as PutLifecyclePolicy does, up to a point: the API
// model's length bounds, then the shape of the policy JSON (see policyShapeError). ECR's
// further rules (unique priorities, an "any" rule last, tag lists only with "tagged", which
// count types go with which actions and storage classes) are not checked.
func checkPolicyText(member, text string) *apiError {
	n := len(utf16.Encode([]rune(text))) // the model counts UTF-16 code units
	switch {
	case n < minPolicyText:
		return modelViolation(member, fmt.Sprintf("Member must have length greater than or equal to %d", minPolicyText))
	case n > maxPolicyText:
		return modelViolation(member, fmt.Sprintf("Member must have length less than or equal to %d", maxPolicyText))
	}
	if msg := policyShapeError([]byte(text)); msg != "" {
		return invalidParameter("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", msg)
	}
	return nil
}

// policyShapeError returns the first way text departs from the lifecycle policy template of
// ECR's documentation, as "path: complaint", or "" if it does not: one JSON object whose
// only member is a list of 1 to 50 rules; each rule with rulePriority, selection and action
// and an optional string description; a selection with a known tagStatus and countType and
// a positive countNumber; an action whose type is expire or transition; no member the
// template does not name.
func policyShapeError(text []byte) string {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "the policy is not valid JSON: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return "the policy is not valid JSON: text after the policy object"
	}
	var c shapeCheck
	top := c.object("policy", doc, "rules")
	rules, ok := top["rules"].([]any)
	switch {
	case c.msg != "":
	case !ok:
		c.fail("rules", "required, a list of rules")
	case len(rules) == 0:
		c.fail("rules", "at least one rule is required")
	case len(rules) > maxRules:
		c.fail("rules", "%d rules, more than the %d allowed", len(rules), maxRules)
	}
	for i, v := range rules {
		path := fmt.Sprintf("rules[%d]", i)
		rule := c.object(path, v, "rulePriority", "description", "selection", "action")
		c.positive(path+".rulePriority", rule["rulePriority"])
		if d, ok := rule["description"]; ok {
			if _, ok := d.(string); !ok {
				c.fail(path+".description", "must be a string")
			}
		}
		sel := c.object(path+".selection", rule["selection"],
			"tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber")
		c.oneOf(path+".selection.tagStatus", sel["tagStatus"], "tagged", "untagged", "any")
		c.oneOf(path+".selection.countType", sel["countType"], "imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
		c.positive(path+".selection.countNumber", sel["countNumber"])
		act := c.object(path+".action", rule["action"], "type", "targetStorageClass")
		c.oneOf(path+".action.type", act["type"], "expire", "transition")
	}
	return c.msg
}

// shapeCheck keeps the first complaint of policyShapeError.
type shapeCheck struct{ msg string }

func (c *shapeCheck) fail(path, format string, args ...any) {
	if c.msg == "" {
		c.msg = path + ": " + fmt.Sprintf(format, args...)
	}
}

// object returns v as a JSON object whose members are all among keys; nil after a
// complaint.
func (c *shapeCheck) object(path string, v any, keys ...string) map[string]any {
	m, ok := v.(map[string]any)
	switch {
	case v == nil:
		c.fail(path, "required, an object")
		return nil
	case !ok:
		c.fail(path, "must be an object")
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			c.fail(path, "unknown member %q", k)
			return nil
		}
	}
	return m
}

func (c *shapeCheck) oneOf(path string, v any, values ...string) {
	s, ok := v.(string)
	switch {
	case v == nil:
		c.fail(path, "required, one of %s", strings.Join(values, ", "))
	case !ok || !slices.Contains(values, s):
		c.fail(path, "%s is not one of %s", jsonText(v), strings.Join(values, ", "))
	}
}

func (c *shapeCheck) positive(path string, v any) {
	n, ok := v.(json.Number)
	if v == nil {
		c.fail(path, "required, a positive integer")
		return
	}
	if i, err := n.Int64(); !ok || err != nil || i < 1 {
		c.fail(path, "%s is not a positive integer", jsonText(v))
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v) // values decoded from JSON
	return string(b)
}

// storedPolicyText renders a policy as GetLifecyclePolicy returns it: compact JSON with the
// rules ordered by priority. Text of another shape (set directly with CreateRepository) is
// only compacted, or returned as it is if it is not JSON.
func storedPolicyText(text string) string {
	var buf bytes.Buffer
	if json.Compact(&buf, []byte(text)) != nil {
		return text
	}
	compact := buf.String()
	var doc map[string][]json.RawMessage
	if json.Unmarshal([]byte(text), &doc) != nil || len(doc) != 1 || doc["rules"] == nil {
		return compact
	}
	priority := func(raw json.RawMessage) float64 {
		var r struct {
			RulePriority float64 `json:"rulePriority"`
		}
		_ = json.Unmarshal(raw, &r) // a rule without a number sorts first
		return r.RulePriority
	}
	slices.SortStableFunc(doc["rules"], func(a, b json.RawMessage) int { return cmp.Compare(priority(a), priority(b)) })
	buf.Reset()
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(doc) != nil {
		return compact
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// getLifecyclePolicy: GetLifecyclePolicy. The text comes back compact and with its rules
// reordered by priority, as ECR returns it, not as it was put.
func (s *Server) getLifecyclePolicy(body []byte) (any, *apiError) {
	r, err := s.repositoryIn(body)
	if err != nil {
		return nil, err
	}
	if r.policy == "" {
		return nil, lifecyclePolicyNotFound(r)
	}
	return map[string]any{
		"registryId":          r.account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": storedPolicyText(r.policy),
		"lastEvaluatedAt":     ts(r.lastEvaluated),
	}, nil
}

func lifecyclePolicyNotFound(r *repository) *apiError {
	return &apiError{
		code:    "LifecyclePolicyNotFoundException",
		message: fmt.Sprintf("Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.name, r.account),
	}
}

// putLifecyclePolicy: PutLifecyclePolicy, checking the text's length and shape (checkPolicyText).
func (s *Server) putLifecyclePolicy(body []byte) (any, *apiError) {
	var in struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := checkPolicyText("lifecyclePolicyText", in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	r.policy = in.LifecyclePolicyText
	return map[string]any{
		"registryId":          r.account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": in.LifecyclePolicyText,
	}, nil
}

// deleteLifecyclePolicy: DeleteLifecyclePolicy.
func (s *Server) deleteLifecyclePolicy(body []byte) (any, *apiError) {
	r, err := s.repositoryIn(body)
	if err != nil {
		return nil, err
	}
	if r.policy == "" {
		return nil, lifecyclePolicyNotFound(r)
	}
	out := map[string]any{
		"registryId":          r.account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": storedPolicyText(r.policy),
		"lastEvaluatedAt":     ts(r.lastEvaluated),
	}
	r.policy, r.lastEvaluated = "", time.Time{}
	return out, nil
}

// startLifecyclePolicyPreview: StartLifecyclePolicyPreview, of the text given or else the
// repository's policy. The preview reports what the test scripted with SetPreview, over the
// repository as it is when the preview starts. It is IN_PROGRESS to the first
// GetLifecyclePolicyPreview call and COMPLETE from then on, or, while the test holds the
// repository's previews (HoldPreviews), until the test releases them. While it is in
// progress another preview of the repository is refused with
// LifecyclePolicyPreviewInProgressException.
func (s *Server) startLifecyclePolicyPreview(body []byte) (any, *apiError) {
	var in struct {
		RegistryID          string `json:"registryId"`
		RepositoryName      string `json:"repositoryName"`
		LifecyclePolicyText string `json:"lifecyclePolicyText"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	text := in.LifecyclePolicyText
	if text == "" {
		if r.policy == "" {
			return nil, lifecyclePolicyNotFound(r)
		}
		text = r.policy
	}
	if err := checkPolicyText("lifecyclePolicyText", text); err != nil {
		return nil, err
	}
	if r.preview != nil && r.preview.status == previewInProgress {
		return nil, &apiError{
			code:    "LifecyclePolicyPreviewInProgressException",
			message: "The previous lifecycle policy preview request has not completed. Wait and try again.",
		}
	}

	pv := &preview{text: text, status: previewInProgress}
	for _, sr := range r.script {
		img, ok := r.images[sr.Digest]
		if !ok {
			continue
		}
		pr := previewResult{
			ImageTags:           slices.Clone(img.tags),
			ImageDigest:         sr.Digest,
			ImagePushedAt:       ts(img.pushed),
			Action:              previewAction{Type: sr.Action},
			AppliedRulePriority: sr.RulePriority,
			StorageClass:        img.storageClass(),
		}
		if sr.Action == actionTransition {
			pr.Action.TargetStorageClass = classArchive
		}
		pv.results = append(pv.results, pr)
	}
	r.preview = pv
	return map[string]any{
		"registryId":          r.account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": text,
		"status":              pv.status,
	}, nil
}

// getLifecyclePolicyPreview: GetLifecyclePolicyPreview, with imageIds or pages of at most
// 100 results, and the tagStatus filter. The summary counts every result.
func (s *Server) getLifecyclePolicyPreview(body []byte) (any, *apiError) {
	var in struct {
		RegistryID     string    `json:"registryId"`
		RepositoryName string    `json:"repositoryName"`
		ImageIDs       []imageID `json:"imageIds"`
		NextToken      string    `json:"nextToken"`
		MaxResults     *int      `json:"maxResults"`
		Filter         *struct {
			TagStatus string `json:"tagStatus"`
		} `json:"filter"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := listLength("imageIds", len(in.ImageIDs), in.ImageIDs != nil, 1, maxImageIDs); err != nil {
		return nil, err
	}
	if in.ImageIDs != nil && (in.MaxResults != nil || in.NextToken != "") {
		return nil, invalidParameter("Invalid parameter at 'maxResults' failed to satisfy constraint: 'maxResults and nextToken cannot be used with imageIds'")
	}
	limit, err := pageSize(in.MaxResults, defaultPreviewPage, maxPreviewPage)
	if err != nil {
		return nil, err
	}
	tagStatus := "ANY"
	if in.Filter != nil && in.Filter.TagStatus != "" {
		if err := enum("filter.tagStatus", in.Filter.TagStatus, "TAGGED", "UNTAGGED", "ANY"); err != nil {
			return nil, err
		}
		tagStatus = in.Filter.TagStatus
	}
	r, err := s.repository(in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	pv := r.preview
	if pv == nil {
		return nil, &apiError{
			code:    "LifecyclePolicyPreviewNotFoundException",
			message: fmt.Sprintf("There is no dry run for the repository with name '%s' in the registry with id '%s'", r.name, r.account),
		}
	}
	resp := map[string]any{
		"registryId":          r.account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": pv.text,
		"status":              pv.status,
		"previewResults":      []previewResult{},
	}
	if pv.status == previewInProgress {
		if !r.holdPreviews {
			pv.status = previewComplete // for every later call
		}
		return resp, nil
	}

	expiring, transitioning := 0, 0
	for _, pr := range pv.results {
		if pr.Action.Type == actionExpire {
			expiring++
		} else {
			transitioning++
		}
	}
	summary := map[string]any{"expiringImageTotalCount": expiring}
	if transitioning > 0 {
		summary["transitioningImageTotalCounts"] = []map[string]any{{"targetStorageClass": classArchive, "imageTotalCount": transitioning}}
	}
	resp["summary"] = summary

	wanted := func(pr previewResult) bool {
		switch tagStatus {
		case "TAGGED":
			return len(pr.ImageTags) > 0
		case "UNTAGGED":
			return len(pr.ImageTags) == 0
		}
		return true
	}
	var out []previewResult
	if in.ImageIDs != nil {
		for _, pr := range pv.results {
			if wanted(pr) && slices.ContainsFunc(in.ImageIDs, func(id imageID) bool {
				return id.ImageDigest == pr.ImageDigest || (id.ImageTag != "" && slices.Contains(pr.ImageTags, id.ImageTag))
			}) {
				out = append(out, pr)
			}
		}
	} else {
		after, err := decodeToken("GetLifecyclePolicyPreview", in.NextToken)
		if err != nil {
			return nil, err
		}
		for _, pr := range pv.results {
			if pr.ImageDigest <= after || !wanted(pr) {
				continue
			}
			if len(out) == limit {
				resp["nextToken"] = encodeToken("GetLifecyclePolicyPreview", out[len(out)-1].ImageDigest)
				break
			}
			out = append(out, pr)
		}
	}
	if out != nil {
		resp["previewResults"] = out
	}
	return resp, nil
}
