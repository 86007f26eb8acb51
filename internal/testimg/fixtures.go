package testimg

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Disk describes one of the committed Windows-like disk fixtures.
type Disk struct {
	Name     string // raw image under testdata, without the compression suffix
	Manifest string // manifest of the system volume's tree, under testdata
	// System is the byte range of the NTFS system volume inside the disk.
	System Range
	// Partitions is the partition table as created: for MBR the type
	// byte in Type, for GPT the type GUID.
	Partitions []Partition
	GPT        bool // GUID partition table, else MBR
	// DiskID is the MBR disk signature (e.g. "0x7c3e5a12") or the GPT disk GUID.
	DiskID string
}

// Range is a byte range of a disk.
type Range struct {
	Offset, Size int64
}

// Partition is one entry of a fixture's partition table.
type Partition struct {
	Range
	Type string // MBR type byte ("0x07") or GPT type GUID
	GUID string // GPT unique partition GUID
	Name string // GPT partition name
	// Active says the MBR boot indicator is set.
	Active bool
}

// WinXP is the Windows XP SP3 (x86) fixture: a 256 MiB MBR disk with one
// NTFS partition at 1 MiB.
func WinXP() Disk {
	sys := Range{Offset: 2048 * 512, Size: (256*2048 - 2048) * 512}
	return Disk{
		Name:       "winxp.raw",
		Manifest:   "winxp.manifest",
		System:     sys,
		Partitions: []Partition{{Range: sys, Type: "0x07", Active: true}},
		DiskID:     "0x7c3e5a12",
	}
}

// Win10 is the Windows 10 Pro 22H2 (x64) fixture: a 512 MiB GPT disk with
// an EFI system partition (FAT32), a Microsoft reserved partition and the
// NTFS system volume.
func Win10() Disk {
	const mib = 1 << 20
	sys := Range{Offset: 117 * mib, Size: (512 - 1 - 117) * mib}
	return Disk{
		Name:     "win10.raw",
		Manifest: "win10.manifest",
		System:   sys,
		GPT:      true,
		DiskID:   "8C5A9D1E-3B27-4F60-9E14-7A2B6C0D5E31",
		Partitions: []Partition{
			{Range: Range{1 * mib, 100 * mib}, Type: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
				GUID: "0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9", Name: "EFI system partition"},
			{Range: Range{101 * mib, 16 * mib}, Type: "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
				GUID: "1B2C3D4E-5F60-4172-8394-A5B6C7D8E9F0", Name: "Microsoft reserved partition"},
			{Range: sys, Type: "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7",
				GUID: "5D1F0B6A-2C4E-4A7B-8E39-1F6D2B3C4A50", Name: "Basic data partition"},
		},
	}
}

// Disks returns every disk fixture.
func Disks() []Disk { return []Disk{WinXP(), Win10()} }

// Entry is one line of a fixture manifest: what the tree of a system
// volume holds, as generated (testdata/gen/mktree).
type Entry struct {
	Kind    byte   // 'd' directory, 'f' file, 'j' junction, 'l' symbolic link
	Path    string // backslash-separated, from the volume root, no leading backslash
	Size    int64  // file size; 0 for others
	SHA256  string // hex SHA-256 of a file's content; "" for others
	DOSName string // 8.3 alias; "" when the long name is a legal 8.3 name
	Attrs   uint32 // Windows attribute bits set explicitly; 0 when left to the defaults
	Target  string // absolute Windows path of a junction or link
	// Security names the entry's security descriptor template; entries
	// with the same one share a security_id in $Secure.
	Security string
}

// Manifest reads a manifest file under testdata.
func Manifest(t testing.TB, name string) []Entry {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatalf("testimg: %v", err)
	}
	defer f.Close()
	es, err := parseManifest(f)
	if err != nil {
		t.Fatalf("testimg: %s: %v", name, err)
	}
	return es
}

func parseManifest(r io.Reader) ([]Entry, error) {
	var es []Entry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 8 || len(f[0]) != 1 {
			return nil, fmt.Errorf("line %d: want 8 tab-separated fields, got %d", n, len(f))
		}
		size, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: size: %w", n, err)
		}
		attrs, err := strconv.ParseUint(f[5], 0, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: attributes: %w", n, err)
		}
		dash := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		es = append(es, Entry{Kind: f[0][0], Path: f[1], Size: size, SHA256: dash(f[3]),
			DOSName: dash(f[4]), Attrs: uint32(attrs), Target: dash(f[6]), Security: f[7]})
	}
	return es, sc.Err()
}

// Section writes bytes [r.Offset, r.Offset+r.Size) of the file at path to
// a new sparse file in the test's temporary directory and returns its
// path: for example a partition cut out of a disk, for tools that take a
// bare volume.
func Section(t testing.TB, path string, r Range) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatalf("testimg: %v", err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), fmt.Sprintf("%s@%d", filepath.Base(path), r.Offset))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatalf("testimg: %v", err)
	}
	if err := writeSparse(out, io.NewSectionReader(in, r.Offset, r.Size)); err != nil {
		out.Close()
		t.Fatalf("testimg: section of %s: %v", path, err)
	}
	if err := out.Close(); err != nil {
		t.Fatalf("testimg: %v", err)
	}
	return dst
}

// Volume returns a private copy of a disk fixture's NTFS system volume,
// cut out of the disk, for tools that take a bare volume (ntfs-3g's).
func Volume(t testing.TB, d Disk) string {
	t.Helper()
	return Section(t, Path(t, d.Name), d.System)
}

// VMDKSubformats returns the VMDK subformats qemu-img writes, in the
// names qemu-img and the vmdk package use.
func VMDKSubformats() []string {
	return []string{"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
		"twoGbMaxExtentFlat", "streamOptimized"}
}

// VMDK returns the path of a private copy of disk fixture d in the given
// VMDK subformat: the committed conversion under testdata/vmdk when there
// is one, else one made now from the raw fixture with qemu-img (the test
// skips, or fails under IMAGECUSTOM_ORACLES=require, without it). Split
// and flat subformats are several files in one folder; the returned path
// is the descriptor's.
func VMDK(t testing.TB, d Disk, subformat string) string {
	t.Helper()
	base := strings.TrimSuffix(d.Name, ".raw") + "-" + subformat + ".vmdk"
	if _, codec := locate(Dir(t), "vmdk/"+base); codec != "missing" {
		return Copy(t, "vmdk/"+base)
	}
	dst := filepath.Join(t.TempDir(), base)
	Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+subformat, Path(t, d.Name), dst)
	return dst
}

// QemuImage is what "qemu-img info --output=json" says of an image, in
// the fields the tests use.
type QemuImage struct {
	Format         string `json:"format"`       // "vmdk", "raw", "qcow2"…
	VirtualSize    int64  `json:"virtual-size"` // disk size in bytes
	FormatSpecific struct {
		Data struct {
			CreateType string `json:"create-type"` // VMDK subformat
		} `json:"data"`
	} `json:"format-specific"`
}

// QemuInfo runs qemu-img info on the image at path (skipping the test
// without qemu-img, see [Oracle]) and decodes its JSON answer.
func QemuInfo(t testing.TB, path string) QemuImage {
	t.Helper()
	var info QemuImage
	out := Run(t, "qemu-img", "info", "--output=json", path)
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("qemu-img info %s: %v\n%s", path, err, out)
	}
	return info
}
