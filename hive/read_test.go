package hive_test

import (
	"bytes"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func openReal(t testing.TB, name string) *hive.Hive {
	t.Helper()
	b := testimg.Bytes(t, name)
	h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	return h
}

func TestWalkRealHives(t *testing.T) {
	for _, name := range []string{"real/hives/SYSTEM", "real/hives/SAM", "real/hives/NTUSER.DAT", "hives/winxp/SYSTEM"} {
		t.Run(name, func(t *testing.T) {
			h := openReal(t, name)
			keys, values := 0, 0
			err := h.Root().Walk(func(path string, k hive.Key) error {
				keys++
				vals, err := k.Values()
				if err != nil {
					return err
				}
				for _, v := range vals {
					if _, err := v.Data(); err != nil {
						return err
					}
					values++
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d keys, %d values", keys, values)
		})
	}
}
