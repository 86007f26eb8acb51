package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestMain lets the test binary stand in for the command: with
// IMAGECUSTOM_TEST_MAIN set, it runs the command line it was given, so a
// test can start the real command in a child process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("IMAGECUSTOM_TEST_MAIN") != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	code := m.Run()
	testimg.WineCleanup()
	os.Exit(code)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	h.Sum(s[:0])
	return s
}

// killTrials is the kill-and-recover test of one writing command: it runs
// the command once to time it, then trials times in a child process on a
// copy of the original image, killed (SIGKILL) after delay. After every
// kill the image must be byte-identical to the original (after recover
// when a journal was left, while which refused must be refused), or,
// when no journal is left and the image changed, the command committed:
// committed checks that image (what it holds, fsck).
type killTrials struct {
	args   func(image string) []string // the command line, without the program
	fresh  func() string               // a new copy of the original image
	want   [32]byte                    // the original image's sha256
	trials int
	seed   uint64
	// delay is how long after its start trial is killed, in a run that
	// takes full without a kill.
	delay func(r *rand.Rand, full time.Duration, trial int) time.Duration
	// refused, when set, is a writing command line that must exit 3 while
	// the journal is pending.
	refused   func(image string) []string
	committed func(t *testing.T, trial int, image string)
}

// killCounts is what became of the kills: recovered from a journal, killed
// before any write, or after the commit.
type killCounts struct {
	full                           time.Duration // a run without a kill
	recovered, untouched, finished int
}

func (k killTrials) run(t *testing.T) killCounts {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	command := func(image string) *exec.Cmd {
		cmd := exec.Command(exe, k.args(image)...)
		cmd.Env = append(os.Environ(), "IMAGECUSTOM_TEST_MAIN=1")
		return cmd
	}
	var c killCounts
	image := k.fresh()
	start := time.Now()
	if out, err := command(image).CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", k.args(image), err, out)
	}
	c.full = time.Since(start)
	os.Remove(image)
	r := rand.New(rand.NewPCG(k.seed, 1))
	// A recovered image is the original again: the next trial reuses it.
	image = k.fresh()
	for trial := range k.trials {
		cmd := command(image)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := k.delay(r, c.full, trial)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var exitErr error
		select {
		case exitErr = <-done:
		case <-time.After(delay):
			cmd.Process.Kill()
			exitErr = <-done
		}
		_, statErr := os.Stat(imagecustom.JournalPath(image))
		if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
			t.Fatal(statErr)
		}
		if statErr == nil {
			c.recovered++
			if k.refused != nil {
				if code, _, _ := runCLI(t, k.refused(image)...); code != exitRefused {
					t.Fatalf("trial %d: %q with a pending journal exited %d, want %d", trial, k.refused(image), code, exitRefused)
				}
			}
			if code, out, errOut := runCLI(t, "recover", image); code != exitOK {
				t.Fatalf("trial %d: recover: %d %s %s", trial, code, out, errOut)
			}
		}
		if fileSum(t, image) == k.want {
			if statErr != nil {
				c.untouched++
			}
			continue
		}
		// No journal and a changed image: the command committed (removing
		// the journal is its commit point), whether or not the process
		// lived to exit.
		if statErr == nil {
			t.Fatalf("trial %d (killed after %v): the recovered image differs from the original", trial, delay)
		}
		c.finished++
		t.Logf("trial %d (killed after %v, exit %v): committed", trial, delay, exitErr)
		k.committed(t, trial, image)
		os.Remove(image)
		image = k.fresh()
	}
	t.Logf("a run takes %v; %d kills: %d recovered from the journal, %d before any write, %d after the commit",
		c.full, k.trials, c.recovered, c.untouched, c.finished)
	return c
}

// copyOf returns a fresh function giving private copies of fixture name.
func copyOf(t *testing.T, name string) func() string {
	return func() string { return testimg.Copy(t, name) }
}

