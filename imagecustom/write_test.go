package imagecustom

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// customize writes a few files into the image's Windows volume.
func customize(t *testing.T, img *Image, n int) {
	t.Helper()
	if err := customizeErr(img, n); err != nil {
		t.Fatal(err)
	}
}

func customizeErr(img *Image, n int) error {
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		return err
	}
	if err := v.MkdirAll("Windows/vmware_imc", nil); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		data := make([]byte, 3000*(i+1))
		for k := range data {
			data[k] = byte(i + k)
		}
		if err := v.WriteFile(fmt.Sprintf("Windows/vmware_imc/file%02d.bin", i), data, nil); err != nil {
			return err
		}
	}
	return nil
}

func TestCommitWritesThroughTheJournal(t *testing.T) {
	d := testimg.WinXP()
	path := testimg.Copy(t, d.Name)
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	customize(t, img, 5)
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	ch, _ := img.Changes()
	img.Close()
	if _, err := os.Stat(JournalPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal left after Commit: %v", err)
	}
	if len(ch) == 0 {
		t.Error("no changes reported")
	}
	// ntfs-3g reads what was written.
	vol := testimg.Section(t, path, d.System)
	got := testimg.Run(t, "ntfscat", vol, "/WINDOWS/vmware_imc/file02.bin")
	if len(got) != 9000 || got[100] != byte(2+100) {
		t.Errorf("ntfscat read %d bytes", len(got))
	}
	testimg.Run(t, "ntfsfix", "-n", vol)
}

func TestDryRunWritesNothing(t *testing.T) {
	d := testimg.WinXP()
	path := testimg.Copy(t, d.Name)
	before := sum(t, path)
	img, err := OpenRW(path, &WriteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	customize(t, img, 30) // several megabytes: more than any cache, still in memory
	// The whole operation reads back.
	v, _, err := img.OpenNTFS(0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := v.ReadFile("Windows/vmware_imc/file29.bin"); err != nil || len(b) != 90000 {
		t.Fatalf("read back in the dry run: %d bytes, %v", len(b), err)
	}
	ch, err := img.Changes()
	if err != nil || len(ch) == 0 {
		t.Fatalf("Changes: %v, %v", ch, err)
	}
	for _, c := range ch {
		if c.Offset < d.System.Offset || c.Offset+c.Length > d.System.Offset+d.System.Size {
			t.Errorf("change %+v outside the system volume", c)
		}
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	img.Close()
	if sum(t, path) != before {
		t.Error("a dry run changed the image")
	}
	if _, err := os.Stat(JournalPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a dry run left a journal")
	}
}

// hostWrites runs customize(n) on the image at path and commits, and
// returns how many host writes (WriteAt and Truncate of host files) the
// commit made.
func hostWrites(t *testing.T, path string, n int) int {
	t.Helper()
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	customize(t, img, n)
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	return img.hosts.ops
}

// interrupt runs customize(n) on the image at path with its k-th host
// write failing, then checks that the journal blocks writers and that
// Recover restores every file of dir to the sums in before.
func interrupt(t *testing.T, path string, n, k int, dir string, before map[string]string) {
	t.Helper()
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	img.failAfter = k
	// The failure comes from a flush on the way (a large write) or at
	// Commit.
	err = customizeErr(img, n)
	if err == nil {
		err = img.Commit()
	}
	img.Close()
	if !errors.Is(err, errInjected) {
		t.Fatalf("customize and Commit: %v, want the injected failure", err)
	}
	if _, err := OpenRW(path, nil); !errors.Is(err, ErrUnsafe) {
		t.Fatalf("OpenRW with a pending journal: %v, want ErrUnsafe", err)
	}
	if ok, err := Recover(path); !ok || err != nil {
		t.Fatalf("Recover: %v %v", ok, err)
	}
	if diff := cmp.Diff(before, testimg.DirSums(t, dir)); diff != "" {
		t.Fatalf("after Recover (-original +recovered):\n%s", diff)
	}
	if ok, err := Recover(path); ok || err != nil {
		t.Errorf("second Recover: %v %v", ok, err)
	}
}

func TestInterruptedWriteRecovers(t *testing.T) {
	t.Parallel()
	d := testimg.WinXP()
	path := testimg.Copy(t, d.Name)
	dir := filepath.Dir(path)
	before := testimg.DirSums(t, dir)
	// Count the host writes of a run on another copy, then fail each
	// in turn.
	total := hostWrites(t, testimg.Copy(t, d.Name), 4)
	if total < 3 {
		t.Fatalf("only %d host writes", total)
	}
	for k := 1; k <= total; k++ {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			interrupt(t, path, 4, k, dir, before)
		})
	}
}

// TestInterruptedVMDKWriteRecovers fails every host write in turn of a
// small customization of a split sparse VMDK (descriptor and extent
// file): after Recover every file is byte-identical to the original, and
// its size too.
func TestInterruptedVMDKWriteRecovers(t *testing.T) {
	t.Parallel()
	d := testimg.WinXP()
	for _, sub := range []string{"twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		t.Run(sub, func(t *testing.T) {
			path := testimg.VMDK(t, d, sub)
			dir := filepath.Dir(path)
			before := testimg.DirSums(t, dir)
			total := hostWrites(t, testimg.VMDK(t, d, sub), 2)
			t.Logf("%s: %d host writes", sub, total)
			if total < 4 {
				t.Fatalf("only %d host writes", total)
			}
			for k := 1; k <= total; k++ {
				interrupt(t, path, 2, k, dir, before)
			}
			// And a run that completes still works after all that.
			if n := hostWrites(t, path, 2); n != total {
				t.Errorf("%d host writes after the recoveries, %d on a fresh copy", n, total)
			}
		})
	}
}

