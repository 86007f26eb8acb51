package ntfs

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"
)

// Sources named in the comments below:
//   - KB142982: Microsoft KB "How Windows Generates 8.3 File Names from Long
//     File Names" (NT 4.0 era).
//   - Galvin: tomgalvin.uk/blog/gen/2015/06/09/filenames ("A Tale of Two File
//     Names"), GetShortPathName output on Windows.
//   - SO31526206: Stack Overflow question 31526206 (2015), dir /x listing of
//     "Rammstein - ….mp3" files.
//   - git-2020: Johannes Schindelin on the git list, 2020-10-05, "Re: [PATCH
//     5/7] t0060", dir /x on Windows 10; the same prefixes are in git's
//     path.c (is_ntfs_dotgitignore "gi250a", …) and t0060-path-utils.sh.
//   - CryptoSys: CryptoSys API manual, CNV_ShortPathName example.
//   - Wine: dlls/ntdll/tests/path.c test_RtlIsNameLegalDOS8Dot3, results
//     checked on real Windows.
//   - ref: the project's reference/ntfs.md §6 (observed on a 2003 volume).
//   - Wikipedia: "8.3 filename", VFAT section.
//   - IIS scans: public short-name scanner output against IIS 10 (shortscan
//     issue logs, upload-bypass write-ups).
//   - common: the alias every Windows install shows (C:\PROGRA~1, …).
//   - rule: derived from the rules at the top of shortname.go, no public
//     Windows sample found; the checksum digits come from dosChecksum, which
//     the observed samples pin down.

