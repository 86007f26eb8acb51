package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// settingsCommands are the direct-setting commands that write, as run on
// IMAGE (the placeholder), with firstboot remove last.
var settingsCommands = [][]string{
	{"set", "hostname", "IMAGE", "lab-clone-07"},
	{"set", "timezone", "IMAGE", "Tokyo Standard Time"},
	{"net", "set", "IMAGE", "1", "--ipv4", "192.0.2.10/24", "--gateway", "192.0.2.1", "--dns", "192.0.2.53", "--dns", "192.0.2.54",
		"--dns-domain", "lab.example", "--wins", "192.0.2.60", "--netbios", "disabled"},
	{"firstboot", "add", "IMAGE", "--command", "ipconfig /all"},
	{"firstboot", "remove", "IMAGE", "1"},
}

func withImage(args []string, image string, extra ...string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "IMAGE" {
			out[i] = image
		}
	}
	return append(out, extra...)
}

// TestSettingsDryRun: every writing command with --dry-run prints the
// values it would set and leaves the image's bytes as they were.
func TestSettingsDryRun(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			image := testimg.Copy(t, d.Name)
			// firstboot remove needs a queued command: queue one for real.
			if code, _, errOut := runCLI(t, "firstboot", "add", image, "--command", "echo queued"); code != exitOK {
				t.Fatalf("firstboot add: %d %s", code, errOut)
			}
			want := fileSum(t, image)
			for _, args := range settingsCommands {
				code, out, errOut := runCLI(t, withImage(args, image, "--dry-run", "--json")...)
				if code != exitOK {
					t.Fatalf("%q: exit %d: %s", args, code, errOut)
				}
				var rep struct {
					DryRun bool               `json:"dry_run"`
					Bytes  int64              `json:"bytes"`
					Edits  []imagecustom.Edit `json:"edits"`
				}
				if err := json.Unmarshal([]byte(out), &rep); err != nil {
					t.Fatalf("%q: %v\n%s", args, err, out)
				}
				if !rep.DryRun || rep.Bytes == 0 || (len(rep.Edits) == 0 && args[1] != "add") {
					t.Errorf("%q --dry-run --json: %+v", args, rep)
				}
				if fileSum(t, image) != want {
					t.Fatalf("%q --dry-run changed the image", args)
				}
				if _, err := os.Stat(imagecustom.JournalPath(image)); !os.IsNotExist(err) {
					t.Fatalf("%q --dry-run left a journal: %v", args, err)
				}
			}
		})
	}
}

