package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

var le = binary.LittleEndian

func testOptions() options {
	return options{
		Root:  "$$$PROTO.HIV",
		Minor: 5,
		File:  `\SystemRoot\System32\Config\SOFTWARE`,
		SD:    "xp",
		Time:  time.Date(2009, time.June, 15, 10, 30, 0, 0, time.UTC),
	}
}

func mustBuild(t *testing.T, o options) []byte {
	t.Helper()
	b, err := build(o)
	if err != nil {
		t.Fatalf("build(%+v): %v", o, err)
	}
	return b
}

func TestBuildLayout(t *testing.T) {
	o := testOptions()
	b := mustBuild(t, o)
	if len(b) != baseBlockSize+binSize {
		t.Fatalf("size %d, want %d", len(b), baseBlockSize+binSize)
	}
	base := b[:baseBlockSize]
	if string(base[:4]) != "regf" {
		t.Errorf("signature %q", base[:4])
	}
	if s1, s2 := le.Uint32(base[4:]), le.Uint32(base[8:]); s1 != s2 {
		t.Errorf("sequence numbers %d != %d: hive would be dirty", s1, s2)
	}
	const wantFT = 128895354000000000 // 2009-06-15T10:30:00Z as a FILETIME
	if got := le.Uint64(base[12:]); got != wantFT {
		t.Errorf("timestamp %d, want %d", got, wantFT)
	}
	for _, f := range []struct {
		off  int
		want uint32
		what string
	}{
		{20, 1, "major"}, {24, 5, "minor"}, {28, 0, "file type"}, {32, 1, "file format"},
		{36, binHeaderSize, "root cell offset"}, {40, binSize, "hive bins size"}, {44, 1, "clustering factor"},
	} {
		if got := le.Uint32(base[f.off:]); got != f.want {
			t.Errorf("%s = %d, want %d", f.what, got, f.want)
		}
	}
	// Checksum: XOR of the 127 words before it (recomputed here independently).
	var x uint32
	for i := 0; i < 508; i += 4 {
		x ^= le.Uint32(base[i:])
	}
	if got := le.Uint32(base[508:]); got != x || x == 0 || x == 0xFFFFFFFF {
		t.Errorf("checksum %#x, XOR of the header %#x", got, x)
	}
	if !bytes.Equal(base[512:], make([]byte, baseBlockSize-512)) {
		t.Error("base block beyond 512 bytes is not zero")
	}

	bin := b[baseBlockSize:]
	if string(bin[:4]) != "hbin" || le.Uint32(bin[4:]) != 0 || le.Uint32(bin[8:]) != binSize {
		t.Fatalf("hbin header % x", bin[:12])
	}
	if le.Uint64(bin[20:]) != wantFT {
		t.Error("first bin's timestamp is not the base block's")
	}

	// Cells tile the bin exactly: allocated (negative) root nk and sk, then one free cell.
	type cell struct {
		off, size int
		used      bool
	}
	var cells []cell
	sum := binHeaderSize
	for off := binHeaderSize; off < binSize; {
		sz := int(int32(le.Uint32(bin[off:])))
		c := cell{off: off, size: sz, used: sz < 0}
		if sz < 0 {
			c.size = -sz
		}
		if c.size < 8 || c.size%8 != 0 || off+c.size > binSize {
			t.Fatalf("cell at %#x: bad size %d", off, sz)
		}
		cells = append(cells, c)
		sum += c.size
		off += c.size
	}
	if sum != binSize {
		t.Fatalf("header + cells = %d bytes, want %d", sum, binSize)
	}
	if len(cells) != 3 || !cells[0].used || !cells[1].used || cells[2].used {
		t.Fatalf("cells %+v, want used nk, used sk, free", cells)
	}

	nk := bin[cells[0].off+4:]
	if string(nk[:2]) != "nk" || le.Uint16(nk[2:]) != 0x2C {
		t.Errorf("root: signature %q flags %#x, want nk 0x2c", nk[:2], le.Uint16(nk[2:]))
	}
	if le.Uint64(nk[4:]) != wantFT {
		t.Error("root timestamp")
	}
	for _, f := range []struct {
		off  int
		want uint32
		what string
	}{
		{20, 0, "subkeys"}, {24, 0, "volatile subkeys"}, {28, nilOffset, "subkey list"},
		{32, nilOffset, "volatile list"}, {36, 0, "values"}, {40, nilOffset, "value list"},
		{44, uint32(cells[1].off), "sk offset"}, {48, nilOffset, "class"},
	} {
		if got := le.Uint32(nk[f.off:]); got != f.want {
			t.Errorf("root %s = %#x, want %#x", f.what, got, f.want)
		}
	}
	if n := int(le.Uint16(nk[72:])); string(nk[76:76+n]) != o.Root {
		t.Errorf("root name %q", nk[76:76+n])
	}

	sk := bin[cells[1].off+4:]
	self := uint32(cells[1].off)
	if string(sk[:2]) != "sk" || le.Uint32(sk[4:]) != self || le.Uint32(sk[8:]) != self || le.Uint32(sk[12:]) != 1 {
		t.Errorf("sk: %q flink %#x blink %#x refs %d; want a one-cell ring at %#x with one reference",
			sk[:2], le.Uint32(sk[4:]), le.Uint32(sk[8:]), le.Uint32(sk[12:]), self)
	}
	sdLen := int(le.Uint32(sk[16:]))
	if 4+skFixedSize+sdLen > cells[1].size {
		t.Fatalf("descriptor of %d bytes overflows its %d-byte cell", sdLen, cells[1].size)
	}
	checkDescriptor(t, sk[20:20+sdLen])
}

