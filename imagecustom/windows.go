package imagecustom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// Windows describes a Windows installation found in an image, from its
// registry and files, as [Image.Windows] reports it.
type Windows struct {
	Partition int // the system volume's partition index
	// BootPartition is the partition the firmware starts Windows from:
	// on GPT the EFI system partition, on MBR the active partition (the
	// system volume itself on most installs), on a bare volume the volume;
	// 0 when the disk has none.
	BootPartition int
	SystemRoot    string // `\Windows` or `\WINNT`, from the volume's root
	// Name is the marketing name derived from the version, build and
	// installation type: "Windows XP", "Windows 11", "Windows Server 2019".
	// ProductName is what the registry says, which for Windows 11 is still
	// "Windows 10 …".
	Name             string
	ProductName      string
	EditionID        string // Professional, ServerStandard… ("" before Vista on some)
	InstallationType string // Client, Server, Server Core ("" before Vista)
	ProductType      string // WinNT (client), ServerNT, LanmanNT (domain controller)
	Major, Minor     int    // 5.1, 6.1, 10.0…
	Build            int
	ServicePack      string // CSDVersion: "Service Pack 3", "" when none
	// Family is the customization family: "win2000", "winxp", "win2003"
	// or "vista" (Vista and every later version), as sysprep render takes
	// it.
	Family string
	Arch   string // x86, amd64, ia64, arm64
	// ComputerName is the NetBIOS name of the current control set.
	ComputerName string
	// ControlSets are the SYSTEM hive's Select values; 0 when absent.
	Current, Default, Failed, LastKnownGood int
	// Dirty lists the hives read whose last write by Windows did not
	// finish and whose transaction logs were not replayed for this
	// report ("SYSTEM", "SOFTWARE").
	Dirty []string
}

// CurrentControlSet returns the name of the current control set,
// "ControlSet001", or "" when Select names none.
func (w *Windows) CurrentControlSet() string {
	if w.Current == 0 {
		return ""
	}
	return fmt.Sprintf("ControlSet%03d", w.Current)
}

// Windows finds the Windows installations of the image: on each NTFS
// volume, a system root (Windows, WINNT) holding System32\config\SYSTEM
// and SOFTWARE. It returns an error matching [ErrNoVolume] when there is
// none.
func (img *Image) Windows() ([]Windows, error) {
	var out []Windows
	var errs []error
	for _, p := range img.partitions {
		if p.FS != "ntfs" {
			continue
		}
		v, err := ntfs.Open(img.Section(p), p.Size)
		if err != nil {
			errs = append(errs, fmt.Errorf("partition %d: %w", p.Index, err))
			continue
		}
		for _, root := range systemRoots {
			if _, err := v.Stat(root + "/System32/config/SYSTEM"); err != nil {
				continue
			}
			w, err := detectWindows(v, root)
			if err != nil {
				errs = append(errs, fmt.Errorf("partition %d: %w", p.Index, err))
				continue
			}
			w.Partition = p.Index
			w.BootPartition = img.bootPartition()
			out = append(out, *w)
		}
	}
	if len(out) == 0 {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, fmt.Errorf("%w: no NTFS volume holds Windows (a System32\\config\\SYSTEM hive)", ErrNoVolume)
	}
	return out, nil
}

// espType is the GPT type GUID of an EFI system partition.
const espType = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

// bootPartition returns the index of the partition the firmware boots
// from, 0 when there is none.
func (img *Image) bootPartition() int {
	for _, p := range img.partitions {
		switch {
		case img.scheme == "gpt" && strings.EqualFold(p.Type, espType),
			img.scheme == "mbr" && p.Active,
			img.scheme == "none":
			return p.Index
		}
	}
	return 0
}

// maxHiveRead bounds a hive read from a volume for detection.
const maxHiveRead = 2 << 30

