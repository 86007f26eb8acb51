package vmdk_test

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/partition"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// part is a partition as the tests compare them: sectors, type, names.
type part struct {
	Start, Sectors int64
	Type           string
	GUID, Name     string
}

// wantParts is the partition table of a fixture as its description says.
func wantParts(d testimg.Disk) []part {
	var ps []part
	for _, p := range d.Partitions {
		typ := p.Type
		if !strings.HasPrefix(typ, "0x") {
			typ = strings.ToUpper(typ)
		}
		ps = append(ps, part{p.Offset / 512, p.Size / 512, typ, p.GUID, p.Name})
	}
	return ps
}

// TestOpenBackend is the use the adapter is for: diskfs.OpenBackend over
// a VMDK, and go-diskfs's own GetPartitionTable. (The top-level diskfs
// package brings its file systems' modules into go.mod; they are only
// needed by this test, and no binary of ours links them.)
func TestOpenBackend(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			disk, err := vmdk.Open(testimg.VMDK(t, d, "monolithicSparse"), nil)
			if err != nil {
				t.Fatal(err)
			}
			dd, err := diskfs.OpenBackend(disk.Backend())
			if err != nil {
				t.Fatal(err)
			}
			defer dd.Close()
			if dd.Size != disk.Size() {
				t.Errorf("diskfs: %d bytes, the disk %d", dd.Size, disk.Size())
			}
			table, err := dd.GetPartitionTable()
			if err != nil {
				t.Fatal(err)
			}
			var got []part
			for _, p := range table.GetPartitions() {
				if p.GetSize() > 0 {
					got = append(got, part{Start: p.GetStart() / 512, Sectors: p.GetSize() / 512})
				}
			}
			var want []part
			for _, p := range wantParts(d) {
				want = append(want, part{Start: p.Start, Sectors: p.Sectors})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diskfs partitions (-want +got):\n%s", diff)
			}
		})
	}
}

// The other tests drive go-diskfs's partition packages directly, as
// disk.Disk does, to check the backend call by call.

// openBackend checks the backend as diskfs.OpenBackend does: a regular
// file with a size.
func openBackend(t *testing.T, s backend.Storage) int64 {
	t.Helper()
	fi, err := s.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 {
		t.Fatalf("Stat = %v, %v: diskfs.OpenBackend wants a regular file with a size", fi, err)
	}
	return fi.Size()
}

// TestBackendPartitions opens the Windows fixtures as VMDKs of several
// subformats and reads their partition tables with go-diskfs through
// Disk.Backend: the MBR of winxp, the GPT of win10, as the fixtures were
// made.
func TestBackendPartitions(t *testing.T) {
	for _, d := range testimg.Disks() {
		for _, sub := range []string{"monolithicSparse", "twoGbMaxExtentFlat", "streamOptimized"} {
			t.Run(d.Name+"/"+sub, func(t *testing.T) {
				disk, err := vmdk.Open(testimg.VMDK(t, d, sub), nil)
				if err != nil {
					t.Fatal(err)
				}
				s := disk.Backend()
				defer s.Close()
				if size := openBackend(t, s); size != disk.Size() {
					t.Errorf("diskfs sees %d bytes, the disk has %d", size, disk.Size())
				}
				table, err := partition.Read(s, 512, 512)
				if err != nil {
					t.Fatal(err)
				}
				var got []part
				switch tb := table.(type) {
				case *mbr.Table:
					if d.GPT {
						t.Fatal("an MBR where the fixture has a GPT")
					}
					for _, p := range tb.Partitions {
						if p.Type != mbr.Empty {
							got = append(got, part{int64(p.Start), int64(p.Size), fmt.Sprintf("0x%02x", byte(p.Type)), "", ""})
						}
					}
				case *gpt.Table:
					if !d.GPT {
						t.Fatal("a GPT where the fixture has an MBR")
					}
					if !strings.EqualFold(tb.GUID, d.DiskID) {
						t.Errorf("disk GUID %s, want %s", tb.GUID, d.DiskID)
					}
					for _, p := range tb.Partitions {
						if p.Type != gpt.Unused {
							got = append(got, part{int64(p.Start), int64(p.End-p.Start) + 1, strings.ToUpper(string(p.Type)), strings.ToUpper(p.GUID), p.Name})
						}
					}
				default:
					t.Fatalf("partition table %T", table)
				}
				if diff := cmp.Diff(wantParts(d), got); diff != "" {
					t.Errorf("partitions (-want +got):\n%s", diff)
				}
				// The system volume's boot sector, where go-diskfs puts
				// the last partition.
				var start int64 = -1
				for _, p := range table.GetPartitions() {
					if p.GetSize() > 0 {
						start = p.GetStart()
					}
				}
				boot := make([]byte, 512)
				if _, err := s.ReadAt(boot, start); err != nil || string(boot[3:11]) != "NTFS    " {
					t.Errorf("system volume boot sector %q, %v", boot[3:11], err)
				}
				if _, err := disk.Backend().Writable(); !errors.Is(err, backend.ErrIncorrectOpenMode) {
					t.Errorf("Writable of a read-only disk: %v", err)
				}
			})
		}
	}
}