// TestRecoverVersion1 restores a raw image from a journal in the format
// earlier releases wrote.
func TestRecoverVersion1(t *testing.T) {
	path := testimg.Copy(t, testimg.WinXP().Name)
	dir := filepath.Dir(path)
	before := testimg.DirSums(t, dir)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	j := append([]byte("IMAGECUSTOM-UNDO\x00\x01"), binary.LittleEndian.AppendUint64(nil, uint64(fi.Size()))...)
	for _, off := range []int64{0, 1 << 20, 5 << 20} {
		old := make([]byte, blockSize)
		f.ReadAt(old, off)
		rec := binary.LittleEndian.AppendUint64(nil, uint64(off))
		rec = binary.LittleEndian.AppendUint32(rec, blockSize)
		rec = append(rec, old...)
		j = append(rec, j...)[len(rec):] // keep j's header first
		j = append(j, rec...)
		j = binary.LittleEndian.AppendUint32(j, crc32.ChecksumIEEE(rec))
		f.WriteAt(bytes.Repeat([]byte{0xEE}, blockSize), off)
	}
	j = append(j, 1, 2, 3) // a torn record
	f.Truncate(fi.Size() + 12345)
	f.Close()
	if err := os.WriteFile(JournalPath(path), j, 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := Recover(path); !ok || err != nil {
		t.Fatalf("Recover: %v %v", ok, err)
	}
	if diff := cmp.Diff(before, testimg.DirSums(t, dir)); diff != "" {
		t.Fatalf("after Recover (-original +recovered):\n%s", diff)
	}
}

// TestJournalTornRecords cuts a version 2 journal at every length: Recover
// applies the whole records and never fails on the torn end.
func TestJournalTornRecords(t *testing.T) {
	path := testimg.VMDK(t, testimg.WinXP(), "twoGbMaxExtentSparse")
	before := testimg.DirSums(t, filepath.Dir(path))
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	customize(t, img, 1)
	// Flush without Commit: the journal stays.
	if err := img.flush(true); err != nil {
		t.Fatal(err)
	}
	img.hosts.journal.f.Close()
	img.hosts.journal = nil
	img.Close()
	jb, err := os.ReadFile(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	files, err := parseJournal(jb, JournalPath(path), path)
	if err != nil || len(files) != 2 {
		t.Fatalf("parseJournal: %d files, %v", len(files), err)
	}
	// Cut inside its header, the journal was being created when the run
	// stopped, before any host write: nothing to undo, and no error.
	for cut := range len(journalMagic) + 1 {
		if part, err := parseJournal(jb[:cut], JournalPath(path), path); err != nil || len(part) != 0 {
			t.Fatalf("header cut at %d: %d files, %v", cut, len(part), err)
		}
	}
	if _, err := parseJournal([]byte("IMAGECUSTOM-UNDX"), JournalPath(path), path); err == nil {
		t.Error("a short file that is no journal's header was accepted")
	}
	for cut := len(journalMagic) + 1; cut < len(jb); cut += 1 + cut/7 {
		part, err := parseJournal(jb[:cut], JournalPath(path), path)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if len(part) > len(files) {
			t.Fatalf("cut at %d: %d files", cut, len(part))
		}
	}
	// A corrupt (not torn) record is an error, not a silent partial undo.
	bad := append([]byte(nil), jb...)
	bad[len(journalMagic)+2] = 7 // the first file record's id
	copy(bad[len(journalMagic)+1:], fixCRC(bad[len(journalMagic)+1:]))
	if _, err := parseJournal(bad, JournalPath(path), path); err == nil {
		t.Error("a file record with id 7 first was accepted")
	}
	if ok, err := Recover(path); !ok || err != nil {
		t.Fatalf("Recover: %v %v", ok, err)
	}
	if diff := cmp.Diff(before, testimg.DirSums(t, filepath.Dir(path))); diff != "" {
		t.Fatalf("after Recover (-original +recovered):\n%s", diff)
	}
}

// fixCRC recomputes the CRC of the file record at the start of b.
func fixCRC(b []byte) []byte {
	n := int(binary.LittleEndian.Uint16(b[13:]))
	binary.LittleEndian.PutUint32(b[15+n:], crc32.ChecksumIEEE(b[:15+n]))
	return b
}

// TestDryRunOpensNothingForWriting checks the open flags of every host
// file a dry run holds, through /proc.
func TestDryRunOpensNothingForWriting(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads open flags from /proc/self/fdinfo")
	}
	d := testimg.WinXP()
	for _, path := range []string{testimg.Copy(t, d.Name), testimg.VMDK(t, d, "twoGbMaxExtentSparse")} {
		img, err := OpenRW(path, &WriteOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		customize(t, img, 2)
		if len(img.hosts.order) == 0 {
			t.Fatal("no host files")
		}
		for _, hf := range img.hosts.order {
			b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", hf.f.Fd()))
			if err != nil {
				t.Fatal(err)
			}
			var flags int
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "flags:"); ok {
					fmt.Sscanf(strings.TrimSpace(v), "%o", &flags)
				}
			}
			if flags&(os.O_WRONLY|os.O_RDWR) != 0 {
				t.Errorf("%s open with flags 0%o in a dry run", hf.name, flags)
			}
		}
		if err := img.Commit(); err != nil {
			t.Fatal(err)
		}
		img.Close()
	}
}

