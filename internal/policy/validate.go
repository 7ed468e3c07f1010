package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Validate checks every constraint ECR enforces on a lifecycle policy's content (the rule
// cap, unique priorities, which fields go together, count and storage-class combinations,
// wildcard limits, the per-storage-class rules) and returns all violations as an ErrorList.
// The policy-text length bounds need the text itself: Load checks those too.
func Validate(p *Policy) error {
	c := &errs{src: p.src, pos: p.pos}
	validate(p, c)
	return c.err()
}

// present reports whether the property at path was given: for parsed policies, whether it
// appeared in the text; for policies built in code, whether it holds a non-zero value.
func present[T comparable](p *Policy, path string, v T) bool {
	if p.pos != nil {
		_, ok := p.pos[path]
		return ok
	}
	var zero T
	return v != zero
}

func validate(p *Policy, c *errs) {
	if p.Rules == nil && !present(p, "rules", 0) {
		c.at("rules", -1, "missing: a lifecycle policy needs a \"rules\" array")
		return
	}
	if len(p.Rules) == 0 {
		c.at("rules", -1, "must contain at least one rule")
		return
	}
	if len(p.Rules) > MaxRules {
		c.at("rules", -1, "has %d rules; ECR allows at most %d per policy", len(p.Rules), MaxRules)
	}
	for i := range p.Rules {
		validateRule(p, c, i)
	}
	validateAcrossRules(p, c)
}

func validateRule(p *Policy, c *errs, i int) {
	r := &p.Rules[i]
	path := fmt.Sprintf("rules[%d]", i)
	s, a := &r.Selection, &r.Action
	sel, act := path+".selection", path+".action"

	switch {
	case !present(p, path+".rulePriority", r.RulePriority):
		c.at(path+".rulePriority", -1, "missing: every rule needs a rulePriority (an integer, 1 or more)")
	case r.RulePriority < 1:
		c.at(path+".rulePriority", -1, "must be at least 1, found %d", r.RulePriority)
	}
	if !present(p, sel, s.TagStatus) && s.TagStatus == "" && s.CountType == "" {
		c.at(sel, -1, "missing: every rule needs a selection")
	}
	if !present(p, act, a.Type) && a.Type == "" {
		c.at(act, -1, "missing: every rule needs an action")
	}

	// Tag status and tag lists.
	prefixGiven := present(p, sel+".tagPrefixList", len(s.TagPrefixList))
	patternGiven := present(p, sel+".tagPatternList", len(s.TagPatternList))
	switch s.TagStatus {
	case "":
		if present(p, sel, 1) {
			c.at(sel+".tagStatus", -1, `missing: must be "tagged", "untagged" or "any"`)
		}
	case TagStatusTagged:
		switch {
		case prefixGiven && patternGiven:
			c.at(sel+".tagPrefixList", -1, "cannot be used together with tagPatternList: a rule uses one or the other (write two rules for both)")
		case !prefixGiven && !patternGiven:
			c.at(sel+".tagStatus", -1, `"tagged" needs a tagPatternList or a tagPrefixList saying which tags to select; to select every tagged image, add "tagPatternList": ["*"]`)
		case prefixGiven && len(s.TagPrefixList) == 0:
			c.at(sel+".tagPrefixList", -1, "must list at least one prefix")
		case patternGiven && len(s.TagPatternList) == 0:
			c.at(sel+".tagPatternList", -1, "must list at least one pattern")
		}
	case TagStatusUntagged, TagStatusAny:
		if prefixGiven {
			c.at(sel+".tagPrefixList", -1, `is only allowed when tagStatus is "tagged" (found %q)`, s.TagStatus)
		}
		if patternGiven {
			c.at(sel+".tagPatternList", -1, `is only allowed when tagStatus is "tagged" (found %q)`, s.TagStatus)
		}
	default:
		c.at(sel+".tagStatus", -1, `must be one of "tagged", "untagged", "any", found %q`, s.TagStatus)
	}
	for j, pat := range s.TagPatternList {
		if n := strings.Count(pat, "*"); n > MaxWildcards {
			c.at(fmt.Sprintf("%s.tagPatternList[%d]", sel, j), -1,
				"%q has %d wildcards; ECR allows at most %d '*' per pattern", pat, n, MaxWildcards)
		}
	}

	// Count type, unit and number.
	switch s.CountType {
	case "":
		if present(p, sel, 1) {
			c.at(sel+".countType", -1, `missing: must be one of "imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"`)
		}
	case CountImageCountMoreThan:
		if present(p, sel+".countUnit", s.CountUnit) {
			c.at(sel+".countUnit", -1, "must be omitted when countType is imageCountMoreThan")
		}
	case CountSinceImagePushed, CountSinceImagePulled, CountSinceImageTransitioned:
		switch {
		case !present(p, sel+".countUnit", s.CountUnit):
			c.at(sel+".countUnit", -1, `missing: required when countType is %s (the only unit is "days")`, s.CountType)
		case s.CountUnit != CountUnitDays:
			c.at(sel+".countUnit", -1, `must be "days", found %q`, s.CountUnit)
		}
	default:
		c.at(sel+".countType", -1, "unknown count type %q", s.CountType)
	}
	switch {
	case s.CountType == "":
	case !present(p, sel+".countNumber", s.CountNumber):
		c.at(sel+".countNumber", -1, "missing: %s needs a countNumber (%s)", s.CountType, countNumberMeaning(s.CountType))
	case s.CountNumber < 1:
		c.at(sel+".countNumber", -1, "must be a positive integer (0 is not accepted), found %d", s.CountNumber)
	case s.CountType == CountSinceImageTransitioned && s.CountNumber < MinArchiveDays:
		c.at(sel+".countNumber", -1, "must be at least %d: ECR cannot expire images that have been archived for less than %d days, found %d",
			MinArchiveDays, MinArchiveDays, s.CountNumber)
	}

	// Storage class.
	switch s.StorageClass {
	case "", StorageStandard:
		if s.CountType == CountSinceImageTransitioned {
			c.at(sel+".storageClass", -1, `must be "archive" when countType is sinceImageTransitioned (only archived images have a transition time)`)
		}
	case StorageArchive:
		if s.CountType != "" && s.CountType != CountSinceImageTransitioned {
			c.at(sel+".storageClass", -1, `"archive" is only allowed with countType sinceImageTransitioned; %s rules select standard images`, s.CountType)
		}
	default:
		c.at(sel+".storageClass", -1, `must be "standard" or "archive", found %q`, s.StorageClass)
	}

	// Action.
	switch a.Type {
	case "":
		if present(p, act, 1) {
			c.at(act+".type", -1, `missing: must be "expire" or "transition"`)
		}
	case ActionExpire:
		if present(p, act+".targetStorageClass", a.TargetStorageClass) {
			c.at(act+".targetStorageClass", -1, `is only allowed when the action type is "transition"`)
		}
		if s.CountType == CountSinceImagePulled {
			c.at(act+".type", -1, `countType sinceImagePulled only works with "transition": ECR cannot expire images by last pull time (archive them, then expire with sinceImageTransitioned)`)
		}
	case ActionTransition:
		switch {
		case !present(p, act+".targetStorageClass", a.TargetStorageClass):
			c.at(act+".targetStorageClass", -1, `missing: a transition needs targetStorageClass "archive"`)
		case a.TargetStorageClass != StorageArchive:
			c.at(act+".targetStorageClass", -1, `must be "archive", found %q`, a.TargetStorageClass)
		}
		if s.CountType == CountSinceImageTransitioned {
			c.at(act+".type", -1, `countType sinceImageTransitioned only works with "expire": archived images can only be expired`)
		}
	default:
		c.at(act+".type", -1, `must be "expire" or "transition", found %q`, a.Type)
	}
}

