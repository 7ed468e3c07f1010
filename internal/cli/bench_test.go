package cli_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipshape-dev/shipshape/internal/cli"
	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

// BenchmarkPlan100k times `shipshape plan -o json` end to end, in process, on a 100,000-image
// file in each input format: read, parse, evaluate, plan and write JSON.
func BenchmarkPlan100k(b *testing.B) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	inv := synth.Large(100_000, 1, now)
	for _, format := range []struct {
		name  string
		write func(io.Writer, *inventory.Inventory) error
	}{{"describe-images", inventory.WriteDescribeImages}, {"snapshot", inventory.WriteSnapshot}} {
		file := filepath.Join(b.TempDir(), "images.json")
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		if err := format.write(f, inv); err != nil {
			b.Fatal(err)
		}
		f.Close()
		args := []string{"plan", "--policy", examplePolicy, "--images", file, "--now", now.Format(time.RFC3339), "-o", "json"}
		b.Run(format.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var errb strings.Builder
				code := cli.Run(context.Background(), args, cli.IO{Out: io.Discard, Err: &errb})
				if code != 0 {
					b.Fatalf("plan = %d: %s", code, errb.String())
				}
			}
		})
	}
}