// fsckClean fails the test when fsck finds problems in image.
func fsckClean(t *testing.T, trial int, image string) {
	t.Helper()
	if code, out, errOut := runCLI(t, "fsck", image); code != exitOK {
		t.Fatalf("trial %d: fsck after the commit: %s %s", trial, out, errOut)
	}
}

// TestKilledPutRecovers starts "put" of a 200 MB file into a copy of the
// Windows 10 fixture in a child process and kills it (SIGKILL) at random
// moments over the run. Every time, the image is afterwards byte-identical
// to the original (after "recover" when a journal was left), or, when the
// put had finished, holds the file and passes fsck.
func TestKilledPutRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB writes, 20 times")
	}
	d := testimg.Win10()
	local := filepath.Join(t.TempDir(), "payload.bin")
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	payload := make([]byte, 200<<20)
	for i := 0; i < len(payload); i += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			payload[i+k] = byte(v >> (8 * k))
		}
	}
	if err := os.WriteFile(local, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	payloadSum := sha256.Sum256(payload)
	payload = nil

	c := killTrials{
		args:   func(image string) []string { return []string{"put", image, local, "/payload.bin"} },
		fresh:  copyOf(t, d.Name),
		want:   fileSum(t, testimg.Path(t, d.Name)),
		trials: 20,
		seed:   1,
		// Spread the kills over the run, a few in its first moments.
		delay: func(r *rand.Rand, full time.Duration, trial int) time.Duration {
			if trial < 3 {
				return time.Duration(trial) * 20 * time.Millisecond
			}
			return time.Duration(r.Int64N(int64(full) * 9 / 10))
		},
		refused: func(image string) []string { return []string{"put", image, local, "/x"} },
		committed: func(t *testing.T, trial int, image string) {
			code, out, errOut := runCLI(t, "cat", image, "/payload.bin")
			if code != exitOK || sha256.Sum256([]byte(out)) != payloadSum {
				t.Fatalf("trial %d: the image changed without a journal, and the file reads back wrong: exit %d %s", trial, code, errOut)
			}
			fsckClean(t, trial, image)
		},
	}.run(t)
	if c.recovered == 0 {
		t.Error("no kill landed while the journal was in use: the test proves nothing")
	}
}

// TestKilledUserPasswdRecovers starts "user passwd" on a copy of the
// Windows 10 fixture (its SAM given an AES key first) in a child process
// and kills it (SIGKILL) at moments spread over 40-95% of the run, where
// its writes are. Every time the image is afterwards byte-identical
// to the original (after "recover" when a journal was left), or holds the
// new password and passes fsck.
func TestKilledUserPasswdRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("20 runs of user passwd")
	}
	master := testimg.Copy(t, testimg.Win10().Name)
	keyImage(t, master, sam.AES)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("killed mid-write"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := killTrials{
		args: func(image string) []string {
			return []string{"user", "passwd", image, "Administrator", "--password-file", pwFile}
		},
		fresh: func() string {
			p := filepath.Join(t.TempDir(), "win10.raw")
			if out, err := exec.Command("cp", "--sparse=always", master, p).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v %s", err, out)
			}
			return p
		},
		want:   fileSum(t, master),
		trials: 20,
		seed:   2,
		delay: func(r *rand.Rand, full time.Duration, _ int) time.Duration {
			return full*4/10 + time.Duration(r.Int64N(int64(full)*55/100))
		},
		refused: func(image string) []string { return []string{"user", "enable", image, "Administrator"} },
		committed: func(t *testing.T, trial int, image string) {
			code, out, errOut := runCLI(t, "--json", "user", "list", image)
			if code != exitOK || !strings.Contains(out, `"password": "set"`) {
				t.Fatalf("trial %d: the image changed without a journal, and the password did not take: %d %s %s", trial, code, out, errOut)
			}
			fsckClean(t, trial, image)
		},
	}.run(t)
	if c.recovered+c.finished == 0 {
		t.Error("no kill landed after the writes began: the test proves nothing")
	}
}
