' setnet.vbs, written by imagecustom: configures the network adapters by MAC address.
' Runs before the domain join, which needs the addresses set here.
Option Explicit

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

' network.adapters[0]
Configure "00:0C:29:00:00:01", "10.20.30.40", "255.255.0.0", Array("10.20.0.1"), Array("10.20.0.53"), "", "10.20.0.21", "10.20.0.22", -1
WScript.Quit failed
