package lifecycle

import (
	"io"

	"github.com/shipshape-dev/shipshape/internal/policy"
)

// PolicyFile is a lifecycle policy file as read and loaded.
type PolicyFile struct {
	Name string
	// Text is the file as read, for ECR (apply --native, the preview) and policy fmt.
	Text []byte
	// Err is set when the file could not be read, or is not a valid policy (policy.Load's
	// ErrorList). Policy is what could be read, even then, whenever the text is JSON:
	// lint runs its checks on it.
	Policy *policy.Policy
	Err    error
}

// LoadPolicy reads and loads the policy file name, or stdin for "-".
func LoadPolicy(stdin io.Reader, name string) PolicyFile {
	text, err := ReadInput(stdin, name)
	if err != nil {
		return PolicyFile{Name: name, Err: err}
	}
	p, err := policy.Load(text)
	return PolicyFile{Name: name, Text: text, Policy: p, Err: err}
}

// Report is what loading found, with ws the lint warnings of a valid policy.
func (f PolicyFile) Report(ws []*policy.Warning) policy.Report {
	return policy.NewReport(f.Name, f.Policy, f.Err, ws)
}
