package hive

import (
	"bytes"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// FuzzOpenWalk opens mutated small hives and walks every key and value:
// no input may panic, loop forever or allocate without bound.
func FuzzOpenWalk(f *testing.F) {
	for _, name := range []string{"real/hives/pyreg_UNICODE_TESTS", "real/hives/pyreg_issue22.hive",
		"real/hives/pyreg_REORGANIZED_VALUES_TESTS", "real/hives/BCD", "hives/winxp/SAM"} {
		f.Add(testimg.Bytes(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		h, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 0
		h.Root().Walk(func(path string, k Key) error {
			if n++; n > 10000 {
				return errStopWalk
			}
			k.Class()
			k.SecurityDescriptor()
			vals, _ := k.Values()
			for _, v := range vals {
				v.Name()
				v.Data()
			}
			return nil
		})
	})
}

// FuzzEdit makes edits to a mutated small hive: they fail (a hive Check
// finds unsafe to edit is refused) or succeed, never panic, and what they
// write reads back.
func FuzzEdit(f *testing.F) {
	f.Add(testimg.Bytes(f, "real/hives/pyreg_UNICODE_TESTS"), "Software\\Test", "value", []byte("data"))
	f.Fuzz(func(t *testing.T, b []byte, key, name string, data []byte) {
		if len(b) > 1<<20 || len(data) > 1<<16 {
			return
		}
		h, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		k, err := h.CreateKey(key)
		if err != nil {
			return
		}
		if err := k.SetValue(name, Binary, data); err != nil {
			return
		}
		v, err := k.Value(name)
		if err != nil {
			t.Fatalf("value just set not found: %v", err)
		}
		if got, err := v.Data(); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("value just set reads back %q, %v", got, err)
		}
		h.Bytes()
	})
}

var errStopWalk = errorString("stop")

type errorString string

func (e errorString) Error() string { return string(e) }
