// Command mkhive writes a minimal, valid, empty Windows registry hive
// (regf) file: a base block, one 4 KiB hive bin holding the root key node,
// one security cell and a free cell. Third-party tools (hivexregedit
// --merge) then fill it from .reg text; see ../hives.sh.
//
// Usage:
//
//	go run ./testdata/gen/mkhive -root NAME -minor 3|5 -file PATH -o OUT \
//	    [-sd xp|vista|win10|security|user-xp|user-win10] [-user SID] [-time RFC3339]
//
// The output is deterministic: every timestamp is the -time value.
//
// Root key names and base-block file names differ by Windows version and
// by how the hive was made; what real hives show (see hives.sh, which
// passes them):
//
//   - XP SYSTEM, SOFTWARE, default and NTUSER.DAT: root "$$$PROTO.HIV"
//     (text-mode setup builds them under \Registry\Machine\SYSTEM\$$$PROTO.HIV
//     and saves that key; bkhive prints "Root Key : $$$PROTO.HIV").
//   - XP SAM and SECURITY: created by the kernel at first boot, the root
//     takes the hive's name ("SAM"; samdump2 prints "Root Key : SAM").
//   - Vista/7: "CMI-CreateHive{GUID}"; 8/8.1: "CsiTool-CreateHive-{0…0}";
//     10/11: "ROOT".
//   - File name field: the last 31 UTF-16 characters of the path the kernel
//     opened, NUL-terminated (e.g. "emRoot\System32\Config\SECURITY",
//     "nts and Settings\joe\ntuser.dat"); the boot loader's SYSTEM hive
//     just says "SYSTEM" (XP-era and Windows 7 samples, ReactOS
//     CmpInitializeSystemHive).
//
// Format: ../../../../shared/reference/regf.md (msuhanov's specification).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	var o options
	var ts string
	flag.StringVar(&o.Root, "root", "", "root key name, e.g. $$$PROTO.HIV or ROOT")
	flag.IntVar(&o.Minor, "minor", 3, "regf minor version: 3 (standard format) or 5 (latest format)")
	flag.StringVar(&o.File, "file", "", `path of the hive as Windows opened it, e.g. \SystemRoot\System32\Config\SAM; the last 31 characters are stored`)
	flag.StringVar(&o.SD, "sd", "xp", "root security descriptor: xp, vista, win10, security (machine hives) or user-xp, user-win10 (needs -user)")
	flag.StringVar(&o.User, "user", "", "user SID for the user-* descriptors, e.g. S-1-5-21-1-2-3-1001")
	flag.StringVar(&ts, "time", defaultTime.Format(time.RFC3339), "timestamp written everywhere (RFC 3339)")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if *out == "" || o.Root == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkhive: -time:", err)
		os.Exit(2)
	}
	o.Time = t
	b, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkhive:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "mkhive:", err)
		os.Exit(1)
	}
}
