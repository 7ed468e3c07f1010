// Package shipshape_test checks the house's import rules (STYLE.md): which packages may
// depend on which, so that the layering holds as the code grows.
package shipshape_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/shipshape-dev/shipshape/"

// pkg is what go list says of one package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func listPackages(t *testing.T) map[string]pkg {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs[strings.TrimPrefix(p.ImportPath, module)] = p
	}
	return pkgs
}

// matches reports whether path is prefix or lies under it ("github.com/aws/" matches every
// AWS module).
func matches(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/")
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	pkgs := listPackages(t)
	io := []string{"os", "os/exec", "net", "net/http", "database/sql", "syscall", "github.com/aws/", "oras.land/", "github.com/google/go-containerregistry/"}
	rules := []struct {
		pkg, why string
		// forbidden direct imports; allowedInternal, when set, lists the only shipshape
		// packages it may import.
		forbidden       []string
		allowedInternal []string
	}{
		{pkg: "internal/policy", why: "the policy engine is pure", forbidden: append(io, "context"), allowedInternal: []string{"internal/inventory"}},
		{pkg: "internal/inventory", why: "the image graph is pure", forbidden: append(io, "context"), allowedInternal: []string{}},
		{pkg: "internal/plan", why: "planning is pure", forbidden: io, allowedInternal: []string{"internal/inventory", "internal/policy", "internal/report"}},
		{pkg: "internal/audit", why: "the audit is pure", forbidden: io, allowedInternal: []string{"internal/inventory", "internal/plan", "internal/policy", "internal/report"}},
		{pkg: "internal/simulate", why: "simulation is pure", forbidden: append(io, "context"), allowedInternal: []string{"internal/inventory", "internal/policy", "internal/plan", "internal/report", "internal/htmlreport"}},
		{pkg: "internal/htmlreport", why: "rendering is pure", forbidden: io, allowedInternal: []string{}},
		{pkg: "internal/fleet", why: "the fleet report is pure", forbidden: io, allowedInternal: []string{"internal/audit", "internal/inventory", "internal/plan", "internal/policy", "internal/report", "internal/simulate", "internal/htmlreport"}},
		{pkg: "internal/inuse", why: "in-use matching is pure; sources live in subpackages", forbidden: io, allowedInternal: []string{"internal/inventory", "internal/report"}},
		{pkg: "internal/registry", why: "the contract knows no backend and no cloud SDK", forbidden: io[5:], allowedInternal: []string{"internal/inventory"}},
		{pkg: "internal/registry/oci", why: "a backend depends only on the contract and the image graph", allowedInternal: []string{"internal/registry", "internal/inventory"}},
		{pkg: "internal/registry/ecr", why: "a backend depends only on the contract and the image graph", allowedInternal: []string{"internal/registry", "internal/inventory"}},
		{pkg: "internal/apply", why: "apply knows the quarantine by an interface; copying graphs is the quarantine's", forbidden: []string{"oras.land/", "github.com/aws/"}},
		{pkg: "internal/quarantine", why: "the quarantine copies through oras-go and knows no backend", forbidden: []string{"github.com/aws/"}, allowedInternal: []string{"internal/inventory", "internal/redact", "internal/report"}},
		{pkg: "internal/cli", why: "commands turn flags into calls; cloud SDKs stay in backends and sources", forbidden: []string{"github.com/aws/", "k8s.io/"}},
		{pkg: "cmd/shipshape", why: "main only wires signals to the CLI", allowedInternal: []string{"internal/cli"}},
	}
	for _, r := range rules {
		p, ok := pkgs[r.pkg]
		if !ok {
			t.Errorf("package %s not found", r.pkg)
			continue
		}
		for _, imp := range p.Imports {
			for _, bad := range r.forbidden {
				if matches(imp, bad) {
					t.Errorf("%s imports %s: %s", r.pkg, imp, r.why)
				}
			}
			if internal, ok := strings.CutPrefix(imp, module); ok && r.allowedInternal != nil {
				allowed := false
				for _, a := range r.allowedInternal {
					allowed = allowed || internal == a
				}
				if !allowed {
					t.Errorf("%s imports %s: %s", r.pkg, internal, r.why)
				}
			}
		}
	}
	// No grab-bag packages, and nothing but tests links the test helpers.
	for name, p := range pkgs {
		last := name[strings.LastIndex(name, "/")+1:]
		switch last {
		case "util", "utils", "common", "helpers", "models", "misc":
			t.Errorf("package %s: STYLE.md has no %s packages", name, last)
		}
		if strings.HasSuffix(name, "test") || strings.HasPrefix(name, "bench/") || strings.HasPrefix(name, "examples/") {
			continue
		}
		for _, dep := range p.Deps {
			if internal, ok := strings.CutPrefix(dep, module); ok && (strings.HasSuffix(internal, "test") || internal == "internal/synth" && !strings.HasPrefix(name, "internal/synth")) {
				t.Errorf("%s links %s, which is for tests and examples only", name, internal)
			}
		}
	}
}
