package imagecustom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/hive"
)

func manifestSeeds(t testing.TB) [][]byte {
	h := strings.Repeat("ab", 32)
	ms := []hookManifest{
		{Version: 1, Method: HookMethodAutochk, HookName: "autochk.exe", HookSHA256: h, HookSize: 2048, BackupName: "vmprep.cfg",
			Original: &hookFileState{SHA256: h, Size: 2048, Attributes: 0x20, SecurityID: 266, Created: time.Unix(1208174400, 0).UTC()},
			DataName: "vmprep.dat", DataSHA256: h, DataSize: 8, CreatedDir: true},
		{Version: 1, Method: HookMethodAutochk, Design: HookDesignRename, HookName: "autochk.exe", HookSHA256: h, HookSize: 2048,
			BackupName: "vmprep.cfg", Original: &hookFileState{Record: 564, Links: 2, SHA256: h, Size: 3072, Attributes: 0x20, SecurityID: 267}},
		{Version: 1, Method: HookMethodBootExecute, HookName: "imchook.exe", HookSHA256: h, Line: "imchook",
			BootExecute: []hookValueState{{ControlSet: "ControlSet001", Present: true, Type: uint32(hive.MultiString),
				Original: hive.EncodeStrings([]string{"autocheck autochk *"}), Installed: hive.EncodeStrings([]string{"autocheck autochk *", "imchook"})}}},
	}
	var out [][]byte
	for _, m := range ms {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestParseHookManifest(t *testing.T) {
	seeds := manifestSeeds(t)
	for _, b := range seeds {
		if _, err := parseHookManifest(b); err != nil {
			t.Errorf("seed refused: %v\n%s", err, b)
		}
	}
	// A forged record never names a file outside System32, nor another
	// method's files.
	for _, c := range []struct{ from, to string }{
		{`"vmprep.cfg"`, `"..\\..\\boot.ini"`},
		{`"vmprep.dat"`, `"../config/SAM"`},
		{`"autochk.exe"`, `"cmd.exe"`},
		{`"version":1`, `"version":2`},
		{`"method":"autochk"`, `"method":"other"`},
		{`"backup_name":"vmprep.cfg"`, `"backup_name":"AUTOCHK.EXE"`},
	} {
		b := strings.Replace(string(seeds[0]), c.from, c.to, 1)
		if b == string(seeds[0]) {
			t.Fatalf("%s not in the seed", c.from)
		}
		if _, err := parseHookManifest([]byte(b)); err == nil {
			t.Errorf("%s -> %s: accepted", c.from, c.to)
		}
	}
	// The rename design's seed, and a record without the design (written
	// before there were two): the in-record design.
	if m, err := parseHookManifest(seeds[1]); err != nil || m.Design != HookDesignRename {
		t.Errorf("rename seed: design %v, %v", m, err)
	}
	if m, err := parseHookManifest(seeds[0]); err != nil || m.Design != HookDesignInRecord {
		t.Errorf("a record without a design: %+v, %v; want the in-record design", m, err)
	}
	for _, b := range []string{
		strings.Replace(string(seeds[1]), `"design":"rename"`, `"design":"copy"`, 1),
		strings.Replace(string(seeds[2]), `"method":"bootexecute"`, `"method":"bootexecute","design":"rename"`, 1),
	} {
		if _, err := parseHookManifest([]byte(b)); err == nil {
			t.Errorf("accepted %s", b)
		}
	}
	for _, c := range []struct{ from, to string }{
		{`"imchook.exe"`, `"autochk.exe"`},
		{`"ControlSet001"`, `"Select"`},
		{`"imchook.exe"`, `"sub\\imchook.exe"`},
	} {
		b := strings.Replace(string(seeds[2]), c.from, c.to, 1)
		if _, err := parseHookManifest([]byte(b)); err == nil {
			t.Errorf("%s -> %s: accepted", c.from, c.to)
		}
	}
}

func FuzzHookManifest(f *testing.F) {
	for _, b := range manifestSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseHookManifest(b)
		if err != nil {
			return
		}
		for _, name := range []string{m.HookName, m.BackupName, m.DataName} {
			if strings.ContainsAny(name, `\/:`) || name == ".." {
				t.Fatalf("accepted a path %q", name)
			}
		}
	})
}
