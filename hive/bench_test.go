package hive_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// walkAll opens a hive and decodes every key and value, as hivexml does.
func walkAll(b []byte) (keys, values int, err error) {
	h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, 0, err
	}
	err = h.Root().Walk(func(path string, k hive.Key) error {
		keys++
		k.Class()
		k.Modified()
		vals, err := k.Values()
		if err != nil {
			return err
		}
		for _, v := range vals {
			v.Name()
			v.Type()
			if _, err := v.Data(); err != nil {
				return err
			}
			values++
		}
		return nil
	})
	return keys, values, err
}

// BenchmarkWalkVsHivexml walks the real 12 MB SYSTEM hive, every key and
// value decoded, and runs hivexml on the same file in the same run; it
// reports our time over hivexml's (x-hivexml, the target is ≤ 0.5).
func BenchmarkWalkVsHivexml(b *testing.B) {
	data := testimg.Bytes(b, "real/hives/SYSTEM")
	path := testimg.Path(b, "real/hives/SYSTEM")
	hivexml := testimg.Oracle(b, "hivexml")
	var ours, theirs time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, _, err := walkAll(data); err != nil {
			b.Fatal(err)
		}
		ours += time.Since(t0)
		b.StopTimer()
		t0 = time.Now()
		cmd := exec.Command(hivexml, path)
		cmd.Stdout = nil
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(t0)
		b.StartTimer()
	}
	b.ReportMetric(float64(ours)/float64(theirs), "x-hivexml")
	b.SetBytes(int64(len(data)))
}

// BenchmarkEdit sets n values across n/10 keys of a new hive and saves
// it: the time per value must not grow with n (linear, not quadratic).
func BenchmarkEdit(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				h := hive.New("ROOT")
				for k := 0; k < n/10; k++ {
					key, err := h.CreateKey(fmt.Sprintf(`Software\Bench\Key %06d`, k))
					if err != nil {
						b.Fatal(err)
					}
					for v := 0; v < 10; v++ {
						if err := key.SetValue(fmt.Sprintf("value %d", v), hive.DWord, hive.EncodeUint32(uint32(v))); err != nil {
							b.Fatal(err)
						}
					}
				}
				if _, err := h.Bytes(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
		})
	}
}

// BenchmarkSubkeyLookup looks keys up in a key with 20000 subkeys.
func BenchmarkSubkeyLookup(b *testing.B) {
	h := hive.New("ROOT")
	for k := 0; k < 20000; k++ {
		h.CreateKey(fmt.Sprintf(`Big\Sub %06d`, k))
	}
	big, _ := h.Key("Big")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := big.Subkey(fmt.Sprintf("SUB %06d", (i*7919)%20000)); err != nil {
			b.Fatal(err)
		}
	}
}
