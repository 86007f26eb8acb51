package sysprep

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrDecode reports a spec that could not be decoded; the error is a
	// [*DecodeError] listing every field at fault.
	ErrDecode = errors.New("sysprep: cannot decode spec")
	// ErrSyntax reports malformed YAML, JSON or XML.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownField reports a field the spec does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrType reports a value of the wrong type for its field.
	ErrType = errors.New("wrong type")
	// ErrDuplicate reports a field given twice.
	ErrDuplicate = errors.New("duplicate field")
	// ErrInvalid reports a spec that [Validate] found problems in; the
	// error is a [*ProblemsError].
	ErrInvalid = errors.New("sysprep: invalid spec")
	// ErrUnsupported reports a recognised but unsupported feature, such as
	// a vCenter password encrypted with vCenter's key.
	ErrUnsupported = errors.New("sysprep: unsupported")
)

// FieldError is one fault found while decoding a spec: where and what.
type FieldError struct {
	Path   string // the field, "network.adapters[1].gateways"; "" for the document
	Line   int    // 1-based line in the input, 0 if unknown
	Column int    // 1-based column, 0 if unknown
	Err    error  // ErrSyntax, ErrUnknownField, ErrType or ErrDuplicate
	Detail string // e.g. `"ten" is not an integer`
}

// Error returns "line N: path: kind: detail".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Err.Error())
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

// Unwrap returns the kind of fault.
func (e *FieldError) Unwrap() error { return e.Err }

// DecodeError lists every fault found in a spec, in input order.
type DecodeError struct {
	Format string        // "yaml", "json" or "vcenter"
	Fields []*FieldError // at least one
}

// Error lists every fault, separated by semicolons.
func (e *DecodeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sysprep: %s spec", e.Format)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString(";")
		}
		b.WriteString(" " + f.Error())
	}
	return b.String()
}

// Unwrap returns ErrDecode and each field's error, so that errors.Is
// matches both ErrDecode and, say, ErrUnknownField.
func (e *DecodeError) Unwrap() []error {
	errs := []error{ErrDecode}
	for _, f := range e.Fields {
		errs = append(errs, f)
	}
	return errs
}

// Problem is one reason a spec cannot be used for a family, or, when
// Warning is set, something the spec asks for that the family does
// differently or ignores: the field and what is wrong with it. Warnings
// do not stop [Render]; they are shown with the plan (specs vCenter
// accepts give warnings, not errors).
type Problem struct {
	Path    string // "network.adapters[1].gateways[0]"
	Message string // `"10.0.0.300" is not an IPv4 address`
	Warning bool   // the spec still renders
}

// Errors returns the problems that are not warnings.
func Errors(problems []Problem) []Problem {
	var out []Problem
	for _, p := range problems {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that are warnings.
func Warnings(problems []Problem) []Problem {
	var out []Problem
	for _, p := range problems {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// String returns "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// ProblemsError is the error of [Render] for a spec that [Validate]
// rejects. It unwraps to ErrInvalid.
type ProblemsError struct {
	Problems []Problem // every problem that is not a warning, as Validate returns them
}

// Error names the first problem and how many there are.
func (e *ProblemsError) Error() string {
	if len(e.Problems) == 1 {
		return "sysprep: invalid spec: " + e.Problems[0].String()
	}
	return fmt.Sprintf("sysprep: invalid spec: %d problems, the first: %s", len(e.Problems), e.Problems[0])
}

// Unwrap returns ErrInvalid.
func (e *ProblemsError) Unwrap() error { return ErrInvalid }
