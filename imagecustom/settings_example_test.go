package imagecustom_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom"
)

// ExampleSetHostname renames the bundled Windows XP install, sets its
// time zone, in one transaction written to a child disk: the bundled
// VMDK itself is only read.
func ExampleSetHostname() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	img, err := imagecustom.OpenRW("../testdata/vmdk/winxp-streamOptimized.vmdk",
		&imagecustom.WriteOptions{Child: filepath.Join(dir, "child.vmdk")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer img.Close()
	wins, err := img.Windows()
	if err != nil {
		fmt.Println(err)
		return
	}
	vol, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := imagecustom.OpenRegistry(vol, wins[0].SystemRoot)
	if err != nil {
		fmt.Println(err)
		return
	}
	edits, err := imagecustom.SetHostname(reg, &wins[0], "lab-07")
	if err != nil {
		fmt.Println(err)
		return
	}
	tz, err := imagecustom.SetTimeZone(reg, &wins[0], "Tokyo Standard Time",
		&imagecustom.TimeZoneOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range tz {
		if e.Value == "StandardName" || e.Value == "DaylightName" {
			edits = append(edits, e)
		}
	}
	for _, e := range edits {
		fmt.Printf("%s %s: %s -> %s\n", e.Key[len(`HKEY_LOCAL_MACHINE\`):], e.Value, e.Old, e.New)
	}
	if _, err := reg.Save(); err != nil {
		fmt.Println(err)
		return
	}
	if err := img.Commit(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SYSTEM\ControlSet001\Control\ComputerName\ComputerName ComputerName: WINXP-GOLD -> LAB-07
	// SYSTEM\ControlSet001\Services\Tcpip\Parameters Hostname: WINXP-GOLD -> lab-07
	// SYSTEM\ControlSet001\Services\Tcpip\Parameters NV Hostname: WINXP-GOLD -> lab-07
	// SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon DefaultDomainName: WINXP-GOLD -> LAB-07
	// SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon AltDefaultDomainName: WINXP-GOLD -> LAB-07
	// SYSTEM\ControlSet001\Control\TimeZoneInformation StandardName: Pacific Standard Time -> Tokyo Standard Time
	// SYSTEM\ControlSet001\Control\TimeZoneInformation DaylightName: Pacific Daylight Time -> Tokyo Daylight Time
}
