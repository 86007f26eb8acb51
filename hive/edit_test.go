package hive_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// save writes h to a temporary file and returns its path.
func save(t *testing.T, h *hive.Hive) string {
	t.Helper()
	b, err := h.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "hive")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func reopen(t *testing.T, path string) *hive.Hive {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	return h
}

func TestNewHiveReadByPeers(t *testing.T) {
	h := hive.New("ROOT")
	k, err := h.CreateKey(`ControlSet001\Control\ComputerName\ComputerName`)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(k.SetValue("ComputerName", hive.String, hive.EncodeString("WIN-TEST")))
	sm, _ := h.CreateKey(`ControlSet001\Control\Session Manager`)
	must(sm.SetValue("BootExecute", hive.MultiString, hive.EncodeStrings([]string{"autocheck autochk *", "vmprep"})))
	sel, _ := h.CreateKey(`Select`)
	must(sel.SetValue("Current", hive.DWord, hive.EncodeUint32(1)))
	must(sel.SetValue("Big", hive.Binary, bytes.Repeat([]byte("0123456789abcdef"), 65536))) // 1 MiB: db segments
	must(sel.SetValue("Q", hive.QWord, hive.EncodeUint64(1<<40)))
	must(sel.SetValue("", hive.String, hive.EncodeString("default value")))
	uni, _ := h.CreateKey(`Ünïcödé ключ 日本`)
	must(uni.SetValue("значение", hive.String, hive.EncodeString("текст")))
	p := save(t, h)

	got := func(key, value string) string {
		return strings.TrimRight(string(testimg.Run(t, "hivexget", p, key, value)), "\n")
	}
	if v := got(`ControlSet001\Control\ComputerName\ComputerName`, "ComputerName"); v != "WIN-TEST" {
		t.Errorf("hivexget ComputerName = %q", v)
	}
	if v := got(`Select`, "Current"); v != "1" {
		t.Errorf("hivexget Current = %q", v)
	}
	if v := got(`ControlSet001\Control\Session Manager`, "BootExecute"); v != "autocheck autochk *\nvmprep" {
		t.Errorf("hivexget BootExecute = %q", v)
	}
	if v := got(`Ünïcödé ключ 日本`, "значение"); v != "текст" {
		t.Errorf("hivexget unicode = %q", v)
	}
	// libregf reads the hive, the big value included.
	out := string(testimg.Run(t, "regfexport", p))
	for _, want := range []string{"WIN-TEST", "Value: 0 BootExecute\nType: multi-value string (REG_MULTI_SZ)\nData size: 56", "Big", "значение"} {
		if !strings.Contains(out, want) {
			t.Errorf("regfexport output lacks %q", want)
		}
	}
	testimg.Run(t, "regfinfo", p)
	// reglookup sees every key.
	rl := string(testimg.Run(t, "reglookup", "-t", "KEY", p))
	for _, want := range []string{"/Select,", "/ControlSet001/Control/Session Manager,"} {
		if !strings.Contains(rl, want) {
			t.Errorf("reglookup lacks %q:\n%s", want, rl)
		}
	}
	// And we read it back, the 1 MiB value whole.
	h2 := reopen(t, p)
	sel2, err := h2.Key(`select`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sel2.Value("BIG")
	must(err)
	if d, err := v.Data(); err != nil || len(d) != 1<<20 || !bytes.Equal(d[:32], []byte("0123456789abcdef0123456789abcdef")) {
		t.Errorf("big value: %d bytes, %v", len(d), err)
	}
}

// TestEditBattery is the edit battery on a copy of a real hive:
// 100k new values across 10k keys, half the keys deleted, 1 MiB values and
// Unicode names; then Check is clean, peers read it all, and repeated
// delete-and-recreate cycles do not grow the file.
func TestEditBattery(t *testing.T) {
	if testing.Short() {
		t.Skip("100k values")
	}
	h := openReal(t, "real/hives/NTUSER.DAT")
	const keys, vals = 10000, 10
	big := bytes.Repeat([]byte("big value data. "), 65536) // 1 MiB
	for i := 0; i < keys; i++ {
		k, err := h.CreateKey(fmt.Sprintf(`Software\ImageCustom\Ключ %05d`, (i*7919)%keys))
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < vals; j++ {
			if err := k.SetValue(fmt.Sprintf("värde %d", j), hive.DWord, hive.EncodeUint32(uint32(i*j))); err != nil {
				t.Fatal(err)
			}
		}
		if i%2000 == 0 {
			if err := k.SetValue("big", hive.Binary, big); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < keys; i += 2 {
		if err := h.DeleteKey(fmt.Sprintf(`Software\ImageCustom\Ключ %05d`, i)); err != nil {
			t.Fatal(err)
		}
	}
	checkClean(t, h)
	p := save(t, h)
	// Peers walk it all: hivex, and reglookup lists every key.
	testimg.Run(t, "hivexml", p)
	testimg.Run(t, "regfinfo", p)
	out := string(testimg.Run(t, "reglookup", "-t", "KEY", p))
	if n := strings.Count(out, "/Software/ImageCustom/"); n < keys/2 {
		t.Errorf("reglookup lists %d keys under Software/ImageCustom, want %d", n, keys/2)
	}
	h2 := reopen(t, p)
	checkClean(t, h2)
	k, err := h2.Key(`Software\ImageCustom`)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := k.Subkeys()
	if err != nil || len(subs) != keys/2 {
		t.Fatalf("%d subkeys, %v", len(subs), err)
	}
	for i, s := range subs {
		if want := fmt.Sprintf("Ключ %05d", 2*i+1); s.Name() != want {
			t.Fatalf("subkey %d is %q, want %q (sorted)", i, s.Name(), want)
		}
	}
	// Growth stays bounded across delete-and-recreate cycles.
	size := len(mustBytes(t, h2))
	for cycle := 0; cycle < 3; cycle++ {
		if err := h2.DeleteKey(`Software\ImageCustom`); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < keys/2; i++ {
			k, _ := h2.CreateKey(fmt.Sprintf(`Software\ImageCustom\Ключ %05d`, 2*i+1))
			for j := 0; j < vals; j++ {
				k.SetValue(fmt.Sprintf("värde %d", j), hive.DWord, hive.EncodeUint32(uint32(j)))
			}
		}
	}
	checkClean(t, h2)
	if grown := len(mustBytes(t, h2)); grown > size+size/10 {
		t.Errorf("three delete-and-recreate cycles grew the hive from %d to %d bytes", size, grown)
	}
}

// checkClean fails the test if Check finds any problem.
func checkClean(t *testing.T, h *hive.Hive) {
	t.Helper()
	problems, err := hive.Check(h)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range problems {
		if i == 5 {
			break
		}
		t.Errorf("Check: %s", p)
	}
}

func mustBytes(t *testing.T, h *hive.Hive) []byte {
	t.Helper()
	b, err := h.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