func TestBuildDeterministic(t *testing.T) {
	a, b := mustBuild(t, testOptions()), mustBuild(t, testOptions())
	if !bytes.Equal(a, b) {
		t.Error("two builds differ")
	}
}

func TestChecksumFixups(t *testing.T) {
	base := make([]byte, 512)
	if got := checksum(base); got != 1 {
		t.Errorf("XOR 0: checksum %#x, want 1", got)
	}
	le.PutUint32(base[0:], 0xFFFFFFFF)
	if got := checksum(base); got != 0xFFFFFFFE {
		t.Errorf("XOR 0xFFFFFFFF: checksum %#x, want 0xFFFFFFFE", got)
	}
	le.PutUint32(base[4:], 0x0F0F0F0F)
	if got := checksum(base); got != 0xF0F0F0F0 {
		t.Errorf("checksum %#x, want 0xF0F0F0F0", got)
	}
}

func TestFileNameField(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"SYSTEM", "SYSTEM"},
		{`\SystemRoot\System32\Config\SAM`, `\SystemRoot\System32\Config\SAM`}, // exactly 31
		{`\SystemRoot\System32\Config\SECURITY`, `emRoot\System32\Config\SECURITY`},
		{`\??\C:\Documents and Settings\joe\ntuser.dat`, `nts and Settings\joe\ntuser.dat`},
		{"", ""},
	} {
		f := fileNameField(c.path)
		u := make([]uint16, 32)
		for i := range u {
			u[i] = le.Uint16(f[2*i:])
		}
		if u[31] != 0 {
			t.Errorf("%q: not NUL-terminated", c.path)
		}
		got := string(utf16.Decode(u))
		got = got[:strings.IndexByte(got+"\x00", 0)]
		if got != c.want {
			t.Errorf("fileNameField(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestFiletime(t *testing.T) {
	if got := filetime(time.Unix(0, 0)); got != 116444736000000000 {
		t.Errorf("filetime(Unix epoch) = %d", got)
	}
}

// Two descriptors copied from the root keys of real hives in ../shared/data/hives
// (SYSTEM.xz, Windows 7; the regipy Windows 10 SYSTEM_B); the profiles must match them.
func TestSecurityDescriptorMatchesRealHives(t *testing.T) {
	for _, c := range []struct{ profile, user, want string }{
		{"vista", "", "01000494d0000000e000000000000000140000000200bc0008000000000018001900020001020000000000052000000021020000000a18000000008001020000000000052000000021020000000018003f000f0001020000000000052000000020020000000a18000000001001020000000000052000000020020000000014003f000f00010100000000000512000000000a140000000010010100000000000512000000000018003f000f0001020000000000052000000020020000000a14000000001001010000000000030000000001020000000000052000000020020000010100000000000512000000"},
		{"win10", "", "0100149ccc000000dc000000140000001c00000002000800000000000200b00006000000000218001900020001020000000000052000000021020000000218003f000f0001020000000000052000000020020000000214003f000f00010100000000000512000000000214003f000f000101000000000003000000000002180019000200010200000000000f02000000010000000002380019000200010a00000000000f0300000000040000b031803f6cbc634c3ce050d1970ca1620f01cb197e7aa6c0fae697f119a30cce01020000000000052000000020020000010100000000000512000000"},
	} {
		sd, err := securityDescriptor(c.profile, c.user)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(sd); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.profile, got, c.want)
		}
	}
}

