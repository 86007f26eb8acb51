package testimg

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Debian's Wine: wine64 (package wine64) runs amd64 programs, wine
// (package wine32, i386 multiarch) i386 ones. The loaders are not on PATH.
const (
	wine64Path     = "/usr/lib/wine/wine64"
	wine32Path     = "/usr/lib/wine/wine"
	wineserverPath = "/usr/lib/wine/wineserver"
)

// WineTimeout bounds one [Wine.Run].
const WineTimeout = 2 * time.Minute

// Wine runs Windows programs under Wine in one prefix shared by the whole
// test binary (a new prefix takes seconds); [WineCleanup] removes it.
type Wine struct {
	loader string
	prefix string
}

// sharedWine is the test binary's one prefix, made on first use.
var sharedWine struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

// WineEnv is the environment Wine runs in for prefix: NtDisplayString shows
// on stderr as an err:ntdll line, no Mono or Gecko install, no display.
func WineEnv(prefix string) []string {
	return append(os.Environ(), "WINEPREFIX="+prefix, "WINEDEBUG=err+ntdll",
		"WINEDLLOVERRIDES=mscoree,mshtml=", "DISPLAY=")
}

// NewWine returns Wine for arch ("amd64" or "x86"). A missing loader skips
// the test, or fails it under IMAGECUSTOM_ORACLES=require, as [Oracle].
func NewWine(t testing.TB, arch string) *Wine {
	t.Helper()
	p, pkg := wine64Path, "wine64"
	if arch == "x86" {
		p, pkg = wine32Path, "wine32:i386 (after dpkg --add-architecture i386)"
	}
	mode := os.Getenv(OraclesEnv)
	if mode == "off" {
		t.Skipf("Wine: %s=off", OraclesEnv)
	}
	if _, err := os.Stat(p); err != nil {
		if mode == "require" {
			t.Fatalf("Wine loader %s (Debian package %s) is required (%s=require) but missing: %v", p, pkg, OraclesEnv, err)
		}
		t.Skipf("Wine loader %s (Debian package %s) not installed", p, pkg)
	}
	sharedWine.once.Do(func() {
		sharedWine.dir, sharedWine.err = os.MkdirTemp("", "imagecustom-wine-")
		if sharedWine.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, wine64Path, "wineboot", "-i")
		cmd.Env = WineEnv(sharedWine.dir)
		sharedWine.out, sharedWine.err = cmd.CombinedOutput()
		if sharedWine.err == nil {
			sharedWine.err = wineWait(sharedWine.dir)
		}
	})
	if sharedWine.err != nil {
		t.Fatalf("Wine prefix (wineboot -i): %v\n%s", sharedWine.err, sharedWine.out)
	}
	return &Wine{loader: p, prefix: sharedWine.dir}
}

// WineCleanup stops the shared prefix's wineserver and removes the prefix;
// call it from TestMain after m.Run.
func WineCleanup() {
	if sharedWine.dir == "" {
		return
	}
	cmd := exec.Command(wineserverPath, "-k")
	cmd.Env = WineEnv(sharedWine.dir)
	_ = cmd.Run()
	os.RemoveAll(sharedWine.dir)
}

// wineWait waits for the prefix's wineserver to exit, which writes the
// registry files.
func wineWait(prefix string) error {
	cmd := exec.Command(wineserverPath, "-w")
	cmd.Env = WineEnv(prefix)
	return cmd.Run()
}

// Prefix returns the WINEPREFIX folder.
func (w *Wine) Prefix() string { return w.prefix }

// Run maps root as drive D: and runs the program at the Windows path exe
// (e.g. `D:\Windows\System32\autochk.exe`) with args, then waits for the
// wineserver so the registry is on disk. It returns Wine's standard error;
// a failure, or a run past [WineTimeout], fails the test. Runs are not
// concurrent: they share drive D:.
func (w *Wine) Run(t testing.TB, root, exe string, args ...string) string {
	t.Helper()
	link := filepath.Join(w.prefix, "dosdevices", "d:")
	os.Remove(link)
	if err := os.Symlink(root, link); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), WineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.loader, append([]string{exe}, args...)...)
	cmd.Env = WineEnv(w.prefix)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v under Wine", exe, WineTimeout)
	}
	if err != nil {
		t.Fatalf("wine %s: %v\n%s", exe, err, stderr.Bytes())
	}
	if err := wineWait(w.prefix); err != nil {
		t.Fatal(err)
	}
	return stderr.String()
}

// RegKey returns the value lines of a key's section in the prefix's
// system.reg (key as `System\ControlSet001\...`, case-insensitive), as
// Wine writes them: `"Name"=type:data`.
func (w *Wine) RegKey(t testing.TB, key string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(w.prefix, "system.reg"))
	if err != nil {
		t.Fatal(err)
	}
	head := strings.ToLower("[" + strings.ReplaceAll(key, `\`, `\\`) + "] ")
	var out []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "["):
			in = strings.HasPrefix(strings.ToLower(l), head)
		case in && l != "" && !strings.HasPrefix(l, "#"):
			out = append(out, l)
		}
	}
	return out
}
