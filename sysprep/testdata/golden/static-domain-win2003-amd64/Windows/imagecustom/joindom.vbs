' joindom.vbs, written by imagecustom: joins the domain once the network is configured.
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

Dim ok, attempt, rc
ok = True
' network.adapters[0] must have its address before the join.
If Not WaitForAddress("00:50:56:9A:0B:0C", "192.0.2.10", 600) Then ok = False
' network.adapters[1] must have its address before the join.
If Not WaitForAddress("00:50:56:9A:0B:0D", "198.51.100.10", 600) Then ok = False
If Not ok Then
	WScript.Echo "static addresses not in effect: not joining the domain"
	WScript.Quit 2
End If
Dim cs
For Each cs In wmi.InstancesOf("Win32_ComputerSystem")
	For attempt = 1 To 10
		rc = cs.JoinDomainOrWorkgroup("corp.example.com", "J0in-me", "CORP\joiner", "OU=Web,DC=corp,DC=example,DC=com", 3)
		If rc = 2224 Then rc = cs.JoinDomainOrWorkgroup("corp.example.com", "J0in-me", "CORP\joiner", Null, 1)
		If rc = 0 Then WScript.Quit 0
		WScript.Sleep 30000
	Next
Next
WScript.Echo "JoinDomainOrWorkgroup failed: " & rc
WScript.Quit rc