func TestIsLegalDOSName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"KERNEL32.DLL", true},    // common: system files have no alias
		{"kernel32.dll", true},    // ref: legal ignoring case, one Win32&DOS name, case kept
		{"tracking.log", true},    // ref: observed on 2003
		{"TextFile.Txt", true},    // Wikipedia: mixed case 8.3 keeps one name
		{"A_file.doc", true},      // KB142982: "No short file name is generated"
		{"12345678", true},        // Wine: TRUE
		{"12345678.a", true},      // Wine: TRUE
		{"~PLAY.REG", true},       // rule: '~' is a legal 8.3 character
		{"a!#$%&'().b", false},    // rule: 9 characters before the dot
		{"a!#$%&'(.)-@", true},    // rule: every punctuation RtlIsNameLegalDOS8Dot3 allows
		{"123 5678", false},       // Wine: TRUE with spaces; KB142982: spaces get an alias
		{"12345678.a c", false},   // Wine: TRUE with spaces; alias as above
		{"My Music", false},       // common: XP's MYMUSI~1
		{"12345678.", false},      // Wine: FALSE (trailing dot)
		{"12345678.a ", false},    // Wine: FALSE (trailing space)
		{" 2345678.a", false},     // Wine: FALSE (leading space)
		{"123456789.a", false},    // Wine: FALSE (9-character stem)
		{"12345.abcd", false},     // Wine: FALSE (4-character extension)
		{".abc", false},           // Wine: FALSE (leading dot)
		{"12.abc.d", false},       // Wine: FALSE (two dots)
		{"...", false},            // Wine: FALSE
		{".", false},              // rule: Wine says TRUE, but it is not a file name
		{"..", false},             // rule: as "."
		{"", false},               // rule
		{"x.html", false},         // rule: 4-character extension
		{"a+b.txt", false},        // RtlIsNameLegalDOS8Dot3: '+' is illegal
		{"a[1].txt", false},       // RtlIsNameLegalDOS8Dot3: '[' ']' are illegal
		{"a=b;c,d", false},        // RtlIsNameLegalDOS8Dot3: '=' ';' ',' are illegal
		{"café.txt", false},       // NtfsAllowExtendedCharacterIn8dot3Name=0: ASCII only
		{"жена.txt", false},       // as above, and not in CP437 either
		{"tab\there", false},      // rule: control character
		{"del\x7f", false},        // rule: DEL
		{"Program Files", false},  // common: PROGRA~1
		{"ntuser.dat.LOG", false}, // rule: two dots
	}
	for _, tt := range tests {
		if got := isLegalDOSName(tt.name); got != tt.want {
			t.Errorf("isLegalDOSName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// dosFolder returns a taken callback for a directory holding names, compared
// case-insensitively.
func dosFolder(names ...string) func(string) bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[strings.ToUpper(n)] = true
	}
	return func(s string) bool { return set[strings.ToUpper(s)] }
}

// dosPlainTaken lists STEM~1 … STEM~4 with extension ext.
func dosPlainTaken(stem, ext string) []string {
	return []string{stem + "~1" + ext, stem + "~2" + ext, stem + "~3" + ext, stem + "~4" + ext}
}

func TestGenerateDOSName(t *testing.T) {
	tests := []struct {
		name  string
		taken []string
		want  string
	}{
		// Observed or documented Windows output.
		{"Program Files", nil, "PROGRA~1"},                                                 // common; libfsntfs
		{"Program Files (x86)", []string{"PROGRA~1"}, "PROGRA~2"},                          // common (x64 C:\PROGRA~2)
		{"Documents and Settings", nil, "DOCUME~1"},                                        // common (XP C:\DOCUME~1)
		{"My Documents", nil, "MYDOCU~1"},                                                  // common (XP)
		{"My Music", nil, "MYMUSI~1"},                                                      // common (XP): 8 characters, inner space
		{"A file.doc", nil, "AFILE~1.DOC"},                                                 // KB142982
		{"A long filename.txt", nil, "ALONGF~1.TXT"},                                       // KB142982
		{"This is a really long filename.123.456.789.txt", nil, "THISIS~1.TXT"},            // KB142982
		{"This is a really long filename.123.456.789.", nil, "THISIS~1.789"},               // KB142982: empty last extension
		{"Month end report for January.txt", nil, "MONTHE~1.TXT"},                          // KB226403
		{"5+6 June Report.doc", nil, "5_6JUN~1.DOC"},                                       // Galvin: '+' becomes '_'
		{"SomeStuff.aspx", nil, "SOMEST~1.ASP"},                                            // Galvin
		{"SomeStuff.aspx", dosPlainTaken("SOMEST", ".ASP"), "SOBC84~1.ASP"},                // Galvin: checksum after ~4
		{"a.testing.file.bat", nil, "ATESTI~1.BAT"},                                        // Galvin: inner dots dropped
		{"TextFile1.Mine.txt", nil, "TEXTFI~1.TXT"},                                        // Wikipedia
		{"ver +1.2.text", nil, "VER_12~1.TEX"},                                             // Wikipedia
		{"Rammstein - Du Hast.mp3", dosPlainTaken("RAMMST", ".MP3"), "RA0CAE~1.MP3"},       // SO31526206
		{"Rammstein - Haifisch.mp3", dosPlainTaken("RAMMST", ".MP3"), "RA6BAA~1.MP3"},      // SO31526206
		{"Rammstein & Tatu - Moscow.mp3", dosPlainTaken("RAMMST", ".MP3"), "RA8E17~1.MP3"}, // SO31526206
		{".gitignore1", nil, "GITIGN~1"},                                                   // git-2020: leading dot skipped, no extension
		{".gitignore", dosPlainTaken("GITIGN", ""), "GI250A~1"},                            // git-2020: checksum over ".gitignore"
		{".gitattributes", dosPlainTaken("GITATT", ""), "GI7D29~1"},                        // git-2020
		{".mailmap", dosPlainTaken("MAILMA", ""), "MABA30~1"},                              // git t0060 (prefix "maba30")
		{".gitmodules", dosPlainTaken("GITMOD", ""), "GI7EBA~1"},                           // git path.c (prefix "gi7eba")
		{".git", nil, "GIT~1"},                                                             // git path.c comment
		{".htaccess", nil, "HTACCE~1"},                                                     // IIS scans, upload-bypass write-ups
		{"web.config", nil, "WEB~1.CON"},                                                   // IIS scans: 3-character stem, no checksum
		{"index.html", nil, "INDEX~1.HTM"},                                                 // IIS scans
		{"fleet-panel.html", nil, "FLEET-~1.HTM"},                                          // IIS 10 measurement quoted in a public repo's tests: '-' kept
		{" ~PLAYMOVIE.REG", nil, "~PLAYM~1.REG"},                                           // libfsntfs: leading space dropped, '~' kept
		{"你好.txt", nil, "FC0F~1.TXT"},                                                      // CryptoSys: nothing kept, checksum at once

		// Derived from the rules (no public Windows sample found).
		{"ntuser.dat.LOG", nil, "NTUSER~1.LOG"}, // rule: inner dot dropped, last extension
		{"a.b.c.txt", nil, "ABC~1.TXT"},         // rule: 3-character stem keeps the ~N form
		{"C++", nil, "C__~1"},                   // rule: '+' becomes '_'
		{"a[1];b=c,d.txt", nil, "A_1__B~1.TXT"}, // RtlGenerate8dot3Name doc: [ ] ; = , become '_'
		{"x.html", nil, "XB885~1.HTM"},          // rule: 1-character stem gets the checksum at once
		{"a+", nil, "A_9011~1"},                 // rule: 2 characters after mapping, checksum at once
		{"+", nil, "_7BBA~1"},                   // rule: 1 character, mapped to '_'
		{"a b", nil, "AB2761~1"},                // rule: space dropped leaves 2 characters
		{"ab.c d", nil, "ABC09F~1.CD"},          // rule: legal with spaces, alias anyway; space dropped in extension
		{"report.t xt", nil, "REPORT~1.TXT"},    // rule: space dropped in extension
		{"café.txt", nil, "CAF~1.TXT"},          // rule: é dropped though CP437 has it (extended chars off)
		{"Résumé.doc", nil, "RSUM~1.DOC"},       // rule: as above
		{"жена.txt", nil, "80E9~1.TXT"},         // rule: ж not in CP437 either; like 你好.txt
		{"é", nil, "D26C~1"},                    // rule: nothing kept, no extension
		{"..a.b", nil, "A2F25~1.B"},             // rule: leading dots skipped, 1-character stem
		{"x86_microsoft-windows-r..ry-editor.resources_31bf3856ad364e35_6.0.6000.16386_en-us_f89a7b0005d42fd4", nil,
			"X86_MI~1.163"}, // rule, on libfsntfs's WinSxS name (its X8FCA6~1.163 is Vista's checksum form, see TestLegacyDOSChecksum)
		{"foo. ", nil, "FOO~1"},                                                      // rule: nothing kept after the dot, no extension
		{"Program Files", []string{"progra~1"}, "PROGRA~2"},                          // rule: taken compares case-insensitively
		{"SomeStuff.aspx", []string{"SOMEST~1.ASP", "SOMEST~3.ASP"}, "SOMEST~2.ASP"}, // rule: first free index
	}
	for _, tt := range tests {
		got, err := generateDOSName(tt.name, dosFolder(tt.taken...))
		if err != nil || got != tt.want {
			t.Errorf("generateDOSName(%q, taken %q) = %q, %v; want %q", tt.name, tt.taken, got, err, tt.want)
		}
	}
}

// TestGenerateDOSNameSequence creates names one after another in one folder,
// each alias joining the folder before the next is made.
func TestGenerateDOSNameSequence(t *testing.T) {
	tests := []struct {
		names []string
		want  []string
	}{
		// git-2020, observed on Windows 10.
		{
			[]string{".gitignore1", ".gitignore2", ".gitignore3", ".gitignore4", ".gitignore"},
			[]string{"GITIGN~1", "GITIGN~2", "GITIGN~3", "GITIGN~4", "GI250A~1"},
		},
		// rule: 5 names with the same first 6 characters; the fifth gets the
		// checksum of its own long name.
		{
			[]string{"SomeStuff1.aspx", "SomeStuff2.aspx", "SomeStuff3.aspx", "SomeStuff4.aspx", "SomeStuff5.aspx"},
			[]string{"SOMEST~1.ASP", "SOMEST~2.ASP", "SOMEST~3.ASP", "SOMEST~4.ASP", "SOAD8B~1.ASP"},
		},
		// rule: a long name equal to a later candidate blocks it.
		{
			[]string{"PROGRA~1", "Program Files", "Program Files (x86)"},
			[]string{"", "PROGRA~2", "PROGRA~3"},
		},
	}
	for _, tt := range tests {
		var dir []string
		for i, name := range tt.names {
			if isLegalDOSName(name) {
				dir = append(dir, name)
				continue
			}
			got, err := generateDOSName(name, dosFolder(dir...))
			if err != nil || got != tt.want[i] {
				t.Errorf("after %q: generateDOSName(%q) = %q, %v; want %q", dir, name, got, err, tt.want[i])
			}
			dir = append(dir, name, got)
		}
	}
}

// TestGenerateDOSNameIndex covers the index after ~9: the prefix shrinks so
// the part before the dot stays 8 characters (rule, after the "like Win 95"
// description and the documented limit of a million attempts).
func TestGenerateDOSNameIndex(t *testing.T) {
	hash := dosChecksum("Program Files") // 7B53
	var taken []string
	taken = append(taken, dosPlainTaken("PROGRA", "")...)
	for _, n := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		taken = append(taken, "PR"+hash+"~"+n)
	}
	got, err := generateDOSName("Program Files", dosFolder(taken...))
	if want := "PR" + hash[:3] + "~10"; err != nil || got != want {
		t.Errorf("after ~9: got %q, %v; want %q", got, err, want)
	}

	below := func(limit string) func(string) bool {
		return func(s string) bool {
			i := strings.IndexByte(s, '~')
			n := strings.TrimSuffix(s[i+1:], ".TXT")
			return len(n) < len(limit) || (len(n) == len(limit) && n < limit)
		}
	}
	for _, tt := range []struct{ limit, want string }{
		{"100", "XY" + dosChecksum("xy z.txt")[:2] + "~100.TXT"},
		{"100000", "X~100000.TXT"},
		{"999999", "X~999999.TXT"},
	} {
		got, err := generateDOSName("xy z.txt", below(tt.limit))
		if err != nil || got != tt.want {
			t.Errorf("first free ~%s: got %q, %v; want %q", tt.limit, got, err, tt.want)
		}
	}
}

