package imagecustom

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"testing"

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
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.MkdirAll("Windows/vmware_imc", nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		data := make([]byte, 3000*(i+1))
		for k := range data {
			data[k] = byte(i + k)
		}
		if err := v.WriteFile(fmt.Sprintf("Windows/vmware_imc/file%02d.bin", i), data, nil); err != nil {
			t.Fatal(err)
		}
	}
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

func TestInterruptedWriteRecovers(t *testing.T) {
	d := testimg.WinXP()
	path := testimg.Copy(t, d.Name)
	before := sum(t, path)
	// Count the blocks a run writes, then fail the k-th block write for
	// a spread of k.
	img, err := OpenRW(path, &WriteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	customize(t, img, 4)
	total := len(img.ov.dirty)
	img.Close()
	if total < 10 {
		t.Fatalf("only %d blocks written", total)
	}
	for _, k := range []int{1, 2, total / 3, total / 2, total - 1, total} {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			img, err := OpenRW(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			img.failAfter = k
			customize(t, img, 4)
			if err := img.Commit(); !errors.Is(err, errInjected) {
				t.Fatalf("Commit: %v, want the injected failure", err)
			}
			img.Close()
			if _, err := OpenRW(path, nil); !errors.Is(err, ErrUnsafe) {
				t.Fatalf("OpenRW with a pending journal: %v, want ErrUnsafe", err)
			}
			if ok, err := Recover(path); !ok || err != nil {
				t.Fatalf("Recover: %v %v", ok, err)
			}
			if sum(t, path) != before {
				t.Fatal("the recovered image differs from the original")
			}
			if ok, err := Recover(path); ok || err != nil {
				t.Errorf("second Recover: %v %v", ok, err)
			}
		})
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
