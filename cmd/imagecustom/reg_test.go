package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestRegCommandsOnHiveFiles(t *testing.T) {
	sys := testimg.Copy(t, "hives/winxp/SYSTEM")
	hivex := func(key, value string) string {
		return strings.TrimRight(string(testimg.Run(t, "hivexget", sys, key, value)), "\n")
	}
	steps := [][]string{
		{"reg", "set", sys, `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`, "ComputerName", "--type", "REG_SZ", "CLONE-01"},
		{"reg", "set", sys, `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}`, "EnableDHCP", "--type", "dword", "0"},
		{"reg", "set", sys, `Select`, "Extra", "--type", "REG_MULTI_SZ", "a", "b c"},
		{"reg", "set", sys, `New\Deep\Key`, "Blob", "--type", "REG_BINARY", "de:ad:be:ef:01"},
		{"reg", "set", sys, `New\Deep\Key`, "@", "--type", "REG_EXPAND_SZ", `%SystemRoot%\x`},
		{"reg", "delete", sys, `ControlSet002`},
		{"reg", "delete", sys, `Select`, "Failed"},
	}
	for _, args := range steps {
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
	}
	// hivex reads the edits; CurrentControlSet went to ControlSet001.
	for _, c := range []struct{ key, value, want string }{
		{`ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "CLONE-01"},
		{`ControlSet001\Services\Tcpip\Parameters\Interfaces\{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}`, "EnableDHCP", "0"},
		{`Select`, "Extra", "a\nb c"},
		{`New\Deep\Key`, "", `%SystemRoot%\x`},
	} {
		if got := hivex(c.key, c.value); got != c.want {
			t.Errorf("hivexget %s %s = %q, want %q", c.key, c.value, got, c.want)
		}
	}
	if _, err := testimg.RunErr(t, "hivexget", sys, `ControlSet002`, "x"); err == nil {
		t.Error("ControlSet002 still there")
	}
	// reg get, text and JSON.
	code, out, _ := runCLI(t, "reg", "get", sys, `HKLM\SYSTEM\New\Deep\Key`, "Blob")
	if code != 0 || out != "deadbeef01\n" {
		t.Errorf("reg get Blob: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "--json", "reg", "get", sys, `Select`)
	var doc struct {
		Values []valueJSON
	}
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil || len(doc.Values) != 4 {
		t.Errorf("reg get --json Select: %d %v %s", code, err, out)
	}
	// Dry run: no change.
	before, _ := os.ReadFile(sys)
	if code, out, _ := runCLI(t, "reg", "set", "--dry-run", sys, `Select`, "Current", "--type", "REG_DWORD", "2"); code != 0 || !strings.Contains(out, "nothing written") {
		t.Errorf("dry run: %d %q", code, out)
	}
	if after, _ := os.ReadFile(sys); string(after) != string(before) {
		t.Error("a dry run changed the hive")
	}
	// Errors.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"reg", "get", sys, `Nope`}, exitError, "not found"},
		{[]string{"reg", "set", sys, `Select`, "x", "--type", "REG_DWORD", "notanumber"}, exitUsage, "not a 32-bit number"},
		{[]string{"reg", "set", sys, `Select`, "x", "--type", "REG_BOGUS", "1"}, exitUsage, "unknown --type"},
		{[]string{"reg", "get", testimg.Copy(t, "ntfs/tiny.raw"), `x`}, exitError, "not a hive file, and the disk image holds no Windows registry"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%q: exit %d %q", c.args, code, stderr)
		}
	}
}

func TestRegRefusesDirtyHiveWithoutLogs(t *testing.T) {
	// The real SECURITY hive is dirty (sequence 107/106) and has no logs.
	dir := t.TempDir()
	p := filepath.Join(dir, "SECURITY")
	os.WriteFile(p, testimg.Bytes(t, "real/hives/SECURITY"), 0o644)
	if code, _, stderr := runCLI(t, "reg", "set", p, `Policy`, "x", "--type", "REG_DWORD", "1"); code != exitRefused || !strings.Contains(stderr, "dirty") {
		t.Errorf("editing a dirty hive without logs: exit %d %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "reg", "get", p, `Policy`); code != 0 {
		t.Errorf("reading it: exit %d", code)
	}
}

func TestRegEditsDirtyHiveThroughItsLogs(t *testing.T) {
	dir := t.TempDir()
	for src, dst := range map[string]string{
		"real/hives/transactions_NTUSER.DAT":      "NTUSER.DAT",
		"real/hives/transactions_ntuser.dat.log1": "ntuser.dat.LOG1",
		"real/hives/transactions_ntuser.dat.log2": "ntuser.dat.LOG2",
	} {
		os.WriteFile(filepath.Join(dir, dst), testimg.Bytes(t, src), 0o644)
	}
	p := filepath.Join(dir, "NTUSER.DAT")
	if code, _, stderr := runCLI(t, "reg", "set", p, `HKCU\Software\ImageCustom`, "Done", "--type", "REG_DWORD", "1"); code != 0 {
		t.Fatalf("reg set: exit %d %s", code, stderr)
	}
	if got := strings.TrimSpace(string(testimg.Run(t, "hivexget", p, `Software\ImageCustom`, "Done"))); got != "1" {
		t.Errorf("hivexget: %q", got)
	}
}

func TestRegExportImport(t *testing.T) {
	sys := testimg.Copy(t, "hives/winxp/SYSTEM")
	code, out, stderr := runCLI(t, "reg", "export", "--encoding", "utf8", sys, `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName`)
	if code != 0 || !strings.HasPrefix(out, "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName]\r\n") ||
		!strings.Contains(out, `"ComputerName"="WINXP-GOLD"`) {
		t.Fatalf("reg export: %d %q %s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "reg", "export", sys)
	if code != 0 || !strings.HasPrefix(out, "\xff\xfeW\x00i\x00") {
		t.Errorf("default export is not UTF-16LE with a BOM: %q", out[:min(len(out), 16)])
	}
	// Import: the exported key renamed, merged into another hive.
	reg := filepath.Join(t.TempDir(), "in.reg")
	text := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_USERS\\.DEFAULT\\Software\\ImageCustom\\Sub]\r\n" +
		"\"S\"=\"text with \\\"quotes\\\"\"\r\n" +
		"\"M\"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n" +
		"@=dword:00000007\r\n\r\n" +
		"[-HKEY_USERS\\.DEFAULT\\Environment]\r\n"
	os.WriteFile(reg, []byte(text), 0o644)
	def := testimg.Copy(t, "hives/winxp/default")
	if code, _, stderr := runCLI(t, "reg", "import", def, reg); code != 0 {
		t.Fatalf("reg import: %d %s", code, stderr)
	}
	for _, c := range []struct{ key, value, want string }{
		{`Software\ImageCustom\Sub`, "S", `text with "quotes"`},
		{`Software\ImageCustom\Sub`, "M", "a\nb"},
		{`Software\ImageCustom\Sub`, "", "7"},
	} {
		if got := strings.TrimRight(string(testimg.Run(t, "hivexget", def, c.key, c.value)), "\n"); got != c.want {
			t.Errorf("hivexget %s %q = %q, want %q", c.key, c.value, got, c.want)
		}
	}
	if _, err := testimg.RunErr(t, "hivexget", def, `Environment`, "TEMP"); err == nil {
		t.Error("[-…\\Environment] did not delete the key")
	}
	// A malformed line: exit 1, its number, the hive untouched.
	before, _ := os.ReadFile(def)
	os.WriteFile(reg, []byte("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_USERS\\.DEFAULT\\X]\r\n\"v\"=dword:zz\r\n"), 0o644)
	code, _, stderr = runCLI(t, "reg", "import", def, reg)
	if code != exitError || !strings.Contains(stderr, "line 4") {
		t.Errorf("bad .reg: exit %d %q", code, stderr)
	}
	if after, _ := os.ReadFile(def); string(after) != string(before) {
		t.Error("a failed import changed the hive")
	}
}

// TestRegOnImage edits the registry inside a copy of the XP fixture with
// reg set, import and delete, reads it back with reg get and export, and
// has ntfscat and hivexget read the values from the image.
func TestRegOnImage(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	before, _ := os.ReadFile(image)
	ccs := `HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`
	if code, out, errOut := runCLI(t, "reg", "set", "--dry-run", image, ccs, "ComputerName", "NEWNAME"); code != exitOK || !strings.Contains(out, "dry run: would change") {
		t.Fatalf("reg set --dry-run: %d %q %q", code, out, errOut)
	}
	if after, _ := os.ReadFile(image); !bytes.Equal(after, before) {
		t.Fatal("a dry run changed the image")
	}
	if code, _, errOut := runCLI(t, "reg", "set", image, ccs, "ComputerName", "NEWNAME"); code != exitOK {
		t.Fatalf("reg set: %d %q", code, errOut)
	}
	reg := filepath.Join(t.TempDir(), "x.reg")
	os.WriteFile(reg, []byte("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\ImageCustom]\r\n\"A\"=\"1\"\r\n\"B\"=dword:00000007\r\n\r\n[HKEY_USERS\\.DEFAULT\\Software\\ImageCustom]\r\n\"C\"=\"3\"\r\n"), 0o644)
	if code, _, errOut := runCLI(t, "reg", "import", image, reg); code != exitOK || !strings.Contains(errOut, "3 values set") {
		t.Fatalf("reg import: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "reg", "delete", image, `HKLM\SOFTWARE\ImageCustom`, "A"); code != exitOK {
		t.Fatalf("reg delete: %d %q", code, errOut)
	}
	if code, out, _ := runCLI(t, "reg", "get", image, ccs, "ComputerName"); code != exitOK || out != "NEWNAME\n" {
		t.Errorf("reg get: %d %q", code, out)
	}
	code, out, _ := runCLI(t, "reg", "export", "--encoding", "utf8", image, `HKLM\SOFTWARE\ImageCustom`)
	if code != exitOK || !strings.Contains(out, "[HKEY_LOCAL_MACHINE\\SOFTWARE\\ImageCustom]\r\n\"B\"=dword:00000007\r\n") || strings.Contains(out, `"A"`) {
		t.Errorf("reg export: %d %q", code, out)
	}
	if code, _, errOut := runCLI(t, "reg", "get", image, `HKCU\Software`); code != exitError || !strings.Contains(errOut, "no user is logged on offline") {
		t.Errorf("reg get HKCU: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "reg", "get", "--prefix", "HKLM", image, `HKLM\SOFTWARE`); code != exitUsage {
		t.Errorf("reg get --prefix on an image: %d %q", code, errOut)
	}

	testimg.Oracle(t, "ntfscat")
	testimg.Oracle(t, "hivexget")
	vol := testimg.Section(t, image, d.System)
	dir := t.TempDir()
	for _, c := range []struct{ file, key, value, want string }{
		{"SYSTEM", `\ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "NEWNAME"},
		{"SOFTWARE", `\ImageCustom`, "B", "7"},
		{"default", `\Software\ImageCustom`, "C", "3"},
	} {
		local := filepath.Join(dir, c.file)
		os.WriteFile(local, testimg.Run(t, "ntfscat", vol, "WINDOWS/system32/config/"+c.file), 0o644)
		if got := strings.TrimSpace(string(testimg.Run(t, "hivexget", local, c.key, c.value))); got != c.want {
			t.Errorf("hivexget %s %s %s = %q, want %q", c.file, c.key, c.value, got, c.want)
		}
	}
	if _, err := testimg.RunErr(t, "hivexget", filepath.Join(dir, "SOFTWARE"), `\ImageCustom`, "A"); err == nil {
		t.Error("the deleted value A is still there")
	}
	if code, out, errOut := runCLI(t, "fsck", image); code != exitOK {
		t.Errorf("fsck after reg edits: %d %q %q", code, out, errOut)
	}
}

