package vmdk_test

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/vmdk"
)

// benchDisk writes a raw disk of size bytes to dir, a quarter random
// bytes, a quarter text, an eighth written zeros, the rest holes, in
// 1 MiB pieces; vmdk/testdata/bench/bench.sh does the same at 1 GiB.
func benchDisk(b *testing.B, dir string, size int64) string {
	b.Helper()
	path := filepath.Join(dir, "bench.raw")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	src := rand.NewChaCha8([32]byte{1})
	r := rand.New(src)
	words := strings.Fields("the quick brown fox jumps over a lazy dog registry hive volume system32 drivers config 0123 4567")
	piece := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(piece)) {
		switch k := r.IntN(8); {
		case k < 2:
			src.Read(piece)
		case k < 4:
			piece = piece[:0]
			for len(piece) < 1<<20 {
				piece = append(piece, words[r.IntN(len(words))]...)
				piece = append(piece, ' ')
			}
			piece = piece[:1<<20]
		case k < 5:
			clear(piece)
		default:
			continue
		}
		if _, err := f.WriteAt(piece, off); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchConvert(b *testing.B, srcType, dstType string) {
	dir := b.TempDir()
	const size = 128 << 20
	src := benchDisk(b, dir, size)
	if srcType != vmdk.Raw {
		s := filepath.Join(dir, "src.vmdk")
		if err := vmdk.Convert(context.Background(), src, s, &vmdk.ConvertOptions{Type: srcType}); err != nil {
			b.Fatal(err)
		}
		src = s
	}
	dst := filepath.Join(dir, "dst")
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		os.Remove(dst)
		if err := vmdk.Convert(context.Background(), src, dst, &vmdk.ConvertOptions{Type: dstType}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConvertStreamToRaw converts a 128 MiB streamOptimized disk
// holding 80 MiB of data to a raw file.
func BenchmarkConvertStreamToRaw(b *testing.B) { benchConvert(b, vmdk.StreamOptimized, vmdk.Raw) }

// BenchmarkConvertRawToStream converts the same disk, raw, to
// streamOptimized.
func BenchmarkConvertRawToStream(b *testing.B) { benchConvert(b, vmdk.Raw, vmdk.StreamOptimized) }

// BenchmarkConvertRawToSparse converts it to monolithicSparse.
func BenchmarkConvertRawToSparse(b *testing.B) { benchConvert(b, vmdk.Raw, vmdk.MonolithicSparse) }

// BenchmarkReadAt4K reads random aligned 4 KiB blocks of the benchmark
// disk as monolithicSparse and as the raw file it came from.
func BenchmarkReadAt4K(b *testing.B) {
	dir := b.TempDir()
	const size = 128 << 20
	raw := benchDisk(b, dir, size)
	sparse := filepath.Join(dir, "m.vmdk")
	if err := vmdk.Convert(context.Background(), raw, sparse, &vmdk.ConvertOptions{Type: vmdk.MonolithicSparse}); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, ra io.ReaderAt) {
		r := rand.New(rand.NewPCG(1, 2))
		buf := make([]byte, 4096)
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if _, err := ra.ReadAt(buf, r.Int64N(size/4096)*4096); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("monolithicSparse", func(b *testing.B) {
		d, err := vmdk.Open(sparse, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		run(b, d)
	})
	b.Run("raw", func(b *testing.B) {
		f, err := os.Open(raw)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		run(b, f)
	})
}
