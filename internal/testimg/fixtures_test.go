package testimg_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/pe"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// The tests in this file check the committed disk fixtures with tools no
// one here wrote: the partition tables with mmls, the trees with fls and
// ntfsls, contents with icat and ntfscat, security and attributes with
// istat, the hives with hivexget, the VMDK conversions with qemu-img and
// vmdkinfo.

// metafile reports whether a volume path belongs to NTFS's own metadata.
func metafile(path string) bool {
	first, _, _ := strings.Cut(path, `\`)
	switch strings.SplitN(first, ":", 2)[0] {
	case "$AttrDef", "$BadClus", "$Bitmap", "$Boot", "$Extend", "$LogFile", "$MFT",
		"$MFTMirr", "$Secure", "$UpCase", "$Volume", "$OrphanFiles":
		return true
	}
	return false
}

// flsEntry is one line of "fls -r -p": type, inode and path.
type flsEntry struct {
	typ   string // "r/r", "d/d", …
	inode string // "64-128-2"
	path  string // backslash-separated
}

var flsLine = regexp.MustCompile(`^(\S+/\S+)\s+([0-9-]+):\t(.*)$`)

// fls lists a disk fixture's system volume with sleuthkit's fls.
func fls(t *testing.T, d testimg.Disk) map[string]flsEntry {
	t.Helper()
	out := testimg.Run(t, "fls", "-r", "-p", "-u", "-o", strconv.FormatInt(d.System.Offset/512, 10), testimg.Path(t, d.Name))
	entries := map[string]flsEntry{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := flsLine.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("fls: unexpected line %q", sc.Text())
		}
		p := strings.ReplaceAll(m[3], "/", `\`)
		if metafile(p) {
			continue
		}
		if _, dup := entries[p]; dup {
			t.Errorf("fls lists %s twice", p)
		}
		entries[p] = flsEntry{typ: m[1], inode: m[2], path: p}
	}
	return entries
}

func TestFixturePartitionTables(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			out := string(testimg.Run(t, "mmls", "-B", testimg.Path(t, d.Name)))
			wantScheme := "DOS Partition Table"
			if d.GPT {
				wantScheme = "GUID Partition Table (EFI)"
			}
			if !strings.HasPrefix(out, wantScheme) {
				t.Errorf("mmls: scheme line %q, want %q", strings.SplitN(out, "\n", 2)[0], wantScheme)
			}
			// Rows of real partitions: "004:  000  0000002048  0000206847  0000204800  100M  EFI system partition"
			row := regexp.MustCompile(`(?m)^\d+:\s+\d+(?::\d+)?\s+(\d+)\s+\d+\s+(\d+)\s+\S+\s+(.*)$`)
			var got []testimg.Partition
			for _, m := range row.FindAllStringSubmatch(out, -1) {
				start, _ := strconv.ParseInt(m[1], 10, 64)
				length, _ := strconv.ParseInt(m[2], 10, 64)
				got = append(got, testimg.Partition{Range: testimg.Range{Offset: start * 512, Size: length * 512}, Name: m[3]})
			}
			var want []testimg.Partition
			for _, p := range d.Partitions {
				name := p.Name
				if !d.GPT {
					name = "NTFS / exFAT (0x07)"
				}
				want = append(want, testimg.Partition{Range: p.Range, Name: name})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mmls partitions (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

func TestFixtureTreeMatchesManifest(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			manifest := testimg.Manifest(t, d.Manifest)
			listed := fls(t, d)
			var missing, wrongType []string
			for _, e := range manifest {
				f, ok := listed[e.Path]
				if !ok {
					missing = append(missing, e.Path)
					continue
				}
				delete(listed, e.Path)
				want := "r/r"
				if e.Kind != 'f' {
					want = "d/d"
				}
				if f.typ != want {
					wrongType = append(wrongType, fmt.Sprintf("%s: %s, want %s", e.Path, f.typ, want))
				}
			}
			var extra []string
			for p := range listed {
				extra = append(extra, p)
			}
			sort.Strings(extra)
			if len(missing)+len(extra)+len(wrongType) > 0 {
				t.Errorf("fls vs manifest: %d missing %q, %d unexpected %q, wrong types %q",
					len(missing), head(missing), len(extra), head(extra), head(wrongType))
			}
			// The size the issue asks for: a system folder big enough for a
			// multi-level $I30 index, and a file over 1 MiB.
			sys, big := 0, false
			for _, e := range manifest {
				dir, _ := filepath.Split(strings.ReplaceAll(e.Path, `\`, "/"))
				if strings.EqualFold(dir, "windows/system32/") {
					sys++
				}
				big = big || e.Size > 1<<20
			}
			if sys < 3000 || !big {
				t.Errorf("system32 holds %d entries (want >= 3000); file over 1 MiB: %v", sys, big)
			}
		})
	}
}

// head returns the first few strings of a list, for messages.
func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// ntfslsTree lists a volume recursively with ntfs-3g's ntfsls and returns
// every path; with dos set, ntfsls shows 8.3 aliases where there are.
func ntfslsTree(t *testing.T, vol string, dos bool) map[string]bool {
	t.Helper()
	args := []string{"-R", "-a", vol}
	if dos {
		args = []string{"-R", "-a", "-x", vol}
	}
	out := testimg.Run(t, "ntfsls", args...)
	paths := map[string]bool{}
	dir := ""
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":"):
			dir = strings.TrimPrefix(strings.TrimSuffix(line, ":"), "/")
		case line == "." || line == "..":
		default:
			p := line
			if dir != "" {
				p = dir + "/" + line
			}
			paths[strings.ReplaceAll(p, "/", `\`)] = true
		}
	}
	return paths
}

func TestFixtureDOSNames(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			manifest := testimg.Manifest(t, d.Manifest)
			vol := testimg.Volume(t, d)
			// The path of every entry as ntfsls -x shows it: each component
			// by its 8.3 alias where it has one.
			short := map[string]string{}
			want := map[string]bool{}
			aliases := 0
			for _, e := range manifest {
				name := e.Path[strings.LastIndexByte(e.Path, '\\')+1:]
				if e.DOSName != "" {
					name = e.DOSName
					aliases++
				}
				p := name
				if i := strings.LastIndexByte(e.Path, '\\'); i >= 0 {
					p = short[e.Path[:i]] + `\` + name
				}
				short[e.Path] = p
				want[p] = true
			}
			if aliases < 500 {
				t.Errorf("only %d entries have 8.3 aliases", aliases)
			}
			got := ntfslsTree(t, vol, true)
			for p := range got {
				if metafile(p) {
					delete(got, p)
				}
			}
			// Reparse points are not descended into by ntfsls; neither are
			// they in want (they have no children in the manifest).
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ntfsls -x tree (-want +got):\n%s", diff)
			}
		})
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestFixtureFileContentsSleuthkit(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			manifest := testimg.Manifest(t, d.Manifest)
			listed := fls(t, d)
			disk := testimg.Path(t, d.Name)
			off := strconv.FormatInt(d.System.Offset/512, 10)
			checked := 0
			for i, e := range manifest {
				// Every 100th file, and every file that is large,
				// non-ASCII or a hive (icat reads one file a run; the
				// wimlib test below reads them all).
				special := e.Size > 1<<20 || strings.Contains(e.Path, `\config\`) && e.Size > 0 ||
					strings.ContainsFunc(e.Path, func(r rune) bool { return r > 0x7f })
				if e.Kind != 'f' || (i%100 != 0 && !special) {
					continue
				}
				inode := listed[e.Path].inode
				if inode == "" {
					t.Errorf("%s: not listed by fls", e.Path)
					continue
				}
				if got := sum(testimg.Run(t, "icat", "-o", off, disk, inode)); got != e.SHA256 {
					t.Errorf("%s (inode %s): icat content sha256 %s, want %s", e.Path, inode, got, e.SHA256)
				}
				checked++
			}
			if checked < 40 {
				t.Errorf("only %d files checked", checked)
			}
		})
	}
}

func TestFixtureFileContentsWimlib(t *testing.T) {
	// wimcapture reads the whole volume through libntfs-3g (index blocks and
	// fixups included: it fails on a broken one), wimapply writes the tree
	// out to a plain folder, and every file's content is compared.
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			t.Parallel()
			vol := testimg.Volume(t, d)
			dir := t.TempDir()
			wim := filepath.Join(dir, "volume.wim")
			tree := filepath.Join(dir, "tree")
			// An empty capture configuration: wimlib's default leaves out
			// pagefile.sys, System Volume Information and the like.
			config := filepath.Join(dir, "capture.ini")
			if err := os.WriteFile(config, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			testimg.Run(t, "wimcapture", vol, wim, "--compress=none", "--config="+config)
			testimg.Run(t, "wimapply", wim, "1", tree)
			files := 0
			for _, e := range testimg.Manifest(t, d.Manifest) {
				p := filepath.Join(tree, filepath.FromSlash(strings.ReplaceAll(e.Path, `\`, "/")))
				fi, err := os.Lstat(p)
				switch {
				case err != nil:
					t.Errorf("%s: %v", e.Path, err)
				case e.Kind == 'f':
					b, err := os.ReadFile(p)
					if err != nil || sum(b) != e.SHA256 {
						t.Errorf("%s: content sha256 %s (%v), want %s", e.Path, sum(b), err, e.SHA256)
					}
					files++
				case e.Kind == 'd' && !fi.IsDir():
					t.Errorf("%s: not a directory: %v", e.Path, fi.Mode())
				}
			}
			if files < 3000 {
				t.Errorf("only %d files compared", files)
			}
		})
	}
}

// ntfscat extracts a file from a bare volume with ntfs-3g's ntfscat.
func ntfscat(t *testing.T, vol, path string) []byte {
	t.Helper()
	return testimg.Run(t, "ntfscat", "-f", vol, strings.ReplaceAll(path, `\`, "/"))
}

func TestFixtureStandInsAndUnicodeByPath(t *testing.T) {
	for _, tt := range []struct {
		disk    testimg.Disk
		autochk string
		machine uint16
		cmd     []string // cmd.exe stand-ins and their machine
	}{
		{testimg.WinXP(), "autochk-i386.exe", pe.IMAGE_FILE_MACHINE_I386, []string{`WINDOWS\system32\cmd.exe`}},
		{testimg.Win10(), "autochk-amd64.exe", pe.IMAGE_FILE_MACHINE_AMD64, []string{`Windows\System32\cmd.exe`}},
	} {
		t.Run(tt.disk.Name, func(t *testing.T) {
			vol := testimg.Volume(t, tt.disk)
			sys := `WINDOWS\system32`
			if tt.disk.GPT {
				sys = `Windows\System32`
			}
			got := ntfscat(t, vol, sys+`\autochk.exe`)
			if want := testimg.Bytes(t, "pe/"+tt.autochk); !bytes.Equal(got, want) {
				t.Errorf("autochk.exe differs from testdata/pe/%s", tt.autochk)
			}
			for _, name := range append([]string{sys + `\autochk.exe`}, tt.cmd...) {
				f, err := pe.NewFile(bytes.NewReader(ntfscat(t, vol, name)))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if f.Machine != tt.machine {
					t.Errorf("%s: machine %#x, want %#x", name, f.Machine, tt.machine)
				}
			}
			// Unicode names resolve by path through ntfs-3g as well.
			for _, e := range testimg.Manifest(t, tt.disk.Manifest) {
				if e.Kind == 'f' && strings.ContainsFunc(e.Path, func(r rune) bool { return r > 0x7f }) {
					if got := sum(ntfscat(t, vol, e.Path)); got != e.SHA256 {
						t.Errorf("%s: ntfscat sha256 %s, want %s", e.Path, got, e.SHA256)
					}
				}
			}
		})
	}
}

var istatSecurity = regexp.MustCompile(`(?m)^Security ID: (\d+)`)
var istatFlags = regexp.MustCompile(`(?m)^Flags: (.*)$`)

func TestFixtureSecurityAndAttributes(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			manifest := testimg.Manifest(t, d.Manifest)
			listed := fls(t, d)
			disk := testimg.Path(t, d.Name)
			off := strconv.FormatInt(d.System.Offset/512, 10)
			istat := func(inode string) string {
				mft, _, _ := strings.Cut(inode, "-")
				return string(testimg.Run(t, "istat", "-o", off, disk, mft))
			}
			// A few entries per security template: the same template means
			// the same security_id, different templates different ones,
			// none zero (a private $SECURITY_DESCRIPTOR).
			ids := map[string]string{} // template -> security id
			seen := map[string]int{}
			for _, e := range manifest {
				if seen[e.Security] >= 3 {
					continue
				}
				seen[e.Security]++
				m := istatSecurity.FindStringSubmatch(istat(listed[e.Path].inode))
				if m == nil || m[1] == "0" {
					t.Errorf("%s: no shared security id (%v)", e.Path, m)
					continue
				}
				if id, ok := ids[e.Security]; ok && id != m[1] {
					t.Errorf("%s: security id %s, want %s like the other %q entries", e.Path, m[1], id, e.Security)
				}
				ids[e.Security] = m[1]
			}
			byID := map[string]string{}
			for tpl, id := range ids {
				if other, ok := byID[id]; ok {
					t.Errorf("templates %q and %q share security id %s", tpl, other, id)
				}
				byID[id] = tpl
			}
			if len(ids) < 8 {
				t.Errorf("only %d distinct security descriptors: %v", len(ids), ids)
			}
			// Attribute bits and reparse points.
			for _, e := range manifest {
				if e.Attrs == 0 {
					continue
				}
				out := istat(listed[e.Path].inode)
				flags := istatFlags.FindStringSubmatch(out)
				if flags == nil {
					t.Fatalf("%s: no flags in istat output", e.Path)
				}
				for bit, name := range map[uint32]string{0x1: "Read Only", 0x2: "Hidden", 0x4: "System", 0x400: "Reparse Point"} {
					if has := strings.Contains(flags[1], name); has != (e.Attrs&bit != 0) {
						t.Errorf("%s: istat flags %q, manifest attributes %#x", e.Path, flags[1], e.Attrs)
					}
				}
				if e.Target != "" {
					mft, _, _ := strings.Cut(listed[e.Path].inode, "-")
					data := testimg.Run(t, "icat", "-o", off, disk, mft+"-192")
					tag, target, err := parseReparse(data)
					if err != nil {
						t.Errorf("%s: %v", e.Path, err)
						continue
					}
					wantTag := uint32(0xA0000003)
					if e.Kind == 'l' {
						wantTag = 0xA000000C
					}
					if tag != wantTag || target != e.Target {
						t.Errorf("%s: reparse tag %#x target %q, want %#x %q", e.Path, tag, target, wantTag, e.Target)
					}
				}
			}
		})
	}
}

// parseReparse decodes the print name of a mount point or symbolic link
// reparse buffer, as extracted by icat.
func parseReparse(b []byte) (tag uint32, target string, err error) {
	if len(b) < 16 {
		return 0, "", fmt.Errorf("reparse data of %d bytes", len(b))
	}
	tag = binary.LittleEndian.Uint32(b)
	buf := 16
	if tag == 0xA000000C {
		buf = 20
	}
	off := int(binary.LittleEndian.Uint16(b[12:]))
	n := int(binary.LittleEndian.Uint16(b[14:]))
	if buf+off+n > len(b) || n%2 != 0 {
		return tag, "", fmt.Errorf("print name out of bounds")
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[buf+off+2*i:])
	}
	return tag, string(utf16.Decode(u)), nil
}

func TestFixtureVMDKs(t *testing.T) {
	for _, d := range testimg.Disks() {
		raw := testimg.Path(t, d.Name)
		fi, err := os.Stat(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, sf := range testimg.VMDKSubformats() {
			t.Run(d.Name+"/"+sf, func(t *testing.T) {
				t.Parallel()
				p := testimg.VMDK(t, d, sf)
				info := testimg.QemuInfo(t, p)
				if info.Format != "vmdk" || info.VirtualSize != fi.Size() || info.FormatSpecific.Data.CreateType != sf {
					t.Errorf("qemu-img info: %+v, want vmdk %s of %d bytes", info, sf, fi.Size())
				}
				testimg.Run(t, "qemu-img", "compare", "-q", "-f", "raw", "-F", "vmdk", raw, p)
				testimg.Run(t, "qemu-img", "check", "-q", p)
				if sf != "streamOptimized" { // libvmdk 20221124 cannot open qemu's streamOptimized
					out := string(testimg.Run(t, "vmdkinfo", p))
					if want := fmt.Sprintf("Media size:\t\t\t%s", mediaSize(fi.Size())); !strings.Contains(out, want) {
						t.Errorf("vmdkinfo does not say %q:\n%s", want, out)
					}
				}
			})
		}
	}
}

// mediaSize formats a size the way libvmdk's vmdkinfo prints it.
func mediaSize(n int64) string {
	return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
}

func TestFixtureHives(t *testing.T) {
	const nic = `ControlSet001\Control\Class\{4D36E972-E325-11CE-BFC1-08002BE10318}\0001`
	type value struct{ hive, key, name, want string }
	for _, tt := range []struct {
		disk   testimg.Disk
		config string // the config folder in the volume
		hives  string // the folder under testdata/hives
		names  []string
		values []value
	}{
		{testimg.WinXP(), `WINDOWS\system32\config`, "winxp",
			[]string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "default"},
			[]value{
				{"SYSTEM", `Select`, "Current", "1"},
				{"SYSTEM", `Select`, "Default", "1"},
				{"SYSTEM", `ControlSet001\Control\Session Manager`, "BootExecute", "autocheck autochk *\n"},
				{"SYSTEM", `ControlSet002\Control\Session Manager`, "BootExecute", "autocheck autochk *\n"},
				{"SYSTEM", `ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "WINXP-GOLD"},
				{"SYSTEM", `ControlSet001\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE", "x86"},
				{"SYSTEM", `ControlSet001\Services\Tcpip\Parameters`, "Hostname", "WINXP-GOLD"},
				{"SYSTEM", `ControlSet001\Services\Tcpip\Parameters\Interfaces\{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}`, "EnableDHCP", "1"},
				{"SYSTEM", nic, "NetCfgInstanceId", "{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}"},
				{"SYSTEM", `ControlSet001\Control\ProductOptions`, "ProductType", "WinNT"},
				{"SYSTEM", `Setup`, "SystemSetupInProgress", "0"},
				// MBR disk signature 0x7C3E5A12 and the partition's byte offset.
				{"SYSTEM", `MountedDevices`, `\DosDevices\C:`, "\x12\x5a\x3e\x7c\x00\x00\x10\x00\x00\x00\x00\x00"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "ProductName", "Microsoft Windows XP"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CurrentVersion", "5.1"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CurrentBuildNumber", "2600"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CSDVersion", "Service Pack 3"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "SystemRoot", `C:\WINDOWS`},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion\Time Zones\Pacific Standard Time`, "Index", "4"},
				{"default", `Keyboard Layout\Preload`, "1", "00000409"},
			}},
		{testimg.Win10(), `Windows\System32\config`, "win10",
			[]string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"},
			[]value{
				{"SYSTEM", `Select`, "Current", "1"},
				{"SYSTEM", `ControlSet001\Control\Session Manager`, "BootExecute", "autocheck autochk *\n"},
				{"SYSTEM", `ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "DESKTOP-7K2M9QF"},
				{"SYSTEM", `ControlSet001\Control\Session Manager\Environment`, "PROCESSOR_ARCHITECTURE", "AMD64"},
				{"SYSTEM", nic, "NetCfgInstanceId", "{A7E3C1D2-6B4F-4F8A-9C21-0D3E5F7A8B9C}"},
				{"SYSTEM", `ControlSet001\Services\Tcpip\Parameters\Interfaces\{A7E3C1D2-6B4F-4F8A-9C21-0D3E5F7A8B9C}`, "EnableDHCP", "1"},
				// "DMIO:ID:" and the GPT unique GUID of the NTFS partition,
				// 5D1F0B6A-2C4E-4A7B-8E39-1F6D2B3C4A50, in Windows byte order.
				{"SYSTEM", `MountedDevices`, `\DosDevices\C:`, "DMIO:ID:\x6a\x0b\x1f\x5d\x4e\x2c\x7b\x4a\x8e\x39\x1f\x6d\x2b\x3c\x4a\x50"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "ProductName", "Windows 10 Pro"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CurrentVersion", "6.3"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CurrentMajorVersionNumber", "10"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "CurrentBuild", "19045"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "EditionID", "Professional"},
				{"SOFTWARE", `Microsoft\Windows NT\CurrentVersion`, "SystemRoot", `C:\Windows`},
				{"SOFTWARE", `Microsoft\Windows\CurrentVersion\Setup\State`, "ImageState", "IMAGE_STATE_COMPLETE"},
			}},
	} {
		t.Run(tt.disk.Name, func(t *testing.T) {
			vol := testimg.Volume(t, tt.disk)
			dir := t.TempDir()
			for _, name := range tt.names {
				b := ntfscat(t, vol, tt.config+`\`+name)
				if want := testimg.Bytes(t, "hives/"+tt.hives+"/"+name); !bytes.Equal(b, want) {
					t.Errorf("%s in the volume differs from testdata/hives/%s/%s", name, tt.hives, name)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, v := range tt.values {
				got := string(testimg.Run(t, "hivexget", filepath.Join(dir, v.hive), v.key, v.name))
				// hivexget ends text with a newline; binary data is raw.
				if got != v.want+"\n" && got != v.want {
					t.Errorf(`hivexget %s '%s' %s = %q, want %q`, v.hive, v.key, v.name, got, v.want)
				}
			}
		})
	}
}
