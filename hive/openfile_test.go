package hive_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// dirtyWithLogs puts the real dirty Windows 10 NTUSER.DAT and its two
// logs in a folder, named as Windows names them.
func dirtyWithLogs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"real/hives/transactions_NTUSER.DAT":      "NTUSER.DAT",
		"real/hives/transactions_ntuser.dat.log1": "ntuser.dat.LOG1",
		"real/hives/transactions_ntuser.dat.log2": "ntuser.dat.LOG2",
	} {
		if err := os.WriteFile(filepath.Join(dir, dst), testimg.Bytes(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "NTUSER.DAT")
}

func TestOpenFileReplaysLogs(t *testing.T) {
	path := dirtyWithLogs(t)
	// As it is on disk, the hive is dirty and read-only.
	raw := testimg.Bytes(t, "real/hives/transactions_NTUSER.DAT")
	h0, err := hive.Open(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if !h0.Dirty() {
		t.Fatal("the real transactions hive is not dirty")
	}
	if _, err := h0.CreateKey(`Software\X`); !errors.Is(err, hive.ErrDirty) {
		t.Errorf("editing the dirty hive: %v, want ErrDirty", err)
	}
	if _, err := hive.OpenFile(path, &hive.OpenOptions{NoReplay: true}); !errors.Is(err, hive.ErrDirty) {
		t.Errorf("OpenFile with NoReplay: %v", err)
	}
	h, err := hive.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Dirty() || !strings.Contains(h.Replayed(), "566") {
		t.Fatalf("after replay: dirty=%v, replayed %q", h.Dirty(), h.Replayed())
	}
	k, err := h.CreateKey(`Software\ImageCustom`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetValue("Marker", hive.String, hive.EncodeString("after replay")); err != nil {
		t.Fatal(err)
	}
	if err := h.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	// The saved hive is clean: opening it again replays nothing, though
	// the old logs are still beside it — Windows will not undo the edit.
	h2, err := hive.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h2.Dirty() || h2.Replayed() != "" {
		t.Fatalf("reopened: dirty=%v replayed %q", h2.Dirty(), h2.Replayed())
	}
	v, err := h2.Root().Subkey("Software")
	if err == nil {
		v, err = v.Subkey("ImageCustom")
	}
	if err != nil {
		t.Fatal(err)
	}
	val, _ := v.Value("Marker")
	if s, _ := val.String(); s != "after replay" {
		t.Errorf("marker %q", s)
	}
	// Third-party readers agree.
	if got := strings.TrimSpace(string(testimg.Run(t, "hivexget", path, `Software\ImageCustom`, "Marker"))); got != "after replay" {
		t.Errorf("hivexget: %q", got)
	}
	testimg.Run(t, "regfinfo", path)
}

// TestOpenFS replays the same logs through an fs.FS, with the folder
// spelt as an image's volume would give it, and gets the same hive as
// OpenFile.
func TestOpenFS(t *testing.T) {
	path := dirtyWithLogs(t)
	fsys := fstest.MapFS{}
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fsys["Users/u/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	want, err := hive.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := hive.OpenFS(fsys, "Users/u/NTUSER.DAT", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dirty() || got.Replayed() != want.Replayed() {
		t.Errorf("OpenFS: dirty=%v replayed %q; OpenFile replayed %q", got.Dirty(), got.Replayed(), want.Replayed())
	}
	wb, _ := want.Bytes()
	gb, _ := got.Bytes()
	if len(wb) != len(gb) || !bytes.Equal(wb[512:], gb[512:]) {
		t.Error("OpenFS and OpenFile give different hives")
	}
	// Without its logs the hive stays dirty (read-only).
	delete(fsys, "Users/u/ntuser.dat.LOG1")
	delete(fsys, "Users/u/ntuser.dat.LOG2")
	h, err := hive.OpenFS(fsys, "Users/u/NTUSER.DAT", nil)
	if err != nil || !h.Dirty() {
		t.Errorf("OpenFS without logs: %v, dirty=%v", err, h != nil && h.Dirty())
	}
	if _, err := hive.OpenFS(fsys, "Users/u/missing", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenFS of a missing file: %v", err)
	}
}
