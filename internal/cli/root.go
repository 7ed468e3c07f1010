// Package cli wires shipshape's commands: it parses flags and arguments, calls the domain
// packages and renders their results. It holds no business logic.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitError   = 1
	ExitUsage   = 2
	ExitChanges = 3 // plan --detailed-exitcode: the plan removes or archives something
	// ExitInterrupted and ExitTerminated end a command stopped by SIGINT or SIGTERM, as
	// shells report them (128 + the signal's number).
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// IO is where commands read and write, and what they know of their environment.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// OutTTY reports whether Out is a terminal (colour only then).
	OutTTY bool
	// ErrTTY reports whether Err is a terminal (progress bars only then).
	ErrTTY bool
	// InTTY reports whether In is a terminal (interactive confirmation only then).
	InTTY bool
}

// Std returns the process's standard streams and environment.
func Std() IO {
	return IO{
		In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv,
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		InTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
}

// exitError carries an exit code other than 1 up to Run; its message, if any, is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError marks a mistake in how a command was called (exit code 2).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// silentExit ends a command with code after it has printed what it had to say.
func silentExit(code int) error { return &exitError{code: code} }

// Run executes the shipshape command line args and returns the process exit code.
func Run(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = func(string) string { return "" }
	}
	root := NewRoot(io)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	ee, ok := errors.AsType[*exitError](err)
	if !ok {
		ee = &exitError{code: ExitError, err: err}
		if isUsage(err) {
			ee.code = ExitUsage
		}
	}
	if ee.err != nil {
		fmt.Fprintf(io.Err, "shipshape: %v\n", ee.err)
		if ee.code == ExitUsage {
			fmt.Fprintf(io.Err, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return ee.code
}

// isUsage recognises cobra's own argument and command errors.
func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "flag needs an argument", "invalid argument", "required flag"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// NewRoot builds the shipshape command tree.
func NewRoot(io IO) *cobra.Command {
	root := describe(&cobra.Command{
		Use:           "shipshape",
		Short:         "Keep container registries lean, cheap and safe",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}, "root")
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newPolicyCmd(io), newInventoryCmd(io), newPlanCmd(io), newAuditCmd(io), newSimulateCmd(io), newApplyCmd(io), newRestoreCmd(io), newLogCmd(io), newEnsureCmd(io), newPinCmd(io), newInUseCmd(io), newLabelsCmd(io), newServeCmd(io), newVersionCmd(io))
	group(root)
	for _, c := range root.Commands() {
		if c.HasSubCommands() {
			group(c)
		}
	}
	return root
}

// group makes a command that only holds subcommands refuse an unknown one (exit 2, with
// the closest names), where cobra would print the help and exit 0; alone it prints the help.
func group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		return usageError("unknown command %q for %q%s", args[0], c.CommandPath(), suggest(args[0], names, ""))
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// flagError turns a flag error into a usage error; an unknown flag gets the closest flag
// the command has.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		msg += suggest(name, names, "--")
	}
	return &exitError{code: ExitUsage, err: errors.New(msg)}
}

// suggest returns "; did you mean X?" with the names closest to got (at most two edits
// away, or starting with it), each after prefix; "" when none is close.
func suggest(got string, names []string, prefix string) string {
	best, dist := []string(nil), 3
	for _, n := range names {
		d := editDistance(got, n)
		if strings.HasPrefix(n, got) {
			d = min(d, 1)
		}
		switch {
		case d < dist:
			best, dist = []string{prefix + n}, d
		case d == dist:
			best = append(best, prefix+n)
		}
	}
	if len(best) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(best, " or ") + "?"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the shipshape version",
		Args:  argCount(0, 0, "takes no arguments"),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(io.Out, "shipshape %s\n", version())
			return err
		},
	}
}

// buildDate is set at link time by make build and make install (-X); go install leaves it
// empty, and version falls back to the commit's time.
var buildDate string

// version describes the binary from its build information: the module version (a tag for
// go install …@vX, "dev" for a build from a checkout), the commit and its time or the
// build date, and whether the checkout had uncommitted changes.
func version() string {
	v, commit, when, modified := "dev", "", buildDate, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value[:min(12, len(s.Value))]
			case "vcs.time":
				if when == "" {
					when = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var parts []string
	if commit != "" {
		if modified {
			commit += ", modified"
		}
		parts = append(parts, "commit "+commit)
	}
	if when != "" {
		parts = append(parts, "built "+when)
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}

// argCount turns cobra's argument checks into usage errors: a command takes from min to
// max arguments (max -1: no limit), and needs what.
func argCount(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || (max >= 0 && len(args) > max) {
			return usageError("%s %s, got %d", cmd.CommandPath(), what, len(args))
		}
		return nil
	}
}
