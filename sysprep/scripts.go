package sysprep

import (
	"fmt"
	"net/netip"
	"strings"
)

// vbsString quotes s as a VBScript string literal. Validate keeps line
// breaks out; a quote is doubled, which is how VBScript escapes it.
func vbsString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// vbsArray writes Array("a", "b").
func vbsArray(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = vbsString(s)
	}
	return "Array(" + strings.Join(q, ", ") + ")"
}

// prefixMask returns the dotted subnet mask of an IPv4 prefix length.
func prefixMask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return fmt.Sprintf("%d.%d.%d.%d", m>>24, m>>16&0xff, m>>8&0xff, m&0xff)
}

// vbsCommon is shared by the VBScript files: find an adapter by MAC
// through WMI, waiting for its driver, and wait for an address to be in
// effect on it.
const vbsCommon = `
Dim wmi
Set wmi = GetObject("winmgmts:{impersonationLevel=impersonate}!\\.\root\cimv2")

' FindAdapter returns the IP-enabled configuration of the adapter with
' the MAC address mac (as WMI writes it, 00:50:56:9A:0B:0C), waiting up to
' timeout seconds for its driver to come up, or Nothing.
Function FindAdapter(mac, timeout)
	Dim waited, items, item
	Set FindAdapter = Nothing
	For waited = 0 To timeout Step 2
		Set items = wmi.ExecQuery("SELECT * FROM Win32_NetworkAdapterConfiguration WHERE IPEnabled = TRUE")
		For Each item In items
			If UCase(item.MACAddress) = mac Then
				Set FindAdapter = item
				Exit Function
			End If
		Next
		WScript.Sleep 2000
	Next
End Function

' HasAddress reports whether the adapter with MAC mac has the IPv4
' address addr in effect.
Function HasAddress(mac, addr)
	Dim nic, a
	HasAddress = False
	Set nic = FindAdapter(mac, 0)
	If nic Is Nothing Then Exit Function
	If IsNull(nic.IPAddress) Then Exit Function
	For Each a In nic.IPAddress
		If a = addr Then HasAddress = True
	Next
End Function

' WaitForAddress waits up to timeout seconds for addr on mac.
Function WaitForAddress(mac, addr, timeout)
	Dim waited
	WaitForAddress = False
	For waited = 0 To timeout Step 2
		If HasAddress(mac, addr) Then
			WaitForAddress = True
			Exit Function
		End If
		WScript.Sleep 2000
	Next
End Function
`

// setnetVBS renders setnet.vbs: every adapter of the spec, found by MAC,
// gets its configuration through WMI's Win32_NetworkAdapterConfiguration
// (Windows 2000 and later), and the script waits until each static
// address is in effect. It exits non-zero if any adapter failed.
func setnetVBS(n *Network) string {
	var b strings.Builder
	b.WriteString("' setnet.vbs, written by imagecustom: configures the network adapters by MAC address.\n")
	b.WriteString("' Runs before the domain join, which needs the addresses set here.\n")
	b.WriteString("Option Explicit\n")
	b.WriteString(vbsCommon)
	b.WriteString(`
Dim failed
failed = 0

Sub Check(what, rc)
	' 0 is success, 1 success after a restart.
	If rc <> 0 And rc <> 1 Then
		WScript.Echo what & " failed: " & rc
		failed = failed + 1
	End If
End Sub

Sub Configure(mac, addr, mask, gateways, dns, domain, wins1, wins2, netbios)
	Dim nic
	Set nic = FindAdapter(mac, 300)
	If nic Is Nothing Then
		WScript.Echo "no adapter with MAC " & mac
		failed = failed + 1
		Exit Sub
	End If
	If addr = "" Then
		Check mac & " EnableDHCP", nic.EnableDHCP()
	Else
		Check mac & " EnableStatic", nic.EnableStatic(Array(addr), Array(mask))
		If UBound(gateways) >= 0 Then Check mac & " SetGateways", nic.SetGateways(gateways)
	End If
	If UBound(dns) >= 0 Then Check mac & " SetDNSServerSearchOrder", nic.SetDNSServerSearchOrder(dns)
	If domain <> "" Then Check mac & " SetDNSDomain", nic.SetDNSDomain(domain)
	If wins1 <> "" Then Check mac & " SetWINSServer", nic.SetWINSServer(wins1, wins2)
	If netbios >= 0 Then Check mac & " SetTcpipNetbios", nic.SetTcpipNetbios(netbios)
	If addr <> "" Then
		If Not WaitForAddress(mac, addr, 120) Then
			WScript.Echo mac & ": address " & addr & " not in effect"
			failed = failed + 1
		End If
	End If
End Sub

`)
	for i := range n.Adapters {
		a := &n.Adapters[i]
		addr, mask := "", ""
		if a.Static() {
			p := netip.MustParsePrefix(a.IPv4)
			addr, mask = p.Addr().String(), prefixMask(p.Bits())
		}
		wins1, wins2 := "", ""
		if len(a.WINS) > 0 {
			wins1 = a.WINS[0]
		}
		if len(a.WINS) > 1 {
			wins2 = a.WINS[1]
		}
		netbios := map[string]int{"": -1, "dhcp": 0, "enabled": 1, "disabled": 2}[a.NetBIOS]
		fmt.Fprintf(&b, "' network.adapters[%d]\n", i)
		fmt.Fprintf(&b, "Configure %s, %s, %s, %s, %s, %s, %s, %s, %d\n",
			vbsString(macColons(a.MAC)), vbsString(addr), vbsString(mask), vbsArray(a.Gateways), vbsArray(a.DNSServers),
			vbsString(a.DNSDomain), vbsString(wins1), vbsString(wins2), netbios)
	}
	if len(n.DNSSuffixes) > 0 {
		fmt.Fprintf(&b, "Check \"SetDNSSuffixSearchOrder\", wmi.Get(\"Win32_NetworkAdapterConfiguration\").SetDNSSuffixSearchOrder(%s)\n", vbsArray(n.DNSSuffixes))
	}
	b.WriteString("WScript.Quit failed\n")
	return b.String()
}