// TestRegOnImageRefusesDirtyHive puts a dirty hive without usable logs in
// an image as its SECURITY hive: reading it works, editing it is refused
// (exit 3) and leaves the image as it was.
func TestRegOnImageRefusesDirtyHive(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	dirty := filepath.Join(t.TempDir(), "SECURITY")
	os.WriteFile(dirty, testimg.Bytes(t, "real/hives/SECURITY"), 0o644) // sequence 107/106, no logs
	if code, _, errOut := runCLI(t, "put", image, dirty, `\WINDOWS\system32\config\SECURITY`); code != exitOK {
		t.Fatalf("put: %d %s", code, errOut)
	}
	sum := fileSum(t, image)
	if code, out, errOut := runCLI(t, "reg", "get", image, `HKLM\SECURITY\Policy`); code != exitOK || out == "" {
		t.Errorf("reading the dirty hive: %d %q %q", code, out, errOut)
	}
	code, _, errOut := runCLI(t, "reg", "set", image, `HKLM\SECURITY\Policy`, "x", "--type", "REG_DWORD", "1")
	if code != exitRefused || !strings.Contains(errOut, "dirty") {
		t.Errorf("editing the dirty hive: exit %d %q", code, errOut)
	}
	if fileSum(t, image) != sum {
		t.Error("the refused edit changed the image")
	}
}
