package ntfs

import (
	"bytes"
	"encoding/binary"
	"io"
	"io/fs"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// tinyVolume returns the bytes of testdata/ntfs/tiny.raw, a 2 MiB volume.
func tinyVolume(t testing.TB) []byte { return testimg.Bytes(t, "ntfs/tiny.raw") }

// records returns the raw (fixups not applied) MFT records of a volume.
func records(t testing.TB, vol []byte, n int) [][]byte {
	t.Helper()
	v, err := Open(bytes.NewReader(vol), int64(len(vol)))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	rs := int64(v.boot.recordSize)
	for i := 0; i < n && uint64(i) < v.nrecs; i++ {
		b := make([]byte, rs)
		if _, err := v.mft.ReadAt(b, int64(i)*rs); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParseRecord(f *testing.F) {
	for _, r := range records(f, tinyVolume(f), 80) {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = append([]byte(nil), b...)
		if err := applyFixups(b, 0, "record"); err != nil {
			return
		}
		r, err := parseRecord(b, 1, 0)
		if err != nil {
			return
		}
		for _, a := range r.attrs {
			if a.resident && len(a.value) > len(b) {
				t.Fatalf("resident value of %d bytes in a record of %d", len(a.value), len(b))
			}
			for _, run := range a.runs {
				if run.length <= 0 {
					t.Fatalf("run of length %d", run.length)
				}
			}
		}
	})
}

func FuzzDecodeRuns(f *testing.F) {
	f.Add([]byte{0x21, 0x18, 0x34, 0x56, 0x00}, int64(0))
	f.Add([]byte{0x11, 0x30, 0x60, 0x21, 0x10, 0x00, 0x01, 0x01, 0x08, 0x00}, int64(7))
	f.Add([]byte{0x31, 0x02, 0xff, 0xff, 0x7f, 0x00}, int64(0))
	for _, r := range records(f, tinyVolume(f), 40) {
		b := append([]byte(nil), r...)
		if applyFixups(b, 0, "") != nil {
			continue
		}
		rec, err := parseRecord(b, 0, 0)
		if err != nil {
			continue
		}
		for _, a := range rec.attrs {
			if !a.resident {
				ro := int(binary.LittleEndian.Uint16(b[a.off+0x20:]))
				f.Add(b[int(a.off)+ro:], a.lowVCN)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, vcn int64) {
		if vcn < 0 || vcn > maxVCN {
			return
		}
		runs, err := decodeRuns(b, vcn, 0)
		if err != nil {
			return
		}
		next := vcn
		for _, r := range runs {
			if r.vcn != next || r.length <= 0 || (r.lcn < 0 && r.lcn != sparseLCN) {
				t.Fatalf("bad run %+v after VCN %d", r, next)
			}
			next += r.length
		}
	})
}

func FuzzIndexEntries(f *testing.F) {
	hdr := func(entries []byte) []byte {
		b := make([]byte, 0x10, 0x10+len(entries))
		binary.LittleEndian.PutUint32(b, 0x10)
		binary.LittleEndian.PutUint32(b[4:], uint32(0x10+len(entries)))
		binary.LittleEndian.PutUint32(b[8:], uint32(0x10+len(entries)))
		return append(b, entries...)
	}
	end := make([]byte, 0x10)
	binary.LittleEndian.PutUint16(end[8:], 0x10)
	binary.LittleEndian.PutUint32(end[12:], entryLast)
	f.Add(hdr(end))
	endChild := make([]byte, 0x18)
	binary.LittleEndian.PutUint16(endChild[8:], 0x18)
	binary.LittleEndian.PutUint32(endChild[12:], entryLast|entryHasChild)
	f.Add(hdr(endChild))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseIndexEntries(b, 0, "node")
		if err != nil {
			return
		}
		if len(entries) == 0 || entries[len(entries)-1].flags&entryLast == 0 {
			t.Fatalf("entries without a last entry")
		}
		for _, e := range entries[:len(entries)-1] {
			if _, err := parseFileName(e.key, 0); err != nil {
				t.Fatalf("key accepted but not a $FILE_NAME: %v", err)
			}
		}
	})
}

// FuzzVolume mutates a small real volume at one place and then opens it,
// walks its tree and reads its files: no input may panic, loop forever or
// allocate without bound.
func FuzzVolume(f *testing.F) {
	vol := tinyVolume(f)
	v, err := Open(bytes.NewReader(vol), int64(len(vol)))
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: a byte of every structure the reader parses.
	mftOff := uint32(v.boot.mftLCN * v.boot.clusterSize)
	rs := uint32(v.boot.recordSize)
	f.Add(uint32(0x0D), []byte{0x81})                  // sectors per cluster
	f.Add(uint32(0x40), []byte{0x01})                  // record size code
	f.Add(mftOff+0x14, []byte{0x00})                   // first attribute of record 0
	f.Add(mftOff+5*rs+0x100, []byte{0xff, 0xff})       // inside the root record
	f.Add(mftOff+10*rs+0x60, []byte{0x77, 0x77, 0x77}) // $UpCase's record
	for i := uint32(16); i < 64; i++ {
		f.Add(mftOff+i*rs+0x80, []byte{0x20, 0x00})
	}
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		if len(patch) > 64 {
			return
		}
		b := append([]byte(nil), vol...)
		copy(b[int(off)%len(b):], patch)
		v, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 0
		_ = fs.WalkDir(v, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || n > 1000 {
				return fs.SkipDir
			}
			n++
			if d.Type().IsRegular() {
				if fl, err := v.Open(p); err == nil {
					_, _ = io.Copy(io.Discard, io.LimitReader(fl, 1<<20))
					fl.Close()
				}
			}
			return nil
		})
	})
}
