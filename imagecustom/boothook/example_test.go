package boothook_test

import (
	"fmt"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom/boothook"
)

func ExampleParse() {
	list := `
# first boot
reg-set HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters Hostname REG_SZ "web 01"
say "network set"   # on the boot screen
reboot
`
	actions, err := boothook.Parse(strings.NewReader(list))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range actions {
		fmt.Println(a)
	}
	_, err = boothook.Parse(strings.NewReader("say ok\nreg-set HKLM\\SOFTWARE\\X v REG_SZ x\n"))
	fmt.Println(err)
	// Output:
	// reg-set HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters Hostname REG_SZ "web 01"
	// say "network set"
	// reboot
	// boothook: action list line 2: key "HKLM\\SOFTWARE\\X" is not below HKLM\SYSTEM
}

func ExampleEncode() {
	actions, _ := boothook.Parse(strings.NewReader(`reg-set HKLM\SYSTEM\Select Current REG_DWORD 1`))
	data, err := boothook.Encode(actions)
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := boothook.Decode(data)
	fmt.Println(len(data), back[0], err)
	// Output:
	// 90 reg-set HKLM\SYSTEM\Select Current REG_DWORD 0x00000001 <nil>
}