func TestSecurityDescriptorProfiles(t *testing.T) {
	for _, c := range []struct{ profile, user string }{
		{"xp", ""}, {"vista", ""}, {"win10", ""}, {"security", ""},
		{"user-xp", "S-1-5-21-2183741645-3219871934-1567301829-500"},
		{"user-win10", "S-1-5-21-1847522761-2946178233-4058326117-1001"},
	} {
		t.Run(c.profile, func(t *testing.T) {
			sd, err := securityDescriptor(c.profile, c.user)
			if err != nil {
				t.Fatal(err)
			}
			checkDescriptor(t, sd)
			if c.user != "" {
				u, _ := encodeSID(c.user)
				if !bytes.Contains(sd, u) {
					t.Errorf("descriptor does not name the user %s", c.user)
				}
			}
		})
	}
}

// checkDescriptor parses a self-relative descriptor: owner Administrators, group
// SYSTEM, a DACL whose ACEs exactly fill it, every part inside the buffer.
func checkDescriptor(t *testing.T, sd []byte) {
	t.Helper()
	if len(sd) < 20 || sd[0] != 1 || le.Uint16(sd[2:])&seSelfRelative == 0 {
		t.Fatalf("not a self-relative descriptor: % x", sd)
	}
	sid := func(off uint32) []byte {
		if off == 0 || int(off)+8 > len(sd) {
			t.Fatalf("SID offset %d outside %d bytes", off, len(sd))
		}
		n := 8 + 4*int(sd[off+1])
		if int(off)+n > len(sd) {
			t.Fatalf("SID at %d overruns", off)
		}
		return sd[off : int(off)+n]
	}
	admins, _ := encodeSID(sidAdmins)
	system, _ := encodeSID(sidSystem)
	if !bytes.Equal(sid(le.Uint32(sd[4:])), admins) || !bytes.Equal(sid(le.Uint32(sd[8:])), system) {
		t.Error("owner/group are not Administrators/SYSTEM")
	}
	d := int(le.Uint32(sd[16:]))
	if d == 0 || d+8 > len(sd) || le.Uint16(sd[2:])&seDACLPresent == 0 {
		t.Fatal("no DACL")
	}
	size, count := int(le.Uint16(sd[d+2:])), int(le.Uint16(sd[d+4:]))
	if d+size > len(sd) || count == 0 {
		t.Fatalf("DACL size %d count %d", size, count)
	}
	p := d + 8
	for i := 0; i < count; i++ {
		n := int(le.Uint16(sd[p+2:]))
		if sd[p] != 0 || n < 8+8 || p+n > d+size {
			t.Fatalf("ACE %d at %d: type %d size %d", i, p, sd[p], n)
		}
		p += n
	}
	if p != d+size {
		t.Errorf("ACEs end at %d, DACL at %d", p, d+size)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*options)
	}{
		{"minor 4", func(o *options) { o.Minor = 4 }},
		{"empty root", func(o *options) { o.Root = "" }},
		{"non-Latin-1 root", func(o *options) { o.Root = "ключ" }},
		{"unknown descriptor", func(o *options) { o.SD = "nt4" }},
		{"user descriptor without user", func(o *options) { o.SD = "user-xp" }},
		{"bad user SID", func(o *options) { o.SD = "user-win10"; o.User = "S-1-5-x" }},
	} {
		o := testOptions()
		c.edit(&o)
		if _, err := build(o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestOracles opens a built hive with the third-party readers when they are installed
// (IMAGECUSTOM_ORACLES=require makes a missing tool an error).
func TestOracles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.hive")
	if err := os.WriteFile(path, mustBuild(t, testOptions()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tool := range [][]string{{"hivexml", path}, {"regfinfo", path}, {"reglookup", path}} {
		if _, err := exec.LookPath(tool[0]); err != nil {
			if os.Getenv("IMAGECUSTOM_ORACLES") == "require" {
				t.Errorf("%s not installed", tool[0])
			}
			continue
		}
		var stderr bytes.Buffer
		cmd := exec.Command(tool[0], tool[1:]...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("%s: %v %s", tool[0], err, stderr.String())
		}
		if !bytes.Contains(out, []byte("$$$PROTO.HIV")) && tool[0] != "reglookup" {
			t.Errorf("%s does not show the root key:\n%s", tool[0], out)
		}
	}
}
