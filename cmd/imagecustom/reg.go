package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/spf13/cobra"
)

// regFlags are the flags of the reg subcommands.
type regFlags struct {
	prefix    string
	dryRun    bool
	out       string
	partition int // image targets: --partition
}

// addImage adds the flags that apply to disk image targets.
func (rf *regFlags) addImage(cmd *cobra.Command, write bool) {
	cmd.Flags().IntVar(&rf.partition, "partition", 0,
		"disk image targets: partition `N` (1-based) holding Windows; default: the Windows system volume")
	if write {
		cmd.Flags().BoolVar(&rf.dryRun, "dry-run", false, "edit in memory, print the change, write nothing")
		cmd.Flags().StringVar(&rf.out, "out", "", "disk image targets: leave IMAGE untouched and write the changes to a new child disk `CHILD.vmdk`")
	}
}

func (a *app) regCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reg",
		Short: "Read and edit the registry of a disk image, or a hive file",
		Long: `Read and edit registry hives. TARGET is a hive file or a disk image (told apart by
their content).

In a disk image, KEY is a full path into the Windows install's registry:
HKLM\SYSTEM, HKLM\SOFTWARE, HKLM\SAM, HKLM\SECURITY (System32\config), HKU\.DEFAULT,
HKU\<SID or profile folder> (that user's NTUSER.DAT; <SID>_Classes is UsrClass.dat)
and HKCR (HKLM\SOFTWARE\Classes). HKLM\SYSTEM\CurrentControlSet resolves through
Select: reads use Select\Current; writes go to Current's control set and, when
Select\Default names another, to that one too. Changed hives are written back
clean through the undo journal, their transaction logs left as they are, older
than the hive, so Windows does not replay them over the change.

In a hive file, KEY paths map onto the hive's root after removing --prefix, by
default the leading root of the path: HKEY_LOCAL_MACHINE\<hive> (HKLM\<hive>),
HKEY_CURRENT_USER (HKCU), HKEY_USERS\<name> (HKU\<name>). In a SYSTEM hive,
CurrentControlSet resolves through Select\Current.

A dirty hive is recovered from its transaction logs (.LOG1/.LOG2 or .LOG beside
it) before it is read or written.`,
	}
	cmd.AddCommand(a.regGetCommand(), a.regSetCommand(), a.regDeleteCommand(), a.regExportCommand(), a.regImportCommand())
	return cmd
}

// openHiveTarget opens TARGET, which must be a hive file.
func openHiveTarget(target string) (*hive.Hive, error) {
	f, err := os.Open(target)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	_, err = f.ReadAt(magic[:], 0)
	f.Close()
	if err != nil || string(magic[:]) != "regf" {
		return nil, fmt.Errorf("%s is not a registry hive file", target)
	}
	return hive.OpenFile(target, nil)
}

