// Command gen writes a large synthetic inventory for benchmarks.
//
//	go run ./bench/gen -n 100000 -o FILE [-format describe-images|snapshot] [-seed N]
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shipshape-dev/shipshape/internal/inventory"
	"github.com/shipshape-dev/shipshape/internal/synth"
)

func main() {
	n := flag.Int("n", 100_000, "number of images")
	out := flag.String("o", "-", "file to write, - for standard output")
	format := flag.String("format", "describe-images", "output format: describe-images or snapshot")
	seed := flag.Int64("seed", 1, "seed of the generated history")
	flag.Parse()
	if err := run(*n, *seed, *out, *format); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(n int, seed int64, out, format string) error {
	var write func(io.Writer, *inventory.Inventory) error
	switch format {
	case "describe-images":
		write = inventory.WriteDescribeImages
	case "snapshot":
		write = inventory.WriteSnapshot
	default:
		return fmt.Errorf("unknown format %q (want describe-images or snapshot)", format)
	}
	if n < 0 {
		return fmt.Errorf("-n %d: want a count of images", n)
	}
	inv := synth.Large(n, seed, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))

	var w io.Writer = os.Stdout
	var f *os.File
	if out != "-" {
		var err error
		if f, err = os.Create(out); err != nil {
			return err
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err := write(bw, inv)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return nil
}
