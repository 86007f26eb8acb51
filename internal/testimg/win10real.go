package testimg

// Win10Real is the realistic Windows 10 fixture (testdata/win10real.raw,
// built by testdata/gen/mkwin10real.sh): win10.raw, same partitions, with
// its system volume changed into what a long-lived Windows 10 leaves.
// Its tree is win10.manifest's plus what the Win10Real* constants and
// functions name, with a larger SOFTWARE hive.
func Win10Real() Disk {
	d := Win10()
	d.Name = "win10real.raw"
	return d
}

// Facts of the [Win10Real] system volume, as slash paths from its root.
const (
	// Win10RealAutochk is System32's autochk.exe, whose MFT record also
	// holds the name Win10RealAutochkSxS (two names, one record).
	Win10RealAutochk    = "Windows/System32/autochk.exe"
	Win10RealAutochkSxS = "Windows/WinSxS/amd64_microsoft-windows-autochk_31bf3856ad364e35_10.0.19041.3636_none_11dc86dbe3978197/autochk.exe"
	// Win10RealSoftware is the SOFTWARE hive, about 1.35 MB, written into
	// 1-cluster holes: its record has an $ATTRIBUTE_LIST and its $DATA
	// extents live in extension records.
	Win10RealSoftware = "Windows/System32/config/SOFTWARE"
	// Win10RealCompact is the system-compressed (WOF, LZX) file, a copy
	// of Win10RealCompactOf, also linked into WinSxS.
	Win10RealCompact   = "Windows/System32/compact.dll"
	Win10RealCompactOf = "Windows/System32/admres.dll"
	// Win10RealTrustedInstaller is the owner SID of the System32 files.
	Win10RealTrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
)

// Win10RealLinks maps each WinSxS name mkwin10real.sh added to the
// System32 file whose MFT record it shares.
func Win10RealLinks() map[string]string {
	const sxs = "Windows/WinSxS/"
	return map[string]string{
		Win10RealAutochkSxS: Win10RealAutochk,
		sxs + "amd64_microsoft-windows-cmd_31bf3856ad364e35_10.0.19041.3636_none_ebf1f9fa8afd6d19/cmd.exe":           "Windows/System32/cmd.exe",
		sxs + "amd64_microsoft-windows-kernel32_31bf3856ad364e35_10.0.19041.3636_none_bd01b7dddbfc7adb/kernel32.dll": "Windows/System32/kernel32.dll",
		sxs + "amd64_microsoft-windows-ntdll_31bf3856ad364e35_10.0.19041.3636_none_0ebd8d889e0e2c63/ntdll.dll":       "Windows/System32/ntdll.dll",
		sxs + "amd64_microsoft-windows-compact_31bf3856ad364e35_10.0.19041.3636_none_0123456789abcdef/compact.dll":   Win10RealCompact,
	}
}
