package cli

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipshape-dev/shipshape/internal/report"
)

// addOutputFlag registers -o/--output with the formats a command supports; the first is
// the default.
func addOutputFlag(cmd *cobra.Command, dst *string, formats ...string) {
	cmd.Flags().StringVarP(dst, "output", "o", formats[0], "output format: "+strings.Join(formats, ", "))
}

func checkFormat(got string, formats ...string) error {
	if err := report.CheckFormat(got, formats...); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// writer is io.Writer, under a name the IO parameters of commands (io) do not shadow.
type writer = io.Writer

// render writes what write produces to standard output through one buffer; what names it
// in the error.
func render(io IO, what string, write func(w writer) error) error {
	w := bufio.NewWriterSize(io.Out, 1<<16)
	err := write(w)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", what, err)
	}
	return nil
}

// color reports whether to colour output: only on a terminal, and never with NO_COLOR set.
func color(io IO) bool {
	return io.OutTTY && io.Getenv("NO_COLOR") == "" && io.Getenv("TERM") != "dumb"
}

// inActions reports whether shipshape runs as a GitHub Actions step.
func inActions(io IO) bool { return io.Getenv("GITHUB_ACTIONS") == "true" }

// warn prints msg as a warning on standard error, and as an annotation in GitHub Actions.
func warn(io IO, msg string) {
	fmt.Fprintf(io.Err, "warning: %s\n", msg)
	warnActions(io, msg)
}

// warnActions prints msg as a GitHub Actions warning annotation when in Actions.
func warnActions(io IO, msg string) {
	if inActions(io) {
		report.Annotate(io.Err, "warning", "", 0, 0, msg)
	}
}

// helpTexts are the long descriptions and examples of the commands, one text file each.
//
//go:embed help/*.txt
var helpTexts embed.FS

// describe sets cmd's long description, and its examples, from help/NAME.txt: the text,
// then, after a line "Examples:", the examples.
func describe(cmd *cobra.Command, name string) *cobra.Command {
	b, err := helpTexts.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic("no help text for " + name) // a test runs every command's --help
	}
	long, examples, _ := strings.Cut(strings.TrimSuffix(string(b), "\n"), "\nExamples:\n")
	cmd.Long, cmd.Example = long, examples
	return cmd
}
