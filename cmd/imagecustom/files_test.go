package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestVolumePath(t *testing.T) {
	for in, want := range map[string]string{
		`\Windows\System32\config\SYSTEM`:    "Windows/System32/config/SYSTEM",
		`C:\Windows\System32`:                "Windows/System32",
		`c:/Windows`:                         "Windows",
		`/Windows/System32/`:                 "Windows/System32",
		`Windows`:                            "Windows",
		`\`:                                  ".",
		`/`:                                  ".",
		`C:`:                                 ".",
		`\Windows\..\..\boot.ini`:            "boot.ini",
		`\Program Files\.\Internet Explorer`: "Program Files/Internet Explorer",
	} {
		if got := volumePath(in); got != want {
			t.Errorf("volumePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func manifestEntry(t *testing.T, d testimg.Disk, path string) testimg.Entry {
	t.Helper()
	for _, e := range testimg.Manifest(t, d.Manifest) {
		if e.Path == path {
			return e
		}
	}
	t.Fatalf("%s not in the manifest", path)
	return testimg.Entry{}
}

func TestReadCommands(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Path(t, d.Name)

	code, out, errOut := runCLI(t, "ls", image, `C:\WINDOWS\system32\config`)
	if code != 0 || !strings.Contains(out, "SYSTEM\n") || !strings.Contains(out, "default.LOG\n") {
		t.Errorf("ls: %d %q %q", code, out, errOut)
	}

	code, out, _ = runCLI(t, "ls", "-l", image, `/Documents and Settings`)
	if code != 0 || !strings.Contains(out, "drwxr-xr-x") || !strings.Contains(out, " Administrator\n") {
		t.Errorf("ls -l: %d %q", code, out)
	}

	code, out, _ = runCLI(t, "--json", "ls", image, `\`)
	var entries []entryJSON
	if err := json.Unmarshal([]byte(out), &entries); code != 0 || err != nil {
		t.Fatalf("ls --json: %d %v %q", code, err, out)
	}
	names := map[string]entryJSON{}
	for _, e := range entries {
		names[e.Name] = e
	}
	if e := names["Program Files"]; e.Type != "dir" || e.ShortName != "PROGRA~1" {
		t.Errorf("ls --json Program Files: %+v", e)
	}
	if _, ok := names["$MFT"]; ok {
		t.Errorf("ls lists NTFS system files")
	}

	boot := manifestEntry(t, d, "boot.ini")
	code, out, _ = runCLI(t, "cat", image, "/BOOT.INI")
	if sum := sha256.Sum256([]byte(out)); code != 0 || hex.EncodeToString(sum[:]) != boot.SHA256 {
		t.Errorf("cat boot.ini: %d, content %q", code, out)
	}

	code, out, _ = runCLI(t, "--json", "stat", image, `\WINDOWS\system32\config\SYSTEM`)
	var st entryJSON
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil {
		t.Fatalf("stat --json: %d %v %q", code, err, out)
	}
	sys := manifestEntry(t, d, `WINDOWS\system32\config\SYSTEM`)
	if st.Size != sys.Size || st.Type != "file" || st.Stat == nil || len(st.Stat.Streams) != 1 ||
		st.Stat.Streams[0].Resident || len(st.Stat.Streams[0].Runs) == 0 {
		t.Errorf("stat --json SYSTEM: %+v", st)
	}

	code, out, _ = runCLI(t, "stat", image, `\Program Files`)
	if code != 0 || !strings.Contains(out, "Short name:  PROGRA~1") || !strings.Contains(out, "Type:        dir") {
		t.Errorf("stat: %d\n%s", code, out)
	}

	dir := t.TempDir()
	local := filepath.Join(dir, "SYSTEM")
	code, _, errOut = runCLI(t, "get", image, `\WINDOWS\system32\config\SYSTEM`, dir)
	b, err := os.ReadFile(local)
	if sum := sha256.Sum256(b); code != 0 || err != nil || hex.EncodeToString(sum[:]) != sys.SHA256 {
		t.Errorf("get: %d %v %s", code, err, errOut)
	}
	if fi, err := os.Stat(local); err != nil || !fi.ModTime().Equal(time.Date(2008, 4, 14, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("get: local modification time %v", fi.ModTime())
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(m) != 0 {
		t.Errorf("get left temporary files %v", m)
	}
}

func TestReadCommandErrors(t *testing.T) {
	image := testimg.Path(t, testimg.WinXP().Name)
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"ls", image, `\nope`}, exitError, "does not exist"},
		{[]string{"cat", image, `\WINDOWS`}, exitError, "is a directory"},
		{[]string{"cat", image}, exitUsage, "IMAGE PATH"},
		{[]string{"ls", "--partition", "3", image, `\`}, exitError, "no partition 3"},
		{[]string{"ls", "--partition", "-1", image, `\`}, exitUsage, "numbered from 1"},
		{[]string{"ls", filepath.Join(t.TempDir(), "missing.raw"), `\`}, exitError, "no such file"},
	} {
		code, _, stderr := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.stderr)
		}
	}
}