// validateAcrossRules checks the constraints that relate rules to each other.
func validateAcrossRules(p *Policy, c *errs) {
	byPriority := map[int]int{}
	for i, r := range p.Rules {
		if r.RulePriority < 1 {
			continue
		}
		if j, ok := byPriority[r.RulePriority]; ok {
			c.at(fmt.Sprintf("rules[%d].rulePriority", i), -1,
				"%d is already used by rules[%d]; every rule needs its own priority", r.RulePriority, j)
			continue
		}
		byPriority[r.RulePriority] = i
	}

	for _, class := range []StorageClass{StorageStandard, StorageArchive} {
		var idx []int
		for i, r := range p.Rules {
			if r.Selection.EffectiveStorageClass() == class && r.Selection.TagStatus != "" {
				idx = append(idx, i)
			}
		}
		slices.SortStableFunc(idx, func(a, b int) int { return p.Rules[a].RulePriority - p.Rules[b].RulePriority })

		// A tagStatus "any" rule must come last among its storage class.
		for n, i := range idx {
			if p.Rules[i].Selection.TagStatus != TagStatusAny || n == len(idx)-1 {
				continue
			}
			last := idx[len(idx)-1]
			c.at(fmt.Sprintf("rules[%d].selection.tagStatus", i), -1,
				`a rule with tagStatus "any" must have the highest rulePriority among the %s rules, but rules[%d] (priority %d) comes after it (priority %d)`,
				class, last, p.Rules[last].RulePriority, p.Rules[i].RulePriority)
		}

		// Only one rule per storage class may select untagged images.
		first := -1
		for _, i := range idx {
			if p.Rules[i].Selection.TagStatus != TagStatusUntagged {
				continue
			}
			if first >= 0 {
				c.at(fmt.Sprintf("rules[%d].selection.tagStatus", i), -1,
					`only one %s rule may select untagged images, and rules[%d] already does; merge the two rules`, class, first)
				continue
			}
			first = i
		}

		// The rules of a storage class must each have their own set of tags.
		seen := map[string]int{}
		for _, i := range idx {
			s := p.Rules[i].Selection
			if s.TagStatus != TagStatusTagged {
				continue
			}
			list, prefix := s.tagList()
			set := slices.Clone(list)
			slices.Sort(set)
			set = slices.Compact(set)
			name := "tagPatternList"
			if prefix {
				name = "tagPrefixList"
			}
			key := name + "\x00" + strings.Join(set, "\x00")
			if j, ok := seen[key]; ok {
				c.at(fmt.Sprintf("rules[%d].selection.%s", i, name), -1,
					"selects the same tags as rules[%d]; the %s rules must each select a different set of tags", j, class)
				continue
			}
			seen[key] = i
		}
	}
}

func countNumberMeaning(t CountType) string {
	switch t {
	case CountImageCountMoreThan:
		return "how many images to keep"
	case CountSinceImagePushed:
		return "the age in days since push"
	case CountSinceImagePulled:
		return "days since the last pull"
	case CountSinceImageTransitioned:
		return "days since the image was archived"
	}
	return "a positive integer"
}
