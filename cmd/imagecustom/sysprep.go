package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"

	"github.com/imagecustom/go-imagecustom/sysprep"
	"github.com/spf13/cobra"
)

// sysprepRenderJSON is the --json document of sysprep render.
type sysprepRenderJSON struct {
	Family       string            `json:"family"`
	Arch         string            `json:"arch"`
	ComputerName string            `json:"computerName"`
	Files        []sysprepFileJSON `json:"files"`
	Registry     []sysprepRegJSON  `json:"registry"`
	RegFiles     []string          `json:"regFiles"`
	Plan         []sysprepStepJSON `json:"plan"`
}

type sysprepFileJSON struct {
	Path  string `json:"path"`  // target path in the image, `\Sysprep\sysprep.inf`
	Local string `json:"local"` // where it was written under --out
	Size  int64  `json:"size"`
}

type sysprepRegJSON struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Type  string `json:"type"` // REG_SZ, REG_DWORD, REG_MULTI_SZ
	Value any    `json:"value"`
}

type sysprepStepJSON struct {
	Kind   string `json:"kind"`
	Phase  string `json:"phase"`
	File   string `json:"file,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// sysprepProblemsJSON is the --json document when the spec has problems.
type sysprepProblemsJSON struct {
	Problems []sysprepProblemJSON `json:"problems"`
}

type sysprepProblemJSON struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (a *app) sysprepCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sysprep",
		Short: "Render the sysprep and unattend artifacts of a customization spec",
	}
	cmd.AddCommand(a.sysprepRenderCommand())
	return cmd
}

func (a *app) sysprepRenderCommand() *cobra.Command {
	var specPath, family, arch, out string
	cmd := &cobra.Command{
		Use:   "render --spec SPEC --os FAMILY [--arch ARCH] --out DIR",
		Short: "Write the artifacts of a spec for one OS family to a local folder (exit 4 on spec problems)",
		Long: `render validates SPEC for the OS family and writes the files Windows setup
reads on the first boot under DIR, each at its path in the image
(DIR/Sysprep/sysprep.inf, DIR/Windows/Panther/unattend.xml…), plus
DIR/registry.reg (the registry values that make setup run, for reg import)
and DIR/plan.txt (every step in the order Windows runs it).

SPEC is YAML, JSON, or a vCenter customization spec exported as XML, told
apart by content. FAMILY is win2000, winxp, win2003 or vista (Vista and
every later version). ARCH is x86, amd64 or arm64; the default is x86 for
win2000 and winxp, amd64 for win2003 and vista.

A spec with problems (bad addresses, a domain without credentials…) prints
each problem with its field path and exits with 4, writing nothing.`,
		Args: cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			switch {
			case specPath == "":
				return usagef("sysprep render: --spec is required")
			case family == "":
				return usagef("sysprep render: --os is required")
			case out == "":
				return usagef("sysprep render: --out is required")
			}
			f, err := sysprep.ParseFamily(family)
			if err != nil {
				return usageError{err}
			}
			ar := sysprep.X86
			if f == sysprep.Win2003 || f == sysprep.Vista {
				ar = sysprep.AMD64
			}
			if arch != "" {
				if ar, err = sysprep.ParseArch(arch); err != nil {
					return usageError{err}
				}
			}
			data, err := readSpecFile(a.stdin, specPath)
			if err != nil {
				return err
			}
			spec, err := sysprep.Decode(data)
			if err != nil {
				return specDecodeError(specPath, err)
			}
			problems := sysprep.Validate(spec, f)
			if errs := sysprep.Errors(problems); len(errs) > 0 {
				return a.printSpecProblems("sysprep render: spec", errs)
			}
			a.printSpecWarnings(sysprep.Warnings(problems))
			res, err := sysprep.Render(spec, sysprep.Options{Family: f, Arch: ar})
			var pe *sysprep.ProblemsError
			if errors.As(err, &pe) { // a file where the rendering writes one
				return a.printSpecProblems("sysprep render: spec", pe.Problems)
			}
			if err != nil {
				return err
			}
			return a.writeRendered(res, filepath.Dir(specPath), out)
		}),
	}
	cmd.Flags().StringVar(&specPath, "spec", "", "the customization spec `SPEC` (YAML, JSON or vCenter XML; - for stdin)")
	cmd.Flags().StringVar(&family, "os", "", "OS `FAMILY`: win2000, winxp, win2003 or vista")
	cmd.Flags().StringVar(&arch, "arch", "", "processor `ARCH`: x86, amd64 or arm64")
	cmd.Flags().StringVar(&out, "out", "", "write the artifacts under `DIR` (created if missing)")
	return cmd
}

// readSpecFile reads the spec from a file, or stdin for "-".
func readSpecFile(stdin io.Reader, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, 16<<20))
	}
	return os.ReadFile(name)
}

// specDecodeError lists every fault of a spec that does not decode, one
// per line.
func specDecodeError(name string, err error) error {
	var de *sysprep.DecodeError
	if !errors.As(err, &de) {
		return err
	}
	lines := make([]string, len(de.Fields))
	for i, f := range de.Fields {
		lines[i] = "  " + f.Error()
	}
	return fmt.Errorf("%s: %w:\n%s", name, sysprep.ErrDecode, strings.Join(lines, "\n"))
}

// printSpecProblems prints a spec's problems and returns the exit-4 error.
func (a *app) printSpecProblems(what string, problems []sysprep.Problem) error {
	if a.json {
		doc := sysprepProblemsJSON{Problems: []sysprepProblemJSON{}}
		for _, p := range problems {
			doc.Problems = append(doc.Problems, sysprepProblemJSON{Path: p.Path, Message: p.Message})
		}
		if err := a.printJSON(doc); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(a.stdout, p)
		}
	}
	return problemsError{what: what, n: len(problems)}
}

// printSpecWarnings prints a spec's warnings on stderr (unless --quiet):
// the spec renders, but the family ignores or changes part of it.
func (a *app) printSpecWarnings(warnings []sysprep.Problem) {
	if a.quiet {
		return
	}
	for _, w := range warnings {
		fmt.Fprintf(a.stderr, "imagecustom: warning: %s\n", w)
	}
}

// localPath maps a target path in the image onto dir.
func localPath(dir, target string) string {
	return filepath.Join(dir, filepath.FromSlash(strings.ReplaceAll(strings.TrimPrefix(target, `\`), `\`, "/")))
}

// writeRendered writes a rendering's files under out, with registry.reg
// and plan.txt, and reports them. Source files named by the spec are
// copied, relative paths resolved from the spec's folder.
func (a *app) writeRendered(res *sysprep.Result, specDir, out string) error {
	doc := sysprepRenderJSON{Family: res.Family.String(), Arch: res.Arch.String(), ComputerName: res.ComputerName,
		Files: []sysprepFileJSON{}, Registry: []sysprepRegJSON{}, RegFiles: []string{}, Plan: []sysprepStepJSON{}}
	write := func(target, local string, data []byte) error {
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(local, data, 0o644); err != nil {
			return err
		}
		doc.Files = append(doc.Files, sysprepFileJSON{Path: target, Local: local, Size: int64(len(data))})
		return nil
	}
	// Read every source before writing anything, so that a missing one
	// leaves --out untouched.
	contents := make([][]byte, len(res.Files))
	for i, f := range res.Files {
		contents[i] = []byte(f.Content)
		if f.Source != "" {
			src := f.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(specDir, src)
			}
			var err error
			if contents[i], err = os.ReadFile(src); err != nil {
				return fmt.Errorf("sysprep render: file for %s: %w", f.Path, err)
			}
		}
	}
	for i, f := range res.Files {
		if err := write(f.Path, localPath(out, f.Path), contents[i]); err != nil {
			return err
		}
	}
	for _, v := range res.Registry {
		r := sysprepRegJSON{Key: v.Key, Name: v.Name, Type: v.Type.String()}
		switch v.Type {
		case sysprep.RegDWORD:
			r.Value = v.DWord
		case sysprep.RegMultiSZ:
			r.Value = v.Strings
		default:
			r.Value = v.String
		}
		doc.Registry = append(doc.Registry, r)
	}
	for _, f := range res.RegFiles {
		if !filepath.IsAbs(f) {
			f = filepath.Join(specDir, f)
		}
		doc.RegFiles = append(doc.RegFiles, f)
	}
	var plan strings.Builder
	for _, s := range res.Plan {
		doc.Plan = append(doc.Plan, sysprepStepJSON{Kind: s.Kind.String(), Phase: s.Phase, File: s.File, Detail: s.Detail})
		plan.WriteString(s.String() + "\n")
	}
	if len(res.Registry) > 0 {
		if err := write("", filepath.Join(out, "registry.reg"), regText(res.Registry)); err != nil {
			return err
		}
		doc.Files[len(doc.Files)-1].Path = ""
	}
	if err := write("", filepath.Join(out, "plan.txt"), []byte(plan.String())); err != nil {
		return err
	}
	doc.Files[len(doc.Files)-1].Path = ""
	if a.json {
		return a.printJSON(doc)
	}
	for _, f := range doc.Files {
		if f.Path != "" {
			fmt.Fprintf(a.stdout, "%-45s %s\n", f.Path, f.Local)
		} else {
			fmt.Fprintf(a.stdout, "%-45s %s\n", "", f.Local)
		}
	}
	fmt.Fprintln(a.stdout)
	fmt.Fprint(a.stdout, plan.String())
	return nil
}

// regText writes registry values as a regedit 5 file: UTF-16LE with a
// BOM and CRLF line ends, as regedit writes it, for reg import.
func regText(values []sysprep.RegValue) []byte {
	var b strings.Builder
	b.WriteString("Windows Registry Editor Version 5.00\r\n")
	key := ""
	quote := func(s string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
	}
	for _, v := range values {
		if v.Key != key {
			key = v.Key
			b.WriteString("\r\n[" + strings.Replace(key, `HKLM\`, `HKEY_LOCAL_MACHINE\`, 1) + "]\r\n")
		}
		b.WriteString(quote(v.Name) + "=")
		switch v.Type {
		case sysprep.RegDWORD:
			fmt.Fprintf(&b, "dword:%08x", v.DWord)
		case sysprep.RegMultiSZ:
			var raw []byte
			for _, s := range v.Strings {
				for _, u := range utf16.Encode([]rune(s + "\x00")) {
					raw = binary.LittleEndian.AppendUint16(raw, u)
				}
			}
			raw = append(raw, 0, 0)
			b.WriteString("hex(7):")
			for i, c := range raw {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "%02x", c)
			}
		default:
			b.WriteString(quote(v.String))
		}
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	var out bytes.Buffer
	out.Write([]byte{0xff, 0xfe})
	for _, u := range utf16.Encode([]rune(b.String())) {
		out.Write(binary.LittleEndian.AppendUint16(nil, u))
	}
	return out.Bytes()
}