func TestGenerateDOSNameErrors(t *testing.T) {
	all := func(string) bool { return true }
	for _, name := range []string{"", "Program Files", "x.html"} {
		if got, err := generateDOSName(name, all); !errors.Is(err, errNoDOSName) {
			t.Errorf("generateDOSName(%q, all taken) = %q, %v; want errNoDOSName", name, got, err)
		}
	}
}

// TestDOSChecksum pins the checksum to every Windows sample found.
func TestDOSChecksum(t *testing.T) {
	tests := []struct{ name, want string }{
		{"SomeStuff.aspx", "BC84"},                 // Galvin
		{"Rammstein & Tatu - Moscow.mp3", "8E17"},  // SO31526206
		{"Rammstein - Asche zu Asche.mp3", "23A6"}, // SO31526206
		{"Rammstein - Du Hast.mp3", "0CAE"},        // SO31526206
		{"Rammstein - Haifisch.mp3", "6BAA"},       // SO31526206
		{".gitignore", "250A"},                     // git-2020
		{".gitattributes", "7D29"},                 // git-2020
		{".gitmodules", "7EBA"},                    // git path.c
		{".mailmap", "BA30"},                       // git t0060
		{"你好.txt", "FC0F"},                         // CryptoSys
	}
	for _, tt := range tests {
		if got := dosChecksum(tt.name); got != tt.want {
			t.Errorf("dosChecksum(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestLegacyDOSChecksum records why one public sample disagrees with
// dosChecksum: libfsntfs shows "X8FCA6~1.163" for a Vista WinSxS name, and
// FCA6 is the checksum of Windows NT through Vista (as ReactOS implements
// it), which dosChecksum deliberately does not produce.
func TestLegacyDOSChecksum(t *testing.T) {
	const name = "x86_microsoft-windows-r..ry-editor.resources_31bf3856ad364e35_6.0.6000.16386_en-us_f89a7b0005d42fd4"
	u := utf16.Encode([]rune(name))
	sum := u[0]<<8 + u[1]
	for i := 2; i < len(u); i += 2 {
		sum = (sum>>1 | sum<<15) + u[i]<<8 // rotate right by one, add the next unit high
		if i+1 < len(u) {
			sum += u[i+1]
		}
	}
	const hex = "0123456789ABCDEF"
	got := string([]byte{hex[sum&0xf], hex[sum>>4&0xf], hex[sum>>8&0xf], hex[sum>>12&0xf]})
	if got != "FCA6" {
		t.Errorf("legacy checksum = %s, want FCA6", got)
	}
	if got := dosChecksum(name); got == "FCA6" {
		t.Errorf("dosChecksum = %s, the legacy value", got)
	}
}

// FuzzGenerateDOSName checks that any name, in a folder already holding the
// aliases of k earlier copies of it, gets a fresh legal upper-case alias.
func FuzzGenerateDOSName(f *testing.F) {
	for _, s := range []string{
		"Program Files", ".gitignore", "你好.txt", "x.html", "a+", "", ".", "..", "...",
		"a b", "ab.c d", "foo. ", "This is a really long filename.123.456.789.",
		"\x00", "\xff\xfe", "😀.txt", "a.😀", strings.Repeat(".", 300), strings.Repeat("a.", 200),
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(6))
	}
	f.Fuzz(func(t *testing.T, name string, k uint8) {
		if len(name) > 1000 {
			return
		}
		set := map[string]bool{}
		taken := func(s string) bool { return set[s] }
		for range int(k % 16) {
			got, err := generateDOSName(name, taken)
			if err != nil {
				if name == "" && errors.Is(err, errNoDOSName) {
					return
				}
				t.Fatalf("generateDOSName(%q) error %v", name, err)
			}
			switch {
			case set[got]:
				t.Fatalf("generateDOSName(%q) = %q, which is taken", name, got)
			case len(got) > dosNameMax || got != strings.ToUpper(got) || !isLegalDOSName(got):
				t.Fatalf("generateDOSName(%q) = %q, not a legal upper-case 8.3 name", name, got)
			}
			set[got] = true
		}
		isLegalDOSName(name)
	})
}
