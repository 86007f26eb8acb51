package main

import (
	"bufio"
	"bytes"
	"context"
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

// The demo spec's passwords: never in any output.
var demoSecrets = []string{"Demo-Pass1", "J0in-me"}

func demoSpec(t *testing.T) string {
	return filepath.Join(testimg.Dir(t), "demo", "winxp.yaml")
}

func checkNoDemoSecrets(t *testing.T, outs ...string) {
	t.Helper()
	for _, o := range outs {
		for _, s := range demoSecrets {
			if strings.Contains(o, s) {
				t.Errorf("a password shows in the output")
			}
		}
	}
}

// TestCustomizeCommand runs customize on a copy of the XP fixture: a dry
// run prints the plan and changes nothing, --json prints the documented
// keys, and no output holds a password.
func TestCustomizeCommand(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	sum := fileSum(t, image)
	code, out, errOut := runCLI(t, "customize", "--dry-run", image, "--spec", demoSpec(t))
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if fileSum(t, image) != sum || !strings.Contains(out, "dry run: would change") || !strings.Contains(out, `\Sysprep\sysprep.inf`) {
		t.Errorf("dry run changed the image, or printed no plan:\n%s", out)
	}
	checkNoDemoSecrets(t, out, errOut)

	code, out, errOut = runCLI(t, "customize", "--json", image, "--spec", demoSpec(t))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	checkNoDemoSecrets(t, out, errOut)
	var doc struct {
		Plan struct {
			Family, Arch string
			Files        []struct {
				Path   string `json:"path"`
				Size   int64  `json:"size"`
				Secret bool   `json:"secret"`
			} `json:"files"`
			Registry []struct{ Key, Name, Type string } `json:"registry"`
			Hook     *struct {
				Method string `json:"method"`
			} `json:"hook"`
			Steps    []struct{ Kind, Phase string } `json:"steps"`
			Warnings []string                       `json:"warnings"`
		} `json:"plan"`
		DryRun bool `json:"dry_run"`
		Bytes  int64
		Probe  *imagecustom.Verification `json:"probe"`
		Final  *imagecustom.Verification `json:"final"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Plan.Family != "winxp" || len(doc.Plan.Files) < 3 || len(doc.Plan.Registry) < 4 || doc.Plan.Hook == nil ||
		len(doc.Plan.Steps) == 0 || doc.Final == nil || !doc.Final.Hook || doc.Bytes == 0 {
		t.Errorf("--json document:\n%s", out)
	}
	// Customized once, the volume is dirty (the hook): a second run is refused.
	if code, _, errOut := runCLI(t, "customize", image, "--spec", demoSpec(t)); code != exitRefused {
		t.Errorf("second customize: exit %d, want %d\n%s", code, exitRefused, errOut)
	}
}

// TestCustomizeSpecProblems: a spec with problems exits 4 and lists them;
// a spec on stdin works, its relative paths taken from the current folder.
func TestCustomizeSpecProblems(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"customize", "--dry-run", image, "--spec", "-"},
		strings.NewReader("membership:\n  domain: corp.example.com\n"), &out, &errOut)
	if code != exitProblems || !strings.Contains(out.String(), "membership.domainUser") {
		t.Errorf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
}

// readmeFirstCommand returns the README's first command line.
func readmeFirstCommand(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(testimg.Dir(t)), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	in := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case in:
			return strings.Fields(line)
		}
	}
	t.Fatal("no command block in README.md")
	return nil
}

// TestREADMEFirstCommand runs the README's first command on a copy of the
// image it names, with its child under the test's folder: it exits 0 and
// leaves a child disk whose files ntfscat reads.
func TestREADMEFirstCommand(t *testing.T) {
	args := readmeFirstCommand(t)
	if len(args) < 4 || strings.Join(args[:3], " ") != "go run ./cmd/imagecustom" || args[3] != "customize" {
		t.Fatalf("the README's first command is not customize: %q", args)
	}
	args = args[3:]
	repo := filepath.Dir(testimg.Dir(t))
	child := filepath.Join(t.TempDir(), "custom.vmdk")
	for i, a := range args {
		switch {
		case i > 0 && args[i-1] == "--out":
			args[i] = child
		case strings.HasPrefix(a, "testdata/vmdk/"):
			args[i] = testimg.Copy(t, strings.TrimPrefix(a, "testdata/"))
		case strings.HasPrefix(a, "testdata/"):
			args[i] = filepath.Join(repo, a)
		}
	}
	code, out, errOut := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("%q: exit %d\n%s%s", args, code, out, errOut)
	}
	checkNoDemoSecrets(t, out, errOut)
	raw := filepath.Join(t.TempDir(), "flat.raw")
	testimg.Run(t, "qemu-img", "convert", "-O", "raw", child, raw)
	vol := testimg.Section(t, raw, testimg.WinXP().System)
	inf := testimg.Run(t, "ntfscat", "-f", vol, "/Sysprep/sysprep.inf")
	if !bytes.Contains(inf, []byte("JoinWorkgroup=")) || !bytes.Contains(inf, []byte("ComputerName=DEMO-XP01")) {
		t.Errorf("sysprep.inf read by ntfscat:\n%s", inf)
	}
	testimg.Run(t, "ntfscat", "-f", vol, "/WINDOWS/imagecustom/setnet.vbs")
	testimg.Run(t, "ntfscat", "-f", vol, "/WINDOWS/system32/vmprep.cfg")
}

// TestKilledCustomizeRecovers starts customize in place on a copy of the
// XP fixture in a child process and kills it (SIGKILL) at random moments,
// 20 times: afterwards the image is byte-identical to the original (after
// "recover" when a journal was left), or the customize committed and the
// image reads back customized and passes fsck.
func TestKilledCustomizeRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("20 killed runs")
	}
	d := testimg.WinXP()
	spec := demoSpec(t)
	c := killTrials{
		args:   func(image string) []string { return []string{"customize", "--quiet", image, "--spec", spec} },
		fresh:  copyOf(t, d.Name),
		want:   fileSum(t, testimg.Path(t, d.Name)),
		trials: 20,
		seed:   11,
		delay: func(r *rand.Rand, full time.Duration, trial int) time.Duration {
			if trial < 3 {
				return time.Duration(trial) * 10 * time.Millisecond
			}
			// The writes come after the plan and the probe.
			return full/5 + time.Duration(r.Int64N(int64(full)*4/5))
		},
		refused: func(image string) []string { return []string{"customize", image, "--spec", spec} },
		committed: func(t *testing.T, trial int, image string) {
			if code, out, _ := runCLI(t, "cat", image, `\Sysprep\sysprep.inf`); code != exitOK || !strings.Contains(out, "DEMO-XP01") {
				t.Fatalf("trial %d: the image changed without a journal and holds no sysprep.inf", trial)
			}
			fsckClean(t, trial, image)
		},
	}.run(t)
	if c.recovered == 0 {
		t.Error("no kill landed while the journal was in use: the test proves nothing")
	}
}

// sparseXP returns a monolithicSparse VMDK of gib GiB capacity holding
// the XP fixture's disk in its first 256 MiB.
func sparseXP(t *testing.T, gib int64) string {
	t.Helper()
	raw := testimg.Copy(t, testimg.WinXP().Name)
	if err := os.Truncate(raw, gib<<30); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "xp.vmdk")
	if code, o, e := runCLI(t, "vmdk", "convert", "--quiet", "--type", "monolithicSparse", raw, out); code != exitOK {
		t.Fatalf("vmdk convert: %s %s", o, e)
	}
	os.Remove(raw)
	return out
}

// TestCustomizeStreamOptimized: a streamOptimized image is refused in
// place (exit 3, untouched) and taken as the parent of --out, with
// --dry-run working on it too.
func TestCustomizeStreamOptimized(t *testing.T) {
	image := testimg.Copy(t, "vmdk/winxp-streamOptimized.vmdk")
	sum := fileSum(t, image)
	if code, _, errOut := runCLI(t, "customize", image, "--spec", demoSpec(t)); code != exitRefused || !strings.Contains(errOut, "--out") {
		t.Errorf("in place: exit %d, want %d\n%s", code, exitRefused, errOut)
	}
	if code, out, errOut := runCLI(t, "customize", "--dry-run", image, "--spec", demoSpec(t)); code != exitOK {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if fileSum(t, image) != sum {
		t.Error("the image changed")
	}
}
