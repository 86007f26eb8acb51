package boothook_test

import (
	"errors"
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

func ExamplePE() {
	exe, err := boothook.PE("amd64")
	if err != nil {
		fmt.Println(err)
		return
	}
	arch, ok := boothook.IsHook(exe)
	fmt.Println(arch, ok, string(exe[:2]))
	_, err = boothook.PE("arm64")
	fmt.Println(errors.Is(err, boothook.ErrUnsupported))
	// Output:
	// amd64 true MZ
	// true
}

func ExampleParseLog() {
	log := "boothook 1 start image=\\??\\D:\\Windows\\System32\\autochk.exe actions=1\r\n" +
		"action 1 reg-set 0x00000000 CurrentControlSet\\Services\\X\r\n" +
		"undo chain 0x00000102 exit=0x00000000\r\n" +
		"boothook end\r\n"
	entries, err := boothook.ParseLog(strings.NewReader(log))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range entries {
		fmt.Printf("%s step=%q status=%q ok=%v target=%q\n", e.Kind, e.Step, e.Status, e.OK, e.Target)
	}
	// Output:
	// start step="" status="" ok=true target=""
	// action step="reg-set" status="0x00000000" ok=true target="CurrentControlSet\\Services\\X"
	// undo step="chain" status="0x00000102" ok=true target=""
	// end step="" status="" ok=true target=""
}
