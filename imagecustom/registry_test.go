package imagecustom_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// value reads a string or DWORD value as text.
func value(t *testing.T, r *imagecustom.Registry, key, name string) string {
	t.Helper()
	k, err := r.Key(key)
	if err != nil {
		t.Fatalf("Key(%s): %v", key, err)
	}
	v, err := k.Value(name)
	if err != nil {
		t.Fatalf("%s\\%s: %v", key, name, err)
	}
	if v.Type() == hive.DWord {
		n, _ := v.Uint32()
		return strconv.FormatUint(uint64(n), 10)
	}
	s, err := v.String()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegistryRead(t *testing.T) {
	img, err := imagecustom.Open(testimg.Path(t, testimg.WinXP().Name))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v, _, err := img.OpenNTFS(0)
	if err != nil {
		t.Fatal(err)
	}
	r, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, name, want string }{
		{`HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`, "ComputerName", "WINXP-GOLD"},
		{`HKEY_LOCAL_MACHINE\software\Microsoft\Windows NT\CurrentVersion`, "CurrentBuildNumber", "2600"},
		{`HKLM\SYSTEM\Select`, "LastKnownGood", "2"},
		{`HKCR\.txt`, "", "txtfile"},
	} {
		if got := value(t, r, c.key, c.name); got != c.want {
			t.Errorf("%s\\%s = %q, want %q", c.key, c.name, got, c.want)
		}
	}
	if _, root, p, err := r.Hive(`HKCR\.txt`); root != `HKEY_LOCAL_MACHINE\SOFTWARE` || p != `Classes\.txt` || err != nil {
		t.Errorf("Hive(HKCR\\.txt) = %q, %q, %v", root, p, err)
	}
	if _, root, p, err := r.Hive(`hklm\system\currentcontrolset\Services`); root != `HKEY_LOCAL_MACHINE\SYSTEM` || p != `ControlSet001\Services` || err != nil {
		t.Errorf("Hive(CurrentControlSet) = %q, %q, %v", root, p, err)
	}
	if _, err := r.Key(`HKU\.DEFAULT\Control Panel`); err != nil {
		t.Errorf("HKU\\.DEFAULT: %v", err)
	}
	if _, err := r.Key(`HKU\Administrator\Software`); err != nil {
		t.Errorf("HKU\\<profile folder>: %v", err)
	}
	for _, key := range []string{`HKCU\Software`, `HKLM\HARDWARE\DESCRIPTION`, `HKU\nobody\Software`, `Software\X`, `HKLM`} {
		if _, err := r.Key(key); !errors.Is(err, imagecustom.ErrNoHive) {
			t.Errorf("Key(%s): %v, want ErrNoHive", key, err)
		}
	}
}

