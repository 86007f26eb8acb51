package ntfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// crashDev passes writes through to f until left reaches zero, then
// fails every one: the machine stopped there.
type crashDev struct {
	f     *os.File
	left  int
	count int
}

var errCrash = errors.New("crash")

func (d *crashDev) ReadAt(p []byte, off int64) (int, error) { return d.f.ReadAt(p, off) }

func (d *crashDev) WriteAt(p []byte, off int64) (int, error) {
	d.count++
	if d.left == 0 {
		return 0, errCrash
	}
	d.left--
	return d.f.WriteAt(p, off)
}

// TestAttrListCrash stops the disk after each of the last metadata writes
// of operations on files with an attribute list and checks what is left:
// the file reads its old or its new content (never an error), and Check
// finds at worst leaked clusters or records and attributes no list names,
// which chkdsk repairs.
func TestAttrListCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("copies a volume per crash point")
	}
	big := content("crash", 3<<20)
	ops := []struct {
		name    string
		fixture string
		file    string // read before, for check
		op      func(v *Volume) error
		check   func(t *testing.T, v *Volume, old []byte)
	}{
		{"replace fragmented", "", "fragmented/interleaved-b.txt", func(v *Volume) error { return v.WriteFile("fragmented/interleaved-b.txt", big, nil) },
			func(t *testing.T, v *Volume, old []byte) {
				got, err := v.ReadFile("fragmented/interleaved-b.txt")
				if err != nil || !bytes.Equal(got, old) && !bytes.Equal(got, big) {
					t.Errorf("interleaved-b.txt reads %d bytes (neither old nor new), %v", len(got), err)
				}
			}},
		{"remove a link", "", longLink(61), func(v *Volume) error { return v.Remove(longLink(60)) },
			func(t *testing.T, v *Volume, old []byte) {
				if got, err := v.ReadFile(longLink(61)); err != nil || !bytes.Equal(got, old) {
					t.Errorf("link 61 reads %d bytes, %v", len(got), err)
				}
			}},
		{"rename a link", "", longLink(70), func(v *Volume) error { return v.Rename(longLink(70), "hardlinks/b/renamed-70.txt", false) },
			func(t *testing.T, v *Volume, old []byte) {
				_, err1 := v.Stat(longLink(70))
				_, err2 := v.Stat("hardlinks/b/renamed-70.txt")
				if err1 != nil && err2 != nil {
					t.Errorf("neither name is left: %v; %v", err1, err2)
				}
			}},
		{"replace a WOF file", "ntfs/wof.raw", "Windows/System32/lzx.dll", func(v *Volume) error {
			return v.WriteFile("Windows/System32/lzx.dll", big[:70000], nil)
		}, func(t *testing.T, v *Volume, old []byte) {
			got, err := v.ReadFile("Windows/System32/lzx.dll")
			if err != nil || !bytes.Equal(got, old) && !bytes.Equal(got, big[:70000]) {
				t.Errorf("lzx.dll reads %d bytes (neither old nor new), %v", len(got), err)
			}
		}},
	}
	// What the writer's crash ordering may leave, all of which chkdsk
	// repairs: leaked clusters and records; attributes no list names yet
	// or any more (and the link count that counts them); and what the
	// $I30 updates leave, a name not yet or no longer indexed, or an entry
	// twice while a B+tree entry moves.
	benign := map[ProblemKind]bool{ClusterLeaked: true, AttributeList: true, RecordBitmapMismatch: true,
		LinkCount: true, NameNotIndexed: true, NameIndexedTwice: true, IndexDuplicateName: true,
		// A WOF file made plain whose $Extend\$Reparse entry is not yet
		// removed.
		ReparseIndex: true}
	for _, o := range ops {
		if o.fixture == "" {
			o.fixture = "ntfs/features-c4096.raw"
		}
		t.Run(o.name, func(t *testing.T) {
			// How many writes the operation makes.
			p := testimg.Copy(t, o.fixture)
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := f.Stat()
			size := fi.Size()
			dev := &crashDev{f: f, left: -1}
			v, err := OpenRW(dev, size, nil)
			if err != nil {
				t.Fatal(err)
			}
			old, err := v.ReadFile(o.file)
			if err != nil {
				t.Fatal(err)
			}
			dev.count = 0
			if err := o.op(v); err != nil {
				t.Fatal(err)
			}
			total := dev.count
			f.Close()
			for left := max(0, total-14); left < total; left++ {
				p := testimg.Copy(t, o.fixture)
				f, err := os.OpenFile(p, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				dev := &crashDev{f: f, left: -1}
				v, err := OpenRW(dev, size, nil)
				if err != nil {
					t.Fatal(err)
				}
				dev.left = left
				if err := o.op(v); !errors.Is(err, errCrash) {
					t.Fatalf("crash after %d of %d writes: %v", left, total, err)
				}
				rv, err := Open(f, size)
				if err != nil {
					t.Fatalf("crash after %d of %d writes: open: %v", left, total, err)
				}
				t.Run(fmt.Sprintf("after %d of %d", left, total), func(t *testing.T) {
					o.check(t, rv, old)
					probs, err := Check(context.Background(), rv, nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, pr := range probs {
						if !benign[pr.Kind] {
							t.Errorf("Check: %v", pr)
						}
					}
				})
				f.Close()
			}
		})
	}
}
