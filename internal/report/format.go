package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// The output formats of shipshape's reports, as -o names them.
const (
	Table    = "table"
	JSON     = "json"
	Markdown = "markdown"
)

// CheckFormat returns an error naming the formats a command supports when got is not one
// of them.
func CheckFormat(got string, formats ...string) error {
	for _, f := range formats {
		if got == f {
			return nil
		}
	}
	return fmt.Errorf("--output %q is not one of %s", got, strings.Join(formats, ", "))
}

// WriteJSON writes v as indented JSON, with "<", ">" and "&" left as they are.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Annotate writes a GitHub Actions workflow command: level is "error" or "warning", and a
// file (with a line and column when line > 0) places the annotation in the file's diff.
func Annotate(w io.Writer, level, file string, line, col int, msg string) {
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
