package ntfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// patternReader yields n bytes of a pattern unique to seed, without
// holding them in memory.
type patternReader struct {
	seed string
	off  int64
	n    int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	for i := range b {
		o := p.off + int64(i)
		b[i] = p.seed[o%int64(len(p.seed))] ^ byte(o>>12)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func patternSum(seed string, n int64) [32]byte {
	h := sha256.New()
	io.Copy(h, &patternReader{seed: seed, n: n})
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// openSystemVolumeCopy opens a private copy of a disk fixture's system
// volume for writing.
func openSystemVolumeCopy(t *testing.T, d testimg.Disk) (*Volume, *os.File) {
	t.Helper()
	f, err := os.OpenFile(testimg.Volume(t, d), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	v, err := OpenRW(f, d.System.Size, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v, f
}

// TestScenarios runs the write scenarios of the NTFS issue on copies of
// the fixtures' system volumes, then checks them with third-party tools
// and Check. The grown file is 300 MB on Windows 10's 394 MiB volume and
// 120 MB on XP's 255 MiB one, which cannot hold 300.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("writes hundreds of megabytes")
	}
	for _, tt := range []struct {
		disk testimg.Disk
		big  int64
		sys  string
	}{
		{testimg.Win10(), 300 << 20, "Windows/System32/config/SYSTEM"},
		{testimg.WinXP(), 120 << 20, "WINDOWS/system32/config/SYSTEM"},
	} {
		t.Run(tt.disk.Name, func(t *testing.T) { scenarios(t, tt.disk, tt.big, tt.sys) })
	}
}

func scenarios(t *testing.T, d testimg.Disk, big int64, sys string) {
	v, f := openSystemVolumeCopy(t, d)
	want := map[string][32]byte{}
	for _, e := range testimg.Manifest(t, d.Manifest) {
		p := strings.ReplaceAll(e.Path, `\`, "/")
		switch e.Kind {
		case 'f':
			var s [32]byte
			if _, err := hex.Decode(s[:], []byte(e.SHA256)); err != nil {
				t.Fatal(err)
			}
			want[p] = s
		case 'd':
			want[p+"/"] = [32]byte{}
		case 'j', 'l':
			want[p] = sha256.Sum256(nil) // wimapply makes a link, unreadable here
		}
	}
	put := func(name string, n int64) {
		t.Helper()
		if err := v.WriteFrom(name, &patternReader{seed: name, n: n}, n, nil); err != nil {
			t.Fatalf("WriteFrom(%s, %d): %v", name, n, err)
		}
		want[name] = patternSum(name, n)
	}

	// 5000 files in one directory, then every other one removed.
	if err := v.Mkdir("bulk", nil); err != nil {
		t.Fatal(err)
	}
	want["bulk/"] = [32]byte{}
	for i := 0; i < 5000; i++ {
		put(fmt.Sprintf("bulk/item-%05d.dat", (i*7919)%5000), 64)
	}
	for i := 0; i < 5000; i += 2 {
		n := fmt.Sprintf("bulk/item-%05d.dat", i)
		if err := v.Remove(n); err != nil {
			t.Fatal(err)
		}
		delete(want, n)
	}

	// A deep tree.
	var deep []string
	for i := 0; i < 40; i++ {
		deep = append(deep, fmt.Sprintf("level %02d", i))
		want[strings.Join(deep, "/")+"/"] = [32]byte{}
	}
	if err := v.MkdirAll(strings.Join(deep, "/"), nil); err != nil {
		t.Fatal(err)
	}
	put(strings.Join(deep, "/")+"/bottom.txt", 1234)

	// A file grown from 10 KB to 300 MB (or big) and shrunk back.
	put("grow.bin", 10_000)
	put("grow.bin", big)
	put("grow.bin", 10_000)

	// Files around the resident threshold.
	for _, dir := range []string{"threshold", "aliases", "filler"} {
		if err := v.Mkdir(dir, nil); err != nil {
			t.Fatal(err)
		}
		want[dir+"/"] = [32]byte{}
	}
	for n := int64(500); n <= 1000; n += 4 {
		put(fmt.Sprintf("threshold/%04d.bin", n), n)
	}

	// Names needing 8.3 aliases, and Unicode names.
	for _, n := range []string{"A rather long name.txt", "Another rather long name.txt", "ümlaut ñame.doc", "日本語.txt", "x.html", "plain.txt"} {
		put("aliases/"+n, 10)
	}

	// The SYSTEM hive replaced by a bigger file.
	fi, err := v.Stat(sys)
	if err != nil {
		t.Fatal(err)
	}
	put(sys, fi.Size()*3)

	checkAgainstOracles(t, v, f.Name(), want)
	// The aliases as ntfs-3g lists them.
	out := string(testimg.Run(t, "ntfsls", "-x", "-p", "/aliases", f.Name()))
	for _, alias := range []string{"ARATHE~1.TXT", "ANOTHE~1.TXT", "PLAIN.TXT"} {
		if !strings.Contains(strings.ToUpper(out), alias) {
			t.Errorf("ntfsls -x does not show %s:\n%s", alias, out)
		}
	}

	// Fill the volume until the write fails cleanly.
	for i := 0; ; i++ {
		name := fmt.Sprintf("filler/%03d.bin", i)
		err := v.WriteFrom(name, &patternReader{seed: name, n: 32 << 20}, 32<<20, nil)
		if errors.Is(err, ErrNoSpace) {
			break
		}
		if err != nil {
			t.Fatalf("filling: %v", err)
		}
		want[name] = patternSum(name, 32<<20)
		if i > 100 {
			t.Fatal("the volume never filled up")
		}
	}
	checkAgainstOracles(t, v, f.Name(), want)
}