// openHive reads the hive at name on v.
func openHive(v *ntfs.Volume, name string) (*hive.Hive, error) {
	f, err := v.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	ra, ok := f.(io.ReaderAt)
	if !ok || fi.Size() > maxHiveRead {
		return nil, fmt.Errorf("%s: cannot read %d bytes", name, fi.Size())
	}
	h, err := hive.Open(ra, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return h, nil
}

// detectWindows reads the install under root.
func detectWindows(v *ntfs.Volume, root string) (*Windows, error) {
	w := &Windows{SystemRoot: `\` + root}
	if st, err := v.Stat(root); err == nil {
		w.SystemRoot = `\` + st.Name() // the name as the volume spells it
	}
	config := root + "/System32/config/"
	sys, err := openHive(v, config+"SYSTEM")
	if err != nil {
		return nil, err
	}
	if sys.Dirty() {
		w.Dirty = append(w.Dirty, "SYSTEM")
	}
	if sel, err := sys.Key("Select"); err == nil {
		w.Current = dword(sel, "Current")
		w.Default = dword(sel, "Default")
		w.Failed = dword(sel, "Failed")
		w.LastKnownGood = dword(sel, "LastKnownGood")
	}
	if set, err := sys.CurrentControlSet(); err == nil {
		control := set + `\Control\`
		w.ComputerName = str(sys, control+`ComputerName\ComputerName`, "ComputerName")
		w.ProductType = str(sys, control+"ProductOptions", "ProductType")
		w.Arch = archName(str(sys, control+`Session Manager\Environment`, "PROCESSOR_ARCHITECTURE"))
	}
	sw, err := openHive(v, config+"SOFTWARE")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if sw.Dirty() {
			w.Dirty = append(w.Dirty, "SOFTWARE")
		}
		const cv = `Microsoft\Windows NT\CurrentVersion`
		w.ProductName = str(sw, cv, "ProductName")
		w.EditionID = str(sw, cv, "EditionID")
		w.InstallationType = str(sw, cv, "InstallationType")
		w.ServicePack = str(sw, cv, "CSDVersion")
		if k, err := sw.Key(cv); err == nil {
			w.Major, w.Minor = dword(k, "CurrentMajorVersionNumber"), dword(k, "CurrentMinorVersionNumber")
		}
		if w.Major == 0 {
			// Before Windows 10: CurrentVersion "6.1". Windows 10 and later
			// keep it at "6.3" and carry the real numbers above.
			maj, min, _ := strings.Cut(str(sw, cv, "CurrentVersion"), ".")
			w.Major, _ = strconv.Atoi(maj)
			w.Minor, _ = strconv.Atoi(min)
		}
		b := str(sw, cv, "CurrentBuildNumber")
		if b == "" {
			b = str(sw, cv, "CurrentBuild")
		}
		w.Build, _ = strconv.Atoi(b)
	}
	if w.Arch == "" {
		w.Arch = peArch(v, root+"/System32/cmd.exe")
	}
	w.Name, w.Family = windowsName(w)
	return w, nil
}

// dword returns the DWORD value name of k, 0 when absent or not a DWORD.
func dword(k hive.Key, name string) int {
	v, err := k.Value(name)
	if err != nil {
		return 0
	}
	n, err := v.Uint32()
	if err != nil {
		return 0
	}
	return int(n)
}

// str returns the string value name of key path in h, "" when absent.
func str(h *hive.Hive, path, name string) string {
	k, err := h.Key(path)
	if err != nil {
		return ""
	}
	v, err := k.Value(name)
	if err != nil {
		return ""
	}
	s, err := v.String()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(s)
}

// archName maps PROCESSOR_ARCHITECTURE to this package's names.
func archName(s string) string {
	switch strings.ToUpper(s) {
	case "X86":
		return "x86"
	case "AMD64":
		return "amd64"
	case "IA64":
		return "ia64"
	case "ARM64":
		return "arm64"
	}
	return strings.ToLower(s)
}

// peArch reads the machine of the PE file at name.
func peArch(v *ntfs.Volume, name string) string {
	f, err := v.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		return ""
	}
	return peMachine(ra)
}

// peMachine returns the architecture of the PE image in ra, "" when it is
// not one or its machine is not a Windows one.
func peMachine(ra io.ReaderAt) string {
	var mz [64]byte
	if _, err := ra.ReadAt(mz[:], 0); err != nil || string(mz[:2]) != "MZ" {
		return ""
	}
	var pe [6]byte
	if _, err := ra.ReadAt(pe[:], int64(binary.LittleEndian.Uint32(mz[60:]))); err != nil || string(pe[:4]) != "PE\x00\x00" {
		return ""
	}
	switch binary.LittleEndian.Uint16(pe[4:]) {
	case 0x14c:
		return "x86"
	case 0x8664:
		return "amd64"
	case 0x200:
		return "ia64"
	case 0xaa64:
		return "arm64"
	}
	return ""
}

// windowsName derives the marketing name and the customization family
// from the version, the build and whether the install is a server.
func windowsName(w *Windows) (name, family string) {
	server := w.ProductType == "ServerNT" || w.ProductType == "LanmanNT" ||
		strings.HasPrefix(w.InstallationType, "Server") ||
		strings.Contains(w.ProductName, "Server")
	v := w.Major*10 + w.Minor
	switch {
	case v == 0:
		return w.ProductName, ""
	case v < 50:
		return "Windows NT " + strconv.Itoa(w.Major) + "." + strconv.Itoa(w.Minor), ""
	case v == 50:
		if server {
			return "Windows 2000 Server", "win2000"
		}
		return "Windows 2000", "win2000"
	case v == 51:
		return "Windows XP", "winxp"
	case v == 52:
		if server {
			return "Windows Server 2003", "win2003"
		}
		return "Windows XP x64", "win2003" // XP x64 is built on Server 2003 SP1
	}
	family = "vista"
	if server {
		switch {
		case v == 60:
			return "Windows Server 2008", family
		case v == 61:
			return "Windows Server 2008 R2", family
		case v == 62:
			return "Windows Server 2012", family
		case v == 63:
			return "Windows Server 2012 R2", family
		case w.Build >= 26100:
			return "Windows Server 2025", family
		case w.Build >= 20348:
			return "Windows Server 2022", family
		case w.Build >= 17763:
			return "Windows Server 2019", family
		case w.Build >= 14393:
			return "Windows Server 2016", family
		}
		return "Windows Server (build " + strconv.Itoa(w.Build) + ")", family
	}
	switch {
	case v == 60:
		return "Windows Vista", family
	case v == 61:
		return "Windows 7", family
	case v == 62:
		return "Windows 8", family
	case v == 63:
		return "Windows 8.1", family
	case w.Build >= 22000:
		return "Windows 11", family
	}
	return "Windows 10", family
}
