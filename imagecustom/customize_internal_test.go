package imagecustom

import (
	"testing"
	"unicode/utf16"
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
