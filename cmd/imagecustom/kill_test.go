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

// TestKilledPutRecovers starts "put" of a 200 MB file into a copy of the
// Windows 10 fixture in a child process and kills it (SIGKILL) at random
// moments over the run. Every time, the image is afterwards byte-identical
// to the original (after "recover" when a journal was left), or, when the
// put had finished, holds the file and passes fsck.
func TestKilledPutRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MB writes, 20 times")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := testimg.Win10()
	orig := testimg.Path(t, d.Name)
	want := fileSum(t, orig)
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

	put := func(image string) *exec.Cmd {
		cmd := exec.Command(exe, "put", image, local, "/payload.bin")
		cmd.Env = append(os.Environ(), "IMAGECUSTOM_TEST_MAIN=1")
		return cmd
	}
	// One full run to time it.
	image := testimg.Copy(t, d.Name)
	start := time.Now()
	if out, err := put(image).CombinedOutput(); err != nil {
		t.Fatalf("put: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("a full put takes %v", full)

	var recovered, untouched, finished int
	// A recovered image is the original again: the next trial reuses it.
	image = testimg.Copy(t, d.Name)
	for trial := 0; trial < 20; trial++ {
		cmd := put(image)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Spread the kills over the run, a few in its first moments.
		delay := time.Duration(r.Int64N(int64(full) * 9 / 10))
		if trial < 3 {
			delay = time.Duration(trial) * 20 * time.Millisecond
		}
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
			recovered++
			if code, _, _ := runCLI(t, "put", image, local, "/x"); code != exitRefused {
				t.Fatalf("trial %d: a write with a pending journal exited %d, want %d", trial, code, exitRefused)
			}
			if code, out, errOut := runCLI(t, "recover", image); code != exitOK {
				t.Fatalf("trial %d: recover: %d %s %s", trial, code, out, errOut)
			}
		}
		if fileSum(t, image) == want {
			if statErr != nil {
				untouched++
			}
			continue
		}
		// No journal and a changed image: the put committed (removing the
		// journal is its commit point), whether or not the process lived
		// to exit.
		if statErr == nil {
			t.Fatalf("trial %d (killed after %v): the recovered image differs from the original", trial, delay)
		}
		finished++
		code, out, errOut := runCLI(t, "cat", image, "/payload.bin")
		if code != exitOK || sha256.Sum256([]byte(out)) != payloadSum {
			t.Fatalf("trial %d (killed after %v, exit %v): the image changed without a journal, and the file reads back wrong: exit %d %s",
				trial, delay, exitErr, code, errOut)
		}
		if code, out, errOut := runCLI(t, "fsck", image); code != exitOK {
			t.Fatalf("trial %d: fsck after a committed put: %s %s", trial, out, errOut)
		}
		os.Remove(image)
		image = testimg.Copy(t, d.Name)
	}
	t.Logf("20 kills: %d recovered from the journal, %d before any write, %d after the put committed", recovered, untouched, finished)
	if recovered == 0 {
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
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	d := testimg.Win10()
	master := testimg.Copy(t, d.Name)
	keyImage(t, master, sam.AES)
	want := fileSum(t, master)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("killed mid-write"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := func() string {
		p := filepath.Join(t.TempDir(), "win10.raw")
		if out, err := exec.Command("cp", "--sparse=always", master, p).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
		return p
	}
	passwd := func(image string) *exec.Cmd {
		cmd := exec.Command(exe, "user", "passwd", image, "Administrator", "--password-file", pwFile)
		cmd.Env = append(os.Environ(), "IMAGECUSTOM_TEST_MAIN=1")
		return cmd
	}
	image := fresh()
	start := time.Now()
	if out, err := passwd(image).CombinedOutput(); err != nil {
		t.Fatalf("user passwd: %v\n%s", err, out)
	}
	full := time.Since(start)
	t.Logf("a full user passwd takes %v", full)

	r := rand.New(rand.NewChaCha8([32]byte{2}))
	var recovered, untouched, finished int
	image = fresh()
	for trial := 0; trial < 20; trial++ {
		cmd := passwd(image)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := full*4/10 + time.Duration(r.Int64N(int64(full)*55/100))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(delay):
			cmd.Process.Kill()
			<-done
		}
		_, statErr := os.Stat(imagecustom.JournalPath(image))
		if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
			t.Fatal(statErr)
		}
		if statErr == nil {
			recovered++
			if code, _, _ := runCLI(t, "user", "enable", image, "Administrator"); code != exitRefused {
				t.Fatalf("trial %d: a write with a pending journal exited %d, want %d", trial, code, exitRefused)
			}
			if code, out, errOut := runCLI(t, "recover", image); code != exitOK {
				t.Fatalf("trial %d: recover: %d %s %s", trial, code, out, errOut)
			}
		}
		if fileSum(t, image) == want {
			if statErr != nil {
				untouched++
			}
			continue
		}
		if statErr == nil {
			t.Fatalf("trial %d (killed after %v): the recovered image differs from the original", trial, delay)
		}
		finished++
		code, out, errOut := runCLI(t, "--json", "user", "list", image)
		if code != exitOK || !strings.Contains(out, `"password": "set"`) {
			t.Fatalf("trial %d: the image changed without a journal, and the password did not take: %d %s %s", trial, code, out, errOut)
		}
		if code, out, errOut := runCLI(t, "fsck", image); code != exitOK {
			t.Fatalf("trial %d: fsck after a committed passwd: %s %s", trial, out, errOut)
		}
		os.Remove(image)
		image = fresh()
	}
	t.Logf("20 kills: %d recovered from the journal, %d before any write, %d after the passwd committed", recovered, untouched, finished)
	if recovered+finished == 0 {
		t.Error("no kill landed after the writes began: the test proves nothing")
	}
}