func TestSecondWriterRefused(t *testing.T) {
	path := testimg.Copy(t, testimg.WinXP().Name)
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if _, err := OpenRW(path, nil); !errors.Is(err, ErrLocked) || !errors.Is(err, ErrUnsafe) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	if _, err := OpenRW(path, &WriteOptions{DryRun: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("dry run during a write: %v, want ErrLocked", err)
	}
}

// TestIntermediateFlushes lowers the flush threshold so that a
// customization reaches the host files in many journaled flushes: grains
// appended by one flush are read back by the next, the journal keeps each
// file's first original bytes, and both the commit and the recovery of an
// interrupted run come out right.
func TestIntermediateFlushes(t *testing.T) {
	defer func(old int64) { flushThreshold = old }(flushThreshold)
	flushThreshold = 64 << 10
	d := testimg.WinXP()
	for _, sub := range []string{"raw", "monolithicSparse", "twoGbMaxExtentSparse"} {
		t.Run(sub, func(t *testing.T) {
			fresh := func() string {
				if sub == "raw" {
					return testimg.Copy(t, d.Name)
				}
				return testimg.VMDK(t, d, sub)
			}
			path := fresh()
			before := testimg.DirSums(t, filepath.Dir(path))
			total := hostWrites(t, fresh(), 6)
			t.Logf("%d host writes", total)
			for _, k := range []int{total / 4, total / 2, total - 1} {
				interrupt(t, path, 6, k, filepath.Dir(path), before)
			}
			img, err := OpenRW(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			customize(t, img, 6)
			v, _, err := img.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 6; i++ {
				b, err := v.ReadFile(fmt.Sprintf("Windows/vmware_imc/file%02d.bin", i))
				if err != nil || len(b) != 3000*(i+1) || b[7] != byte(i+7) {
					t.Fatalf("read back file%02d before Commit: %d bytes, %v", i, len(b), err)
				}
			}
			if err := img.Commit(); err != nil {
				t.Fatal(err)
			}
			img.Close()
			raw := path
			if sub != "raw" {
				testimg.Run(t, "qemu-img", "check", "-f", "vmdk", path)
				raw = filepath.Join(t.TempDir(), "disk.raw")
				testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", path, raw)
			}
			vol := testimg.Section(t, raw, d.System)
			if got := testimg.Run(t, "ntfscat", vol, "/WINDOWS/vmware_imc/file05.bin"); len(got) != 18000 || got[100] != byte(5+100) {
				t.Errorf("ntfscat read %d bytes", len(got))
			}
			testimg.Run(t, "ntfsfix", "-n", vol)
		})
	}
}

// splitVMDK returns a copy of disk fixture d as a twoGbMaxExtentSparse
// VMDK of several extents, one per 64 MiB — qemu-img splits only at
// 2 GiB, so each extent is a sparse file qemu-img made from a slice of
// the raw fixture, under a descriptor written here.
func splitVMDK(t *testing.T, d testimg.Disk) string {
	t.Helper()
	raw := testimg.Path(t, d.Name)
	fi, err := os.Stat(raw)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	desc := "# Disk DescriptorFile\nversion=1\nCID=5eed0001\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n\n# Extent description\n"
	const chunk = 64 << 20
	for i, off := 0, int64(0); off < fi.Size(); i, off = i+1, off+chunk {
		n := min(chunk, fi.Size()-off)
		part := testimg.Section(t, raw, testimg.Range{Offset: off, Size: n})
		name := fmt.Sprintf("split-s%03d.vmdk", i+1)
		testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicSparse", part, filepath.Join(dir, name))
		desc += fmt.Sprintf("RW %d SPARSE %q\n", n/512, name)
	}
	desc += "\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n"
	path := filepath.Join(dir, "split.vmdk")
	if err := os.WriteFile(path, []byte(desc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInterruptedSplitVMDKRecovers fails every host write in turn of a
// customization that changes several extent files of one disk and its
// descriptor: Recover restores all of them.
func TestInterruptedSplitVMDKRecovers(t *testing.T) {
	t.Parallel()
	d := testimg.WinXP()
	path := splitVMDK(t, d)
	dir := filepath.Dir(path)
	before := testimg.DirSums(t, dir)
	// A complete run on a second copy: how many host writes, and which
	// files they changed.
	other := splitVMDK(t, d)
	otherBefore := testimg.DirSums(t, filepath.Dir(other))
	total := hostWrites(t, other, 3)
	changed := 0
	for name, sum := range testimg.DirSums(t, filepath.Dir(other)) {
		if sum != otherBefore[name] {
			changed++
		}
	}
	t.Logf("%d host writes changed %d of %d files", total, changed, len(before))
	if changed < 3 {
		t.Fatalf("the customization changed %d files; the test wants the descriptor and at least two extents", changed)
	}
	raw := filepath.Join(t.TempDir(), "disk.raw")
	testimg.Run(t, "qemu-img", "check", "-f", "vmdk", other)
	testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", other, raw)
	vol := testimg.Section(t, raw, d.System)
	if got := testimg.Run(t, "ntfscat", vol, "/WINDOWS/vmware_imc/file02.bin"); len(got) != 9000 {
		t.Errorf("ntfscat read %d bytes", len(got))
	}
	for k := 1; k <= total; k++ {
		interrupt(t, path, 3, k, dir, before)
	}
}
