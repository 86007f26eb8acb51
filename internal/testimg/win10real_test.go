package testimg_test

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestWin10RealFixture checks the realistic Windows 10 fixture with tools
// no one here wrote: ntfsfix, ntfsresize, ntfsclone and ntfssecaudit
// accept its system volume; fls lists every win10.manifest path and each
// WinSxS link in the record of its System32 file; ntfsinfo shows the
// SOFTWARE hive's attribute list with $DATA in extension records, the
// link counts and a Win32 + DOS pair; ntfssecaudit shows TrustedInstaller
// owning System32 files; ntfscat reads the hive whole (hivexget reads a
// value of its filler), autochk.exe by both names, and compact.dll as a
// WOF (LZX) file.
func TestWin10RealFixture(t *testing.T) {
	d := testimg.Win10Real()
	vol := testimg.Volume(t, d)
	testimg.Run(t, "ntfsfix", "-n", vol)
	if out := testimg.Run(t, "ntfsresize", "-i", "-f", vol); !bytes.Contains(out, []byte("You might resize at")) {
		t.Errorf("ntfsresize -i -f:\n%s", out)
	}
	testimg.Run(t, "ntfsclone", "--save-image", "-O", "/dev/null", vol)
	if out := testimg.Run(t, "ntfssecaudit", "-a", vol); !bytes.Contains(out, []byte("No errors were found")) {
		t.Errorf("ntfssecaudit -a:\n%s", out)
	}

	// fls: the manifest's tree, and the links in one record each.
	records := map[string]string{} // slash path -> MFT record
	for _, l := range strings.Split(string(testimg.Run(t, "fls", "-r", "-p", "-u", vol)), "\n") {
		m := regexp.MustCompile(`^\S+/\S+\s+(\d+)-[0-9-]+:\t(.*)$`).FindStringSubmatch(l)
		if m != nil {
			records[m[2]] = m[1]
		}
	}
	for _, e := range testimg.Manifest(t, "win10.manifest") {
		if _, ok := records[strings.ReplaceAll(e.Path, `\`, "/")]; !ok {
			t.Errorf("fls does not list %s", e.Path)
		}
	}
	for sxs, sys := range testimg.Win10RealLinks() {
		if records[sxs] == "" || records[sxs] != records[sys] {
			t.Errorf("fls: %s in record %q, %s in %q; want one record", sxs, records[sxs], sys, records[sys])
		}
	}

	// ntfsinfo: the attribute list, link counts, namespaces.
	info := func(p string) string { return string(testimg.Run(t, "ntfsinfo", "-F", "/"+p, vol)) }
	sw := info(testimg.Win10RealSoftware)
	if !strings.Contains(sw, "Dumping attribute $ATTRIBUTE_LIST") {
		t.Errorf("ntfsinfo: %s has no attribute list", testimg.Win10RealSoftware)
	}
	base := regexp.MustCompile(`Dumping Inode (\d+)`).FindStringSubmatch(sw)
	ext := 0
	for _, m := range regexp.MustCompile(`Dumping attribute \$DATA \(0x80\) from mft record (\d+)`).FindAllStringSubmatch(sw, -1) {
		if base == nil || m[1] != base[1] {
			ext++
		}
	}
	if ext == 0 {
		t.Errorf("ntfsinfo: no $DATA extent of %s in an extension record", testimg.Win10RealSoftware)
	}
	ac := info(testimg.Win10RealAutochk)
	if !regexp.MustCompile(`Number of Hard Links:\s+2 `).MatchString(ac) {
		t.Errorf("ntfsinfo: autochk.exe has not 2 links:\n%s", ac)
	}
	if kb := info("Windows/System32/KernelBase.dll"); !strings.Contains(kb, "Namespace:\t\t DOS") || !strings.Contains(kb, "Namespace:\t\t Win32") {
		t.Errorf("ntfsinfo: KernelBase.dll has no Win32 + DOS pair")
	}

	// ntfssecaudit: TrustedInstaller owns System32's files.
	for _, p := range []string{testimg.Win10RealAutochk, "Windows/System32/cmd.exe", testimg.Win10RealCompact} {
		out := testimg.Run(t, "ntfssecaudit", "-v", vol, "/"+p)
		if !bytes.Contains(out, []byte("Windows owner "+testimg.Win10RealTrustedInstaller)) {
			t.Errorf("ntfssecaudit: %s is not owned by TrustedInstaller:\n%s", p, out)
		}
	}

	// ntfscat: the hive whole, autochk.exe by both names, the WOF file.
	hive := testimg.Run(t, "ntfscat", vol, "/"+testimg.Win10RealSoftware)
	if len(hive) < 1<<20 || !bytes.Equal(hive[:4], []byte("regf")) {
		t.Errorf("ntfscat SOFTWARE: %d bytes", len(hive))
	} else if bins := int(hive[0x28]) | int(hive[0x29])<<8 | int(hive[0x2a])<<16 | int(hive[0x2b])<<24; 4096+bins != len(hive) {
		t.Errorf("SOFTWARE: base block says %d bytes of hive bins, the file holds %d", bins, len(hive)-4096)
	}
	hp := filepath.Join(t.TempDir(), "SOFTWARE")
	os.WriteFile(hp, hive, 0o644)
	if out := testimg.Run(t, "hivexget", hp, `\Filler\Key0399`, "Data"); len(out) == 0 {
		t.Error("hivexget reads no filler value")
	}
	orig := testimg.Bytes(t, "pe/autochk-amd64.exe")
	for _, p := range []string{testimg.Win10RealAutochk, testimg.Win10RealAutochkSxS} {
		if got := testimg.Run(t, "ntfscat", vol, "/"+p); !bytes.Equal(got, orig) {
			t.Errorf("ntfscat %s: %d bytes, not autochk-amd64.exe", p, len(got))
		}
	}
	cp := info(testimg.Win10RealCompact)
	if !strings.Contains(cp, "0x80000017") || !strings.Contains(cp, "'WofCompressedData'") {
		t.Errorf("ntfsinfo: %s is not a WOF file:\n%s", testimg.Win10RealCompact, cp)
	}
	of := testimg.Run(t, "ntfscat", vol, "/"+testimg.Win10RealCompactOf)
	if got := testimg.Run(t, "ntfscat", vol, "/"+testimg.Win10RealCompact); len(got) != len(of) || bytes.Equal(got, of) {
		t.Errorf("ntfscat %s (the WOF placeholder): %d bytes, sha256 %x; want %d bytes, not the content",
			testimg.Win10RealCompact, len(got), sha256.Sum256(got), len(of))
	}
}