// hivePath turns a KEY argument into a path from the hive's root.
func hivePath(h *hive.Hive, key, prefix string) (string, error) {
	parts := rootLongForm(strings.FieldsFunc(key, func(r rune) bool { return r == '\\' }))
	if prefix != "" {
		pp := rootLongForm(strings.FieldsFunc(prefix, func(r rune) bool { return r == '\\' }))
		if len(parts) < len(pp) {
			return "", usagef("key %q does not start with --prefix %q", key, prefix)
		}
		for i := range pp {
			if !strings.EqualFold(parts[i], pp[i]) {
				return "", usagef("key %q does not start with --prefix %q", key, prefix)
			}
		}
		parts = parts[len(pp):]
	} else if len(parts) > 0 {
		switch strings.ToUpper(parts[0]) {
		case "HKEY_LOCAL_MACHINE", "HKLM", "HKEY_USERS", "HKU":
			parts = parts[min(2, len(parts)):]
		case "HKEY_CURRENT_USER", "HKCU", "HKEY_CLASSES_ROOT", "HKCR", "HKEY_CURRENT_CONFIG", "HKCC":
			parts = parts[1:]
		}
	}
	return h.ResolvePath(strings.Join(parts, `\`))
}

// rootLongForm writes a path's leading root key in its long form (HKLM →
// HKEY_LOCAL_MACHINE …), so that short and long forms compare equal.
func rootLongForm(parts []string) []string {
	if len(parts) == 0 {
		return parts
	}
	long := map[string]string{"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS",
		"HKCR": "HKEY_CLASSES_ROOT", "HKCC": "HKEY_CURRENT_CONFIG"}[strings.ToUpper(parts[0])]
	if long != "" {
		parts = append([]string{long}, parts[1:]...)
	}
	return parts
}

// valueJSON is the --json shape of a value.
type valueJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`      // REG_SZ, REG_DWORD, … or REG_0x… for others
	TypeCode uint32 `json:"type_code"` // the number
	// Data: a string (SZ, EXPAND_SZ, LINK), a list of strings (MULTI_SZ),
	// a number (DWORD, DWORD_BIG_ENDIAN, QWORD), else lower-case hex.
	Data any `json:"data"`
}

func describeValue(v hive.Value) (valueJSON, error) {
	out := valueJSON{Name: v.Name(), Type: v.Type().String(), TypeCode: uint32(v.Type())}
	var err error
	switch v.Type() {
	case hive.String, hive.ExpandString, hive.Link:
		out.Data, err = v.String()
	case hive.MultiString:
		out.Data, err = v.Strings()
	case hive.DWord, hive.DWordBigEndian:
		out.Data, err = v.Uint32()
	case hive.QWord:
		out.Data, err = v.Uint64()
	default:
		var b []byte
		b, err = v.Data()
		out.Data = hex.EncodeToString(b)
	}
	if err != nil {
		// Data that does not fit its type is shown raw.
		b, derr := v.Data()
		if derr != nil {
			return out, derr
		}
		out.Data = hex.EncodeToString(b)
	}
	return out, nil
}

func formatData(v valueJSON) string {
	switch d := v.Data.(type) {
	case []string:
		return strings.Join(d, "\n")
	default:
		return fmt.Sprint(d)
	}
}

func (a *app) regGetCommand() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "get TARGET KEY [VALUE]",
		Short: "Print a value, or a key's values and subkeys",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usagef("reg get takes TARGET KEY [VALUE]")
			}
			return nil
		},
		RunE: runE(func(_ *cobra.Command, args []string) error {
			k, p, release, err := lookupKey(args[0], args[1], &rf)
			if err != nil {
				return err
			}
			defer release()
			if len(args) == 3 {
				v, err := k.Value(args[2])
				if err != nil {
					return err
				}
				d, err := describeValue(v)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(d)
				}
				fmt.Fprintln(a.stdout, formatData(d))
				return nil
			}
			vals, err := k.Values()
			if err != nil {
				return err
			}
			subs, err := k.Subkeys()
			if err != nil {
				return err
			}
			doc := struct {
				Key     string      `json:"key"`
				Values  []valueJSON `json:"values"`
				Subkeys []string    `json:"subkeys"`
			}{Key: p, Values: []valueJSON{}, Subkeys: []string{}}
			for _, v := range vals {
				d, err := describeValue(v)
				if err != nil {
					return err
				}
				doc.Values = append(doc.Values, d)
			}
			for _, s := range subs {
				doc.Subkeys = append(doc.Subkeys, s.Name())
			}
			if a.json {
				return a.printJSON(doc)
			}
			for _, d := range doc.Values {
				name := d.Name
				if name == "" {
					name = "(default)"
				}
				fmt.Fprintf(a.stdout, "%s\t%s\t%s\n", name, d.Type, strings.ReplaceAll(formatData(d), "\n", `\0`))
			}
			for _, s := range doc.Subkeys {
				fmt.Fprintf(a.stdout, "%s\\\n", s)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&rf.prefix, "prefix", "", "hive files: key path `PREFIX` standing for the hive's root")
	rf.addImage(cmd, false)
	return cmd
}

