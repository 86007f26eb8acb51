package main

import (
	"fmt"
	"sort"
	"strings"
)

// Base names of the kind found in a Windows system folder. The names are
// facts about Windows' layout; every byte of content is synthetic.
var systemNames = strings.Fields(`
acledit.dll aclui.dll activeds.dll actxprxy.dll admparse.dll advapi32.dll
advpack.dll alg.exe apphelp.dll appmgmts.dll asferror.dll asycfilt.dll
atl.dll attrib.exe audiosrv.dll authz.dll autodisc.dll avicap32.dll
avifil32.dll basesrv.dll batmeter.dll bootvid.dll browseui.dll
cabinet.dll cacls.exe calc.exe certcli.dll cfgmgr32.dll chkdsk.exe
chkntfs.exe cipher.exe cleanmgr.exe clb.dll clbcatq.dll cliconfg.dll
clipbrd.exe cmdial32.dll comctl32.dll comdlg32.dll compact.exe comres.dll
comsvcs.dll control.exe convert.exe credui.dll crypt32.dll cryptdlg.dll
cryptnet.dll cryptsvc.dll cryptui.dll cscdll.dll csrsrv.dll csrss.exe
ctfmon.exe d3d8.dll d3d9.dll d3dim.dll dbghelp.dll dcomcnfg.exe ddraw.dll
defrag.exe devmgr.dll dhcpcsvc.dll diskpart.exe diskperf.exe dnsapi.dll
doskey.exe dplayx.dll drwtsn32.exe dsound.dll dxdiag.exe dxtrans.dll
esent.dll eventvwr.exe expand.exe explorer.exe fc.exe find.exe findstr.exe
fontext.dll format.com ftp.exe gdi32.dll gdiplus.dll getmac.exe
gpresult.exe hal.dll halacpi.dll halaacpi.dll halmacpi.dll hid.dll
hlink.dll hnetcfg.dll hostname.exe htui.dll icmp.dll ieframe.dll
iertutil.dll imagehlp.dll imm32.dll inetcomm.dll inetcpl.cpl ipconfig.exe
iphlpapi.dll jscript.dll kbdus.dll kerberos.dll kernel32.dll ksuser.dll
linkinfo.dll lmhsvc.dll localspl.dll logonui.exe lsasrv.dll lsass.exe
lz32.dll mapi32.dll mciavi32.dll mcicda.dll mfc42.dll mlang.dll mmc.exe
mmsys.cpl mmsystem.dll mpr.dll msacm32.dll msasn1.dll msctf.dll msgina.dll
mshtml.dll mshtml.tlb msi.dll msiexec.exe msimg32.dll msls31.dll msrating.dll
mssign32.dll msv1_0.dll msvbvm60.dll msvcp60.dll msvcrt.dll msvfw32.dll
mswsock.dll msxml3.dll msxml6.dll mtxclu.dll ncobjapi.dll net.exe net1.exe
netapi32.dll netcfgx.dll netman.dll netplwiz.dll netsh.exe netshell.dll
netstat.exe newdev.dll normaliz.dll notepad.exe nslookup.exe ntdll.dll
ntdsapi.dll ntkrnlpa.exe ntlanman.dll ntmarta.dll ntoskrnl.exe ntshrui.dll
ntvdm.exe odbc32.dll ole32.dll oleacc.dll oleaut32.dll olecli32.dll
olepro32.dll perfc009.dat perfh009.dat perfmon.exe ping.exe powrprof.dll
psapi.dll query.dll rasapi32.dll rasdlg.dll rasman.dll regapi.dll
regedt32.exe regsvr32.exe riched20.dll rpcrt4.dll rpcss.dll rsaenh.dll
rundll32.exe samlib.dll samsrv.dll sc.exe scecli.dll schannel.dll
schedsvc.dll sclgntfy.dll secur32.dll services.exe setupapi.dll sfc.dll
sfc_os.dll shdocvw.dll shell32.dll shfolder.dll shimeng.dll shlwapi.dll
shutdown.exe smss.exe sort.exe spoolsv.exe srclient.dll sti.dll svchost.exe
sxs.dll syssetup.dll systeminfo.exe taskkill.exe tasklist.exe taskmgr.exe
tcpmon.dll termsrv.dll tracert.exe twext.dll ulib.dll umpnpmgr.dll
untfs.dll urlmon.dll user32.dll userenv.dll userinit.exe usp10.dll
uxtheme.dll vbscript.dll verifier.exe version.dll w32time.dll w32topl.dll
wbemcomn.dll webcheck.dll wininet.dll winlogon.exe winmm.dll winspool.drv
winsrv.dll wintrust.dll wldap32.dll wmi.dll ws2_32.dll ws2help.dll
wscript.exe wsock32.dll wtsapi32.dll wuapi.dll wuaueng.dll xcopy.exe
xpob2res.dll xpsp2res.dll zipfldr.dll
`)