// TestBackendStream checks Read, Seek and Stat against ReadAt.
func TestBackendStream(t *testing.T) {
	disk, err := vmdk.Open(testimg.VMDK(t, testimg.WinXP(), "monolithicSparse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := disk.Backend()
	defer s.Close()
	fi, err := s.Stat()
	if err != nil || fi.Size() != disk.Size() || !fi.Mode().IsRegular() || fi.Name() != "winxp-monolithicSparse.vmdk" {
		t.Fatalf("Stat = %v %v", fi, err)
	}
	if end, err := s.Seek(0, io.SeekEnd); err != nil || end != disk.Size() {
		t.Errorf("Seek to the end = %d, %v", end, err)
	}
	if _, err := s.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to -1 succeeded")
	}
	if pos, err := s.Seek(-512, io.SeekEnd); err != nil || pos != disk.Size()-512 {
		t.Fatalf("Seek = %d, %v", pos, err)
	}
	b := make([]byte, 1024)
	if n, err := s.Read(b); n != 512 || err != nil {
		t.Errorf("Read of the last sector: %d, %v", n, err)
	}
	if n, err := s.Read(b); n != 0 || err != io.EOF {
		t.Errorf("Read at the end: %d, %v", n, err)
	}
	s.Seek(2048*512, io.SeekStart)
	s.Read(b[:512])
	want := make([]byte, 512)
	disk.ReadAt(want, 2048*512)
	if !cmp.Equal(b[:512], want) {
		t.Error("Read after Seek differs from ReadAt")
	}
	if _, err := s.Sys(); !errors.Is(err, backend.ErrNotSuitable) {
		t.Errorf("Sys: %v", err)
	}
	if s.Path() == "" {
		t.Error("no Path")
	}
}

// TestBackendWritePartitionTable partitions a blank VMDK with go-diskfs
// through the adapter; sfdisk, reading qemu-img's raw conversion, sees
// the table.
func TestBackendWritePartitionTable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blank.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", path, "64M")
	disk, err := vmdk.Open(path, &vmdk.Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	s := disk.Backend()
	size := openBackend(t, s)
	w, err := s.Writable()
	if err != nil {
		t.Fatal(err)
	}
	table := &mbr.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, Partitions: []*mbr.Partition{
		{Bootable: true, Type: mbr.NTFS, Start: 2048, Size: 65536},
		{Type: mbr.Linux, Start: 67584, Size: 40960},
	}}
	if err := table.Write(w, size); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // closes the disk
		t.Fatal(err)
	}
	raw := filepath.Join(dir, "blank.raw")
	testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", path, raw)
	out := string(testimg.Run(t, "sfdisk", "-d", raw))
	for _, want := range []string{"start=        2048, size=       65536, type=7, bootable", "start=       67584, size=       40960, type=83"} {
		if !strings.Contains(out, want) {
			t.Errorf("sfdisk -d does not show %q:\n%s", want, out)
		}
	}
}
