package sysprep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxSpecSize bounds the input of the decoders: a spec is a few
// kilobytes, and a bound keeps hostile input from costing much.
const maxSpecSize = 4 << 20

// Decode decodes a spec in any of its forms, told apart by content: a
// vCenter customization spec exported as XML (starting with '<'), JSON
// (starting with '{') or YAML (anything else).
func Decode(data []byte) (*Spec, error) {
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		return DecodeVCenter(data)
	case bytes.HasPrefix(trimmed, []byte("{")):
		return DecodeJSON(data)
	default:
		return DecodeYAML(data)
	}
}

// DecodeYAML decodes the YAML form of a spec, strictly: an unknown field,
// a field given twice, a value of the wrong type, an alias or a second
// document is an error. The error, a [*DecodeError], lists every fault
// with its field path and line.
func DecodeYAML(data []byte) (*Spec, error) {
	if len(data) > maxSpecSize {
		return nil, &DecodeError{Format: "yaml", Fields: []*FieldError{{Err: ErrSyntax, Detail: fmt.Sprintf("spec larger than %d bytes", maxSpecSize)}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Spec{}, nil // an empty document is an empty spec
		}
		return nil, &DecodeError{Format: "yaml", Fields: []*FieldError{{Line: yamlErrLine(err), Err: ErrSyntax, Detail: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		fe := &FieldError{Err: ErrSyntax, Detail: "more than one YAML document"}
		if err != nil {
			fe.Detail = strings.TrimPrefix(err.Error(), "yaml: ")
			fe.Line = yamlErrLine(err)
		} else {
			fe.Line = extra.Line
		}
		return nil, &DecodeError{Format: "yaml", Fields: []*FieldError{fe}}
	}
	var spec Spec
	d := nodeDecoder{}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.decode(root, reflect.ValueOf(&spec).Elem(), "")
	if len(d.errs) > 0 {
		return nil, &DecodeError{Format: "yaml", Fields: d.errs}
	}
	return &spec, nil
}

// yamlErrLine digs the line number out of a yaml.v3 error message
// ("yaml: line 3: ..."), 0 if there is none.
func yamlErrLine(err error) int {
	s := err.Error()
	i := strings.Index(s, "line ")
	if i < 0 {
		return 0
	}
	s = s[i+5:]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(s[:j])
	return n
}

// DecodeJSON decodes the JSON form of a spec, as strictly as [DecodeYAML]:
// the document is read token by token with encoding/json, every value
// keeps the byte offset it came from (reported as a line and column), and
// the fields are matched exactly (no case folding).
func DecodeJSON(data []byte) (*Spec, error) {
	if len(data) > maxSpecSize {
		return nil, &DecodeError{Format: "json", Fields: []*FieldError{{Err: ErrSyntax, Detail: fmt.Sprintf("spec larger than %d bytes", maxSpecSize)}}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := newLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := jsonNode(dec, lines, 0)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			err = &FieldError{Err: ErrSyntax, Detail: "data after the top-level value"}
			off := dec.InputOffset()
			err.(*FieldError).Line, err.(*FieldError).Column = lines.position(off)
		}
	}
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) {
			fe = &FieldError{Err: ErrSyntax, Detail: strings.TrimPrefix(err.Error(), "json: ")}
			var se *json.SyntaxError
			if errors.As(err, &se) {
				fe.Line, fe.Column = lines.position(se.Offset)
			} else {
				fe.Line, fe.Column = lines.position(dec.InputOffset())
			}
		}
		return nil, &DecodeError{Format: "json", Fields: []*FieldError{fe}}
	}
	var spec Spec
	d := nodeDecoder{strict: true}
	d.decode(root, reflect.ValueOf(&spec).Elem(), "")
	if len(d.errs) > 0 {
		return nil, &DecodeError{Format: "json", Fields: d.errs}
	}
	return &spec, nil
}

// maxDepth bounds the nesting of a JSON document; a spec is 4 deep.
const maxDepth = 64

// jsonNode reads one JSON value from dec as a yaml.Node, so that both
// forms share one strict decoder. Scalars get the tag YAML would give
// them; every node gets the line and column of its token.
func jsonNode(dec *json.Decoder, lines lineIndex, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, &FieldError{Err: ErrSyntax, Detail: "nested too deeply"}
	}
	start := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := &yaml.Node{}
	// InputOffset before Token points before any whitespace; step over it
	// so that the position is the token's own.
	n.Line, n.Column = lines.position(lines.skipSpace(start))
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
			for dec.More() {
				kstart := dec.InputOffset()
				ktok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(ktok)}
				key.Line, key.Column = lines.position(lines.skipSpace(kstart))
				val, err := jsonNode(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, key, val)
			}
		case '[':
			n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
			for dec.More() {
				val, err := jsonNode(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, val)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!str", t
	case json.Number:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!float", t.String()
		if _, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			n.Tag = "!!int"
		}
	case bool:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!bool", strconv.FormatBool(t)
	case nil:
		n.Kind, n.Tag, n.Value = yaml.ScalarNode, "!!null", "null"
	}
	return n, nil
}

