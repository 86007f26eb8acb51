package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestVMDKInfo(t *testing.T) {
	disk := testimg.Path(t, "real/vmdk/streamOptimized.vmdk")
	code, out, errOut := runCLI(t, "--json", "vmdk", "info", disk)
	if code != exitOK {
		t.Fatalf("vmdk info: exit %d: %s", code, errOut)
	}
	var doc vmdkInfoJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	// What qemu-img info and map say of this VMware-made file.
	if doc.CreateType != "streamOptimized" || doc.Capacity != 10<<20 || doc.Adapter != "buslogic" ||
		doc.ParentCID != "ffffffff" || len(doc.Extents) != 1 || !doc.Extents[0].Compressed ||
		doc.Extents[0].GrainSize != 64<<10 || doc.Allocated != 3407872 || doc.HostBytes != 271360 ||
		doc.Geometry != [3]int64{301, 4, 17} {
		t.Errorf("vmdk info --json: %+v", doc)
	}
	code, out, _ = runCLI(t, "vmdk", "info", disk)
	for _, want := range []string{"type:       streamOptimized", "capacity:   10 MiB (10485760 bytes)", "parent:     none", "64 KiB grains, 3.2 MiB allocated, compressed"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("vmdk info: exit %d, output lacks %q:\n%s", code, want, out)
		}
	}
	code, _, errOut = runCLI(t, "vmdk", "info", testimg.Path(t, "real/vmdk/twoGbMaxExtentFlat.vmdk"))
	if code != exitError || !strings.Contains(errOut, "twoGbMaxExtentFlat-f001.vmdk") {
		t.Errorf("vmdk info with a missing extent: exit %d, %q", code, errOut)
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"512", 512}, {"10M", 10 << 20}, {"10MiB", 10 << 20}, {"1.5G", 3 << 29}, {"2T", 2 << 40}, {"64k", 64 << 10}, {"1GB", 1 << 30},
		{"0", -1}, {"100", -1}, {"-1G", -1}, {"G", -1}, {"1.0001K", -1}, {"9999999T", -1}, {"ten", -1},
	} {
		got, err := parseSize(tc.in)
		if tc.want < 0 {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var buf strings.Builder
	a := &app{stderr: &buf}
	p := a.newProgress("convert")
	clock := p.start
	p.now = func() time.Time { return clock }
	for i := int64(0); i <= 100; i++ {
		clock = clock.Add(time.Second)
		p.update(i<<20, 100<<20)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// Not a terminal: a line every ten seconds and the last one.
	if len(lines) != 11 || !strings.HasPrefix(lines[len(lines)-1], "convert [##############################] 100.0% 100 MiB of 100 MiB, 1013.9 KiB/s") {
		t.Errorf("progress printed %d lines:\n%s", len(lines), buf.String())
	}
	a.quiet = true
	if p := a.newProgress("x"); p != nil {
		t.Error("--quiet still draws progress")
	}
	var nilp *progress
	nilp.update(1, 2) // must not panic
	nilp.finish()
}

// TestVMDKCommands runs create, convert, snapshot and check, with
// qemu-img as the judge of what they write.
func TestVMDKCommands(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	for _, typ := range []string{"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"} {
		out := filepath.Join(dir, "new-"+typ+".vmdk")
		if code, _, errOut := runCLI(t, "vmdk", "create", "--type", typ, "--size", "10M", out); code != exitOK {
			t.Fatalf("vmdk create --type %s: %d %s", typ, code, errOut)
		}
		info := testimg.QemuInfo(t, out)
		if info.Format != "vmdk" || info.VirtualSize != 10<<20 || info.FormatSpecific.Data.CreateType != typ {
			t.Errorf("qemu-img info of the new %s: %+v", typ, info)
		}
		if code, out, errOut := runCLI(t, "vmdk", "check", out); code != exitOK || out != "" {
			t.Errorf("vmdk check of the new %s: %d %q %q", typ, code, out, errOut)
		}
	}
	if code, _, _ := runCLI(t, "vmdk", "create", "--type", "raw", "--size", "1M", filepath.Join(dir, "x")); code != exitUsage {
		t.Errorf("vmdk create --type raw: exit %d", code)
	}
	if code, _, _ := runCLI(t, "vmdk", "create", "--size", "1000", filepath.Join(dir, "y")); code != exitUsage {
		t.Errorf("vmdk create of 1000 bytes: exit %d", code)
	}

	// The Windows 10 fixture to streamOptimized and back.
	raw := testimg.Path(t, testimg.Win10().Name)
	stream := filepath.Join(dir, "win10-stream.vmdk")
	back := filepath.Join(dir, "win10-back.raw")
	if code, _, errOut := runCLI(t, "vmdk", "convert", "--type", "streamOptimized", raw, stream); code != exitOK {
		t.Fatalf("vmdk convert to stream: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "vmdk", "convert", "--type", "raw", stream, back); code != exitOK {
		t.Fatalf("vmdk convert to raw: %d %s", code, errOut)
	}
	if fileSum(t, back) != fileSum(t, raw) {
		t.Error("raw → streamOptimized → raw changed the disk")
	}
	if out := testimg.Run(t, "qemu-img", "compare", "-f", "vmdk", "-F", "raw", stream, raw); !bytes.Contains(out, []byte("identical")) {
		t.Errorf("qemu-img compare: %s", out)
	}
	if code, _, errOut := runCLI(t, "vmdk", "convert", raw, stream); code != exitError || !strings.Contains(errOut, "exist") {
		t.Errorf("vmdk convert onto an existing file: %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "vmdk", "convert", "--type", "qcow2", raw, filepath.Join(dir, "z")); code != exitUsage {
		t.Errorf("vmdk convert --type qcow2: exit %d", code)
	}

	// A snapshot of the stream takes writes; the stream stays as it was.
	child := filepath.Join(dir, "child.vmdk")
	before := fileSum(t, stream)
	if code, _, errOut := runCLI(t, "vmdk", "snapshot", stream, child); code != exitOK {
		t.Fatalf("vmdk snapshot: %d %s", code, errOut)
	}
	local := filepath.Join(dir, "hello.txt")
	os.WriteFile(local, []byte("written into the child\n"), 0o644)
	if code, _, errOut := runCLI(t, "put", child, local, "/hello.txt"); code != exitOK {
		t.Fatalf("put into the child: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, "cat", child, "/hello.txt"); code != exitOK || out != "written into the child\n" {
		t.Errorf("cat from the child: %d %q", code, out)
	}
	if fileSum(t, stream) != before {
		t.Error("writing the child changed its parent")
	}
	if code, out, errOut := runCLI(t, "--json", "vmdk", "info", child); code != exitOK || !strings.Contains(out, `"chain": [`) {
		t.Errorf("vmdk info of the child: %d %q %q", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "vmdk", "check", child); code != exitOK {
		t.Errorf("vmdk check of the child: %d %q %q", code, out, errOut)
	}

	// A stream cut short: its footer and end-of-stream marker gone.
	bad := testimg.Copy(t, "real/vmdk/streamOptimized.vmdk")
	f, err := os.OpenFile(bad, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	f.Truncate(fi.Size() - 1024) // the footer and end-of-stream marker
	f.Close()
	code, out, errOut := runCLI(t, "--json", "vmdk", "check", bad)
	var doc struct {
		Problems []vmdkProblemJSON `json:"problems"`
		Clean    bool              `json:"clean"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitProblems || doc.Clean || len(doc.Problems) == 0 {
		t.Errorf("vmdk check of a truncated stream: exit %d, %v, %q %q", code, err, out, errOut)
	}
}
