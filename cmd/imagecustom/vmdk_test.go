package main

import (
	"encoding/json"
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
