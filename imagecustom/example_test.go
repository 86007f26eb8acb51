package imagecustom_test

import (
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom"
)

// ExampleImage_Windows opens the bundled Windows XP disk, a
// streamOptimized VMDK, and describes the install on it.
func ExampleImage_Windows() {
	img, err := imagecustom.Open("../testdata/vmdk/winxp-streamOptimized.vmdk")
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
	for _, w := range wins {
		fmt.Printf("%s %d.%d build %d %s (%s), %s on partition %d, %s\n",
			w.Name, w.Major, w.Minor, w.Build, w.ServicePack, w.Arch, w.SystemRoot, w.Partition, w.CurrentControlSet())
	}
	// Output:
	// Windows XP 5.1 build 2600 Service Pack 3 (x86), \WINDOWS on partition 1, ControlSet001
}

// ExampleRegistry reads a value of the install's registry by its regedit
// path; CurrentControlSet resolves through the SYSTEM hive's Select key.
func ExampleRegistry() {
	img, err := imagecustom.Open("../testdata/vmdk/winxp-streamOptimized.vmdk")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer img.Close()
	vol, _, err := img.OpenNTFS(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := imagecustom.OpenRegistry(vol, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	k, err := reg.Key(`HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := k.Value("ComputerName")
	if err != nil {
		fmt.Println(err)
		return
	}
	name, _ := v.String()
	fmt.Println(name)
	// Output:
	// WINXP-GOLD
}