// parseType reads a --type: REG_SZ, sz, string… or a number.
func parseType(s string) (hive.ValueType, error) {
	u := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s), "REG_"))
	for t := hive.ValueType(0); t <= hive.QWord; t++ {
		if strings.TrimPrefix(t.String(), "REG_") == u {
			return t, nil
		}
	}
	switch u {
	case "STRING":
		return hive.String, nil
	case "DWORD_LITTLE_ENDIAN":
		return hive.DWord, nil
	case "QWORD_LITTLE_ENDIAN":
		return hive.QWord, nil
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(u, "0X"), 16, 32); err == nil && strings.HasPrefix(u, "0X") {
		return hive.ValueType(n), nil
	}
	if n, err := strconv.ParseUint(u, 10, 32); err == nil {
		return hive.ValueType(n), nil
	}
	return 0, usagef("unknown --type %q (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_QWORD, REG_BINARY, REG_NONE, REG_LINK, or a number)", s)
}

// encodeData turns DATA arguments into the bytes of a value of type t.
func encodeData(t hive.ValueType, data []string) ([]byte, error) {
	one := func() (string, error) {
		if len(data) != 1 {
			return "", usagef("%s takes one DATA argument, got %d", t, len(data))
		}
		return data[0], nil
	}
	switch t {
	case hive.String, hive.ExpandString, hive.Link:
		s, err := one()
		return hive.EncodeString(s), err
	case hive.MultiString:
		return hive.EncodeStrings(data), nil
	case hive.DWord, hive.DWordBigEndian:
		s, err := one()
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return nil, usagef("%s data %q: not a 32-bit number", t, s)
		}
		if t == hive.DWordBigEndian {
			return binary.BigEndian.AppendUint32(nil, uint32(n)), nil
		}
		return hive.EncodeUint32(uint32(n)), nil
	case hive.QWord:
		s, err := one()
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return nil, usagef("%s data %q: not a 64-bit number", t, s)
		}
		return hive.EncodeUint64(n), nil
	}
	s := strings.NewReplacer(",", "", ":", "", " ", "").Replace(strings.Join(data, ""))
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, usagef("%s data: hex bytes expected (de:ad:be:ef, de,ad or dead): %v", t, err)
	}
	return b, nil
}

// saveHive writes an edited hive back, or for a dry run says what would be.
func (a *app) saveHive(h *hive.Hive, target string, rf *regFlags, what string) error {
	if rf.out != "" {
		return errors.New("--out applies to disk images; a hive file target is written in place (atomically) or not at all with --dry-run")
	}
	if rf.dryRun {
		b, err := h.Bytes()
		if err != nil {
			return err
		}
		old, _ := os.ReadFile(target)
		changed := !bytes.Equal(b[512:], old[min(512, len(old)):])
		if a.json {
			return a.printJSON(map[string]any{"dry_run": true, "target": target, "change": what, "bytes": len(b), "changed": changed})
		}
		fmt.Fprintf(a.stdout, "dry run: would %s in %s (%d bytes); nothing written\n", what, target, len(b))
		return nil
	}
	return h.SaveFile(target)
}