// lineIndex maps byte offsets of a document to lines and columns.
type lineIndex struct {
	data   []byte
	starts []int // offset of the first byte of each line
}

func newLineIndex(data []byte) lineIndex {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return lineIndex{data: data, starts: starts}
}

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON whitespace nor a separator (',' or ':').
func (l lineIndex) skipSpace(off int64) int64 {
	for off < int64(len(l.data)) {
		switch l.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// position returns the 1-based line and column of offset off.
func (l lineIndex) position(off int64) (line, col int) {
	if off < 0 {
		return 0, 0
	}
	lo, hi := 0, len(l.starts)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if int64(l.starts[mid]) <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1, int(off-int64(l.starts[lo])) + 1
}

// nodeDecoder fills Go values from a yaml.Node tree, collecting every
// fault instead of stopping at the first. Field names are the json tags.
type nodeDecoder struct {
	strict bool // JSON: a string field takes only a string
	errs   []*FieldError
}

func (d *nodeDecoder) fail(n *yaml.Node, path string, kind error, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: n.Line, Column: n.Column, Err: kind, Detail: fmt.Sprintf(format, args...)})
}

// describe names a node's kind for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "null"
	}
	return strconv.Quote(n.Value)
}

func (d *nodeDecoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		d.fail(n, path, ErrType, "YAML aliases are not supported")
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // null leaves the zero value
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, ErrType, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || (d.strict && n.Tag != "!!str") || n.Tag == "!!binary" {
			d.fail(n, path, ErrType, "want a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			d.fail(n, path, ErrType, "want true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.ParseInt(n.Value, 0, 32)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.fail(n, path, ErrType, "want an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	default:
		d.fail(n, path, ErrType, "unsupported field type %s", v.Type())
	}
}

func (d *nodeDecoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, ErrType, "want a mapping, got %s", describe(n))
		return
	}
	fields := structFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name := key.Value
		fpath := name
		if path != "" {
			fpath = path + "." + name
		}
		if key.Kind != yaml.ScalarNode {
			d.fail(key, path, ErrType, "a key must be a string, got %s", describe(key))
			continue
		}
		idx, ok := fields[name]
		if !ok {
			d.fail(key, fpath, ErrUnknownField, "%s has no field %q%s", typeLabel(v.Type()), name, suggest(name, fields))
			continue
		}
		if seen[name] {
			d.fail(key, fpath, ErrDuplicate, "given more than once")
			continue
		}
		seen[name] = true
		d.decode(val, v.Field(idx), fpath)
	}
}

// typeLabel names a struct for messages: "identity", "adapter"…
func typeLabel(t reflect.Type) string {
	if t == reflect.TypeOf(Spec{}) {
		return "the spec"
	}
	return strings.ToLower(t.Name()[:1]) + t.Name()[1:]
}

// suggest proposes the field whose name matches ignoring case.
func suggest(name string, fields map[string]int) string {
	for f := range fields {
		if strings.EqualFold(f, name) {
			return fmt.Sprintf(" (did you mean %q?)", f)
		}
	}
	return ""
}

// structFields maps the json names of t's fields to their indexes.
func structFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
	}
	return m
}

// EncodeJSON writes spec in its JSON form, indented; [DecodeJSON] reads
// it back unchanged.
func EncodeJSON(w io.Writer, spec *Spec) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(spec); err != nil {
		return fmt.Errorf("sysprep: encoding spec: %w", err)
	}
	return nil
}