// TestSettingsCommands runs every command for real on each fixture, then
// checks what info, net list, firstboot list and fsck say, and that --out
// leaves the image untouched.
func TestSettingsCommands(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			image := testimg.Copy(t, d.Name)
			for _, args := range settingsCommands[:4] {
				if code, _, errOut := runCLI(t, withImage(args, image)...); code != exitOK {
					t.Fatalf("%q: exit %d: %s", args, code, errOut)
				}
			}
			code, out, _ := runCLI(t, "info", "--json", image)
			var info infoJSON
			if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil || info.Windows[0].ComputerName != "LAB-CLONE-07" {
				t.Errorf("info after set hostname: %d %v %+v", code, err, info.Windows)
			}
			code, out, _ = runCLI(t, "net", "list", "--json", image)
			var nl struct{ Adapters []imagecustom.Adapter }
			if err := json.Unmarshal([]byte(out), &nl); code != exitOK || err != nil || len(nl.Adapters) != 2 {
				t.Fatalf("net list: %d %v %s", code, err, out)
			}
			if a := nl.Adapters[1]; a.DHCP || strings.Join(a.IPAddress, ",") != "192.0.2.10" || strings.Join(a.NameServer, ",") != "192.0.2.53,192.0.2.54" ||
				a.Domain != "lab.example" || strings.Join(a.WINS, ",") != "192.0.2.60" || a.NetBIOS != "disabled" {
				t.Errorf("net list after net set: %+v", a)
			}
			if code, out, _ := runCLI(t, "reg", "get", image, `HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation`, "TimeZoneKeyName"); d.Name == testimg.Win10().Name &&
				(code != exitOK || strings.TrimSpace(out) != "Tokyo Standard Time") {
				t.Errorf("TimeZoneKeyName: %d %q", code, out)
			}
			script := filepath.Join(t.TempDir(), "net.cmd")
			if err := os.WriteFile(script, []byte("netsh interface ip show config\nexit /b 0\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, errOut := runCLI(t, "firstboot", "add", image, "--script", script); code != exitOK {
				t.Fatalf("firstboot add --script: %d %s", code, errOut)
			}
			code, out, _ = runCLI(t, "firstboot", "list", "--json", image)
			var fl struct {
				Commands []imagecustom.FirstBootCommand
			}
			if err := json.Unmarshal([]byte(out), &fl); code != exitOK || err != nil || len(fl.Commands) != 2 ||
				fl.Commands[0].Script != "ipconfig /all\r\n" || fl.Commands[1].Script != "netsh interface ip show config\r\nexit /b 0\r\n" || fl.Commands[1].Done {
				t.Errorf("firstboot list --json: %d %v %s", code, err, out)
			}
			if code, out, _ := runCLI(t, "firstboot", "list", image); code != exitOK || !strings.Contains(out, "ipconfig /all") || !strings.Contains(out, "pending") {
				t.Errorf("firstboot list: %d %s", code, out)
			}
			if code, out, _ := runCLI(t, "fsck", image); code != exitOK {
				t.Errorf("fsck: %d %s", code, out)
			}
			// A child disk takes the removal of command 1; the image stays as it is.
			want := fileSum(t, image)
			child := filepath.Join(t.TempDir(), "child.vmdk")
			if code, _, errOut := runCLI(t, withImage(settingsCommands[4], image, "--out", child)...); code != exitOK {
				t.Fatalf("firstboot remove --out: %d %s", code, errOut)
			}
			if fileSum(t, image) != want {
				t.Error("--out changed the image")
			}
			if code, out, _ := runCLI(t, "firstboot", "list", child); code != exitOK || strings.Contains(out, "0001.cmd") || !strings.Contains(out, "0002.cmd") {
				t.Errorf("firstboot list of the child: %d %s", code, out)
			}
			if code, out, _ := runCLI(t, "fsck", child); code != exitOK {
				t.Errorf("fsck of the child: %d %s", code, out)
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	image := testimg.Copy(t, testimg.Win10().Name)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"set", "hostname", image, "12345"}, exitUsage, "all digits"},
		{[]string{"set", "hostname", image, "much-too-long-name"}, exitUsage, "15"},
		{[]string{"set", "timezone", image, "Pacific"}, exitUsage, "Pacific Standard Time"},
		{[]string{"net", "set", image, "1"}, exitUsage, "--ipv4"},
		{[]string{"net", "set", image, "9", "--ipv4", "dhcp"}, exitUsage, "0001"},
		{[]string{"net", "set", image, "1", "--ipv4", "192.0.2.10"}, exitUsage, "ADDR/PREFIX"},
		{[]string{"net", "set", image, "1", "--ipv4", "192.0.2.10/24", "--gateway", "10.0.0.1"}, exitUsage, "subnets"},
		{[]string{"firstboot", "add", image}, exitUsage, "--command"},
		{[]string{"firstboot", "remove", image, "4"}, exitUsage, "no pending"},
		{[]string{"set", "hostname", "--dry-run", "--out", "x.vmdk", image, "ok"}, exitUsage, "not both"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%q: exit %d %q, want %d with %q", c.args[:2], code, errOut, c.code, c.msg)
		}
	}
	// A generalized image: first-boot commands are refused (exit 3).
	if code, _, errOut := runCLI(t, "reg", "set", image, `HKLM\SYSTEM\Setup`, "SetupType", "--type", "REG_DWORD", "2"); code != exitOK {
		t.Fatal(errOut)
	}
	if code, _, errOut := runCLI(t, "firstboot", "add", image, "--command", "echo x"); code != exitRefused || !strings.Contains(errOut, "setup cycle") {
		t.Errorf("firstboot add on a pending setup: %d %s", code, errOut)
	}
}

// TestKilledSettingsRecover starts "set hostname" on a copy of the XP
// fixture in a child process and kills it at moments spread over its run:
// afterwards the image is the original again (after recover when a
// journal was left) or carries the new name and passes fsck. (Each host
// write in turn is failed deterministically by the library's
// TestInterruptedSettingsRecover.)
func TestKilledSettingsRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("a dozen runs of a child process")
	}
	d := testimg.WinXP()
	killTrials{
		args:   func(image string) []string { return []string{"set", "hostname", image, "KILLED-01"} },
		fresh:  copyOf(t, d.Name),
		want:   fileSum(t, testimg.Path(t, d.Name)),
		trials: 12,
		seed:   13,
		delay: func(r *rand.Rand, full time.Duration, _ int) time.Duration {
			return full/3 + time.Duration(r.Int64N(int64(full)*2/3))
		},
		refused: func(image string) []string { return []string{"set", "hostname", image, "KILLED-02"} },
		committed: func(t *testing.T, trial int, image string) {
			code, out, _ := runCLI(t, "info", "--json", image)
			var info infoJSON
			if err := json.Unmarshal([]byte(out), &info); code != exitOK || err != nil || info.Windows[0].ComputerName != "KILLED-01" {
				t.Fatalf("trial %d: changed without a journal, and info says %d %v %s", trial, code, err, out)
			}
			fsckClean(t, trial, image)
		},
	}.run(t)
}
