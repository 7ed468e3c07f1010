package cli

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats of reporting commands.
const (
	formatTable    = "table"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// addOutputFlag registers -o/--output with the formats a command supports.
func addOutputFlag(cmd *cobra.Command, dst *string, formats ...string) {
	cmd.Flags().StringVarP(dst, "output", "o", formats[0], "output format: "+strings.Join(formats, ", "))
}

func checkFormat(got string, formats ...string) error {
	for _, f := range formats {
		if got == f {
			return nil
		}
	}
	return usageError("--output %q is not one of %s", got, strings.Join(formats, ", "))
}

// color reports whether to colour output: only on a terminal, and never with NO_COLOR set.
func color(io IO) bool {
	return io.OutTTY && io.Getenv("NO_COLOR") == "" && io.Getenv("TERM") != "dumb"
}

// inActions reports whether shipshape runs as a GitHub Actions step.
func inActions(io IO) bool { return io.Getenv("GITHUB_ACTIONS") == "true" }

// annotate prints a GitHub Actions workflow command (level "error" or "warning").
func annotate(w io.Writer, level, file string, line, col int, msg string) {
	props := ""
	if file != "" {
		props = " file=" + escapeProperty(file)
		if line > 0 {
			props += fmt.Sprintf(",line=%d,col=%d", line, col)
		}
	}
	fmt.Fprintf(w, "::%s%s::%s\n", level, props, escapeData(msg))
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// readInput reads a named file, or standard input for "-".
func readInput(io IO, name string) ([]byte, error) {
	if name == "-" {
		b, err := readAll(io.In)
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, pathCause(err))
	}
	return b, nil
}

// pathCause strips the operation and path from a file error, which the caller names itself.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readAll(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	return io.ReadAll(r)
}

// helpTexts are the long descriptions of the commands, one text file each.
//
//go:embed help/*.txt
var helpTexts embed.FS

// help returns the long description of the command name (help/NAME.txt).
func help(name string) string {
	b, err := helpTexts.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic("no help text for " + name) // a test runs every command's --help
	}
	return strings.TrimSuffix(string(b), "\n")
}
