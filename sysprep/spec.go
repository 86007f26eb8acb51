package sysprep

// Spec is a customization specification: what a freshly cloned Windows
// should become on its first boot. Its parts follow vSphere's
// CustomizationSpec so that an administrator who knows that one finds the
// same names here: Identity is the Sysprep identity's userData, guiUnattended
// and licenseFilePrintData; Membership is its identification; Network is the
// nicSettingMap and globalIPSettings; RunOnce is guiRunOnce.
//
// The YAML and JSON forms use the json field names below; see [Decode].
type Spec struct {
	Identity   Identity   `json:"identity"`   // name, owner, time zone, passwords
	Membership Membership `json:"membership"` // workgroup or domain
	Network    Network    `json:"network"`    // adapters and DNS suffixes
	// RunOnce lists commands run, in order, at the first logon of a user
	// (vSphere's guiRunOnce). On Windows 2000, XP and 2003 they need an
	// automatic logon: Identity.AutoLogonCount above zero.
	RunOnce []string `json:"runOnce,omitempty"`
	// Files are placed into the image before the first boot.
	Files []File `json:"files,omitempty"`
	// RegFiles are local regedit .reg files merged into the image's
	// registry before the first boot, in order.
	RegFiles []string `json:"regFiles,omitempty"`
	// BootHook, when set, asks for a native program to run early in the
	// first boot (see the boot hook of CLI.md); nil means none.
	BootHook *BootHook `json:"bootHook,omitempty"`
	// SysprepTools is a local folder holding Microsoft's sysprep.exe and
	// setupcl.exe for Windows 2000, XP or 2003 (the user's own, from the
	// DEPLOY.CAB of the matching service pack and architecture; this
	// project ships none). The image layer copies them to \Sysprep and
	// registers setupcl.exe as "sysprep -reseal" does, so that the first
	// boot gives the clone a new machine SID. Empty: the SID stays the
	// image's (a warning). Ignored, with a warning, on Vista and later,
	// whose own sysprep generalizes.
	SysprepTools string `json:"sysprepTools,omitempty"`
	// Direct asks the image layer to apply the identity (computer name,
	// time zone, owner), the network and the Administrator password
	// straight into the image's registry and SAM, without sysprep, an
	// answer file or a setup cycle, on an image that is not generalized.
	// What an offline edit cannot do (a domain join, a product key) is
	// refused.
	Direct bool `json:"direct,omitempty"`
}

// Identity is who the machine is and who owns it.
type Identity struct {
	// ComputerName is the fixed NetBIOS name (at most 15 characters).
	// Leave it and ComputerNamePrefix empty to let Windows choose a random
	// name.
	ComputerName string `json:"computerName,omitempty"`
	// ComputerNamePrefix asks for a name made of the prefix and random
	// letters and digits (at most 11 characters, so that 4 random ones
	// follow).
	ComputerNamePrefix string `json:"computerNamePrefix,omitempty"`
	FullName           string `json:"fullName,omitempty"`   // registered owner
	OrgName            string `json:"orgName,omitempty"`    // registered organisation
	ProductKey         string `json:"productKey,omitempty"` // XXXXX-XXXXX-XXXXX-XXXXX-XXXXX
	// TimeZone is the Windows time zone by its registry name, such as
	// "Pacific Standard Time"; the legacy index of sysprep.inf is derived
	// from it (see [TimeZoneIndex]). Empty keeps the image's.
	TimeZone string `json:"timeZone,omitempty"`
	// AdminPassword is the local Administrator's new password; nil leaves
	// it unchanged.
	AdminPassword *Password `json:"adminPassword,omitempty"`
	// AutoLogonCount is how many times Administrator logs on
	// automatically after setup; 0 disables automatic logon.
	AutoLogonCount int `json:"autoLogonCount,omitempty"`
	// LicenseMode is the client licence mode of Windows 2000 and 2003
	// servers: "perServer" or "perSeat"; empty for any other system.
	LicenseMode string `json:"licenseMode,omitempty"`
	// LicenseUsers is the number of concurrent connections bought, for
	// the perServer mode.
	LicenseUsers int `json:"licenseUsers,omitempty"`
}

