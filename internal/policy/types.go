package policy

import "strings"

// Policy is an Amazon ECR lifecycle policy: the document ECR's PutLifecyclePolicy accepts.
// Field names, JSON spelling and enum values are ECR's own, so a Policy marshals back to
// JSON that ECR accepts unchanged.
type Policy struct {
	Rules []Rule `json:"rules"`

	// pos maps a JSON path ("rules[0].selection") to its byte offset in the parsed text,
	// so that validation errors can point at a line. Nil for policies built in code.
	pos map[string]int
	// src is the text the policy was parsed from, for offsets → line and column.
	src []byte
	// broken holds the paths whose value Parse could not decode (a wrong JSON type, null,
	// an enum value in the wrong case): the fields there hold zero values, which Lint must
	// not take at their word.
	broken map[string]bool
}

// brokenUnder reports whether Parse failed to decode the value at path or inside it.
func (p *Policy) brokenUnder(path string) bool {
	for b := range p.broken {
		if b == path || strings.HasPrefix(b, path) && (b[len(path)] == '.' || b[len(path)] == '[') {
			return true
		}
	}
	return false
}

// Rule is one lifecycle rule.
type Rule struct {
	RulePriority int       `json:"rulePriority"`
	Description  string    `json:"description,omitempty"`
	Selection    Selection `json:"selection"`
	Action       Action    `json:"action"`
}

// Selection says which images a rule identifies and when it acts on them.
type Selection struct {
	TagStatus      TagStatus    `json:"tagStatus"`
	TagPatternList []string     `json:"tagPatternList,omitempty"`
	TagPrefixList  []string     `json:"tagPrefixList,omitempty"`
	StorageClass   StorageClass `json:"storageClass,omitempty"`
	CountType      CountType    `json:"countType"`
	CountUnit      CountUnit    `json:"countUnit,omitempty"`
	CountNumber    int          `json:"countNumber"`
}

// Action is what a rule does to the images it acts on.
type Action struct {
	Type               ActionType   `json:"type"`
	TargetStorageClass StorageClass `json:"targetStorageClass,omitempty"`
}

// TagStatus selects images by whether they carry tags.
type TagStatus string

// Tag statuses.
const (
	TagStatusTagged   TagStatus = "tagged"
	TagStatusUntagged TagStatus = "untagged"
	TagStatusAny      TagStatus = "any"
)

// StorageClass is an ECR storage class as the policy JSON spells it.
type StorageClass string

// Storage classes. An omitted selection.storageClass means StorageStandard.
const (
	StorageStandard StorageClass = "standard"
	StorageArchive  StorageClass = "archive"
)

// CountType is the criterion a rule applies to the images it identifies.
type CountType string

// Count types.
const (
	CountImageCountMoreThan     CountType = "imageCountMoreThan"
	CountSinceImagePushed       CountType = "sinceImagePushed"
	CountSinceImagePulled       CountType = "sinceImagePulled"
	CountSinceImageTransitioned CountType = "sinceImageTransitioned"
)

// CountUnit is the unit of a since* count; ECR supports only days.
type CountUnit string

// CountUnitDays is the only count unit ECR supports.
const CountUnitDays CountUnit = "days"

// ActionType is expire or transition.
type ActionType string

// Action types.
const (
	ActionExpire     ActionType = "expire"
	ActionTransition ActionType = "transition"
)

// Limits ECR enforces on a policy.
const (
	// MaxRules is ECR's non-adjustable quota of rules per lifecycle policy.
	MaxRules = 50
	// MinTextLength and MaxTextLength bound LifecyclePolicyText in the ECR API model.
	MinTextLength = 100
	MaxTextLength = 30720
	// MaxWildcards is the number of '*' ECR allows in one tagPatternList entry.
	MaxWildcards = 4
	// MinArchiveDays is the shortest sinceImageTransitioned age ECR accepts: archived
	// images have a 90-day minimum storage duration.
	MinArchiveDays = 90
)

// EffectiveStorageClass returns the selection's storage class, standard when omitted.
func (s Selection) EffectiveStorageClass() StorageClass {
	if s.StorageClass == "" {
		return StorageStandard
	}
	return s.StorageClass
}

// tagList returns the rule's tag list, whichever of the two it uses, and whether it is
// a prefix list.
func (s Selection) tagList() (entries []string, prefix bool) {
	if len(s.TagPrefixList) > 0 {
		return s.TagPrefixList, true
	}
	return s.TagPatternList, false
}
