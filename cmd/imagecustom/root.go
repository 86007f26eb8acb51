package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// app carries what every command needs: the streams and the global flags.
// One app exists per run, so tests can run the CLI in-process many times.
type app struct {
	stdin  io.Reader
	stdout *countingWriter
	stderr io.Writer
	json   bool // --json: one JSON document on stdout
	quiet  bool // --quiet: no progress or notes on stderr
}

// countingWriter remembers whether anything was written, so that an error
// document is printed under --json only when stdout is still empty.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// run executes the command line args and returns the process exit code. It
// is the whole program minus the process: main calls it with the real
// streams, tests call it with buffers.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: &countingWriter{w: stdout}, stderr: stderr}
	return a.execute(ctx, a.rootCommand(), args)
}

// execute runs root with args and turns the outcome into an exit code,
// printing the error if there is one.
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) int {
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	var ce commandError
	switch {
	case err == nil:
	case errors.As(err, &ce):
		err = ce.err
	default:
		// Anything that did not come out of a command's RunE is cobra
		// rejecting the command line: unknown command or flag, wrong
		// number of arguments. Flags may not have been parsed, so honour a
		// --json seen on the command line for the error document.
		err = usageError{err}
		a.json = a.json || wantsJSON(args)
	}
	code := exitCode(err)
	if err != nil {
		a.report(code, err)
	}
	return code
}

// wantsJSON reports whether --json appears among args before a "--".
func wantsJSON(args []string) bool {
	for _, arg := range args {
		switch arg {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

// report prints a failed command's error: always on stderr, and also as a
// JSON document on stdout under --json if the command printed nothing there.
func (a *app) report(code int, err error) {
	fmt.Fprintf(a.stderr, "imagecustom: %v\n", err)
	if code == exitUsage {
		fmt.Fprintln(a.stderr, "Run 'imagecustom --help' for usage.")
	}
	if a.json && a.stdout.n == 0 {
		doc := errorDoc{Error: errorBody{Code: code, Kind: errorKind(code, err), Message: err.Error()}}
		_ = a.printJSON(doc)
	}
}

// errorDoc is the --json document printed on stdout when a command fails
// before printing its own result.
type errorDoc struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    int    `json:"code"`    // the process exit code
	Kind    string `json:"kind"`    // usage, refused, problems, interrupted or error
	Message string `json:"message"` // the error text, as on stderr
}

// commandError marks errors returned by a command's own code, as opposed to
// errors cobra returns while parsing the command line.
type commandError struct{ err error }

func (e commandError) Error() string { return e.err.Error() }
func (e commandError) Unwrap() error { return e.err }

// runE adapts a command body to cobra, marking its errors as the command's.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return commandError{err}
		}
		return nil
	}
}

// printJSON writes v as one indented JSON document on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "imagecustom",
		Short: "Customize Windows disk images offline",
		Long: `imagecustom customizes Windows disk images offline: raw and VMDK images,
NTFS volumes, registry hives, boot hooks and sysprep artifacts, without booting
the guest, without root and without FUSE.

Exit codes: 0 ok, 1 error, 2 usage, 3 refused for safety, 4 a check found problems.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print one JSON document on stdout")
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "no progress bars or notes on stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.versionCommand(), a.infoCommand(),
		a.lsCommand(), a.statCommand(), a.catCommand(), a.getCommand(), a.fsckCommand(),
		a.putCommand(), a.mkdirCommand(), a.mvCommand(), a.rmCommand(), a.recoverCommand(),
		a.regCommand(), a.vmdkCommand(), a.sysprepCommand(),
		a.customizeCommand(),
		a.userCommand())
	root.AddCommand(a.hookCommand())
	root.AddCommand(a.setCommand(), a.netCommand(), a.firstbootCommand())
	return root
}
