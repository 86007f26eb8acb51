package main

import (
	"fmt"
	"path/filepath"
)

// buildXP lays out a Windows XP Professional SP3 (x86) system volume.
func buildXP(t *tree, hives, pe string) {
	// Volume root, as XP's setup leaves it.
	t.text(`boot.ini`,
		`[boot loader]`,
		`timeout=30`,
		`default=multi(0)disk(0)rdisk(0)partition(1)\WINDOWS`,
		`[operating systems]`,
		`multi(0)disk(0)rdisk(0)partition(1)\WINDOWS="Microsoft Windows XP Professional" /noexecute=optin /fastdetect`,
	).attrs = attrHidden | attrSystem
	t.synth(`NTLDR`, 250048).attrs = attrReadOnly | attrHidden | attrSystem | attrArchive
	t.synth(`NTDETECT.COM`, 47564).attrs = attrReadOnly | attrHidden | attrSystem | attrArchive
	t.file(`AUTOEXEC.BAT`, nil)
	t.file(`CONFIG.SYS`, nil)
	t.file(`IO.SYS`, nil).attrs = attrReadOnly | attrHidden | attrSystem | attrArchive
	t.file(`MSDOS.SYS`, nil).attrs = attrReadOnly | attrHidden | attrSystem | attrArchive
	t.dir(`System Volume Information`).attrs = attrHidden | attrSystem | attrDirectory
	t.dir(`RECYCLER`).attrs = attrHidden | attrSystem | attrDirectory

	// \WINDOWS
	w := `WINDOWS`
	t.dir(w)
	for _, n := range []string{"explorer.exe", "notepad.exe", "regedit.exe", "hh.exe",
		"twunk_16.exe", "twunk_32.exe", "winhlp32.exe", "TASKMAN.EXE", "Blue Lace 16.bmp",
		"Coffee Bean.bmp", "FeatherTexture.bmp", "Gone Fishing.bmp", "Greenstone.bmp",
		"Prairie Wind.bmp", "Rhododendron.bmp", "River Sumida.bmp", "Santa Fe Stucco.bmp",
		"Soap Bubbles.bmp", "Zapotec.bmp", "setuplog.txt", "setupapi.log", "WindowsUpdate.log",
		"OEWABLog.txt", "SchedLgU.Txt", "FaxSetup.log", "comsetup.log", "iis6.log",
		"ntdtcsetup.log", "ocgen.log", "tsoc.log", "imsins.BAK", "msdfmap.ini", "_default.pif",
		"0.log", "Sti_Trace.log", "sessmgr.setup.log", "wmsetup.log"} {
		t.some(w + `\` + n)
	}
	t.text(w+`\win.ini`, `; for 16-bit app support`, `[fonts]`, `[extensions]`, `[mci extensions]`, `[files]`, `[Mail]`, `MAPI=1`)
	t.text(w+`\system.ini`, `; for 16-bit app support`, `[386Enh]`, `woafont=dosapp.fon`, `EGA80WOA.FON=EGA80WOA.FON`, `[drivers]`, `wave=mmdrv.dll`, `timer=timer.drv`, `[mci]`)
	// The file over 1 MiB, not a multiple of the cluster size.
	t.synth(w+`\Driver Cache\i386\driver.cab`, 2621447)
	t.synth(w+`\Driver Cache\i386\sp3.cab`, 917533)
	for i := 0; i < 220; i++ {
		t.some(fmt.Sprintf(`%s\inf\%s`, w, infName(i)))
	}
	for _, n := range []string{"arial.ttf", "arialbd.ttf", "cour.ttf", "times.ttf", "tahoma.ttf",
		"verdana.ttf", "marlett.ttf", "symbol.ttf", "wingding.ttf", "lucon.ttf", "sserife.fon",
		"vgasys.fon", "desktop.ini"} {
		t.some(w + `\Fonts\` + n)
	}
	for _, n := range []string{"Windows XP Startup.wav", "Windows XP Shutdown.wav",
		"Windows XP Logon Sound.wav", "Windows XP Error.wav", "chimes.wav", "ding.wav", "tada.wav"} {
		t.some(w + `\Media\` + n)
	}
	t.some(w + `\repair\setup.log`)
	for _, n := range []string{"sam", "security", "software", "system", "default", "ntuser.dat", "autoexec.nt", "config.nt"} {
		t.some(w + `\repair\` + n)
	}
	t.dir(w + `\Temp`)
	t.some(w + `\Prefetch\Layout.ini`)
	t.some(w + `\Prefetch\NTOSBOOT-B00DFAAD.pf`)
	t.some(w + `\Prefetch\EXPLORER.EXE-082F38A9.pf`)
	for _, kb := range []string{"KB942288-v3", "KB951376-v2", "KB952954", "KB955069", "KB956802"} {
		dir := fmt.Sprintf(`%s\$NtUninstall%s$`, w, kb)
		t.dir(dir).attrs = attrHidden | attrDirectory
		t.some(dir + `\spuninst\spuninst.exe`)
		t.some(dir + `\spuninst\updspapi.dll`)
	}
	t.some(w + `\system\AVICAP.DLL`)
	t.some(w + `\system\MMSYSTEM.DLL`)

	// \WINDOWS\system32: thousands of entries, so its $I30 index has
	// several levels.
	s := w + `\system32`
	for _, n := range systemFolderNames(3150) {
		t.some(s + `\` + n)
	}
	t.copyFile(s+`\autochk.exe`, filepath.Join(pe, "autochk-i386.exe"))
	t.copyFile(s+`\cmd.exe`, filepath.Join(pe, "cmd-i386.exe"))
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "default"} {
		t.copyFile(s+`\config\`+n, filepath.Join(hives, n))
		// Empty logs: every change is in the primary file.
		t.file(s+`\config\`+n+`.LOG`, nil)
	}
	t.synth(s+`\config\userdiff`, 8192)
	t.file(s+`\config\userdiff.LOG`, nil)
	t.file(s+`\config\TempKey.LOG`, nil)
	for _, n := range []string{"AppEvent.Evt", "SecEvent.Evt", "SysEvent.Evt"} {
		t.synth(s+`\config\`+n, 65536)
	}
	t.dir(s + `\config\systemprofile`)
	for i := 0; i < 180; i++ {
		t.some(fmt.Sprintf(`%s\drivers\%s`, s, driverName(i)))
	}
	t.text(s+`\drivers\etc\hosts`,
		`# Copyright (c) 1993-1999 Microsoft Corp.`, `#`,
		`# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.`, `#`,
		`127.0.0.1       localhost`)
	t.text(s+`\drivers\etc\lmhosts.sam`, `# sample LMHOSTS file`)
	t.text(s+`\drivers\etc\networks`, `loopback                 127`)
	t.text(s+`\drivers\etc\protocol`, `ip       0     IP         # Internet protocol`)
	t.text(s+`\drivers\etc\services`, `echo                7/tcp`)
	for i := 0; i < 60; i++ {
		t.some(fmt.Sprintf(`%s\dllcache\%s`, s, systemFolderNames(400)[i*6]))
	}
	for _, n := range []string{"cimwin32.dll", "wbemcore.dll", "wmiprvse.exe", "winmgmt.exe", "wbemprox.dll", "cimwin32.mof"} {
		t.some(s + `\wbem\` + n)
	}
	t.some(s + `\wbem\Repository\FS\INDEX.BTR`)
	t.some(s + `\wbem\Repository\FS\OBJECTS.DATA`)
	t.some(s + `\1033\cliconf.chm`)
	t.some(s + `\spool\drivers\w32x86\3\UNIDRV.DLL`)
	t.dir(s + `\spool\PRINTERS`)
	t.some(s + `\CatRoot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\nt5.cat`)
	t.some(s + `\Restore\rstrui.exe`)
	t.some(s + `\oobe\msoobe.exe`)
	t.some(s + `\usmt\migwiz.exe`)

	// \Documents and Settings
	d := `Documents and Settings`
	for _, u := range []string{"Administrator", "Default User"} {
		p := d + `\` + u
		t.copyFile(p+`\NTUSER.DAT`, filepath.Join(hives, "NTUSER.DAT")).attrs = attrHidden | attrArchive
		t.file(p+`\ntuser.dat.LOG`, nil).attrs = attrHidden | attrArchive
		t.text(p+`\ntuser.ini`, `[General]`, `PreserveProfile=0`).attrs = attrHidden | attrSystem
		t.dir(p + `\Desktop`)
		t.dir(p + `\Favorites`)
		t.some(p + `\Start Menu\Programs\Accessories\Notepad.lnk`)
		t.some(p + `\Start Menu\Programs\Accessories\Command Prompt.lnk`)
		t.some(p + `\Start Menu\Programs\Internet Explorer.lnk`)
		t.dir(p + `\My Documents\My Pictures`)
		t.dir(p + `\My Documents\My Music`)
		t.dir(p + `\Local Settings\Temp`)
		t.some(p + `\Local Settings\Application Data\IconCache.db`)
		t.some(p + `\Application Data\Microsoft\Internet Explorer\Quick Launch\Show Desktop.scf`)
		t.dir(p + `\Cookies`)
		t.dir(p + `\NetHood`)
		t.dir(p + `\SendTo`)
	}
	a := d + `\Administrator\My Documents`
	t.text(a+`\Résumé.txt`, `Curriculum vitæ — naïve café façade`)
	t.text(a+`\日本語のメモ.txt`, `日本語のテキスト`)
	t.text(a+`\Отчёт за 2008 год.doc`, `Отчёт`)
	t.text(a+`\Ελληνικά.txt`, `Καλημέρα`)
	t.text(a+`\notes.v1.2.final.txt`, `several dots`)
	t.text(a+`\a name with  two  spaces.txt`, `spaces`)
	t.text(a+`\ends with space .txt`, `trailing space before the dot`)
	t.text(a+`\UPPER AND lower.TXT`, `mixed case`)
	t.text(a+`\plus+comma,semi;eq=brackets[1].txt`, `characters that are illegal in 8.3 names`)
	t.text(a+`\emoji 😀 smile.txt`, `surrogate pair`)
	t.text(a+`\Budget 2008 (draft).xls`, `budget`)
	t.text(a+`\Budget 2008 (final).xls`, `budget`)
	t.text(a+`\Budget 2008 (final v2).xls`, `budget`)
	t.text(a+`\Budget 2008 (final v3).xls`, `budget`)
	t.text(a+`\Budget 2008 (final v4).xls`, `budget`)
	t.text(a+`\Budget 2008 (final v5).xls`, `budget: the fifth of the same stem gets a hashed alias`)
	t.text(a+`\.hidden-dotfile`, `leading dot`)
	for _, u := range []string{"All Users", "LocalService", "NetworkService"} {
		t.dir(d + `\` + u + `\Application Data`)
	}
	t.some(d + `\All Users\Start Menu\Programs\Windows Media Player.lnk`)
	t.some(d + `\All Users\Documents\desktop.ini`)
	t.some(d + `\LocalService\NTUSER.DAT`).attrs = attrHidden
	t.some(d + `\NetworkService\NTUSER.DAT`).attrs = attrHidden

	// \Program Files
	p := `Program Files`
	for _, f := range []string{
		`Internet Explorer\iexplore.exe`, `Internet Explorer\hmmapi.dll`, `Internet Explorer\Connection Wizard\icwconn1.exe`,
		`Common Files\Microsoft Shared\MSInfo\msinfo32.exe`, `Common Files\Microsoft Shared\VGX\vgx.dll`,
		`Common Files\System\ado\msado15.dll`, `Common Files\System\Ole DB\oledb32.dll`,
		`Windows Media Player\wmplayer.exe`, `Windows Media Player\setup_wm.exe`,
		`Outlook Express\msimn.exe`, `Outlook Express\wab.exe`,
		`Windows NT\Accessories\wordpad.exe`, `Windows NT\Pinball\PINBALL.EXE`,
		`NetMeeting\conf.exe`, `Movie Maker\moviemk.exe`, `Messenger\msmsgs.exe`,
		`MSN Gaming Zone\Windows\zclientm.exe`, `Online Services\readme.txt`,
		`VMware\VMware Tools\VMwareService.exe`, `VMware\VMware Tools\VMwareTray.exe`,
		`VMware\VMware Tools\Drivers\vmxnet\vmxnet.sys`, `WindowsUpdate\wuinstall.log`,
		`xerox\nwwia\Bin\xrxwiadr.dll`,
	} {
		t.some(p + `\` + f)
	}
}

// infName makes plausible driver INF names.
func infName(i int) string {
	stems := []string{"net", "machine", "usb", "disk", "display", "mdm", "keyboard", "msmouse", "hdaudio", "wave",
		"layout", "intl", "font", "scsi", "ports", "printer", "volume", "cdrom", "battery", "mf", "acpi", "oem"}
	return fmt.Sprintf("%s%d.inf", stems[i%len(stems)], i/len(stems))
}

// driverName makes plausible kernel driver names.
func driverName(i int) string {
	known := []string{"atapi.sys", "tcpip.sys", "ntfs.sys", "fastfat.sys", "disk.sys", "classpnp.sys",
		"partmgr.sys", "volsnap.sys", "mup.sys", "ndis.sys", "netbt.sys", "afd.sys", "http.sys",
		"e1000325.sys", "vmxnet.sys", "pcnet.sys", "i8042prt.sys", "kbdclass.sys", "mouclass.sys",
		"usbport.sys", "usbhub.sys", "usbehci.sys", "serial.sys", "parport.sys", "cdrom.sys",
		"redbook.sys", "ks.sys", "portcls.sys", "vga.sys", "videoprt.sys", "ipsec.sys", "rdpdr.sys",
		"termdd.sys", "wanarp.sys", "rasl2tp.sys", "raspptp.sys", "ndiswan.sys", "mrxsmb.sys",
		"rdbss.sys", "srv.sys", "fltmgr.sys", "sr.sys", "beep.sys", "null.sys", "acpi.sys",
		"pci.sys", "isapnp.sys", "intelide.sys", "pciide.sys", "pciidex.sys", "ohci1394.sys"}
	if i < len(known) {
		return known[i]
	}
	i -= len(known)
	stems := []string{"usb", "hid", "net", "scsi", "ide", "ser", "vid", "aud", "bt", "irda"}
	return fmt.Sprintf("%s%s%d.sys", stems[i%len(stems)], []string{"port", "filt", "bus", "enum"}[(i/len(stems))%4], i/40)
}
