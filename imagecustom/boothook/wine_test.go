package boothook

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testimg.WineCleanup()
	os.Exit(code)
}

// hookTree is a Windows folder tree holding the hook installed by the
// autochk method (or, with name, as System32\name), the stand-in autochk
// as the backup and a data file.
type hookTree struct {
	root, sys32 string
	hook, orig  []byte
	wine        *testimg.Wine
}

func newTree(t *testing.T, arch, name string, data []byte) *hookTree {
	t.Helper()
	tr := &hookTree{root: t.TempDir()}
	tr.sys32 = filepath.Join(tr.root, "Windows", "System32")
	if err := os.MkdirAll(tr.sys32, 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	if tr.hook, err = PE(arch); err != nil {
		t.Fatal(err)
	}
	pearch := map[string]string{"x86": "i386", "amd64": "amd64"}[arch]
	tr.orig = testimg.Bytes(t, "pe/autochk-"+pearch+".exe")
	files := map[string][]byte{"autochk.exe": tr.orig}
	if name == "" {
		files = map[string][]byte{"autochk.exe": tr.hook, DefaultBackup: tr.orig}
	} else {
		files[name] = tr.hook
	}
	if data != nil {
		files["vmprep.dat"] = data
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(tr.sys32, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The installer's record, which the hook deletes once it is out.
	if err := os.MkdirAll(filepath.Join(tr.root, "Windows", "imagecustom"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tr.root, "Windows", "imagecustom", "hook.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	return tr
}

// run runs D:\Windows\System32\<exe> * as smss would, the tree mapped as
// drive D:, and returns Wine's standard error.
func (tr *hookTree) run(t *testing.T, arch, exe string) string {
	t.Helper()
	tr.wine = testimg.NewWine(t, arch)
	return tr.wine.Run(t, tr.root, `D:\Windows\System32\`+exe, "*")
}

func (tr *hookTree) read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (tr *hookTree) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(tr.root, filepath.FromSlash(rel)))
	return err == nil
}

// checkRestored checks the autochk method's undo: the original back as
// autochk.exe byte for byte, the backup gone, the hook renamed aside.
func (tr *hookTree) checkRestored(t *testing.T) {
	t.Helper()
	if got := tr.read(t, "Windows/System32/autochk.exe"); !bytes.Equal(got, tr.orig) {
		t.Errorf("autochk.exe is not the original (%d bytes)", len(got))
	}
	if tr.exists("Windows/System32/" + DefaultBackup) {
		t.Errorf("%s is still there", DefaultBackup)
	}
	if got := tr.read(t, "Windows/System32/imagecustom-hook.del"); !bytes.Equal(got, tr.hook) {
		t.Errorf("imagecustom-hook.del is not the hook")
	}
	if tr.exists("Windows/System32/vmprep.dat") || tr.exists("Windows/imagecustom/hook.json") {
		t.Errorf("the data file or the installer's record is still there")
	}
}

func logLines(t *testing.T, tr *hookTree) []string {
	t.Helper()
	log := string(tr.read(t, "Windows/imagecustom/boot.log"))
	if !strings.HasSuffix(log, "\r\n") || strings.Contains(strings.ReplaceAll(log, "\r\n", ""), "\n") {
		t.Errorf("boot.log lines do not all end in CRLF: %q", log)
	}
	entries, err := ParseLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind == "text" {
			t.Errorf("ParseLog does not know the hook's line %q", e.Line)
		}
	}
	return strings.Split(strings.TrimSuffix(log, "\r\n"), "\r\n")
}

func TestWineActions(t *testing.T) {
	for _, arch := range []string{"amd64", "x86"} {
		t.Run(arch, func(t *testing.T) {
			testimg.NewWine(t, arch)
			tr := newTree(t, arch, "", exampleData(t))
			stderr := tr.run(t, arch, "autochk.exe")
			want := []string{
				`boothook 1 start image=\??\D:\Windows\System32\autochk.exe actions=15`,
				`action 1 say 0x00000000 imagecustom: first boot`,
				`action 2 reg-set 0x00000000 CurrentControlSet\Services\ImagecustomTest`,
				`action 3 reg-set 0x00000000 CurrentControlSet\Services\ImagecustomTest\Parameters`,
				`action 4 reg-set 0x00000000 ControlSet001\Control\ImagecustomTest`,
				`action 5 reg-set 0x00000000 ControlSet001\Control\ImagecustomTest`,
				`action 6 reg-set 0x00000000 ControlSet001\Control\ImagecustomTest`,
				`action 7 reg-set 0x00000000 ControlSet001\Control\ImagecustomTest`,
				`action 8 reg-delete 0x00000000 ControlSet001\Control\ImagecustomTest`,
				`action 9 write 0x00000000 \Windows\imagecustom\hello.txt`,
				`action 10 copy 0x00000000 \Windows\imagecustom\hello.txt`,
				`action 11 rename 0x00000000 \Windows\imagecustom\copy.txt`,
				`action 12 delete 0x00000000 \Windows\imagecustom\hello.txt`,
				`action 13 run 0xc0000034 exit=0x00000000 \Windows\System32\tool.exe`,
				`action 14 reg-delete 0x00000000 CurrentControlSet\Services\ImagecustomTest`,
				`action 15 reboot 0x00000000`,
				`undo rename-self 0x00000000`,
				`undo restore 0x00000000`,
				`undo chain 0x00000000 exit=0x00000000`,
				`undo pending-delete 0x00000000`,
				`undo forget 0x00000000`,
				`boothook end`,
			}
			if diff := cmp.Diff(want, logLines(t, tr)); diff != "" {
				t.Errorf("boot.log (-want +got):\n%s", diff)
			}
			tr.checkRestored(t)
			// write, then copy, rename and delete, in that order.
			if got, want := string(tr.read(t, "Windows/imagecustom/moved.txt")), "héllo wörld\r\nsecond line\r\n"; got != want {
				t.Errorf("moved.txt = %q, want %q", got, want)
			}
			for _, gone := range []string{"Windows/imagecustom/hello.txt", "Windows/imagecustom/copy.txt"} {
				if tr.exists(gone) {
					t.Errorf("%s still exists", gone)
				}
			}
			// The say line, then the original autochk chained after it.
			say := strings.Index(stderr, `NtDisplayString L"imagecustom: first boot\n"`)
			chain := strings.Index(stderr, `NtDisplayString L"imagecustom autochk stand-in`)
			if say < 0 || chain < say {
				t.Errorf("Wine's stderr lacks the say line before the chained autochk:\n%s", stderr)
			}
			// The registry as Wine stored it.
			wantKey := []string{
				`@=str(2):"%SystemRoot%\\x"`,
				`"Big"=hex(b):88,77,66,55,44,33,22,11`,
				`"Paths"=str(7):"C:\\Program Files\0D:\\x\0"`,
			}
			if diff := cmp.Diff(wantKey, tr.wine.RegKey(t, `System\ControlSet001\Control\ImagecustomTest`)); diff != "" {
				t.Errorf("Wine registry key (-want +got):\n%s", diff)
			}
			if got := tr.wine.RegKey(t, `System\CurrentControlSet\Services\ImagecustomTest`); len(got) != 0 {
				t.Errorf("the deleted service key is still there: %q", got)
			}
			pfro := strings.Join(tr.wine.RegKey(t, `System\CurrentControlSet\Control\Session Manager`), "\n")
			if !strings.Contains(pfro, `"PendingFileRenameOperations"=str(7):`) ||
				!strings.Contains(pfro, `\\??\\D:\\Windows\\System32\\imagecustom-hook.del\0\0`) {
				t.Errorf("no pending delete of the renamed hook in Session Manager:\n%s", pfro)
			}
		})
	}
}

// TestWineBadData: with a malformed or missing data file the hook performs
// nothing, still restores autochk, runs it and exits.
func TestWineBadData(t *testing.T) {
	good := exampleData(t)
	torn := bytes.Clone(good[:len(good)/2])
	flipped := bytes.Clone(good)
	flipped[len(flipped)-3] ^= 0x40
	tests := []struct {
		name  string
		data  []byte
		start string
	}{
		{"garbage", []byte("not a data file"), "data=malformed at=0"},
		{"torn", torn, "data=malformed at=8"},
		{"crc", flipped, "data=malformed at=12"},
		{"missing", nil, "data=0xc0000034"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testimg.NewWine(t, "amd64")
			tr := newTree(t, "amd64", "", tt.data)
			tr.run(t, "amd64", "autochk.exe")
			want := []string{
				`boothook 1 start image=\??\D:\Windows\System32\autochk.exe ` + tt.start,
				`undo rename-self 0x00000000`,
				`undo restore 0x00000000`,
				`undo chain 0x00000000 exit=0x00000000`,
				`undo pending-delete 0x00000000`,
				`undo forget 0x00000000`,
				`boothook end`,
			}
			if diff := cmp.Diff(want, logLines(t, tr)); diff != "" {
				t.Errorf("boot.log (-want +got):\n%s", diff)
			}
			tr.checkRestored(t)
			if tr.exists("Windows/imagecustom/moved.txt") {
				t.Error("an action ran from a bad data file")
			}
		})
	}
}

// TestWineBootExecute: installed under its own name on a BootExecute line,
// the hook removes that line (here set by its own first action) and leaves
// autochk alone.
func TestWineBootExecute(t *testing.T) {
	testimg.NewWine(t, "amd64")
	acts, err := Parse(strings.NewReader(`reg-set "HKLM\SYSTEM\ControlSet001\Control\Session Manager" BootExecute REG_MULTI_SZ "autocheck autochk *" "ichook extra" "autocheck other"`))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(acts)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree(t, "amd64", "ichook.exe", data)
	tr.run(t, "amd64", "ichook.exe")
	want := []string{
		`boothook 1 start image=\??\D:\Windows\System32\ichook.exe actions=1`,
		`action 1 reg-set 0x00000000 ControlSet001\Control\Session Manager`,
		`undo bootexecute 0x00000000 removed=1`,
		`undo pending-delete 0x00000000`,
		`undo forget 0x00000000`,
		`boothook end`,
	}
	if diff := cmp.Diff(want, logLines(t, tr)); diff != "" {
		t.Errorf("boot.log (-want +got):\n%s", diff)
	}
	sm := strings.Join(tr.wine.RegKey(t, `System\ControlSet001\Control\Session Manager`), "\n")
	if !strings.Contains(sm, `"BootExecute"=str(7):"autocheck autochk *\0autocheck other\0"`) {
		t.Errorf("BootExecute not as expected:\n%s", sm)
	}
	if got := tr.read(t, "Windows/System32/autochk.exe"); !bytes.Equal(got, tr.orig) {
		t.Error("autochk.exe changed")
	}
	if tr.exists("Windows/imagecustom/hook.json") {
		t.Error("the installer's record is still there")
	}
}

// TestWineBackup: the backup name comes from the data file; without a
// backup the hook stays in place rather than leave no autochk.exe, and keeps
// the installer's record; run starts a native program and waits for it.
func TestWineBackup(t *testing.T) {
	testimg.NewWine(t, "amd64")
	acts, err := Parse(strings.NewReader("run \\Windows\\System32\\tool.exe a \"b c\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeData(Data{Backup: "autochk.orig", Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree(t, "amd64", "", data)
	for from, to := range map[string]string{DefaultBackup: "autochk.orig"} {
		if err := os.Rename(filepath.Join(tr.sys32, from), filepath.Join(tr.sys32, to)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tr.sys32, "tool.exe"), tr.orig, 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := tr.run(t, "amd64", "autochk.exe")
	want := []string{
		`boothook 1 start image=\??\D:\Windows\System32\autochk.exe actions=1`,
		`action 1 run 0x00000000 exit=0x00000000 \Windows\System32\tool.exe`,
		`undo rename-self 0x00000000`,
		`undo restore 0x00000000`,
		`undo chain 0x00000000 exit=0x00000000`,
		`undo pending-delete 0x00000000`,
		`undo forget 0x00000000`,
		`boothook end`,
	}
	if diff := cmp.Diff(want, logLines(t, tr)); diff != "" {
		t.Errorf("boot.log (-want +got):\n%s", diff)
	}
	if n := strings.Count(stderr, "autochk stand-in"); n != 2 {
		t.Errorf("the stand-in ran %d times, want 2 (run, then chain):\n%s", n, stderr)
	}
	if got := tr.read(t, "Windows/System32/autochk.exe"); !bytes.Equal(got, tr.orig) || tr.exists("Windows/System32/autochk.orig") {
		t.Error("autochk.orig was not put back as autochk.exe")
	}

	// No backup at all: the hook keeps its place.
	tr = newTree(t, "amd64", "", nil)
	if err := os.Remove(filepath.Join(tr.sys32, DefaultBackup)); err != nil {
		t.Fatal(err)
	}
	tr.run(t, "amd64", "autochk.exe")
	want = []string{
		`boothook 1 start image=\??\D:\Windows\System32\autochk.exe data=0xc0000034`,
		`undo restore 0xc0000034`,
		`boothook end`,
	}
	if diff := cmp.Diff(want, logLines(t, tr)); diff != "" {
		t.Errorf("boot.log without a backup (-want +got):\n%s", diff)
	}
	if got := tr.read(t, "Windows/System32/autochk.exe"); !bytes.Equal(got, tr.hook) || !tr.exists("Windows/imagecustom/hook.json") {
		t.Error("without a backup the hook or the record moved")
	}
}

// hangSource is a native program that sleeps 30 s, then says "woke": the
// hook must end it when its run timeout is past.
const hangSource = `
typedef struct { unsigned short Length, MaximumLength; unsigned short *Buffer; } US;
__declspec(dllimport) long __stdcall NtDelayExecution(unsigned char, long long *);
__declspec(dllimport) long __stdcall NtDisplayString(US *);
__declspec(dllimport) long __stdcall NtTerminateProcess(void *, long);
void __stdcall NtProcessStartup(void *p)
{
	static unsigned short w[] = {'w', 'o', 'k', 'e', '\n'};
	US u = {sizeof w, sizeof w, w};
	long long t = -30LL * 10000000;
	(void)p;
	NtDelayExecution(0, &t);
	NtDisplayString(&u);
	NtTerminateProcess((void *)-1, 0);
}
`

// TestWineRunTimeout: a run action past the data file's timeout is ended,
// logged with STATUS_TIMEOUT, and the hook goes on.
func TestWineRunTimeout(t *testing.T) {
	testimg.NewWine(t, "amd64")
	gcc := testimg.Oracle(t, "x86_64-w64-mingw32-gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "hang.c")
	if err := os.WriteFile(src, []byte(hangSource), 0o644); err != nil {
		t.Fatal(err)
	}
	hang := filepath.Join(dir, "hang.exe")
	if out, err := exec.Command(gcc, "-O2", "-nostdlib", "-ffreestanding", "-Wl,--subsystem,native",
		"-e", "NtProcessStartup", "-o", hang, src, "-lntdll").CombinedOutput(); err != nil {
		t.Fatalf("mingw: %v\n%s", err, out)
	}
	acts, err := Parse(strings.NewReader("run \\Windows\\System32\\hang.exe\nsay after\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeData(Data{RunTimeout: 2, Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree(t, "amd64", "", data)
	b, err := os.ReadFile(hang)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tr.sys32, "hang.exe"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	stderr := tr.run(t, "amd64", "autochk.exe")
	lines := logLines(t, tr)
	want := []string{
		`boothook 1 start image=\??\D:\Windows\System32\autochk.exe actions=2`,
		`action 1 run 0x00000102 exit=0x00000000 \Windows\System32\hang.exe`,
		`action 2 say 0x00000000 after`,
	}
	if len(lines) < 3 {
		t.Fatalf("boot.log: %q", lines)
	}
	if diff := cmp.Diff(want, lines[:3]); diff != "" {
		t.Errorf("boot.log (-want +got):\n%s", diff)
	}
	if strings.Contains(stderr, `L"woke`) {
		t.Error("the program past its timeout was not ended")
	}
	tr.checkRestored(t)
}
