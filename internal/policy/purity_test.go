package policy_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPolicyIsPure keeps the policy engine (and the inventory model it reads) free of I/O:
// no file system, network, database or cloud SDK, directly or through a dependency other
// than the standard library's formatting.
func TestPolicyIsPure(t *testing.T) {
	t.Parallel()
	forbiddenDirect := []string{"os", "os/exec", "io/ioutil", "net", "net/http", "database/sql", "syscall", "context"}
	forbiddenDeps := []string{"net", "net/http", "database/sql", "os/exec", "github.com/aws/", "oras.land/", "github.com/google/go-containerregistry"}
	for _, pkg := range []string{".", "../inventory"} {
		out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}\n--\n{{join .Deps \"\\n\"}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		direct, deps, _ := strings.Cut(string(out), "--\n")
		for _, imp := range strings.Fields(direct) {
			for _, bad := range forbiddenDirect {
				if imp == bad {
					t.Errorf("%s imports %s; the policy engine must do no I/O", pkg, imp)
				}
			}
		}
		for _, dep := range strings.Fields(deps) {
			for _, bad := range forbiddenDeps {
				if dep == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)) || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s; the policy engine must do no I/O", pkg, dep)
				}
			}
		}
	}
}
