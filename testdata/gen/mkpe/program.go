package main

import (
	"fmt"
	"sort"
)

// A program is the machine-independent description of what the entry point
// does: a fixed sequence of calls into ntdll, whose arguments are small
// integers or the addresses of read-only data items.
type program struct {
	data  []datum
	calls []call
}

// A datum is one read-only data item in .rdata.
type datum struct {
	// text, unless isInt64 is set, is emitted as a UNICODE_STRING whose
	// Buffer points at a NUL-terminated UTF-16LE copy of text.
	text string
	// isInt64 selects a LARGE_INTEGER holding int64Val instead.
	isInt64  bool
	int64Val int64
}

// An arg is an immediate integer, or (ref >= 0) the address of data[ref].
type arg struct {
	imm int64
	ref int
}

type call struct {
	fn   string // exported by ntdll.dll
	args []arg
}

func imm(v int64) arg { return arg{imm: v, ref: -1} }
func ref(i int) arg   { return arg{ref: i} }

// ntCurrentProcess is NtCurrentProcess(): the pseudo-handle (HANDLE)-1.
const ntCurrentProcess = -1

var programs = map[string]program{
	// NtProcessStartup(PPEB) {
	//     NtDisplayString(&msg);
	//     NtTerminateProcess(NtCurrentProcess(), STATUS_SUCCESS);
	// }
	"autochk": {
		data: []datum{
			{text: "imagecustom autochk stand-in (test fixture, not a Microsoft binary)\n"},
		},
		calls: []call{
			{fn: "NtDisplayString", args: []arg{ref(0)}},
			{fn: "NtTerminateProcess", args: []arg{imm(ntCurrentProcess), imm(0)}},
		},
	},
	// NtProcessStartup(PPEB) {
	//     NtDisplayString(&msg);
	//     NtDelayExecution(FALSE, &oneSecond);   // relative: -10,000,000 * 100ns
	//     NtTerminateProcess(NtCurrentProcess(), STATUS_SUCCESS);
	// }
	"hook": {
		data: []datum{
			{text: "imagecustom boot hook stand-in (test fixture, not a Microsoft binary)\n"},
			{isInt64: true, int64Val: -10_000_000},
		},
		calls: []call{
			{fn: "NtDisplayString", args: []arg{ref(0)}},
			{fn: "NtDelayExecution", args: []arg{imm(0), ref(1)}},
			{fn: "NtTerminateProcess", args: []arg{imm(ntCurrentProcess), imm(0)}},
		},
	},
}

// imports returns the distinct ntdll functions p calls, sorted by name.
func (p program) imports() []string {
	seen := map[string]bool{}
	var fns []string
	for _, c := range p.calls {
		if !seen[c.fn] {
			seen[c.fn] = true
			fns = append(fns, c.fn)
		}
	}
	sort.Strings(fns)
	return fns
}

func (p program) validate() error {
	for _, c := range p.calls {
		for _, a := range c.args {
			if a.ref >= len(p.data) {
				return fmt.Errorf("call %s: data reference %d out of range", c.fn, a.ref)
			}
		}
	}
	return nil
}
