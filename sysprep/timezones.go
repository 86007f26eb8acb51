package sysprep

import "strings"

// timeZones maps Windows time zone names (the key names under
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Time Zones) to the
// index sysprep.inf's TimeZone takes (the Index value of Windows 2000, XP
// and 2003). -1 marks a zone of later Windows versions that has no index.
//
// Indexes 000–056 were checked against Microsoft's "Time Zone Index
// Values" table (learn.microsoft.com, ms912391); the rest against two
// independent published tables, keeping only the entries they agree on.
// Microsoft's table spells some names with dots ("U.S. Eastern Standard
// Time"); the registry, and so this table, does not ("US Eastern Standard
// Time").
var timeZones = map[string]int{
	"Dateline Standard Time":          0,
	"Samoa Standard Time":             1,
	"Hawaiian Standard Time":          2,
	"Alaskan Standard Time":           3,
	"Pacific Standard Time":           4,
	"Mountain Standard Time":          10,
	"Mexico Standard Time 2":          13,
	"US Mountain Standard Time":       15,
	"Central Standard Time":           20,
	"Canada Central Standard Time":    25,
	"Mexico Standard Time":            30,
	"Central America Standard Time":   33,
	"Eastern Standard Time":           35,
	"US Eastern Standard Time":        40,
	"SA Pacific Standard Time":        45,
	"Atlantic Standard Time":          50,
	"SA Western Standard Time":        55,
	"Pacific SA Standard Time":        56,
	"Newfoundland Standard Time":      60,
	"E. South America Standard Time":  65,
	"SA Eastern Standard Time":        70,
	"Greenland Standard Time":         73,
	"Mid-Atlantic Standard Time":      75,
	"Azores Standard Time":            80,
	"Cape Verde Standard Time":        83,
	"GMT Standard Time":               85,
	"Greenwich Standard Time":         90,
	"Central Europe Standard Time":    95,
	"Central European Standard Time":  100,
	"Romance Standard Time":           105,
	"W. Europe Standard Time":         110,
	"W. Central Africa Standard Time": 113,
	"E. Europe Standard Time":         115,
	"Egypt Standard Time":             120,
	"FLE Standard Time":               125,
	"GTB Standard Time":               130,
	"Israel Standard Time":            135,
	"South Africa Standard Time":      140,
	"Russian Standard Time":           145,
	"Arab Standard Time":              150,
	"E. Africa Standard Time":         155,
	"Arabic Standard Time":            158,
	"Iran Standard Time":              160,
	"Arabian Standard Time":           165,
	"Caucasus Standard Time":          170,
	"Afghanistan Standard Time":       175,
	"Ekaterinburg Standard Time":      180,
	"West Asia Standard Time":         185,
	"India Standard Time":             190,
	"Nepal Standard Time":             193,
	"Central Asia Standard Time":      195,
	"Sri Lanka Standard Time":         200,
	"N. Central Asia Standard Time":   201,
	"Myanmar Standard Time":           203,
	"SE Asia Standard Time":           205,
	"North Asia Standard Time":        207,
	"China Standard Time":             210,
	"Singapore Standard Time":         215,
	"Taipei Standard Time":            220,
	"W. Australia Standard Time":      225,
	"North Asia East Standard Time":   227,
	"Korea Standard Time":             230,
	"Tokyo Standard Time":             235,
	"Yakutsk Standard Time":           240,
	"AUS Central Standard Time":       245,
	"Cen. Australia Standard Time":    250,
	"AUS Eastern Standard Time":       255,
	"E. Australia Standard Time":      260,
	"Tasmania Standard Time":          265,
	"Vladivostok Standard Time":       270,
	"West Pacific Standard Time":      275,
	"Central Pacific Standard Time":   280,
	"Fiji Standard Time":              285,
	"New Zealand Standard Time":       290,
	"Tonga Standard Time":             300,

	// Zones added after Windows 2003 (CLDR windowsZones), for Vista and
	// later only.
	"UTC":                             -1,
	"UTC-11":                          -1,
	"UTC-02":                          -1,
	"UTC+12":                          -1,
	"Argentina Standard Time":         -1,
	"Azerbaijan Standard Time":        -1,
	"Bangladesh Standard Time":        -1,
	"Central Brazilian Standard Time": -1,
	"Central Standard Time (Mexico)":  -1,
	"Mountain Standard Time (Mexico)": -1,
	"Pacific Standard Time (Mexico)":  -1,
	"Georgian Standard Time":          -1,
	"Jordan Standard Time":            -1,
	"Kamchatka Standard Time":         -1,
	"Magadan Standard Time":           -1,
	"Mauritius Standard Time":         -1,
	"Middle East Standard Time":       -1,
	"Montevideo Standard Time":        -1,
	"Morocco Standard Time":           -1,
	"Namibia Standard Time":           -1,
	"North Asia East Standard Time 2": -1,
	"Pakistan Standard Time":          -1,
	"Paraguay Standard Time":          -1,
	"Syria Standard Time":             -1,
	"Turkey Standard Time":            -1,
	"Ulaanbaatar Standard Time":       -1,
	"Venezuela Standard Time":         -1,
	"Belarus Standard Time":           -1,
	"Libya Standard Time":             -1,
	"Kaliningrad Standard Time":       -1,
}

// TimeZoneIndex returns the sysprep.inf index of the Windows time zone
// name (case-insensitive), and whether the zone is known to Windows
// 2000–2003. A zone of later versions only reports false.
func TimeZoneIndex(name string) (int, bool) {
	i, ok := timeZones[canonicalZone(name)]
	return i, ok && i >= 0
}

// knownZone reports whether name is a Windows time zone this package
// knows, and returns its registry spelling.
func knownZone(name string) (string, bool) {
	c := canonicalZone(name)
	_, ok := timeZones[c]
	return c, ok
}

func canonicalZone(name string) string {
	if _, ok := timeZones[name]; ok {
		return name
	}
	for z := range timeZones {
		if strings.EqualFold(z, name) {
			return z
		}
	}
	return name
}
