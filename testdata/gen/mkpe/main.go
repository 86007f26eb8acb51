// Command mkpe writes tiny, valid, deterministic PE images that stand in for
// Windows native programs such as autochk.exe in test fixtures, so that no
// Microsoft binary ever has to be committed.
//
// Usage (from the repository root):
//
//	go run ./testdata/gen/mkpe -machine i386|amd64 [-subsystem native|console|windows] [-variant autochk|hook] -o FILE
//
// The image has a .text section whose entry point (NtProcessStartup) calls
// ntdll's NtDisplayString and then NtTerminateProcess(NtCurrentProcess(), 0)
// through the import address table, an .rdata section with the import
// directory and the program's data, a .pdata section with unwind data (amd64
// only) and a .reloc section with base relocations. The PE checksum is set.
// Every run with the same flags produces byte-identical output.
//
// testdata/gen/mkpe/gen.sh regenerates the committed images in testdata/pe.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	machine := flag.String("machine", "", "target machine: i386 or amd64 (required)")
	subsystem := flag.String("subsystem", "native", "subsystem: native, console or windows")
	variant := flag.String("variant", "autochk", "program to emit: autochk or hook")
	out := flag.String("o", "", "output file (required)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mkpe -machine i386|amd64 [-subsystem native|console|windows] [-variant autochk|hook] -o FILE\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 || *machine == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	cfg, err := parseConfig(*machine, *subsystem, *variant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpe:", err)
		os.Exit(2)
	}
	img, err := build(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkpe:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkpe:", err)
		os.Exit(1)
	}
}
