package sysprep

import (
	"fmt"
	"strings"
)

// cp1252High maps the code points of Windows-1252's bytes 0x80–0x9F.
var cp1252High = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88,
	'‰': 0x89, 'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93,
	'”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B,
	'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// ansiRune returns r's byte in Windows-1252, the ANSI code page of
// western Windows, which sysprep.inf and the scripts are written in.
func ansiRune(r rune) (byte, bool) {
	switch {
	case r < 0x80, r >= 0xA0 && r <= 0xFF:
		return byte(r), true
	}
	b, ok := cp1252High[r]
	return b, ok
}

// ansi encodes s in Windows-1252 and turns every line break into CRLF.
func ansi(s string) ([]byte, error) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := ansiRune(r)
		if !ok {
			return nil, fmt.Errorf("%w: %q has no Windows-1252 (ANSI) encoding", ErrUnsupported, r)
		}
		out = append(out, b)
	}
	return out, nil
}

// iniFile builds a Windows INI file: sections in order, keys in order.
type iniFile struct {
	b strings.Builder
}

func (f *iniFile) comment(s string) { f.b.WriteString("; " + s + "\n") }

func (f *iniFile) section(name string) {
	if f.b.Len() > 0 {
		f.b.WriteString("\n")
	}
	f.b.WriteString("[" + name + "]\n")
}

// key writes key=value unquoted; the value is a name or number Validate
// restricted to characters that need no quoting.
func (f *iniFile) key(k, v string) { f.b.WriteString(k + "=" + v + "\n") }

// quoted writes key="value", doubling any quote in value as INF files
// escape it.
func (f *iniFile) quoted(k, v string) {
	f.b.WriteString(k + `="` + strings.ReplaceAll(v, `"`, `""`) + "\"\n")
}

// line writes a raw line, for cmdlines.txt's quoted commands.
func (f *iniFile) line(s string) { f.b.WriteString(s + "\n") }

func (f *iniFile) String() string { return f.b.String() }
