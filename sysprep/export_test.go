package sysprep

// AllZoneNames lists the time zone table's names, for tests.
func AllZoneNames() []string {
	var names []string
	for n := range timeZones {
		names = append(names, n)
	}
	return names
}
