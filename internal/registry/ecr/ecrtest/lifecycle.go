package ecrtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

// Bounds of the lifecycle APIs, from the ECR API model.
const (
	defaultPreviewPage = 100 // GetLifecyclePolicyPreview without maxResults
	maxPreviewPage     = 100 // GetLifecyclePolicyPreview maxResults
)

// Lifecycle policy preview statuses.
const (
	previewInProgress = "IN_PROGRESS"
	previewComplete   = "COMPLETE"
)

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

// checkPolicyText validates policy text as PutLifecyclePolicy does: the API model's length
// bounds, then ECR's schema and rules, here shipshape's own validator. ECR's message carries
// the validator's first complaint.
func checkPolicyText(member, text string) (*policy.Policy, *apiError) {
	n := 0
	for _, r := range text {
		n++
		if r > 0xFFFF {
			n++ // the model counts UTF-16 code units
		}
	}
	switch {
	case n < policy.MinTextLength:
		return nil, modelViolation(member, fmt.Sprintf("Member must have length greater than or equal to %d", policy.MinTextLength))
	case n > policy.MaxTextLength:
		return nil, modelViolation(member, fmt.Sprintf("Member must have length less than or equal to %d", policy.MaxTextLength))
	}
	p, err := policy.Load([]byte(text))
	if err != nil {
		msg := err.Error()
		var list policy.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			msg = list[0].Error()
		}
		return nil, invalidParameter("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: %s'", msg)
	}
	return p, nil
}

// storedPolicyText renders a policy as GetLifecyclePolicy returns it: compact JSON with the
// rules ordered by priority. Text that does not parse (set directly with CreateRepository)
// is only compacted.
func storedPolicyText(text string) string {
	p, err := policy.Parse([]byte(text))
	if err != nil {
		var buf bytes.Buffer
		if json.Compact(&buf, []byte(text)) != nil {
			return text
		}
		return buf.String()
	}
	slices.SortStableFunc(p.Rules, func(a, b policy.Rule) int { return cmp.Compare(a.RulePriority, b.RulePriority) })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p) // plain structs of strings and numbers
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
		"registryId":          Account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": storedPolicyText(r.policy),
		"lastEvaluatedAt":     ts(r.lastEvaluated),
	}, nil
}

func lifecyclePolicyNotFound(r *repository) *apiError {
	return &apiError{
		code:    "LifecyclePolicyNotFoundException",
		message: fmt.Sprintf("Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", r.name, Account),
	}
}

// putLifecyclePolicy: PutLifecyclePolicy, validating the text with shipshape's validator.
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
	if _, err := checkPolicyText("lifecyclePolicyText", in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	r.policy = in.LifecyclePolicyText
	return map[string]any{
		"registryId":          Account,
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
		"registryId":          Account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": storedPolicyText(r.policy),
		"lastEvaluatedAt":     ts(r.lastEvaluated),
	}
	r.policy, r.lastEvaluated = "", time.Time{}
	return out, nil
}

// startLifecyclePolicyPreview: StartLifecyclePolicyPreview, of the text given or else the
// repository's policy. The preview is evaluated at once with policy.Evaluate, at the
// server's time, over the repository as it is, but reported IN_PROGRESS to the first
// GetLifecyclePolicyPreview call, and COMPLETE from then on; until that first call another
// preview of the repository is refused with LifecyclePolicyPreviewInProgressException.
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
	p, err := checkPolicyText("lifecyclePolicyText", text)
	if err != nil {
		return nil, err
	}
	if r.preview != nil && r.preview.status == previewInProgress {
		return nil, &apiError{
			code:    "LifecyclePolicyPreviewInProgressException",
			message: "The previous lifecycle policy preview request has not completed. Wait and try again.",
		}
	}

	images := r.inventoryImages()
	res := policy.Evaluate(p, images, s.now())
	pv := &preview{text: text, status: previewInProgress}
	for n, d := range res.Decisions {
		if d.Action == policy.Keep {
			continue
		}
		img := r.images[d.Digest]
		pr := previewResult{
			ImageTags:           slices.Clone(images[n].Tags),
			ImageDigest:         d.Digest,
			ImagePushedAt:       ts(img.pushed),
			Action:              previewAction{Type: "EXPIRE"},
			AppliedRulePriority: d.RulePriority,
			StorageClass:        img.storageClass(),
		}
		if d.Action == policy.Transition {
			pr.Action = previewAction{Type: "TRANSITION", TargetStorageClass: classArchive}
		}
		pv.results = append(pv.results, pr)
	}
	r.preview = pv
	return map[string]any{
		"registryId":          Account,
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
			message: fmt.Sprintf("There is no dry run for the repository with name '%s' in the registry with id '%s'", r.name, Account),
		}
	}
	resp := map[string]any{
		"registryId":          Account,
		"repositoryName":      r.name,
		"lifecyclePolicyText": pv.text,
		"status":              pv.status,
		"previewResults":      []previewResult{},
	}
	if pv.status == previewInProgress {
		pv.status = previewComplete // for every later call
		return resp, nil
	}

	expiring, transitioning := 0, 0
	for _, pr := range pv.results {
		if pr.Action.Type == "EXPIRE" {
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
