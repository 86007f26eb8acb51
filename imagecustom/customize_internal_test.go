package imagecustom

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

func utf16le(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestIniValue(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"ansi", []byte("[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n"), "IMAGE_STATE_COMPLETE"},
		{"utf16 with BOM", utf16le("[State]\r\nImageState = IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\r\n"), "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"},
		{"case", []byte("imagestate=X"), "X"},
		{"missing", []byte("[State]\nOther=1\n"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		if got := iniValue(tt.in, "ImageState"); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// FuzzIniValue: State.ini is read from the image, so hostile: no panic,
// and the value found is a substring of the decoded text.
func FuzzIniValue(f *testing.F) {
	f.Add([]byte("[State]\r\nImageState=IMAGE_STATE_COMPLETE\r\n"))
	f.Add(utf16le("[State]\r\nImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\r\n"))
	f.Add([]byte{0xff, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		_ = iniValue(b, "ImageState")
	})
}

// TestCustomizeVerifyFailureRestores: when what is read back after the
// commit differs from the plan, Customize fails with ErrVerify and the
// image in place is rolled back byte-identical, a child disk removed.
func TestCustomizeVerifyFailureRestores(t *testing.T) {
	spec, err := sysprep.Decode([]byte("identity: {computerName: T01, fullName: T}\nmembership: {workgroup: LAB}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, child := range []bool{false, true, false} {
		image := testimg.Copy(t, testimg.WinXP().Name)
		if i == 2 {
			image = testimg.VMDK(t, testimg.WinXP(), "monolithicSparse") // in place
		}
		orig, _ := os.ReadFile(image)
		opts := &CustomizeOptions{}
		if child {
			opts.Child = filepath.Join(t.TempDir(), "c.vmdk")
		}
		plan, err := planCustomize(image, spec, opts)
		if err != nil {
			t.Fatal(err)
		}
		plan.tamper = func(v *ntfs.Volume) error {
			return v.WriteFile(volPath(plan.Files[0].Path), []byte("tampered"), nil)
		}
		_, _, err = runPass(context.Background(), image, &WriteOptions{Child: opts.Child}, false, plan, "image")
		if !errors.Is(err, ErrVerify) {
			t.Fatalf("child %v: %v, want ErrVerify", child, err)
		}
		now, _ := os.ReadFile(image)
		if !bytes.Equal(orig, now) {
			t.Errorf("child %v: the image is not the original after a failed verification", child)
		}
		if _, err := os.Stat(JournalPath(image)); err == nil {
			t.Errorf("child %v: a journal is left", child)
		}
		if child {
			if _, err := os.Stat(opts.Child); err == nil {
				t.Error("the child disk of a failed verification is left")
			}
		}
	}
}