// Password is a password given either in plain text or already encoded
// the way the target system's answer file expects it: for Vista and later
// the base64 form of unattend.xml (see [EncodePassword]), for Windows 2000,
// XP and 2003 the hash Setup Manager writes with
// EncryptedAdminPassword=Yes. Exactly one of the two is set.
type Password struct {
	Plain   string `json:"plain,omitempty"`   // the password itself
	Encoded string `json:"encoded,omitempty"` // as the answer file stores it
}

// Membership says which workgroup or domain the machine joins. At most
// one of Workgroup, Domain and OfflineJoinBlob is set; none means the
// default workgroup.
type Membership struct {
	Workgroup string `json:"workgroup,omitempty"` // the workgroup to join, NetBIOS rules
	// Domain is the DNS or NetBIOS name of the domain to join, with the
	// account DomainUser (user, DOMAIN\user or user@domain) and its
	// password.
	Domain         string    `json:"domain,omitempty"`
	DomainUser     string    `json:"domainUser,omitempty"`
	DomainPassword *Password `json:"domainPassword,omitempty"`
	// OU is the distinguished name of the organisational unit that
	// receives the computer account, such as "OU=Web,DC=example,DC=com";
	// empty for the default container.
	OU string `json:"ou,omitempty"`
	// OfflineJoinBlob is the base64 provisioning data of djoin.exe
	// /provision (Windows 7 and Server 2008 R2 or later): the machine
	// joins without reaching a domain controller at boot.
	OfflineJoinBlob string `json:"offlineJoinBlob,omitempty"`
}

// Network is the TCP/IP configuration.
type Network struct {
	Adapters []Adapter `json:"adapters,omitempty"` // each matched by MAC address
	// DNSSuffixes is the global DNS suffix search list.
	DNSSuffixes []string `json:"dnsSuffixes,omitempty"`
}

// Adapter configures the network adapter with the given MAC address.
type Adapter struct {
	MAC string `json:"mac"` // 00:50:56:9a:0b:0c or 00-50-56-9A-0B-0C
	// IPv4 is "dhcp" (or empty) for DHCP, else the static address and
	// prefix length, "192.0.2.10/24".
	IPv4       string   `json:"ipv4,omitempty"`
	Gateways   []string `json:"gateways,omitempty"`   // static only, inside the subnet
	DNSServers []string `json:"dnsServers,omitempty"` // in order of preference
	DNSDomain  string   `json:"dnsDomain,omitempty"`  // the adapter's DNS suffix
	WINS       []string `json:"wins,omitempty"`       // primary and secondary
	// NetBIOS is "dhcp" (the default: as the DHCP server says), "enabled"
	// or "disabled": NetBIOS over TCP/IP.
	NetBIOS string `json:"netBIOS,omitempty"`
	// IPv6 lists static IPv6 addresses with prefix length,
	// "2001:db8::10/64" (Vista and later).
	IPv6         []string `json:"ipv6,omitempty"`
	IPv6Gateways []string `json:"ipv6Gateways,omitempty"` // IPv6 default gateways
}

// Static reports whether the adapter has a static IPv4 address.
func (a *Adapter) Static() bool {
	return a.IPv4 != "" && a.IPv4 != "dhcp"
}

// File is a file to place in the image: a local file (Source) or inline
// text (Content), written to Path, a path in the Windows volume such as
// `\Windows\Setup\Scripts\extra.cmd`.
type File struct {
	Path    string `json:"path"`              // the target path in the volume
	Source  string `json:"source,omitempty"`  // a local file to copy
	Content string `json:"content,omitempty"` // or the file's text
}

// BootHook names a native program to run at boot before Windows starts,
// installed by the image layer: either Exe, a native PE of the user's (with
// its Data file), or Actions, an action list for the project's built-in
// hook (the text format of package imagecustom/boothook, parsed by the
// image layer). Exactly one of Exe and Actions is set.
type BootHook struct {
	Exe     string `json:"exe,omitempty"`     // local path of the native PE
	Data    string `json:"data,omitempty"`    // local path of its data file
	Actions string `json:"actions,omitempty"` // or the built-in hook's action list, as text
	Method  string `json:"method,omitempty"`  // "autochk" (default) or "bootexecute"
}
