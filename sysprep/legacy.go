package sysprep

import (
	"fmt"
	"strconv"
)

// Target paths of the Windows 2000–2003 artifacts, relative to the
// volume root; scripts go under the system root (see [Options]).
const (
	SysprepInfPath  = `\Sysprep\sysprep.inf`
	CmdlinesTxtPath = `\Sysprep\i386\$OEM$\cmdlines.txt`
)

// legacy renders Windows 2000, XP and 2003: sysprep.inf for mini-setup,
// cmdlines.txt to run the scripts at its end, setnet.vbs, joindom.vbs
// and final.cmd, and the SYSTEM\Setup values that make mini-setup run on
// the next boot.
func (r *rendering) legacy() error {
	spec, f := r.spec, r.opts.Family
	id, m := &spec.Identity, &spec.Membership
	dir := r.scriptDir()
	deferred := r.deferJoin()
	netScript := len(spec.Network.DNSSuffixes) > 0
	for i := range spec.Network.Adapters {
		netScript = netScript || configured(&spec.Network.Adapters[i])
	}

	var inf iniFile
	inf.comment("sysprep.inf, written by imagecustom for " + f.String() + ".")
	inf.section("Unattended")
	inf.key("OemSkipEula", "Yes")
	inf.key("InstallFilesPath", `%SystemDrive%\Sysprep\i386`)

	inf.section("GuiUnattended")
	if p := id.AdminPassword; p != nil {
		if p.Encoded != "" {
			inf.key("EncryptedAdminPassword", "Yes")
			inf.quoted("AdminPassword", p.Encoded)
		} else {
			inf.quoted("AdminPassword", p.Plain)
		}
	}
	if id.AutoLogonCount > 0 {
		inf.key("AutoLogon", "Yes")
		inf.key("AutoLogonCount", strconv.Itoa(id.AutoLogonCount))
	}
	inf.key("OEMSkipRegional", "1")
	inf.key("OemSkipWelcome", "1")
	if id.TimeZone != "" {
		idx, _ := TimeZoneIndex(id.TimeZone)
		inf.key("TimeZone", fmt.Sprintf("%03d", idx))
	}

	inf.section("UserData")
	inf.quoted("FullName", id.FullName)
	inf.quoted("OrgName", id.OrgName)
	inf.key("ComputerName", r.res.ComputerName)
	if id.ProductKey != "" {
		if f == Win2000 {
			inf.key("ProductID", id.ProductKey)
		} else {
			inf.key("ProductKey", id.ProductKey)
		}
	}

	if id.LicenseMode != "" && (f == Win2000 || f == Win2003) {
		inf.section("LicenseFilePrintData")
		if id.LicenseMode == "perServer" {
			inf.key("AutoMode", "PerServer")
			inf.key("AutoUsers", strconv.Itoa(id.LicenseUsers))
		} else {
			inf.key("AutoMode", "PerSeat")
		}
	}

	inf.section("Identification")
	workgroup := m.Workgroup
	switch {
	case m.Domain != "" && !deferred:
		inf.key("JoinDomain", m.Domain)
		inf.key("DomainAdmin", m.DomainUser)
		inf.quoted("DomainAdminPassword", m.DomainPassword.Plain)
		if m.OU != "" {
			inf.quoted("MachineObjectOU", m.OU)
		}
	case workgroup == "":
		workgroup = "WORKGROUP"
		fallthrough
	default:
		inf.key("JoinWorkgroup", workgroup)
	}

	inf.section("Networking")
	inf.key("InstallDefaultComponents", "Yes")

	if len(spec.RunOnce) > 0 {
		inf.section("GuiRunOnce")
		for i, c := range spec.RunOnce {
			inf.quoted("Command"+strconv.Itoa(i), c)
		}
	}
	infData, err := ansi(inf.String())
	if err != nil {
		return fmt.Errorf("sysprep: sysprep.inf: %w", err)
	}

	// The plan, in the order mini-setup runs it.
	r.step(StepIdentity, PhaseMiniSetup, SysprepInfPath, "computer name %s", r.res.ComputerName)
	if id.AdminPassword != nil {
		r.step(StepAdminPassword, PhaseMiniSetup, SysprepInfPath, "automatic logons: %d", id.AutoLogonCount)
	}
	switch {
	case m.Domain != "" && !deferred:
		r.step(StepJoinDomain, PhaseMiniSetup, SysprepInfPath, "%s (no adapter needs configuring first)", m.Domain)
	case m.Domain != "":
		r.step(StepJoinWorkgroup, PhaseMiniSetup, SysprepInfPath, "%s, until the domain join after the network", workgroup)
	default:
		r.step(StepJoinWorkgroup, PhaseMiniSetup, SysprepInfPath, "%s", workgroup)
	}

	var cmd iniFile
	cmd.section("Commands")
	run := func(script string) string {
		// cmd.exe expands %SystemRoot%; the whole line is quoted as
		// cmdlines.txt wants.
		return `"cmd.exe /c cscript.exe //nologo ` + "%SystemRoot%" + `\imagecustom\` + script + `"`
	}
	var scripts [][2]string // target path, text
	if netScript {
		cmd.line(run("setnet.vbs"))
		scripts = append(scripts, [2]string{dir + `\setnet.vbs`, setnetVBS(&spec.Network)})
		for i := range spec.Network.Adapters {
			a := &spec.Network.Adapters[i]
			r.step(StepNetwork, PhaseCmdlines, dir+`\setnet.vbs`, "%s", adapterDetail(a))
		}
	}
	if deferred {
		cmd.line(run("joindom.vbs"))
		scripts = append(scripts, [2]string{dir + `\joindom.vbs`, joindomVBS(spec, f)})
		how := "WMI JoinDomainOrWorkgroup"
		if f == Win2000 {
			how = "netdom.exe"
		}
		r.step(StepJoinDomain, PhaseCmdlines, dir+`\joindom.vbs`, "%s by %s, after waiting for every static address", m.Domain, how)
	}
	cmd.line(`"cmd.exe /c %SystemRoot%\imagecustom\final.cmd"`)
	scripts = append(scripts, [2]string{dir + `\final.cmd`, finalCmd([]string{`%SystemDrive%\Sysprep\sysprep.inf`}, `%SystemRoot%\imagecustom`)})
	r.step(StepCleanup, PhaseCmdlines, dir+`\final.cmd`, "removes sysprep.inf and the scripts")
	for i, c := range spec.RunOnce {
		r.step(StepRunOnce, PhaseFirstLogon, SysprepInfPath, "Command%d: %s", i, c)
	}

	cmdData, err := ansi(cmd.String())
	if err != nil {
		return fmt.Errorf("sysprep: cmdlines.txt: %w", err)
	}
	r.addFile(SysprepInfPath, infData)
	r.addFile(CmdlinesTxtPath, cmdData)
	for _, s := range scripts {
		data, err := ansi(s[1])
		if err != nil {
			return fmt.Errorf("sysprep: %s: %w", s[0], err)
		}
		r.addFile(s[0], data)
	}

	// Mini-setup runs at the next boot when SYSTEM\Setup says so, as
	// "sysprep -reseal -mini" leaves it.
	const setup = `HKLM\SYSTEM\Setup`
	r.res.Registry = append(r.res.Registry,
		RegValue{Key: setup, Name: "SetupType", Type: RegDWORD, DWord: 1},
		RegValue{Key: setup, Name: "SystemSetupInProgress", Type: RegDWORD, DWord: 1},
		RegValue{Key: setup, Name: "MiniSetupInProgress", Type: RegDWORD, DWord: 1},
		RegValue{Key: setup, Name: "CmdLine", Type: RegSZ, String: "setup -newsetup -mini"},
	)
	return nil
}
