package imagecustom

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/imagecustom/go-imagecustom/hive"
)

// ErrInvalid reports a setting that Windows would not accept: a computer
// name breaking the NetBIOS and DNS rules, a malformed address, a zone
// or adapter the image does not know. Nothing was changed.
var ErrInvalid = errors.New("imagecustom: invalid setting")

// Edit is one registry value a direct setting wrote (or, on a dry run,
// would write): what the plan of a command shows.
type Edit struct {
	Key   string `json:"key"`           // full key path: HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\...
	Value string `json:"value"`         // value name; "" for the default value
	Type  string `json:"type"`          // REG_SZ, REG_DWORD...
	Old   string `json:"old,omitempty"` // the data before, as text; "" when the value was absent
	New   string `json:"new"`           // the data written, as text; "(deleted)" for a deletion

	typ     hive.ValueType
	raw     []byte
	deleted bool
	secret  bool // raw holds a password hash
}

// editor writes values and records them as Edits.
type editor struct {
	edits []Edit
}

// set writes value name of key k (whose full path is path) unless it
// already holds exactly data.
func (e *editor) set(k hive.Key, path, name string, typ hive.ValueType, data []byte) error {
	var old string
	if v, err := k.Value(name); err == nil {
		if b, err := v.Data(); err == nil && v.Type() == typ && string(b) == string(data) {
			return nil
		}
		old = valueText(v.Type(), mustData(v))
	}
	if err := k.SetValue(name, typ, data); err != nil {
		return fmt.Errorf("%s\\%s: %w", path, name, err)
	}
	e.edits = append(e.edits, Edit{Key: path, Value: name, Type: typ.String(), Old: old, New: valueText(typ, data), typ: typ, raw: data})
	return nil
}

// del deletes value name of k when it exists.
func (e *editor) del(k hive.Key, path, name string) error {
	v, err := k.Value(name)
	if err != nil {
		return nil
	}
	old := valueText(v.Type(), mustData(v))
	if err := k.DeleteValue(name); err != nil {
		return fmt.Errorf("%s\\%s: %w", path, name, err)
	}
	e.edits = append(e.edits, Edit{Key: path, Value: name, Type: v.Type().String(), Old: old, New: "(deleted)", deleted: true})
	return nil
}

func mustData(v hive.Value) []byte {
	b, _ := v.Data()
	return b
}

// valueText renders value data for an Edit: strings as text, lists
// joined by " | ", numbers in decimal, anything else in hex.
func valueText(typ hive.ValueType, b []byte) string {
	switch typ {
	case hive.String, hive.ExpandString:
		return decodeUTF16z(b)
	case hive.MultiString:
		return strings.Join(decodeMulti(b), " | ")
	case hive.DWord:
		if len(b) == 4 {
			return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b)), 10)
		}
	case hive.QWord:
		if len(b) == 8 {
			return strconv.FormatUint(binary.LittleEndian.Uint64(b), 10)
		}
	}
	return fmt.Sprintf("%x", b)
}

// decodeUTF16z decodes UTF-16LE up to the first NUL.
func decodeUTF16z(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// decodeMulti decodes a REG_MULTI_SZ.
func decodeMulti(b []byte) []string {
	var out []string
	var cur []uint16
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c != 0 {
			cur = append(cur, c)
			continue
		}
		if len(cur) == 0 {
			break
		}
		out = append(out, string(utf16.Decode(cur)))
		cur = cur[:0]
	}
	if len(cur) > 0 {
		out = append(out, string(utf16.Decode(cur)))
	}
	return out
}