// TestRegistryRoundTrip edits the registry inside a copy of each fixture
// through the journal, then extracts the hives with ntfscat and reads the
// values with hivexget; the hives and the volume stay clean.
func TestRegistryRoundTrip(t *testing.T) {
	testimg.Oracle(t, "ntfscat")
	testimg.Oracle(t, "hivexget")
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			img, err := imagecustom.OpenRW(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := img.OpenNTFSRW(0, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := imagecustom.OpenRegistry(v, "")
			if err != nil {
				t.Fatal(err)
			}
			// Make Select\Default differ from Current, so a write through
			// CurrentControlSet must reach both sets.
			sel, err := r.Key(`HKLM\SYSTEM\Select`)
			if err != nil {
				t.Fatal(err)
			}
			cur := value(t, r, `HKLM\SYSTEM\Select`, "Current")
			if err := sel.SetValue("Default", hive.DWord, []byte{2, 0, 0, 0}); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Key(`HKLM\SYSTEM\ControlSet002`); err != nil {
				sys, _, _, _ := r.Hive(`HKLM\SYSTEM`)
				if _, err := sys.CreateKey(`ControlSet002\Control`); err != nil {
					t.Fatal(err)
				}
			}
			ts, err := r.Targets(`HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`)
			if err != nil || len(ts) != 2 || ts[0].Path != `ControlSet00`+cur+`\Services\Tcpip\Parameters` || ts[1].Path != `ControlSet002\Services\Tcpip\Parameters` {
				t.Fatalf("Targets: %+v, %v", ts, err)
			}
			big := strings.Repeat("x", 300<<10) // grows SOFTWARE past its free space
			reg := "Windows Registry Editor Version 5.00\r\n\r\n" +
				"[HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters]\r\n\"NV Hostname\"=\"imgcust-01\"\r\n\r\n" +
				"[HKEY_LOCAL_MACHINE\\SOFTWARE\\ImageCustom\\Test]\r\n\"Marker\"=\"round trip\"\r\n\"Big\"=\"" + big + "\"\r\n\r\n" +
				"[HKEY_USERS\\.DEFAULT\\Software\\ImageCustom]\r\n\"Count\"=dword:0000002a\r\n"
			st, err := r.Import(strings.NewReader(reg))
			if err != nil {
				t.Fatal(err)
			}
			if st.ValuesSet != 5 {
				t.Errorf("import: %+v", st)
			}
			saved, err := r.Save()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(saved, ",") != `HKEY_LOCAL_MACHINE\SOFTWARE,HKEY_LOCAL_MACHINE\SYSTEM,HKEY_USERS\.DEFAULT` {
				t.Errorf("saved %v", saved)
			}
			if err := img.Commit(); err != nil {
				t.Fatal(err)
			}
			img.Close()

			vol := testimg.Section(t, path, d.System)
			dir := t.TempDir()
			// ntfscat matches names exactly: the fixtures' spelling.
			config, def := "Windows/System32/config/", "DEFAULT"
			if d.Name == testimg.WinXP().Name {
				config, def = "WINDOWS/system32/config/", "default"
			}
			get := func(file, key, name string) string {
				t.Helper()
				local := filepath.Join(dir, filepath.Base(file))
				if err := os.WriteFile(local, testimg.Run(t, "ntfscat", vol, file), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := testimg.RunErr(t, "hivexget", local, key, name)
				if err != nil {
					t.Fatalf("hivexget %s %s %s: %v", file, key, name, err)
				}
				return strings.TrimSpace(string(out))
			}
			for _, set := range []string{"ControlSet00" + cur, "ControlSet002"} {
				if got := get(config+"SYSTEM", `\`+set+`\Services\Tcpip\Parameters`, "NV Hostname"); got != "imgcust-01" {
					t.Errorf("%s NV Hostname = %q", set, got)
				}
			}
			if got := get(config+"SOFTWARE", `\ImageCustom\Test`, "Marker"); got != "round trip" {
				t.Errorf("Marker = %q", got)
			}
			if got := get(config+"SOFTWARE", `\ImageCustom\Test`, "Big"); got != big {
				t.Errorf("Big: %d bytes", len(got))
			}
			if got := get(config+def, `\Software\ImageCustom`, "Count"); got != "42" {
				t.Errorf("Count = %q", got)
			}
			// Our own checks on what the peers read.
			img2, err := imagecustom.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img2.Close()
			v2, _, err := img2.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			if probs, err := ntfs.Check(t.Context(), v2, nil); err != nil || len(probs) != 0 {
				t.Errorf("ntfs.Check: %v %v", probs, err)
			}
			for _, name := range []string{"SYSTEM", "SOFTWARE", "DEFAULT"} {
				h, err := hive.OpenFS(v2, config+name, nil)
				if err != nil {
					t.Fatal(err)
				}
				if probs, err := hive.Check(h); err != nil || len(probs) != 0 || h.Dirty() {
					t.Errorf("hive.Check(%s): %v %v dirty=%v", name, probs, err, h.Dirty())
				}
			}
		})
	}
}
