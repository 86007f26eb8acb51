package sysprep

import (
	"encoding/xml"
	"strings"
)

// xelem is an XML element under construction: attributes in order, then
// either text or children.
type xelem struct {
	name     string
	attrs    [][2]string
	text     string
	children []*xelem
}

func el(name string, children ...*xelem) *xelem { return &xelem{name: name, children: children} }

func txt(name, text string) *xelem { return &xelem{name: name, text: text} }

// add appends a list item: wcm:action="add", with wcm:keyValue when key
// is not empty.
func item(name, key string, children ...*xelem) *xelem {
	e := el(name, children...)
	e.attr("wcm:action", "add")
	if key != "" {
		e.attr("wcm:keyValue", key)
	}
	return e
}

func (e *xelem) attr(name, value string) *xelem {
	e.attrs = append(e.attrs, [2]string{name, value})
	return e
}

func (e *xelem) add(children ...*xelem) *xelem {
	for _, c := range children {
		if c != nil {
			e.children = append(e.children, c)
		}
	}
	return e
}

// escape returns s escaped for XML text and attribute values: & < > " '
// and every control character become references, so no value can add
// markup.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// write writes e indented by depth, lines ending in CRLF.
func (e *xelem) write(b *strings.Builder, depth int) {
	ind := strings.Repeat("    ", depth)
	b.WriteString(ind + "<" + e.name)
	for _, a := range e.attrs {
		b.WriteString(" " + a[0] + `="` + escape(a[1]) + `"`)
	}
	switch {
	case len(e.children) > 0:
		b.WriteString(">\r\n")
		for _, c := range e.children {
			c.write(b, depth+1)
		}
		b.WriteString(ind + "</" + e.name + ">\r\n")
	case e.text != "":
		b.WriteString(">" + escape(e.text) + "</" + e.name + ">\r\n")
	default:
		b.WriteString(" />\r\n")
	}
}
