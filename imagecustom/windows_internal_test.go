package imagecustom

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestWindowsName(t *testing.T) {
	for _, tc := range []struct {
		w            Windows
		name, family string
	}{
		{Windows{Major: 5, Minor: 0, ProductType: "WinNT"}, "Windows 2000", "win2000"},
		{Windows{Major: 5, Minor: 0, ProductType: "LanmanNT"}, "Windows 2000 Server", "win2000"},
		{Windows{Major: 5, Minor: 1, ProductType: "WinNT"}, "Windows XP", "winxp"},
		{Windows{Major: 5, Minor: 2, ProductType: "WinNT", ProductName: "Microsoft Windows XP"}, "Windows XP x64", "win2003"},
		{Windows{Major: 5, Minor: 2, ProductType: "ServerNT"}, "Windows Server 2003", "win2003"},
		{Windows{Major: 6, Minor: 0, ProductType: "WinNT"}, "Windows Vista", "vista"},
		{Windows{Major: 6, Minor: 1, InstallationType: "Client"}, "Windows 7", "vista"},
		{Windows{Major: 6, Minor: 1, InstallationType: "Server"}, "Windows Server 2008 R2", "vista"},
		{Windows{Major: 6, Minor: 3, InstallationType: "Client"}, "Windows 8.1", "vista"},
		{Windows{Major: 10, Build: 19045, InstallationType: "Client", ProductName: "Windows 10 Pro"}, "Windows 10", "vista"},
		// Windows 11 still says "Windows 10" in ProductName: the build decides.
		{Windows{Major: 10, Build: 22631, InstallationType: "Client", ProductName: "Windows 10 Pro"}, "Windows 11", "vista"},
		{Windows{Major: 10, Build: 26100, InstallationType: "Client", ProductName: "Windows 10 Enterprise"}, "Windows 11", "vista"},
		{Windows{Major: 10, Build: 26100, InstallationType: "Server", ProductName: "Windows Server 2025 Datacenter"}, "Windows Server 2025", "vista"},
		{Windows{Major: 10, Build: 20348, InstallationType: "Server Core"}, "Windows Server 2022", "vista"},
		{Windows{Major: 10, Build: 17763, ProductType: "LanmanNT"}, "Windows Server 2019", "vista"},
		{Windows{Major: 10, Build: 14393, InstallationType: "Server"}, "Windows Server 2016", "vista"},
		{Windows{ProductName: "Something"}, "Something", ""},
	} {
		name, family := windowsName(&tc.w)
		if name != tc.name || family != tc.family {
			t.Errorf("windowsName(%+v) = %q, %q; want %q, %q", tc.w, name, family, tc.name, tc.family)
		}
	}
}

func TestPEMachine(t *testing.T) {
	for name, want := range map[string]string{
		"autochk-i386.exe": "x86", "autochk-amd64.exe": "amd64",
	} {
		f, err := os.Open("../testdata/pe/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if got := peMachine(f); got != want {
			t.Errorf("peMachine(%s) = %q, want %q", name, got, want)
		}
		f.Close()
	}
	if got := peMachine(strings.NewReader("MZ not really")); got != "" {
		t.Errorf("peMachine of junk = %q", got)
	}
}

// FuzzPEMachine feeds peMachine hostile files: it must not panic, and it
// names a machine only for a file with the MZ and PE signatures.
func FuzzPEMachine(f *testing.F) {
	for _, name := range []string{"autochk-i386.exe", "hook-amd64.exe", "console-amd64.exe"} {
		b, err := os.ReadFile("../testdata/pe/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 1024)])
	}
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := peMachine(bytes.NewReader(b))
		if got != "" && (len(b) < 64 || string(b[:2]) != "MZ") {
			t.Fatalf("peMachine named %q for a file without an MZ header", got)
		}
	})
}
