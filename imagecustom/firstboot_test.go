package imagecustom_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestFirstBoot queues two commands on each fixture, checks with
// hivexget and ntfscat what Winlogon will find, removes them one by one,
// and finds SYSTEM\Setup and the volume's tree as they were.
func TestFirstBoot(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			hv := extractHives(t, path, d, "SYSTEM")
			origCmd := hivexget(t, hv["SYSTEM"], `\Setup`, "CmdLine")
			origType := hivexget(t, hv["SYSTEM"], `\Setup`, "SetupType")

			s := openSession(t, path)
			c1, edits, err := imagecustom.AddFirstBoot(s.v, s.reg, s.w, []byte("echo one\nipconfig /all\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(edits) != 2 {
				t.Errorf("first add: edits %+v", edits)
			}
			c2, edits, err := imagecustom.AddFirstBoot(s.v, s.reg, s.w, []byte("echo two"))
			if err != nil || len(edits) != 0 {
				t.Fatalf("second add: %v %+v", err, edits)
			}
			if c1.N != 1 || c2.N != 2 || c1.Script != "echo one\r\nipconfig /all\r\n" {
				t.Errorf("commands %+v %+v", c1, c2)
			}
			s.commit(t)

			hv = extractHives(t, path, d, "SYSTEM")
			if got := hivexget(t, hv["SYSTEM"], `\Setup`, "CmdLine"); got != imagecustom.FirstBootCmdLine {
				t.Errorf("CmdLine = %q", got)
			}
			if got := hivexget(t, hv["SYSTEM"], `\Setup`, "SetupType"); got != "2" {
				t.Errorf("SetupType = %q", got)
			}
			vol := testimg.Section(t, path, d.System)
			root := strings.TrimPrefix(s.w.SystemRoot, `\`)
			if got := string(testimg.Run(t, "ntfscat", vol, root+"/ImageCustom/FirstBoot/scripts/0002.cmd")); got != "echo two\r\n" {
				t.Errorf("ntfscat 0002.cmd = %q", got)
			}
			if got := string(testimg.Run(t, "ntfscat", vol, root+"/ImageCustom/FirstBoot/run.cmd")); !strings.Contains(got, "\r\n:one\r\n") {
				t.Errorf("run.cmd = %q", got)
			}
			checkClean(t, path, d)

			s = openSession(t, path)
			cmds, err := imagecustom.FirstBootCommands(s.v, s.reg)
			if err != nil || len(cmds) != 2 || cmds[1].Script != "echo two\r\n" || cmds[0].Done {
				t.Fatalf("FirstBootCommands = %+v, %v", cmds, err)
			}
			if _, err := imagecustom.RemoveFirstBoot(s.v, s.reg, 3); !errors.Is(err, imagecustom.ErrInvalid) {
				t.Errorf("RemoveFirstBoot(3): %v", err)
			}
			if edits, err := imagecustom.RemoveFirstBoot(s.v, s.reg, 1); err != nil || len(edits) != 0 {
				t.Fatalf("RemoveFirstBoot(1): %v %+v", err, edits)
			}
			if edits, err := imagecustom.RemoveFirstBoot(s.v, s.reg, 0); err != nil || len(edits) != 2 {
				t.Fatalf("RemoveFirstBoot(0): %v %+v", err, edits)
			}
			if _, err := s.v.Stat(root + "/ImageCustom"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the ImageCustom folder is left: %v", err)
			}
			s.commit(t)
			hv = extractHives(t, path, d, "SYSTEM")
			if got := hivexget(t, hv["SYSTEM"], `\Setup`, "CmdLine"); got != origCmd {
				t.Errorf("CmdLine after remove = %q, want %q", got, origCmd)
			}
			if got := hivexget(t, hv["SYSTEM"], `\Setup`, "SetupType"); got != origType {
				t.Errorf("SetupType after remove = %q, want %q", got, origType)
			}
			checkClean(t, path, d)
		})
	}
}

// TestFirstBootRefusesPendingSetup: a generalized image (Setup CmdLine of
// OOBE with SetupType set, or an image state other than COMPLETE) is
// refused; a leftover CmdLine with SetupType 0 (as XP keeps "setup
// -newsetup") is not.
func TestFirstBootRefusesPendingSetup(t *testing.T) {
	d := testimg.Win10()
	type val struct {
		key, value string
		typ        hive.ValueType
		data       []byte
	}
	setup := `HKLM\SYSTEM\Setup`
	for _, c := range [][]val{
		{{setup, "CmdLine", hive.String, hive.EncodeString(`oobe\windeploy.exe`)}, {setup, "SetupType", hive.DWord, hive.EncodeUint32(2)}},
		{{setup, "SystemSetupInProgress", hive.DWord, hive.EncodeUint32(1)}},
		{{`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State`, "ImageState", hive.String, hive.EncodeString("IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE")}},
	} {
		s := openSession(t, testimg.Copy(t, d.Name))
		for _, v := range c {
			h, _, p, err := s.reg.Hive(v.key)
			if err != nil {
				t.Fatal(err)
			}
			k, err := h.CreateKey(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := k.SetValue(v.value, v.typ, v.data); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := imagecustom.AddFirstBoot(s.v, s.reg, s.w, []byte("echo x"))
		if !errors.Is(err, imagecustom.ErrSetupPending) || !errors.Is(err, imagecustom.ErrUnsafe) {
			t.Errorf("%+v: %v, want ErrSetupPending", c, err)
		}
	}
}

// TestFirstBootRunnerWine runs the runner and scripts AddFirstBoot wrote
// under Wine's cmd.exe: the scripts run in order, one exiting with a code
// and one calling exit do not stop the others, each is logged with its
// exit code and moved to done\, and regedit imports reset.reg, which sets
// SetupType back to 0 and empties CmdLine.
func TestFirstBootRunnerWine(t *testing.T) {
	wine := "/usr/lib/wine/wine64"
	if _, err := os.Stat(wine); err != nil {
		if os.Getenv("IMAGECUSTOM_ORACLES") == "require" {
			t.Fatalf("%s: %v", wine, err)
		}
		t.Skip("wine64 is not installed")
	}
	if testing.Short() {
		t.Skip("a new Wine prefix takes seconds")
	}
	d := testimg.WinXP()
	s := openSession(t, testimg.Copy(t, d.Name))
	for _, script := range []string{"echo one>>order.txt\nver", "echo two>>order.txt\nexit 3", "@echo three>>order.txt\n@exit /b 0"} {
		if _, _, err := imagecustom.AddFirstBoot(s.v, s.reg, s.w, []byte(script)); err != nil {
			t.Fatal(err)
		}
	}
	fb := filepath.Join(t.TempDir(), "FirstBoot")
	src := strings.TrimPrefix(s.w.SystemRoot, `\`) + "/ImageCustom/FirstBoot/"
	for _, name := range []string{"run.cmd", "reset.reg", "scripts/0001.cmd", "scripts/0002.cmd", "scripts/0003.cmd"} {
		b, err := s.v.ReadFile(src + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(fb, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(fb, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix := t.TempDir()
	env := append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	winRun := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(wine, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wine %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	winRun("reg", "add", `HKLM\SYSTEM\Setup`, "/v", "SetupType", "/t", "REG_DWORD", "/d", "2", "/f")
	winRun("reg", "add", `HKLM\SYSTEM\Setup`, "/v", "CmdLine", "/t", "REG_SZ", "/d", "x", "/f")
	winRun("cmd", "/c", `Z:`+strings.ReplaceAll(filepath.Join(fb, "run.cmd"), "/", `\`))
	order, err := os.ReadFile(filepath.Join(fb, "order.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(order)); !cmp.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("order.txt = %q", order)
	}
	log, err := os.ReadFile(filepath.Join(fb, "log.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"firstboot: start", "run 0001.cmd", "exit 0 0001.cmd", "exit 3 0002.cmd", "exit 0 0003.cmd", "firstboot: done"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log.txt lacks %q:\n%s", want, log)
		}
	}
	if es, _ := os.ReadDir(filepath.Join(fb, "scripts")); len(es) != 0 {
		t.Errorf("scripts left: %v", es)
	}
	if es, _ := os.ReadDir(filepath.Join(fb, "done")); len(es) != 3 {
		t.Errorf("done: %v", es)
	}
	q := winRun("reg", "query", `HKLM\SYSTEM\Setup`)
	if !strings.Contains(q, "SetupType") || !strings.Contains(q, "0x0") || strings.Contains(q, "0x2") {
		t.Errorf("after the run, SYSTEM\\Setup:\n%s", q)
	}
	t.Logf("log.txt:\n%s", log)
}