func (a *app) regSetCommand() *cobra.Command {
	var rf regFlags
	var typ string
	cmd := &cobra.Command{
		Use:   "set TARGET KEY VALUE --type T [DATA...]",
		Short: "Create or replace a value (the key and its parents are created)",
		Long: `Create or replace VALUE ("" or @ for the default value) of KEY. DATA: the text of
REG_SZ/REG_EXPAND_SZ/REG_LINK; one argument per string of REG_MULTI_SZ; a number
(decimal or 0x…) for REG_DWORD/REG_DWORD_BIG_ENDIAN/REG_QWORD; hex bytes for
REG_BINARY, REG_NONE and other types.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 3 {
				return usagef("reg set takes TARGET KEY VALUE --type T [DATA...]")
			}
			return nil
		},
		RunE: runE(func(_ *cobra.Command, args []string) error {
			t, err := parseType(typ)
			if err != nil {
				return err
			}
			data, err := encodeData(t, args[3:])
			if err != nil {
				return err
			}
			name := args[2]
			if name == "@" {
				name = ""
			}
			isHive, err := isHiveFile(args[0])
			if err != nil {
				return err
			}
			if !isHive {
				return a.writeImageRegistry(args[0], &rf, func(r *imagecustom.Registry) error {
					ts, err := r.Targets(args[1])
					if err != nil {
						return err
					}
					for _, tg := range ts {
						k, err := createTarget(tg)
						if err == nil {
							err = k.SetValue(name, t, data)
						}
						if err != nil {
							return fmt.Errorf("%s: %w", args[1], err)
						}
					}
					return nil
				})
			}
			h, err := openHiveTarget(args[0])
			if err != nil {
				return err
			}
			p, err := hivePath(h, args[1], rf.prefix)
			if err != nil {
				return err
			}
			k, err := h.CreateKey(p)
			if err != nil {
				return err
			}
			if err := k.SetValue(name, t, data); err != nil {
				return err
			}
			return a.saveHive(h, args[0], &rf, fmt.Sprintf("set %s\\%s", p, name))
		}),
	}
	cmd.Flags().StringVar(&typ, "type", "REG_SZ", "value type `T`")
	cmd.Flags().StringVar(&rf.prefix, "prefix", "", "hive files: key path `PREFIX` standing for the hive's root")
	rf.addImage(cmd, true)
	return cmd
}

func (a *app) regDeleteCommand() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "delete TARGET KEY [VALUE]",
		Short: "Delete a value, or a key and everything under it",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usagef("reg delete takes TARGET KEY [VALUE]")
			}
			return nil
		},
		RunE: runE(func(_ *cobra.Command, args []string) error {
			isHive, err := isHiveFile(args[0])
			if err != nil {
				return err
			}
			if !isHive {
				return a.writeImageRegistry(args[0], &rf, func(r *imagecustom.Registry) error {
					ts, err := r.Targets(args[1])
					if err != nil {
						return err
					}
					for _, tg := range ts {
						if len(args) == 2 {
							if tg.Path == "" {
								return fmt.Errorf("%s: a hive's root key cannot be deleted", args[1])
							}
							err = tg.Hive.DeleteKey(tg.Path)
						} else {
							var k hive.Key
							if k, err = tg.Hive.Key(tg.Path); err == nil {
								err = k.DeleteValue(strings.TrimPrefix(args[2], "@"))
							}
						}
						if err != nil {
							return fmt.Errorf("%s: %w", args[1], err)
						}
					}
					return nil
				})
			}
			h, err := openHiveTarget(args[0])
			if err != nil {
				return err
			}
			p, err := hivePath(h, args[1], rf.prefix)
			if err != nil {
				return err
			}
			what := "delete key " + p
			if len(args) == 3 {
				k, err := h.Key(p)
				if err != nil {
					return err
				}
				name := args[2]
				if name == "@" {
					name = ""
				}
				if err := k.DeleteValue(name); err != nil {
					return err
				}
				what = fmt.Sprintf("delete value %s\\%s", p, name)
			} else if err := h.DeleteKey(p); err != nil {
				return err
			}
			return a.saveHive(h, args[0], &rf, what)
		}),
	}
	cmd.Flags().StringVar(&rf.prefix, "prefix", "", "hive files: key path `PREFIX` standing for the hive's root")
	rf.addImage(cmd, true)
	return cmd
}

// defaultPrefix is the .reg root a hive file's name suggests.
func defaultPrefix(target string) string {
	base := strings.ToUpper(filepath.Base(target))
	switch base {
	case "SYSTEM", "SOFTWARE", "SAM", "SECURITY", "COMPONENTS", "DRIVERS", "BCD-TEMPLATE", "ELAM":
		return `HKEY_LOCAL_MACHINE\` + base
	case "DEFAULT":
		return `HKEY_USERS\.DEFAULT`
	case "NTUSER.DAT":
		return "HKEY_CURRENT_USER"
	case "USRCLASS.DAT":
		return `HKEY_CURRENT_USER\Software\Classes`
	}
	return `HKEY_LOCAL_MACHINE\` + base
}

func (a *app) regExportCommand() *cobra.Command {
	var prefix, encoding string
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "export [--prefix P] [--encoding utf16|utf8] TARGET [KEY]",
		Short: "Write a hive, or a key and everything under it, as .reg text to stdout",
		Long: `Write .reg text (regedit 5: "Windows Registry Editor Version 5.00", UTF-16LE with a
byte-order mark as regedit writes it, or UTF-8) to stdout. Key paths start with
--prefix; by default a root that fits the file's name: HKEY_LOCAL_MACHINE\SYSTEM
for SYSTEM, HKEY_CURRENT_USER for NTUSER.DAT, HKEY_USERS\.DEFAULT for DEFAULT.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("reg export takes TARGET [KEY]")
			}
			return nil
		},
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if a.json {
				return usagef("reg export writes .reg text; --json does not apply")
			}
			utf8 := false
			switch strings.ToLower(encoding) {
			case "utf16", "utf-16", "utf16le":
			case "utf8", "utf-8":
				utf8 = true
			default:
				return usagef("--encoding %q: utf16 or utf8", encoding)
			}
			isHive, err := isHiveFile(args[0])
			if err != nil {
				return err
			}
			if !isHive {
				if len(args) != 2 {
					return usagef("reg export of a disk image takes the KEY to export (HKLM\\SOFTWARE, HKU\\.DEFAULT\\Software…)")
				}
				if prefix != "" {
					return usagef("--prefix applies to hive files; a disk image's keys are exported under their own root")
				}
				img, r, err := readImageRegistry(args[0], &rf)
				if err != nil {
					return err
				}
				defer img.Close()
				h, root, p, err := r.Hive(args[1])
				if err != nil {
					return err
				}
				k, err := h.Key(p)
				if err != nil {
					return fmt.Errorf("%s: %w", args[1], err)
				}
				return hive.Export(a.stdout, k, p, &hive.ExportOptions{Prefix: root, UTF8: utf8})
			}
			h, err := openHiveTarget(args[0])
			if err != nil {
				return err
			}
			if prefix == "" {
				prefix = defaultPrefix(args[0])
			}
			k, p := h.Root(), ""
			if len(args) == 2 {
				if p, err = hivePath(h, args[1], prefix); err != nil {
					return err
				}
				if k, err = h.Key(p); err != nil {
					return err
				}
			}
			return hive.Export(a.stdout, k, p, &hive.ExportOptions{Prefix: prefix, UTF8: utf8})
		}),
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "root `PREFIX` of the key paths written")
	cmd.Flags().StringVar(&encoding, "encoding", "utf16", "utf16 (UTF-16LE with BOM, as regedit) or utf8")
	rf.addImage(cmd, false)
	return cmd
}

