package ntfs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// freshVolume makes an empty NTFS volume of size bytes with mkntfs in a
// temporary folder and returns its path.
func freshVolume(b testing.TB, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.raw")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	testimg.Run(b, "mkntfs", "-F", "-Q", "-q", "-s", "512", "-c", "4096", p)
	return p
}

func openRWPath(b testing.TB, p string) (*Volume, *os.File) {
	b.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	v, err := OpenRW(f, fi.Size(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return v, f
}

// BenchmarkCreateInDirectory measures creating a file in a directory that
// already holds n entries: the cost must grow with log n, not n.
func BenchmarkCreateInDirectory(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			v, _ := openRWPath(b, freshVolume(b, 256<<20))
			if err := v.Mkdir("d", nil); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < n; i++ {
				if err := v.WriteFile(fmt.Sprintf("d/existing %06d.txt", i), nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := v.WriteFile(fmt.Sprintf("d/new %09d.txt", i), []byte("x"), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookup20k measures resolving a path in a directory of 20000
// entries: microseconds, a descent of the B+tree, not a scan.
func BenchmarkLookup20k(b *testing.B) {
	p := freshVolume(b, 256<<20)
	v, f := openRWPath(b, p)
	v.Mkdir("d", nil)
	for i := 0; i < 20000; i++ {
		if err := v.WriteFile(fmt.Sprintf("d/entry %06d.txt", i), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	ro, err := Open(f, v.size)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ro.Stat(fmt.Sprintf("d/ENTRY %06d.TXT", (i*7919)%20000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteVsNtfscp writes a 256 MiB file into a fresh volume with
// WriteFrom and, in the same run on the same input, with ntfs-3g's
// ntfscp; it reports our time over theirs (x-ntfscp, lower is better).
func BenchmarkWriteVsNtfscp(b *testing.B) {
	const size = 256 << 20
	src := filepath.Join(b.TempDir(), "src.bin")
	sf, _ := os.Create(src)
	io.Copy(sf, &patternReader{seed: "benchmark payload", n: size})
	sf.Close()
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a, c := freshVolume(b, 1<<30), freshVolume(b, 1<<30)
		v, _ := openRWPath(b, a)
		in, _ := os.Open(src)
		b.StartTimer()
		t0 := time.Now()
		if err := v.WriteFrom("big.bin", in, size, nil); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		b.StopTimer()
		in.Close()
		t0 = time.Now()
		testimg.Run(b, "ntfscp", c, src, "big.bin")
		theirs += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(float64(ours)/float64(theirs), "x-ntfscp")
	b.SetBytes(size)
}

// BenchmarkReadVsNtfscat reads a 256 MiB file from a volume with our
// reader and with ntfs-3g's ntfscat, reporting the ratio (x-ntfscat).
func BenchmarkReadVsNtfscat(b *testing.B) {
	const size = 256 << 20
	p := freshVolume(b, 1<<30)
	src := filepath.Join(b.TempDir(), "src.bin")
	sf, _ := os.Create(src)
	io.Copy(sf, &patternReader{seed: "benchmark payload", n: size})
	sf.Close()
	testimg.Run(b, "ntfscp", p, src, "big.bin")
	f, _ := os.Open(p)
	defer f.Close()
	fi, _ := f.Stat()
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		v, err := Open(f, fi.Size())
		if err != nil {
			b.Fatal(err)
		}
		fl, err := v.Open("big.bin")
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, fl.(io.Reader)); err != nil || n != size {
			b.Fatal(n, err)
		}
		ours += time.Since(t0)
		b.StopTimer()
		t0 = time.Now()
		cmd := exec.Command(testimg.Oracle(b, "ntfscat"), p, "big.bin")
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(float64(ours)/float64(theirs), "x-ntfscat")
	b.SetBytes(size)
}
