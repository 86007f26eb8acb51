package sam_test

import (
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
)

// BenchmarkSetPassword sets a password under each key revision: find the
// account, derive the key (cached after the first), encrypt, rewrite V
// and F.
func BenchmarkSetPassword(b *testing.B) {
	for _, rev := range []sam.Revision{sam.RC4, sam.AES} {
		b.Run(rev.String(), func(b *testing.B) {
			samHive, system := openHive(b, "hives/win10/SAM"), openHive(b, "hives/win10/SYSTEM")
			if err := sam.CreateKeys(samHive, system, rev, seeded(4)); err != nil {
				b.Fatal(err)
			}
			s := must(sam.Open(samHive, system))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.SetPassword("Admin", "benchmark password"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUsers lists the accounts with their groups and password
// states.
func BenchmarkUsers(b *testing.B) {
	samHive, system := openHive(b, "hives/win10/SAM"), openHive(b, "hives/win10/SYSTEM")
	if err := sam.CreateKeys(samHive, system, sam.AES, seeded(5)); err != nil {
		b.Fatal(err)
	}
	s := must(sam.Open(samHive, system))
	if err := s.SetPassword("Admin", "x"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Users(); err != nil {
			b.Fatal(err)
		}
	}
}
