package imagecustom

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// settingsOp is one direct setting, as a command runs it.
type settingsOp func(v *ntfs.Volume, reg *Registry, w *Windows) error

var settingsOps = []struct {
	name string
	prep settingsOp // run and committed first, on the copy
	op   settingsOp
}{
	{"hostname", nil, func(_ *ntfs.Volume, reg *Registry, w *Windows) error {
		_, err := SetHostname(reg, w, "KILLED-01")
		return err
	}},
	{"timezone", nil, func(_ *ntfs.Volume, reg *Registry, w *Windows) error {
		_, err := SetTimeZone(reg, w, "Tokyo Standard Time", &TimeZoneOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		return err
	}},
	{"net", nil, func(_ *ntfs.Volume, reg *Registry, w *Windows) error {
		_, err := SetAdapter(reg, w, "1", AdapterConfig{Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.5/24")},
			Gateways: []netip.Addr{netip.MustParseAddr("192.0.2.1")}, NetBIOS: "disabled"})
		return err
	}},
	{"firstboot-add", nil, func(v *ntfs.Volume, reg *Registry, w *Windows) error {
		_, _, err := AddFirstBoot(v, reg, w, []byte("echo interrupted"))
		return err
	}},
	{"firstboot-remove", func(v *ntfs.Volume, reg *Registry, w *Windows) error {
		_, _, err := AddFirstBoot(v, reg, w, []byte("echo interrupted"))
		return err
	}, func(v *ntfs.Volume, reg *Registry, _ *Windows) error {
		_, err := RemoveFirstBoot(v, reg, 0)
		return err
	}},
}

// runSetting opens the image at path for writing, runs op, saves the
// registry and commits, with the k-th host write failing (0: none). It
// returns the error and the number of host writes made.
func runSetting(t *testing.T, path string, op settingsOp, k int) (int, error) {
	t.Helper()
	img, err := OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	img.failAfter = k
	ws, err := img.Windows()
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := op(v, reg, &ws[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Save(); err != nil {
		return img.hosts.ops, err
	}
	err = img.Commit()
	return img.hosts.ops, err
}

// TestInterruptedSettingsRecover fails each host write in turn of every
// direct setting (hostname, time zone, adapter, first-boot add and
// remove) on the XP fixture, as a crash would stop it: the journal then
// blocks writers, and Recover gives back the original bytes of every
// file.
func TestInterruptedSettingsRecover(t *testing.T) {
	for _, c := range settingsOps {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := testimg.WinXP()
			fresh := func() string {
				p := testimg.Copy(t, d.Name)
				if c.prep != nil {
					if _, err := runSetting(t, p, c.prep, 0); err != nil {
						t.Fatal(err)
					}
				}
				return p
			}
			total, err := runSetting(t, fresh(), c.op, 0)
			if err != nil {
				t.Fatal(err)
			}
			if total < 2 {
				t.Fatalf("only %d host writes", total)
			}
			t.Logf("%d host writes", total)
			path := fresh()
			dir := filepath.Dir(path)
			before := testimg.DirSums(t, dir)
			for k := 1; k <= total; k++ {
				t.Run(fmt.Sprint(k), func(t *testing.T) {
					if _, err := runSetting(t, path, c.op, k); !errors.Is(err, errInjected) {
						t.Fatalf("write %d of %d: %v, want the injected failure", k, total, err)
					}
					if _, err := OpenRW(path, nil); !errors.Is(err, ErrUnsafe) {
						t.Fatalf("OpenRW with a pending journal: %v, want ErrUnsafe", err)
					}
					if ok, err := Recover(path); !ok || err != nil {
						t.Fatalf("Recover: %v %v", ok, err)
					}
					if diff := cmp.Diff(before, testimg.DirSums(t, dir)); diff != "" {
						t.Fatalf("after Recover (-original +recovered):\n%s", diff)
					}
				})
			}
		})
	}
}

// tziSeeds returns the TZI values of the fixtures' Time Zones keys.
func tziSeeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"../testdata/hives/win10/SOFTWARE", "../testdata/hives/winxp/SOFTWARE"} {
		h, err := hive.OpenFile(name, nil)
		if err != nil {
			f.Fatal(err)
		}
		k, err := h.Key(`Microsoft\Windows NT\CurrentVersion\Time Zones`)
		if err != nil {
			f.Fatal(err)
		}
		err = k.Walk(func(_ string, key hive.Key) error {
			vs, err := key.Values()
			if err != nil {
				return err
			}
			for _, v := range vs {
				if b, err := v.Data(); err == nil && v.Type() == hive.Binary {
					out = append(out, b)
				}
			}
			return nil
		})
		if err != nil {
			f.Fatal(err)
		}
	}
	return out
}

// FuzzTimeZoneRule feeds hostile TZI values (from an image's Time Zones
// key) to the parser and the rule arithmetic: no panic, a 16-byte
// TIME_FIELDS, and an active bias that is the standard or the daylight
// one.
func FuzzTimeZoneRule(f *testing.F) {
	for _, b := range tziSeeds(f) {
		f.Add(b, int64(1_700_000_000))
	}
	f.Fuzz(func(t *testing.T, b []byte, unix int64) {
		z, err := parseTZI(b)
		if err != nil {
			return
		}
		if len(timeFields(z.std)) != 16 || len(timeFields(z.dlt)) != 16 {
			t.Fatal("TIME_FIELDS not 16 bytes")
		}
		at := time.Unix(unix%(1<<40), 0)
		if a := activeBias(z, at); a != z.bias+z.stdBias && a != z.bias+z.dltBias {
			t.Fatalf("active bias %d is neither standard %d nor daylight %d", a, z.bias+z.stdBias, z.bias+z.dltBias)
		}
	})
}

// FuzzExpandLocation feeds hostile LocationInformation strings.
func FuzzExpandLocation(f *testing.F) {
	f.Add(`@System32\drivers\pci.sys,#65536;PCI bus %1, device %2, function %3;(11,0,0)`)
	f.Add("PCI bus 2, device 1, function 0")
	f.Add("@;%1%2%3%10;(,,,,)")
	f.Fuzz(func(t *testing.T, s string) {
		if out := expandLocation(s); len(out) > len(s)*2+16 && !strings.HasPrefix(s, "@") {
			t.Fatalf("expandLocation grew a plain string: %q", out)
		}
	})
}