// bootSets returns the keys key (a path under HKLM\SYSTEM\CurrentControlSet)
// stands for in every control set that boots, with their full paths,
// creating them when create is set. A control set missing the key is
// skipped when create is not set.
func bootSets(reg *Registry, key string, create bool) ([]hive.Key, []string, error) {
	ts, err := reg.Targets(`HKLM\SYSTEM\CurrentControlSet\` + key)
	if err != nil {
		return nil, nil, err
	}
	var keys []hive.Key
	var paths []string
	for _, t := range ts {
		var k hive.Key
		if create {
			k, err = t.Hive.CreateKey(t.Path)
		} else {
			k, err = t.Hive.Key(t.Path)
			if errors.Is(err, hive.ErrNotFound) {
				continue
			}
		}
		if err != nil {
			return nil, nil, fmt.Errorf(`HKLM\SYSTEM\%s: %w`, t.Path, err)
		}
		keys = append(keys, k)
		paths = append(paths, reg.rootName(t.Hive)+`\`+t.Path)
	}
	return keys, paths, nil
}

// CheckHostname reports whether name can be a Windows computer name: 1 to
// 15 characters (the NetBIOS limit; longer names are truncated by
// NetBIOS and refused by Setup), ASCII letters, digits and hyphens only
// (the DNS host label rules of RFC 1123, which also keep it clear of the
// characters NetBIOS forbids: \ / : * ? " < > | and the ones DNS does:
// , ~ ! @ # $ % ^ & ' . ( ) { } _ and space), not starting or ending with
// a hyphen, and not all digits (Microsoft KB 909264, "Naming conventions
// in Active Directory for computers, domains, sites, and OUs"). The
// error matches [ErrInvalid].
func CheckHostname(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty computer name", ErrInvalid)
	case len(name) > 15:
		return fmt.Errorf("%w: computer name %q has %d characters; NetBIOS allows 15", ErrInvalid, name, len(name))
	case name[0] == '-' || name[len(name)-1] == '-':
		return fmt.Errorf("%w: computer name %q starts or ends with a hyphen", ErrInvalid, name)
	}
	digits := true
	for _, c := range name {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
			digits = false
		default:
			return fmt.Errorf("%w: computer name %q: %q is not allowed (letters, digits and hyphens only)", ErrInvalid, name, c)
		}
	}
	if digits {
		return fmt.Errorf("%w: computer name %q is all digits", ErrInvalid, name)
	}
	return nil
}

// SetHostname gives the install the computer name name, in memory (the
// caller saves reg with [Registry.Save] and commits the image), in every
// place Windows reads it at boot, in each control set that boots
// ([Registry.Targets]: Select's Current and Default):
//
//   - Control\ComputerName\ComputerName\ComputerName: the NetBIOS name,
//     upper-cased as Windows stores it;
//   - Control\ComputerName\ActiveComputerName\ComputerName, only where the
//     key exists (Windows makes it volatile at boot: offline hives
//     normally lack it);
//   - Services\Tcpip\Parameters "NV Hostname" (the name set for the next
//     boot) and "Hostname" (the one in use, which libguestfs's
//     inspection reads: daemon/inspect_fs_windows.ml), in the case given;
//
// and in SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon,
// DefaultDomainName and AltDefaultDomainName where they held the old
// name (the logon screen's default domain on a workgroup machine). The
// name is checked first by [CheckHostname]. It returns the values
// changed.
func SetHostname(reg *Registry, w *Windows, name string) ([]Edit, error) {
	if err := CheckHostname(name); err != nil {
		return nil, err
	}
	netbios := strings.ToUpper(name)
	var e editor
	keys, paths, err := bootSets(reg, `Control\ComputerName\ComputerName`, true)
	if err != nil {
		return nil, err
	}
	var old []string
	for i, k := range keys {
		if v, err := k.Value("ComputerName"); err == nil {
			if s, err := v.String(); err == nil && s != "" {
				old = append(old, s)
			}
		}
		if err := e.set(k, paths[i], "ComputerName", hive.String, hive.EncodeString(netbios)); err != nil {
			return nil, err
		}
	}
	keys, paths, err = bootSets(reg, `Control\ComputerName\ActiveComputerName`, false)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if err := e.set(k, paths[i], "ComputerName", hive.String, hive.EncodeString(netbios)); err != nil {
			return nil, err
		}
	}
	keys, paths, err = bootSets(reg, `Services\Tcpip\Parameters`, true)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		for _, v := range []string{"Hostname", "NV Hostname"} {
			if err := e.set(k, paths[i], v, hive.String, hive.EncodeString(name)); err != nil {
				return nil, err
			}
		}
	}
	if w != nil && w.ComputerName != "" {
		old = append(old, w.ComputerName)
	}
	const winlogon = `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon`
	if k, err := reg.Key(winlogon); err == nil {
		for _, v := range []string{"DefaultDomainName", "AltDefaultDomainName"} {
			val, err := k.Value(v)
			if err != nil {
				continue
			}
			s, err := val.String()
			if err != nil {
				continue
			}
			for _, o := range old {
				if strings.EqualFold(s, o) {
					if err := e.set(k, winlogon, v, hive.String, hive.EncodeString(netbios)); err != nil {
						return nil, err
					}
					break
				}
			}
		}
	} else if !errors.Is(err, hive.ErrNotFound) && !errors.Is(err, ErrNoHive) {
		return nil, err
	}
	return e.edits, nil
}

// timeZonesKey holds the zones an install knows, in its SOFTWARE hive.
const timeZonesKey = `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time Zones`

// TimeZones returns the registry names of the time zones the install
// knows (the subkeys of SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time
// Zones), sorted.
func TimeZones(reg *Registry) ([]string, error) {
	k, err := reg.Key(timeZonesKey)
	if err != nil {
		return nil, err
	}
	subs, err := k.Subkeys()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(subs))
	for _, s := range subs {
		names = append(names, s.Name())
	}
	sort.Strings(names)
	return names, nil
}

// tzi is the REG_TZI_FORMAT of a Time Zones key's TZI value (KB 115231):
// three LONG biases and two SYSTEMTIMEs.
type tzi struct {
	bias, stdBias, dltBias int32
	std, dlt               [8]uint16 // SYSTEMTIME: year, month, day of week, day, hour, minute, second, ms
}

func parseTZI(b []byte) (tzi, error) {
	var z tzi
	if len(b) != 44 {
		return z, fmt.Errorf("TZI of %d bytes, want 44", len(b))
	}
	z.bias = int32(binary.LittleEndian.Uint32(b))
	z.stdBias = int32(binary.LittleEndian.Uint32(b[4:]))
	z.dltBias = int32(binary.LittleEndian.Uint32(b[8:]))
	for i := range 8 {
		z.std[i] = binary.LittleEndian.Uint16(b[12+2*i:])
		z.dlt[i] = binary.LittleEndian.Uint16(b[28+2*i:])
	}
	return z, nil
}

// timeFields converts a SYSTEMTIME to the kernel's TIME_FIELDS, the
// layout of TimeZoneInformation's StandardStart and DaylightStart: year,
// month, day, hour, minute, second, milliseconds, weekday. The kernel's
// RtlSetTimeZoneInformation stores RTL_TIME_ZONE_INFORMATION's TIME_FIELDS
// (ReactOS sdk/lib/rtl/timezone.c; ReactOS syssetup's SetRegTimeFields),
// and the real Windows 7 SYSTEM hive in testdata/real/hives holds exactly
// that: Eastern's "first Sunday of November, 2:00" as 0,11,1,2,0,0,0,0.
func timeFields(st [8]uint16) []byte {
	tf := [8]uint16{st[0], st[1], st[3], st[4], st[5], st[6], st[7], st[2]}
	b := make([]byte, 16)
	for i, v := range tf {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// TimeZoneOptions tunes [SetTimeZone].
type TimeZoneOptions struct {
	// Now is the moment ActiveTimeBias is computed for (the bias in force
	// then, daylight or standard) and whose year picks the zone's Dynamic
	// DST rule; zero means time.Now(). Windows recomputes ActiveTimeBias
	// itself when it boots.
	Now time.Time
}

// SetTimeZone sets the install's time zone to zone, a key name under the
// image's own SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time Zones
// ("Pacific Standard Time"; case does not matter), in memory (the caller
// saves and commits). It writes Control\TimeZoneInformation in every
// control set that boots as Windows' RtlSetTimeZoneInformation does, in
// its order: Bias, StandardName, StandardBias, StandardStart,
// DaylightName, DaylightBias, DaylightStart, and on Vista and later
// TimeZoneKeyName and DynamicDaylightTimeDisabled (0); then
// ActiveTimeBias, which the kernel keeps. The biases and transition dates
// come from the zone's TZI, or from its Dynamic DST entry for the year of
// [TimeZoneOptions.Now] when it has one (Vista and later); the dates are
// stored as TIME_FIELDS (see timeFields). The names are the zone's
// MUI_Std and MUI_Dlt ("@tzres.dll,-112") on Vista and later, as Windows
// writes them there, else its Std and Dlt text. An unknown zone is an
// error matching [ErrInvalid] that lists the nearest names.
func SetTimeZone(reg *Registry, w *Windows, zone string, opts *TimeZoneOptions) ([]Edit, error) {
	now := time.Now()
	if opts != nil && !opts.Now.IsZero() {
		now = opts.Now
	}
	zones, err := TimeZones(reg)
	if err != nil {
		return nil, fmt.Errorf("the image's time zone list: %w", err)
	}
	name := ""
	for _, z := range zones {
		if strings.EqualFold(z, strings.TrimSpace(zone)) {
			name = z
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%w: the image knows no time zone %q; nearest: %s", ErrInvalid, zone, strings.Join(nearZones(zone, zones, 5), ", "))
	}
	zk, err := reg.Key(timeZonesKey + `\` + name)
	if err != nil {
		return nil, err
	}
	vista := w == nil || w.Major >= 6
	raw, err := zoneValue(zk, "TZI")
	if err != nil {
		return nil, fmt.Errorf("time zone %s: %w", name, err)
	}
	z, err := parseTZI(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: time zone %s: %w", ErrInvalid, name, err)
	}
	if vista {
		if d, err := dynamicTZI(zk, now.Year()); err == nil {
			z = d
		}
	}
	stdName, dltName := zoneString(zk, "Std"), zoneString(zk, "Dlt")
	if vista {
		if s := zoneString(zk, "MUI_Std"); s != "" {
			stdName = s
		}
		if s := zoneString(zk, "MUI_Dlt"); s != "" {
			dltName = s
		}
	}
	keys, paths, err := bootSets(reg, `Control\TimeZoneInformation`, true)
	if err != nil {
		return nil, err
	}
	active := activeBias(z, now)
	var e editor
	for i, k := range keys {
		p := paths[i]
		vals := []struct {
			name string
			typ  hive.ValueType
			data []byte
		}{
			{"Bias", hive.DWord, hive.EncodeUint32(uint32(z.bias))},
			{"StandardName", hive.String, hive.EncodeString(stdName)},
			{"StandardBias", hive.DWord, hive.EncodeUint32(uint32(z.stdBias))},
			{"StandardStart", hive.Binary, timeFields(z.std)},
			{"DaylightName", hive.String, hive.EncodeString(dltName)},
			{"DaylightBias", hive.DWord, hive.EncodeUint32(uint32(z.dltBias))},
			{"DaylightStart", hive.Binary, timeFields(z.dlt)},
		}
		if vista {
			vals = append(vals, []struct {
				name string
				typ  hive.ValueType
				data []byte
			}{
				{"TimeZoneKeyName", hive.String, keyNameData(k, name)},
				{"DynamicDaylightTimeDisabled", hive.DWord, hive.EncodeUint32(0)},
			}...)
		}
		vals = append(vals, struct {
			name string
			typ  hive.ValueType
			data []byte
		}{"ActiveTimeBias", hive.DWord, hive.EncodeUint32(uint32(active))})
		for _, v := range vals {
			if err := e.set(k, p, v.name, v.typ, v.data); err != nil {
				return nil, err
			}
		}
	}
	return e.edits, nil
}

// keyNameData encodes TimeZoneKeyName. Windows 7 writes the whole
// 128-character buffer of DYNAMIC_TIME_ZONE_INFORMATION, stale bytes after
// the NUL included (the real SYSTEM hive in testdata/real/hives holds 256
// bytes); when the value already names this zone, whatever its length, it
// is left as it is, else the name is written NUL-terminated, as later
// versions do.
func keyNameData(k hive.Key, name string) []byte {
	if v, err := k.Value("TimeZoneKeyName"); err == nil && v.Type() == hive.String {
		if b, err := v.Data(); err == nil && decodeUTF16z(b) == name {
			return b
		}
	}
	return hive.EncodeString(name)
}

func zoneValue(k hive.Key, name string) ([]byte, error) {
	v, err := k.Value(name)
	if err != nil {
		return nil, err
	}
	return v.Data()
}

func zoneString(k hive.Key, name string) string {
	v, err := k.Value(name)
	if err != nil {
		return ""
	}
	s, err := v.String()
	if err != nil {
		return ""
	}
	return s
}

// dynamicTZI returns the zone's Dynamic DST rule for year: the entry
// named by the year, else the nearest of FirstEntry..LastEntry.
func dynamicTZI(zk hive.Key, year int) (tzi, error) {
	d, err := zk.Subkey("Dynamic DST")
	if err != nil {
		return tzi{}, err
	}
	first, last := dword(d, "FirstEntry"), dword(d, "LastEntry")
	if first == 0 || last < first {
		return tzi{}, errors.New("the Dynamic DST key lacks FirstEntry or LastEntry")
	}
	y := min(max(year, first), last)
	// The entry in force is the latest at or before y.
	for ; y >= first; y-- {
		if b, err := zoneValue(d, strconv.Itoa(y)); err == nil {
			return parseTZI(b)
		}
	}
	return tzi{}, fmt.Errorf("no Dynamic DST entry up to %d", year)
}

// activeBias returns the bias in force at t: Bias plus DaylightBias
// between the daylight and standard transitions of t's year, else plus
// StandardBias. A zone without daylight time (month 0) is always
// standard.
func activeBias(z tzi, t time.Time) int32 {
	if z.std[1] == 0 || z.dlt[1] == 0 {
		return z.bias + z.stdBias
	}
	// Transitions are in local time: the daylight start in standard time,
	// the standard start in daylight time.
	utc := t.UTC()
	year := utc.Year()
	dltAt := transition(z.dlt, year).Add(time.Duration(z.bias+z.stdBias) * time.Minute)
	stdAt := transition(z.std, year).Add(time.Duration(z.bias+z.dltBias) * time.Minute)
	var inDST bool
	if dltAt.Before(stdAt) { // northern hemisphere
		inDST = !utc.Before(dltAt) && utc.Before(stdAt)
	} else { // southern: daylight over the new year
		inDST = !utc.Before(dltAt) || utc.Before(stdAt)
	}
	if inDST {
		return z.bias + z.dltBias
	}
	return z.bias + z.stdBias
}

// transition returns the moment (as a UTC clock reading of the local
// time) a SYSTEMTIME rule names in year: absolute when wYear is set, else
// the wDay-th (5: last) wDayOfWeek of wMonth.
func transition(st [8]uint16, year int) time.Time {
	month := time.Month(st[1])
	hms := time.Duration(st[4])*time.Hour + time.Duration(st[5])*time.Minute + time.Duration(st[6])*time.Second
	if st[0] != 0 {
		return time.Date(year, month, int(st[3]), 0, 0, 0, 0, time.UTC).Add(hms)
	}
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	day := 1 + (int(st[2])-int(first.Weekday())+7)%7
	day += 7 * (int(min(max(st[3], 1), 5)) - 1)
	for day > daysIn(month, year) {
		day -= 7
	}
	return time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Add(hms)
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearZones returns up to n zone names nearest to s: those containing
// it (or contained in it) first, then by edit distance.
func nearZones(s string, zones []string, n int) []string {
	ls := strings.ToLower(strings.TrimSpace(s))
	type scored struct {
		name  string
		score int
	}
	var all []scored
	for _, z := range zones {
		lz := strings.ToLower(z)
		d := editDistance(ls, lz)
		if ls != "" && (strings.Contains(lz, ls) || strings.Contains(ls, strings.TrimSuffix(lz, " standard time"))) {
			d -= 1000
		}
		all = append(all, scored{z, d})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].score < all[j].score })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 {
		ra = ra[:256]
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
