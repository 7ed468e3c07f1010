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
	err := root.ExecuteContext(ctx)
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
			fmt.Fprintln(io.Err, "Run 'shipshape --help' for usage.")
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	root.AddCommand(newPolicyCmd(io), newInventoryCmd(io), newPlanCmd(io), newAuditCmd(io), newApplyCmd(io), newEnsureCmd(io), newPinCmd(io), newInUseCmd(io), newLabelsCmd(io), newServeCmd(io), newVersionCmd(io))
	return root
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

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
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