func (a *app) regImportCommand() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "import [--prefix P] TARGET FILE.reg",
		Short: "Merge a .reg file into a hive, as regedit does",
		Long: `Merge FILE.reg (either header, UTF-16 or UTF-8) into TARGET as regedit does: missing
parent keys are created, "name"=- deletes a value and [-KEY] a key. Key paths lose
--prefix (by default the leading root: HKLM\<hive>, HKCU, HKU\<name>). A malformed
line is reported with its number and nothing is changed.`,
		Args: exactArgs(2, "TARGET FILE.reg"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			isHive, err := isHiveFile(args[0])
			if err != nil {
				return err
			}
			if !isHive {
				var st hive.ImportStats
				err := a.writeImageRegistry(args[0], &rf, func(r *imagecustom.Registry) error {
					var err error
					if st, err = r.Import(f); err != nil {
						return fmt.Errorf("%s: %w", args[1], err)
					}
					return nil
				})
				if err == nil && !a.quiet && !a.json {
					fmt.Fprintf(a.stderr, "import %s: %d keys created, %d deleted, %d values set, %d deleted\n",
						args[1], st.KeysCreated, st.KeysDeleted, st.ValuesSet, st.ValuesDeleted)
				}
				return err
			}
			h, err := openHiveTarget(args[0])
			if err != nil {
				return err
			}
			st, err := hive.Import(h, f, &hive.ImportOptions{Prefix: rf.prefix})
			if err != nil {
				return fmt.Errorf("%s: %w", args[1], err)
			}
			what := fmt.Sprintf("import %s: %d keys created, %d deleted, %d values set, %d deleted",
				args[1], st.KeysCreated, st.KeysDeleted, st.ValuesSet, st.ValuesDeleted)
			if err := a.saveHive(h, args[0], &rf, what); err != nil {
				return err
			}
			if a.json && !rf.dryRun {
				return a.printJSON(st)
			}
			if !a.quiet && !rf.dryRun {
				fmt.Fprintln(a.stderr, what)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&rf.prefix, "prefix", "", "hive files: key path `PREFIX` standing for the hive's root")
	rf.addImage(cmd, true)
	return cmd
}
