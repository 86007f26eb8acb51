package vmdk_test

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// TestStreamGrainChecksum damages one byte of a compressed grain's data
// where the damage still inflates (incompressible data is stored, not
// coded): reading the grain fails with the zlib checksum error, as it does
// in qemu-img, instead of returning wrong bytes.
func TestStreamGrainChecksum(t *testing.T) {
	dir := t.TempDir()
	src, _ := makeRaw(t, dir, 1<<20, 77)
	// Random data in the first grain, so that it is stored.
	raw, _ := os.ReadFile(src)
	rand.NewChaCha8([32]byte{7}).Read(raw[:64<<10])
	os.WriteFile(src, raw, 0o644)
	stream := filepath.Join(dir, "s.vmdk")
	if err := vmdk.Convert(t.Context(), src, stream, &vmdk.ConvertOptions{Type: vmdk.StreamOptimized}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(stream)
	overhead := int64(binary.LittleEndian.Uint64(b[64:])) * 512 // the first grain's record
	if lba := binary.LittleEndian.Uint64(b[overhead:]); lba != 0 {
		t.Fatalf("first record is for LBA %d", lba)
	}
	b[overhead+12+2+5+1000] ^= 0x40 // inside the first stored block's data
	os.WriteFile(stream, b, 0o644)

	d, err := vmdk.Open(stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 64<<10)
	_, err = d.ReadAt(buf, 0)
	var ce *vmdk.CorruptError
	if !errors.Is(err, zlib.ErrChecksum) || !errors.As(err, &ce) || ce.Offset != overhead+12 {
		t.Fatalf("reading the damaged grain: %v", err)
	}
	// A partial read of the grain (through the extent's grain cache) fails
	// alike.
	if _, err := d.ReadAt(buf[:100], 50); !errors.Is(err, zlib.ErrChecksum) {
		t.Errorf("partial read of the damaged grain: %v", err)
	}
	// The other grains read.
	if _, err := d.ReadAt(buf, 64<<10); err != nil {
		t.Errorf("reading the next grain: %v", err)
	}
	if ps, err := vmdk.Check(stream); err != nil || len(ps) == 0 {
		t.Errorf("Check: %v %v", ps, err)
	}
	testimg.Oracle(t, "qemu-img")
	if _, err := testimg.RunErr(t, "qemu-img", "convert", "-O", "raw", stream, filepath.Join(dir, "out.raw")); err == nil {
		t.Error("qemu-img converted the damaged stream without error: the damage is not where the test means it to be")
	}
}
