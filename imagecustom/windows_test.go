package imagecustom_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestWindows detects the installs of the fixtures. The expected values
// are those the fixtures' registry sources (testdata/gen/reg) set, which
// hivexget reads back in internal/testimg's oracle tests.
func TestWindows(t *testing.T) {
	for _, tc := range []struct {
		disk testimg.Disk
		want imagecustom.Windows
	}{
		{testimg.WinXP(), imagecustom.Windows{
			Partition: 1, BootPartition: 1, SystemRoot: `\WINDOWS`, Name: "Windows XP", ProductName: "Microsoft Windows XP",
			ProductType: "WinNT", Major: 5, Minor: 1, Build: 2600, ServicePack: "Service Pack 3",
			Family: "winxp", Arch: "x86", ComputerName: "WINXP-GOLD",
			Current: 1, Default: 1, Failed: 0, LastKnownGood: 2,
		}},
		{testimg.Win10(), imagecustom.Windows{
			Partition: 3, BootPartition: 1, SystemRoot: `\Windows`, Name: "Windows 10", ProductName: "Windows 10 Pro",
			EditionID: "Professional", InstallationType: "Client",
			ProductType: "WinNT", Major: 10, Minor: 0, Build: 19045,
			Family: "vista", Arch: "amd64", ComputerName: "DESKTOP-7K2M9QF",
			Current: 1, Default: 1, Failed: 0, LastKnownGood: 1,
		}},
	} {
		for _, format := range append([]string{"raw"}, testimg.VMDKSubformats()...) {
			t.Run(tc.disk.Name+"/"+format, func(t *testing.T) {
				path := testimg.Path(t, tc.disk.Name)
				if format != "raw" {
					if testing.Short() {
						t.Skip("VMDK conversions")
					}
					path = testimg.VMDK(t, tc.disk, format)
				}
				img, err := imagecustom.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				got, err := img.Windows()
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]imagecustom.Windows{tc.want}, got); diff != "" {
					t.Errorf("Windows() (-want +got):\n%s", diff)
				}
				if got[0].CurrentControlSet() != "ControlSet001" {
					t.Errorf("CurrentControlSet() = %q", got[0].CurrentControlSet())
				}
			})
		}
	}
}

// TestWindowsWin7Volume opens the NTFS volume Windows 7 formatted (in
// ../shared/data, a qcow2 image converted to raw with qemu-img): a bare
// volume whose System32\config holds only a syslog file, so no install.
func TestWindowsWin7Volume(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "w7.raw")
	testimg.Run(t, "qemu-img", "convert", "-O", "raw", testimg.Path(t, "real/ntfs/windows_volume.qcow2"), raw)
	img, err := imagecustom.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if ps := img.Partitions(); img.Scheme() != "none" || len(ps) != 1 || ps[0].FS != "ntfs" || ps[0].Size != 35913728 {
		t.Fatalf("scheme %s, partitions %+v", img.Scheme(), ps)
	}
	w, err := img.Windows()
	if !errors.Is(err, imagecustom.ErrNoVolume) || w != nil {
		t.Errorf("Windows() = %+v, %v; want ErrNoVolume", w, err)
	}
}
