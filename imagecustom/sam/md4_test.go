package sam

import (
	"encoding/hex"
	"testing"
)

// TestMD4 checks md4 against the test suite of RFC 1320, appendix A.5,
// and a few lengths around the padding boundary.
func TestMD4(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
		{"a", "bde52cb31de33e46245e05fbdbd6fb24"},
		{"abc", "a448017aaf21d8525fc10ae87aa6729d"},
		{"message digest", "d9130a8164549fe818874806e1c7014b"},
		{"abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"},
		{"12345678901234567890123456789012345678901234567890123456789012345678901234567890", "e33b4ddc9c38f2199c3e7b164fcc0536"},
	} {
		got := md4([]byte(tc.in))
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("md4(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}

// TestNTHash checks the NT hash of known passwords ([MS-NLMP] 4.2.2.1.2
// gives NTOWFv1("Password")).
func TestNTHash(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "31d6cfe0d16ae931b73c59d7e0c089c0"},
		{"Password", "a4f49c406510bdcab6824ee7c30fd852"},
	} {
		got := NTHash(tc.in)
		if hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("NTHash(%q) = %x, want %s", tc.in, got, tc.want)
		}
	}
}
