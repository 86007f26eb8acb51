package imagecustom

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestDryRunPredictsTheRealRun runs the same customization as a dry run
// and for real on identical copies: the dry run reports exactly the byte
// ranges the real run then changes, and the real image differs from the
// original in those ranges only.
func TestDryRunPredictsTheRealRun(t *testing.T) {
	d := testimg.WinXP()
	run := func(dry bool) (string, []Change) {
		path := testimg.Copy(t, d.Name)
		img, err := OpenRW(path, &WriteOptions{DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		customize(t, img, 12)
		if err := img.Commit(); err != nil {
			t.Fatal(err)
		}
		ch, err := img.Changes()
		if err != nil {
			t.Fatal(err)
		}
		return path, ch
	}
	_, predicted := run(true)
	path, made := run(false)
	if len(predicted) == 0 {
		t.Fatal("the dry run reports no change")
	}
	if diff := cmp.Diff(predicted, made); diff != "" {
		t.Errorf("dry run vs real run changes (-dry +real):\n%s", diff)
	}
	orig := testimg.Bytes(t, d.Name)
	now, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inChange := func(off int) bool {
		for _, c := range made {
			if int64(off) >= c.Offset && int64(off) < c.Offset+c.Length {
				return true
			}
		}
		return false
	}
	differ := 0
	for blk := 0; blk < len(orig); blk += 4096 {
		end := min(blk+4096, len(orig))
		if bytes.Equal(orig[blk:end], now[blk:end]) {
			continue
		}
		for i := blk; i < end; i++ {
			if orig[i] != now[i] {
				differ++
				if !inChange(i) {
					t.Fatalf("byte %d changed outside the reported changes", i)
				}
			}
		}
	}
	if differ == 0 {
		t.Error("the real run changed nothing")
	}
}
