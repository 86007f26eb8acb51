package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestInfo(t *testing.T) {
	d := testimg.Win10()
	image := testimg.Path(t, d.Name)
	code, out, errOut := runCLI(t, "--json", "info", image)
	if code != exitOK {
		t.Fatalf("info: exit %d: %s", code, errOut)
	}
	var doc infoJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != "raw" || doc.Scheme != "gpt" || doc.Capacity != 512<<20 || len(doc.Partitions) != len(d.Partitions) {
		t.Fatalf("info --json: %+v", doc)
	}
	for i, p := range d.Partitions {
		if got := doc.Partitions[i]; got.Offset != p.Offset || got.Size != p.Size || !strings.EqualFold(got.Type, p.Type) {
			t.Errorf("partition %d: %+v, want %+v", i+1, got, p)
		}
	}
	if doc.Partitions[0].FS != "fat32" || doc.Partitions[2].FS != "ntfs" {
		t.Errorf("file systems: %+v", doc.Partitions)
	}
	if len(doc.Windows) != 1 {
		t.Fatalf("windows: %+v", doc.Windows)
	}
	w := doc.Windows[0]
	if w.Name != "Windows 10" || w.Version != "10.0" || w.Build != 19045 || w.Arch != "amd64" || w.Family != "vista" ||
		w.CurrentControlSet != "ControlSet001" || w.Partition != 3 || w.BootPartition != 1 || w.SystemRoot != `\Windows` {
		t.Errorf("windows: %+v", w)
	}
	code, out, _ = runCLI(t, "info", testimg.Path(t, testimg.WinXP().Name))
	for _, want := range []string{"format:     raw", "partitions: mbr", "windows:    Windows XP (Microsoft Windows XP)",
		"version:  5.1 build 2600 Service Pack 3", "arch:     x86", "family:   winxp", `root:     partition 1 \WINDOWS`, "computer: WINXP-GOLD", "boot:     partition 1", "type 0x07 active"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("info: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
}
