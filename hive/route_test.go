package hive_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
)

// TestImportRoute imports .reg text spanning two hives, with one key that
// stands for keys in two control sets, and checks that a key no hive
// holds stops the import before anything changes.
func TestImportRoute(t *testing.T) {
	sys, sw := hive.New("SYSTEM"), hive.New("SOFTWARE")
	route := func(key string) ([]hive.Target, error) {
		parts := strings.Split(key, `\`)
		if !strings.EqualFold(parts[0], "HKEY_LOCAL_MACHINE") || len(parts) < 2 {
			return nil, fmt.Errorf("not under HKEY_LOCAL_MACHINE")
		}
		rest := strings.Join(parts[2:], `\`)
		switch strings.ToUpper(parts[1]) {
		case "SOFTWARE":
			return []hive.Target{{Hive: sw, Path: rest}}, nil
		case "SYSTEM":
			if len(parts) > 2 && strings.EqualFold(parts[2], "CurrentControlSet") {
				tail := strings.Join(parts[3:], `\`)
				return []hive.Target{{Hive: sys, Path: `ControlSet001\` + tail}, {Hive: sys, Path: `ControlSet002\` + tail}}, nil
			}
			return []hive.Target{{Hive: sys, Path: rest}}, nil
		}
		return nil, fmt.Errorf("no hive %s in this image", parts[1])
	}
	text := "Windows Registry Editor Version 5.00\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SOFTWARE\\Vendor\\App]\r\n\"Version\"=\"1.0\"\r\n\r\n" +
		"[HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters]\r\n\"Hostname\"=\"web01\"\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SYSTEM\\Setup]\r\n\"SetupType\"=dword:00000001\r\n"
	st, err := hive.Import(nil, strings.NewReader(text), &hive.ImportOptions{Route: route})
	if err != nil {
		t.Fatal(err)
	}
	if st.ValuesSet != 4 || st.KeysCreated != 2+2*4+1 {
		t.Errorf("stats %+v", st)
	}
	for _, c := range []struct {
		h          *hive.Hive
		key, value string
	}{
		{sw, `Vendor\App`, "Version"},
		{sys, `ControlSet001\Services\Tcpip\Parameters`, "Hostname"},
		{sys, `ControlSet002\Services\Tcpip\Parameters`, "Hostname"},
		{sys, `Setup`, "SetupType"},
	} {
		k, err := c.h.Key(c.key)
		if err == nil {
			_, err = k.Value(c.value)
		}
		if err != nil {
			t.Errorf("%s\\%s: %v", c.key, c.value, err)
		}
	}
	before, _ := sys.Bytes()
	bad := "Windows Registry Editor Version 5.00\r\n\r\n[HKLM\\SYSTEM\\Setup]\r\n\"X\"=dword:1\r\n\r\n[HKLM\\HARDWARE\\X]\r\n"
	_, err = hive.Import(nil, strings.NewReader(bad), &hive.ImportOptions{Route: route})
	var se *hive.SyntaxError
	if !errors.As(err, &se) || se.Line != 6 || !strings.Contains(err.Error(), "no hive HARDWARE") {
		t.Errorf("import with an unroutable key: %v", err)
	}
	after, _ := sys.Bytes()
	if !bytes.Equal(before[512:], after[512:]) {
		t.Error("the failed import changed the SYSTEM hive")
	}
	if _, err := hive.Import(nil, strings.NewReader("Windows Registry Editor Version 5.00\r\n[\\Software\\X]\r\n"), &hive.ImportOptions{Route: route}); err == nil {
		t.Error("a routed import took a key path without a root")
	}
}