// joindomVBS renders joindom.vbs: wait until every static address is in
// effect, then join the domain, retrying while the domain controller is
// not reachable yet. On Windows 2000, which lacks WMI's
// JoinDomainOrWorkgroup, it runs netdom.exe (Support Tools) instead.
func joindomVBS(spec *Spec, f Family) string {
	m := &spec.Membership
	var b strings.Builder
	b.WriteString("' joindom.vbs, written by imagecustom: joins the domain once the network is configured.\n")
	b.WriteString("Option Explicit\n")
	b.WriteString(vbsCommon)
	b.WriteString("\nDim ok, attempt, rc\nok = True\n")
	for i := range spec.Network.Adapters {
		a := &spec.Network.Adapters[i]
		if !a.Static() {
			continue
		}
		addr := netip.MustParsePrefix(a.IPv4).Addr().String()
		fmt.Fprintf(&b, "' network.adapters[%d] must have its address before the join.\n", i)
		fmt.Fprintf(&b, "If Not WaitForAddress(%s, %s, 600) Then ok = False\n", vbsString(macColons(a.MAC)), vbsString(addr))
	}
	b.WriteString(`If Not ok Then
	WScript.Echo "static addresses not in effect: not joining the domain"
	WScript.Quit 2
End If
`)
	if f == Win2000 {
		cmd := "netdom.exe join %COMPUTERNAME% /domain:" + m.Domain + " /userd:" + m.DomainUser + ` /passwordd:"` + m.DomainPassword.Plain + `"`
		if m.OU != "" {
			cmd += ` /ou:"` + m.OU + `"`
		}
		fmt.Fprintf(&b, `Dim sh
Set sh = CreateObject("WScript.Shell")
For attempt = 1 To 10
	rc = sh.Run("cmd.exe /c " & %s, 0, True)
	If rc = 0 Then WScript.Quit 0
	WScript.Sleep 30000
Next
WScript.Quit rc
`, vbsString(cmd))
		return b.String()
	}
	ou := "Null"
	if m.OU != "" {
		ou = vbsString(m.OU)
	}
	// 1 JOIN_DOMAIN + 2 ACCT_CREATE; 2224 is "account exists", retried
	// without ACCT_CREATE.
	fmt.Fprintf(&b, `Dim cs
For Each cs In wmi.InstancesOf("Win32_ComputerSystem")
	For attempt = 1 To 10
		rc = cs.JoinDomainOrWorkgroup(%s, %s, %s, %s, 3)
		If rc = 2224 Then rc = cs.JoinDomainOrWorkgroup(%s, %s, %s, Null, 1)
		If rc = 0 Then WScript.Quit 0
		WScript.Sleep 30000
	Next
Next
WScript.Echo "JoinDomainOrWorkgroup failed: " & rc
WScript.Quit rc
`, vbsString(m.Domain), vbsString(m.DomainPassword.Plain), vbsString(m.DomainUser), ou,
		vbsString(m.Domain), vbsString(m.DomainPassword.Plain), vbsString(m.DomainUser))
	return b.String()
}

// finalCmd renders final.cmd, the clean-up: it removes the files that
// hold passwords, then the script folder itself.
func finalCmd(remove []string, dir string) string {
	var b strings.Builder
	b.WriteString("@echo off\n")
	b.WriteString("rem final.cmd, written by imagecustom: removes the customization files, which hold passwords.\n")
	for _, p := range remove {
		fmt.Fprintf(&b, "if exist \"%s\" del /f /q \"%s\"\n", p, p)
	}
	fmt.Fprintf(&b, "rd /s /q \"%s\"\n", dir)
	return b.String()
}
