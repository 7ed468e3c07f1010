package policy_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/policy"
)

// FuzzLoad feeds arbitrary text to the parser and validator. Whatever the input, Load must
// not panic, nor Lint on whatever policy Load returns; a policy Load accepts must survive
// Format unchanged in meaning, and must evaluate.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/aws/*.json")
	more, _ := filepath.Glob("../../examples/policies/*.json")
	for _, s := range append(seeds, more...) {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"rules": [{"rulePriority": 1,,}]}`))
	f.Add([]byte(`{"rules": null}`))
	f.Add([]byte(`{"rules": [5, {"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": ["-a", null]}}]}`))
	f.Add([]byte(`// comment` + "\n" + `{"rules": []}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	images := []inventory.Image{{Digest: "sha256:a", Tags: []string{"v1"}}, {Digest: "sha256:b"}}
	f.Fuzz(func(t *testing.T, text []byte) {
		p, err := policy.Load(text)
		if err != nil {
			if _, ok := err.(policy.ErrorList); !ok {
				t.Fatalf("Load() error of type %T, want ErrorList", err)
			}
			if p != nil {
				_ = policy.Lint(p) // Lint reads what it can of an invalid policy
			}
			return
		}
		formatted := policy.Format(p)
		q, err := policy.Parse(formatted)
		if err != nil {
			t.Fatalf("Parse(Format(p)) = %v for a valid policy\n%s", err, formatted)
		}
		if err := policy.Validate(q); err != nil {
			t.Fatalf("Validate(Format(p)) = %v for a valid policy\n%s", err, formatted)
		}
		if !policy.Equal(p, q) {
			t.Fatalf("Format changed the policy's meaning\n%s", formatted)
		}
		_ = policy.Lint(p)
		_ = policy.Evaluate(p, images, fuzzNow)
	})
}

var fuzzNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
