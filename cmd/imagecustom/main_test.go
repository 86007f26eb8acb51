package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runCLI runs the command line in-process and returns its exit code and
// output streams.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		code        int
		stdout      string // substring expected on stdout
		stderr      string // substring expected on stderr
		emptyOut    bool   // stdout must be empty
		emptyErrOut bool   // stderr must be empty
	}{
		{name: "version", args: []string{"version"}, code: 0, stdout: "imagecustom ", emptyErrOut: true},
		{name: "help flag", args: []string{"--help"}, code: 0, stdout: "Available Commands:", emptyErrOut: true},
		{name: "no command prints help", args: nil, code: 0, stdout: "Usage:", emptyErrOut: true},
		{name: "help command", args: []string{"help", "version"}, code: 0, stdout: "Print version", emptyErrOut: true},
		{name: "completion bash", args: []string{"completion", "bash"}, code: 0, stdout: "bash completion", emptyErrOut: true},
		{name: "completion zsh", args: []string{"completion", "zsh"}, code: 0, stdout: "compdef", emptyErrOut: true},
		{name: "unknown command", args: []string{"bogus"}, code: 2, stderr: `unknown command "bogus"`, emptyOut: true},
		{name: "suggestion", args: []string{"verson"}, code: 2, stderr: "Did you mean this?"},
		{name: "unknown flag", args: []string{"--nope"}, code: 2, stderr: "unknown flag: --nope", emptyOut: true},
		{name: "unknown subcommand flag", args: []string{"version", "--nope"}, code: 2, stderr: "unknown flag: --nope", emptyOut: true},
		{name: "extra argument", args: []string{"version", "extra"}, code: 2, stderr: `"extra"`, emptyOut: true},
		{name: "bad bool value", args: []string{"--json=maybe", "version"}, code: 2, stderr: "invalid argument", emptyOut: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.stdout, stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderr, stderr)
			}
			if tt.emptyOut && stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			if tt.emptyErrOut && stderr != "" {
				t.Errorf("stderr not empty:\n%s", stderr)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "--json", "version")
	if code != 0 {
		t.Fatalf("exit code %d, stderr: %s", code, stderr)
	}
	var v versionInfo
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not one versionInfo document: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Errorf("more than one JSON document on stdout:\n%s", stdout)
	}
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") || !strings.Contains(v.Platform, "/") {
		t.Errorf("incomplete version info: %+v", v)
	}
}

func TestJSONErrorDocument(t *testing.T) {
	for _, args := range [][]string{
		{"--json", "bogus"},
		{"--json", "version", "extra"},
		{"version", "--json", "--nope"},
	} {
		code, stdout, _ := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit code %d, want %d", args, code, exitUsage)
		}
		var doc errorDoc
		if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Errorf("%q: stdout is not an error document: %v\n%s", args, err, stdout)
			continue
		}
		if doc.Error.Code != exitUsage || doc.Error.Kind != "usage" || doc.Error.Message == "" {
			t.Errorf("%q: error document = %+v", args, doc)
		}
	}
	// Without --json nothing goes to stdout on failure.
	if _, stdout, _ := runCLI(t, "bogus"); stdout != "" {
		t.Errorf("stdout without --json: %q", stdout)
	}
}

func TestExitCodeMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		kind string
	}{
		{"nil", nil, exitOK, ""},
		{"plain", errors.New("disk on fire"), exitError, "error"},
		{"wrapped not found", fmt.Errorf("open x: %w", fs.ErrNotExist), exitError, "error"},
		{"usage", usagef("bad --type %q", "qcow9"), exitUsage, "usage"},
		{"wrapped usage", fmt.Errorf("vmdk create: %w", usagef("bad size")), exitUsage, "usage"},
		{"refused", errRefused, exitRefused, "refused"},
		{"wrapped refused", fmt.Errorf("put: volume C: is hibernated: %w", errRefused), exitRefused, "refused"},
		{"problems", problemsError{what: "fsck", n: 3}, exitProblems, "problems"},
		{"wrapped problems", fmt.Errorf("image.vmdk: %w", problemsError{what: "vmdk check", n: 1}), exitProblems, "problems"},
		{"interrupted", fmt.Errorf("convert: %w", context.Canceled), exitError, "interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := exitCode(tt.err)
			if code != tt.code {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, code, tt.code)
			}
			if tt.err != nil {
				if kind := errorKind(code, tt.err); kind != tt.kind {
					t.Errorf("errorKind = %q, want %q", kind, tt.kind)
				}
			}
		})
	}
}

func TestCommandErrorsReachExitCode(t *testing.T) {
	// A command's own error passes through unchanged, so its class decides
	// the exit code; it is printed on stderr, and under --json as a document.
	for _, tt := range []struct {
		err  error
		code int
		kind string
	}{
		{errors.New("boom"), exitError, "error"},
		{fmt.Errorf("x: %w", errRefused), exitRefused, "refused"},
		{problemsError{what: "fsck", n: 2}, exitProblems, "problems"},
		{usagef("no such --os"), exitUsage, "usage"},
		{fmt.Errorf("convert: %w", context.Canceled), exitError, "interrupted"},
	} {
		var out, errOut bytes.Buffer
		a := &app{stdin: strings.NewReader(""), stdout: &countingWriter{w: &out}, stderr: &errOut}
		root := a.rootCommand()
		root.AddCommand(failingCommand(tt.err))
		code := a.execute(context.Background(), root, []string{"fail", "--json"})
		if code != tt.code {
			t.Errorf("%v: exit code %d, want %d", tt.err, code, tt.code)
		}
		if want := "imagecustom: " + tt.err.Error() + "\n"; !strings.HasPrefix(errOut.String(), want) {
			t.Errorf("%v: stderr = %q, want prefix %q", tt.err, errOut.String(), want)
		}
		var doc errorDoc
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("%v: stdout is not an error document: %v", tt.err, err)
		}
		want := errorBody{Code: tt.code, Kind: tt.kind, Message: tt.err.Error()}
		if doc.Error != want {
			t.Errorf("%v: error document %+v, want %+v", tt.err, doc.Error, want)
		}
	}
}

func TestNoErrorDocumentAfterOutput(t *testing.T) {
	// A command that printed its JSON result and then failed (a check that
	// found problems) must not get a second document on stdout.
	var out, errOut bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &countingWriter{w: &out}, stderr: &errOut}
	root := a.rootCommand()
	root.AddCommand(&cobra.Command{
		Use: "check",
		RunE: runE(func(*cobra.Command, []string) error {
			if err := a.printJSON(map[string]int{"problems": 1}); err != nil {
				return err
			}
			return problemsError{what: "check", n: 1}
		}),
	})
	if code := a.execute(context.Background(), root, []string{"--json", "check"}); code != exitProblems {
		t.Errorf("exit code %d, want %d", code, exitProblems)
	}
	dec := json.NewDecoder(&out)
	var v map[string]any
	if err := dec.Decode(&v); err != nil || v["problems"] != 1.0 {
		t.Errorf("first document %v, %v", v, err)
	}
	if dec.More() {
		t.Errorf("a second document followed the command's own")
	}
}

// failingCommand is a command named "fail" that returns err.
func failingCommand(err error) *cobra.Command {
	return &cobra.Command{
		Use:  "fail",
		Args: cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error { return err }),
	}
}
