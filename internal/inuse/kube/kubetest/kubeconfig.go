package kubetest

import (
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Kubeconfig writes a kubeconfig file with one context, named context and current, for
// the server, and returns its path. The file is removed when the test ends.
func Kubeconfig(t testing.TB, s *Server, context string) string {
	t.Helper()
	return KubeconfigContexts(t, context, map[string]*Server{context: s})
}

// KubeconfigContexts writes a kubeconfig file with a context for each server, named by its
// key, each with a cluster and user of the same name, and returns its path. current names
// the current context; "" leaves the file without one. The file is removed when the test
// ends.
func KubeconfigContexts(t testing.TB, current string, contexts map[string]*Server) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\n")
	if current != "" {
		fmt.Fprintf(&b, "current-context: %s\n", strconv.Quote(current))
	}
	names := slices.Sorted(maps.Keys(contexts))
	b.WriteString("clusters:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "- name: %s\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n",
			strconv.Quote(name), strconv.Quote(contexts[name].URL), base64.StdEncoding.EncodeToString(contexts[name].CA))
	}
	b.WriteString("users:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "- name: %s\n  user:\n    token: %s\n", strconv.Quote(name), strconv.Quote(Token))
	}
	b.WriteString("contexts:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: %s\n    user: %s\n", strconv.Quote(name), strconv.Quote(name), strconv.Quote(name))
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("kubetest: writing a kubeconfig: %v", err)
	}
	return path
}
