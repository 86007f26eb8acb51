package imagecustom_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestOpenFixtures(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			img, err := imagecustom.Open(testimg.Path(t, d.Name))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			wantScheme := "mbr"
			if d.GPT {
				wantScheme = "gpt"
			}
			if img.Scheme() != wantScheme || img.Format() != "raw" {
				t.Errorf("scheme %s format %s", img.Scheme(), img.Format())
			}
			var want []imagecustom.Partition
			for i, p := range d.Partitions {
				fs := ""
				switch {
				case p.Range == d.System:
					fs = "ntfs"
				case strings.HasPrefix(p.Name, "EFI"):
					fs = "fat32"
				}
				want = append(want, imagecustom.Partition{Index: i + 1, Offset: p.Offset, Size: p.Size,
					Type: p.Type, Name: p.Name, GUID: p.GUID, Active: p.Active, FS: fs})
			}
			if diff := cmp.Diff(want, img.Partitions()); diff != "" {
				t.Errorf("partitions (-want +got):\n%s", diff)
			}
			sys, err := img.SystemPartition()
			if err != nil || sys.Offset != d.System.Offset {
				t.Errorf("SystemPartition = %+v, %v", sys, err)
			}
			v, p, err := img.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Stat("Windows/System32/config/SOFTWARE"); err != nil || p != sys {
				t.Errorf("system volume %+v: %v", p, err)
			}
			if len(d.Partitions) > 1 {
				if _, _, err := img.OpenNTFS(1); !errors.Is(err, imagecustom.ErrNoVolume) {
					t.Errorf("OpenNTFS of the EFI partition: %v", err)
				}
			}
			if _, _, err := img.OpenNTFS(9); !errors.Is(err, imagecustom.ErrNoVolume) {
				t.Errorf("OpenNTFS(9): %v", err)
			}
		})
	}
}

func TestOpenBareVolume(t *testing.T) {
	img, err := imagecustom.Open(testimg.Path(t, "ntfs/tiny.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	parts := img.Partitions()
	if img.Scheme() != "none" || len(parts) != 1 || parts[0].Offset != 0 || parts[0].FS != "ntfs" {
		t.Fatalf("bare volume: %s %+v", img.Scheme(), parts)
	}
	v, _, err := img.OpenNTFS(0)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := v.ReadFile("a.txt"); err != nil || string(b) != "hello\r\n" {
		t.Errorf("a.txt = %q, %v", b, err)
	}
}

func TestExtendedPartitions(t *testing.T) {
	// sfdisk (util-linux) writes the extended boot records; mmls
	// (sleuthkit) reads them independently.
	sfdisk := testimg.Oracle(t, "sfdisk")
	disk := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sfdisk, "-q", disk)
	cmd.Stdin = strings.NewReader("label: dos\n" +
		"start=2048, size=8192, type=7\n" +
		"start=10240, type=5\n" +
		"start=12288, size=4096, type=7\n" +
		"start=18432, size=8192, type=b\n" +
		"start=28672, size=2048, type=83\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	img, err := imagecustom.Open(disk)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	want := []imagecustom.Partition{
		{Index: 1, Offset: 2048 * 512, Size: 8192 * 512, Type: "0x07"},
		{Index: 5, Offset: 12288 * 512, Size: 4096 * 512, Type: "0x07"},
		{Index: 6, Offset: 18432 * 512, Size: 8192 * 512, Type: "0x0b"},
		{Index: 7, Offset: 28672 * 512, Size: 2048 * 512, Type: "0x83"},
	}
	if diff := cmp.Diff(want, img.Partitions()); diff != "" {
		t.Errorf("partitions (-want +got):\n%s", diff)
	}
	// The same starts as mmls sees them.
	out := string(testimg.Run(t, "mmls", "-B", disk))
	for _, p := range want {
		if !strings.Contains(out, fmt.Sprintf("  %010d", p.Offset/512)) {
			t.Errorf("mmls does not list a partition at sector %d:\n%s", p.Offset/512, out)
		}
	}
	if _, err := img.SystemPartition(); !errors.Is(err, imagecustom.ErrNoVolume) {
		t.Errorf("SystemPartition on a disk without NTFS: %v", err)
	}
}
