package main

import (
	"fmt"
	"path/filepath"
)

// buildWin10 lays out a Windows 10 Pro 22H2 (x64) system volume of a UEFI
// install: the boot files live on the EFI system partition, not here.
func buildWin10(t *tree, hives, pe string) {
	t.synth(`pagefile.sys`, 1<<20).attrs = attrHidden | attrSystem | attrArchive
	t.synth(`swapfile.sys`, 256<<10).attrs = attrHidden | attrSystem | attrArchive
	t.synth(`DumpStack.log.tmp`, 8192).attrs = attrHidden | attrSystem | attrArchive
	t.dir(`$Recycle.Bin\S-1-5-21-1847522761-2946178233-4058326117-1001`).attrs = attrHidden | attrSystem | attrDirectory
	t.dir(`$Recycle.Bin`).attrs = attrHidden | attrSystem | attrDirectory
	t.dir(`System Volume Information`).attrs = attrHidden | attrSystem | attrDirectory
	t.dir(`Recovery`).attrs = attrHidden | attrSystem | attrDirectory
	t.dir(`PerfLogs`)
	t.link(`Documents and Settings`, 'j', `C:\Users`)

	// \Windows
	w := `Windows`
	for _, n := range []string{"explorer.exe", "HelpPane.exe", "hh.exe", "notepad.exe", "regedit.exe",
		"splwow64.exe", "winhlp32.exe", "bfsvc.exe", "write.exe", "win.ini", "system.ini",
		"WindowsUpdate.log", "DtcInstall.log", "PFRO.log", "setupact.log", "setuperr.log",
		"comsetup.log", "diagerr.xml", "diagwrn.xml", "Professional.xml", "mib.bin", "lsasetup.log"} {
		t.some(w + `\` + n)
	}
	t.synth(w+`\Panther\setupact.log`, 1572869) // the file over 1 MiB
	t.some(w + `\Panther\setuperr.log`)
	t.some(w + `\Panther\UnattendGC\setupact.log`)
	t.dir(w + `\Setup\Scripts`)
	t.some(w + `\Logs\CBS\CBS.log`)
	t.some(w + `\Logs\DISM\dism.log`)
	t.dir(w + `\Temp`)
	for i := 0; i < 150; i++ {
		t.some(fmt.Sprintf(`%s\INF\%s`, w, infName(i)))
	}
	for _, n := range []string{"arial.ttf", "arialbd.ttf", "consola.ttf", "segoeui.ttf", "segoeuib.ttf",
		"seguiemj.ttf", "tahoma.ttf", "times.ttf", "cour.ttf", "marlett.ttf", "desktop.ini"} {
		t.some(w + `\Fonts\` + n)
	}
	for _, n := range []string{
		`amd64_microsoft-windows-kernel32_31bf3856ad364e35_10.0.19041.3636_none_6a6d2ed0c0d7a3c2\kernel32.dll`,
		`amd64_microsoft-windows-ntdll_31bf3856ad364e35_10.0.19041.3636_none_ad6cb8d0c91b3f0e\ntdll.dll`,
		`wow64_microsoft-windows-kernel32_31bf3856ad364e35_10.0.19041.3636_none_74c1d922f5386d6d\kernel32.dll`,
		`x86_microsoft.windows.common-controls_6595b64144ccf1df_6.0.19041.1110_none_a8625c1886757984\comctl32.dll`,
		`amd64_microsoft.windows.common-controls_6595b64144ccf1df_6.0.19041.1110_none_60b5254171f9507e\comctl32.dll`,
		`Manifests\amd64_microsoft-windows-ntdll_31bf3856ad364e35_10.0.19041.3636_none_ad6cb8d0c91b3f0e.manifest`,
		`Manifests\amd64_microsoft-windows-kernel32_31bf3856ad364e35_10.0.19041.3636_none_6a6d2ed0c0d7a3c2.manifest`,
		`pending.xml`,
	} {
		t.some(w + `\WinSxS\` + n)
	}
	t.some(w + `\servicing\Packages\Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.10.mum`)
	t.some(w + `\servicing\TrustedInstaller.exe`)

	// \Windows\System32
	s := w + `\System32`
	extra := []string{"KernelBase.dll", "bcrypt.dll", "bcryptprimitives.dll", "combase.dll",
		"sechost.dll", "ucrtbase.dll", "win32u.dll", "Windows.Storage.dll", "twinapi.appcore.dll",
		"ApplicationFrame.dll", "AppXDeploymentServer.dll", "wsl.exe", "bcdedit.exe", "bcdboot.exe",
		"Dism.exe", "winload.efi", "winload.exe", "winresume.efi", "ntoskrnl.exe", "hal.dll",
		"SecurityHealthService.exe", "SgrmBroker.exe", "MpSigStub.exe", "WindowsPowerShell.dll",
		"Windows.UI.Xaml.dll", "Microsoft.Bluetooth.Service.dll", "wuaueng.dll", "UsoClient.exe"}
	for _, n := range systemFolderNames(3300, extra...) {
		t.some(s + `\` + n)
	}
	t.copyFile(s+`\autochk.exe`, filepath.Join(pe, "autochk-amd64.exe"))
	t.copyFile(s+`\cmd.exe`, filepath.Join(pe, "cmd-amd64.exe"))
	for _, n := range []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"} {
		t.copyFile(s+`\config\`+n, filepath.Join(hives, n))
		// Empty logs: every change is in the primary file.
		t.file(s+`\config\`+n+`.LOG1`, nil).attrs = attrHidden | attrSystem | attrArchive
		t.file(s+`\config\`+n+`.LOG2`, nil).attrs = attrHidden | attrSystem | attrArchive
	}
	t.dir(s + `\config\RegBack`)
	t.dir(s + `\config\Journal`)
	t.dir(s + `\config\TxR`).attrs = attrHidden | attrSystem | attrDirectory
	t.some(s + `\config\systemprofile\AppData\Local\Microsoft\Windows\UsrClass.dat`)
	for i := 0; i < 200; i++ {
		t.some(fmt.Sprintf(`%s\drivers\%s`, s, driverName(i)))
	}
	t.text(s+`\drivers\etc\hosts`,
		`# Copyright (c) 1993-2009 Microsoft Corp.`, `#`,
		`# This is a sample HOSTS file used by Microsoft TCP/IP for Windows.`, `#`,
		`# localhost name resolution is handled within DNS itself.`,
		`#	127.0.0.1       localhost`, `#	::1             localhost`)
	t.some(s + `\DriverStore\FileRepository\net1ic64.inf_amd64_cf1a3de5a2d4a5b7\net1ic64.inf`)
	t.some(s + `\DriverStore\FileRepository\net1ic64.inf_amd64_cf1a3de5a2d4a5b7\e1i63x64.sys`)
	t.some(s + `\DriverStore\FileRepository\vmxnet3.inf_amd64_9a1f3c5e7b2d4f60\vmxnet3.sys`)
	t.some(s + `\Sysprep\sysprep.exe`)
	t.dir(s + `\Sysprep\Panther`)
	t.some(s + `\oobe\windeploy.exe`)
	t.some(s + `\oobe\msoobe.exe`)
	t.some(s + `\WindowsPowerShell\v1.0\powershell.exe`)
	t.some(s + `\Tasks\Microsoft\Windows\UpdateOrchestrator\Schedule Scan`)
	t.some(s + `\wbem\WmiPrvSE.exe`)
	t.some(s + `\en-US\KernelBase.dll.mui`)
	t.some(s + `\catroot\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\Package_for_RollupFix~31bf3856ad364e35~amd64~~19041.3803.1.10.cat`)

	// \Windows\SysWOW64: the 32-bit system folder of a 64-bit Windows.
	for _, n := range systemFolderNames(320) {
		t.some(w + `\SysWOW64\` + n)
	}
	t.copyFile(w+`\SysWOW64\cmd.exe`, filepath.Join(pe, "cmd-i386.exe"))

	// \Users
	u := `Users`
	for _, name := range []string{"Admin", "Default"} {
		p := u + `\` + name
		t.copyFile(p+`\NTUSER.DAT`, filepath.Join(hives, "NTUSER.DAT")).attrs = attrHidden | attrArchive
		t.file(p+`\ntuser.dat.LOG1`, nil).attrs = attrHidden | attrSystem | attrArchive
		t.file(p+`\ntuser.dat.LOG2`, nil).attrs = attrHidden | attrSystem | attrArchive
		t.text(p+`\ntuser.ini`, `[General]`).attrs = attrHidden | attrSystem
		t.dir(p + `\Desktop`)
		t.dir(p + `\Documents`)
		t.dir(p + `\Downloads`)
		t.dir(p + `\AppData\Local\Temp`)
		t.some(p + `\AppData\Local\Microsoft\Windows\UsrClass.dat`).attrs = attrHidden | attrArchive
		t.dir(p + `\AppData\Roaming\Microsoft\Windows\Start Menu\Programs`)
		t.link(p+`\Application Data`, 'j', `C:\Users\`+name+`\AppData\Roaming`)
		t.link(p+`\My Documents`, 'j', `C:\Users\`+name+`\Documents`)
	}
	d := u + `\Admin\Documents`
	t.text(d+`\Résumé.docx`, `Curriculum vitæ — naïve café façade`)
	t.text(d+`\日本語のメモ.txt`, `日本語のテキスト`)
	t.text(d+`\Отчёт за 2023 год.xlsx`, `Отчёт`)
	t.text(d+`\emoji 😀 smile.txt`, `surrogate pair`)
	t.text(d+`\notes.v1.2.final.txt`, `several dots`)
	t.text(d+`\plus+comma,semi;eq=brackets[1].txt`, `characters that are illegal in 8.3 names`)
	t.text(d+`\.gitconfig`, `[user]`, `	name = Admin`)
	t.link(u+`\All Users`, 'l', `C:\ProgramData`)
	t.link(u+`\Default User`, 'j', `C:\Users\Default`)
	t.some(u + `\Public\Documents\desktop.ini`)
	t.some(u + `\Public\Desktop\desktop.ini`)

	// \ProgramData, \Program Files, \Program Files (x86)
	t.dir(`ProgramData`).attrs = attrHidden | attrDirectory
	t.some(`ProgramData\Microsoft\Windows\Start Menu\Programs\Accessories\Notepad.lnk`)
	t.some(`ProgramData\Microsoft\Windows Defender\Platform\4.18.23110.3-0\MsMpEng.exe`)
	for _, f := range []string{
		`Program Files\Common Files\microsoft shared\ink\tabtip.exe`,
		`Program Files\Internet Explorer\iexplore.exe`,
		`Program Files\Windows Defender\MpCmdRun.exe`,
		`Program Files\Windows NT\Accessories\wordpad.exe`,
		`Program Files\WindowsApps\Microsoft.WindowsStore_12107.1001.15.0_x64__8wekyb3d8bbwe\AppxManifest.xml`,
		`Program Files\VMware\VMware Tools\vmtoolsd.exe`,
		`Program Files (x86)\Common Files\microsoft shared\ink\tabtip32.exe`,
		`Program Files (x86)\Internet Explorer\iexplore.exe`,
		`Program Files (x86)\Microsoft\Edge\Application\msedge.exe`,
	} {
		t.some(f)
	}
}