// Code pages with an NLS table in a Windows system folder.
var codePages = []int{37, 437, 500, 708, 720, 737, 775, 850, 852, 855, 857,
	858, 860, 861, 862, 863, 864, 865, 866, 869, 870, 874, 875, 932, 936, 949,
	950, 1026, 1047, 1140, 1141, 1142, 1143, 1144, 1145, 1146, 1147, 1148,
	1149, 1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258, 1361, 10000,
	10001, 10002, 10003, 10004, 10005, 10006, 10007, 10008, 10010, 10017,
	10021, 10029, 10079, 10081, 10082, 20000, 20001, 20002, 20003, 20004,
	20005, 20105, 20106, 20107, 20108, 20127, 20261, 20269, 20273, 20277,
	20278, 20280, 20284, 20285, 20290, 20297, 20420, 20423, 20424, 20833,
	20838, 20866, 20871, 20880, 20905, 20924, 20932, 20936, 20949, 21025,
	21027, 21866, 28591, 28592, 28593, 28594, 28595, 28596, 28597, 28598,
	28599, 28603, 28605, 38598}

// Keyboard layout name stems (kbdXX.dll).
var keyboards = strings.Fields(`a1 a2 a3 al arme armw aze azel be belg1 bene
bhc blr br bu ca can cr cz cz1 cz2 da dv dvx fa fc fi fi1 fo fr gae geo
gkl gr gr1 hau he heb hela2 hela3 hept hu hu1 ibm02 ic ina inbe1 inbe2
inben inde1 inde2 indev ingur inkan inmal inmar inori inpun intam intel
inuk ir it it142 kaz kyr la lk41a lt lt1 lt2 lv lv1 mac maori mlt47 mlt48
mon nepr ne no no1 oghm pash pl pl1 po pro ru ru1 sf sg sl sl1 sp sw
sw09 syr1 syr2 taile tajik tat th0 th1 th2 th3 tiprc tiprd tuf tuq turme
uk ukx ur ur1 urdu us usa usl usr usx uzb vntc wol yak yba yu`)

// Stems and endings from which the rest of a system folder's names are
// made, so that it holds thousands of plausible names.
var (
	stems = strings.Fields(`acct adm app audio auth bits boot cert cfg cli
clus com crypt d3d dav dev dfs dhcp dns dsk dx evt fax font ftp gp hid
http ias icm ie ime inet ipsec kbd ks lm log mc media mig mmc mqp ms msdt
mt nat ndis net ntds nw ole pdh perf pnp print prn ras rdp reg rpc sam
scard sec sens setup sh shell slb smb snmp spool sr ssdp sti sync sys
tapi tcp term trk ts ups url usb vds vss w32 wb wbem web wia win wlan
wmi wmp ws wt wu xml`)
	middles = strings.Fields(`api cfg core ext mgr prov res svc ui util
host lib srv agent cpl hlp`)
	endings = []string{".dll", ".dll", ".dll", ".exe", ".dll", ".cpl",
		".ocx", ".tlb", ".mof", ".inf", ".dll"}
)

// systemFolderNames returns n distinct file names for a system folder:
// the well-known ones first, then code page tables and keyboard layouts,
// then plausible made-up ones.
func systemFolderNames(n int, extra ...string) []string {
	seen := map[string]bool{}
	var names []string
	add := func(s string) {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			names = append(names, s)
		}
	}
	for _, s := range extra {
		add(s)
	}
	for _, s := range systemNames {
		add(s)
	}
	for _, cp := range codePages {
		add(fmt.Sprintf("c_%d.nls", cp))
	}
	for _, k := range keyboards {
		add("kbd" + k + ".dll")
	}
	for i := 0; len(names) < n; i++ {
		s := stems[i%len(stems)]
		m := middles[(i/len(stems))%len(middles)]
		e := endings[(i*7+i/len(stems))%len(endings)]
		v := i / (len(stems) * len(middles))
		name := s + m + e
		if v > 0 {
			name = fmt.Sprintf("%s%s%d%s", s, m, 30+v, e)
		}
		add(name)
	}
	names = names[:n]
	sort.Strings(names)
	return names
}
