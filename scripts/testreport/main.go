// Command testreport reads `go test -json` on standard input and prints what a person wants
// from a test run: one line per package, the output of every failed test, and, at the end,
// every test that skipped with the reason it gave. It exits 1 when anything failed.
//
//	go test -race -json ./... | go run ./scripts/testreport
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// event is one line of test2json's output.
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

func main() {
	output := map[string][]string{} // package/test → its output lines
	var skipped []string
	failed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // build errors and the like are not JSON
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "fail":
			failed = true
			if e.Test != "" {
				fmt.Printf("--- FAIL: %s %s (%.2fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(output[key], ""))
			} else {
				fmt.Printf("FAIL\t%s\t%.3fs\n", e.Package, e.Elapsed)
				if len(output[key]) > 0 && !strings.Contains(strings.Join(output[key], ""), "--- FAIL") {
					fmt.Print(strings.Join(output[key], ""))
				}
			}
		case "pass":
			if e.Test == "" {
				fmt.Printf("ok  \t%s\t%.3fs\n", e.Package, e.Elapsed)
			}
		case "skip":
			if e.Test == "" {
				continue // a package without tests
			}
			var why []string
			for _, l := range output[key] {
				l = strings.TrimSpace(l)
				if l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- SKIP") {
					why = append(why, l)
				}
			}
			skipped = append(skipped, fmt.Sprintf("%s %s: %s", e.Package, e.Test, strings.Join(why, " ")))
		}
		if e.Action == "pass" || e.Action == "skip" {
			delete(output, key)
		}
	}
	if len(skipped) > 0 {
		sort.Strings(skipped)
		fmt.Printf("\n%d tests skipped:\n", len(skipped))
		for _, s := range skipped {
			fmt.Println("  " + s)
		}
	} else {
		fmt.Println("\nno test skipped")
	}
	if failed {
		os.Exit(1)
	}
}
