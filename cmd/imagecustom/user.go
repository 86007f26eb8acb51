package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/spf13/cobra"
)

// userCommand is the "user" group: local accounts in the image's SAM.
func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Local accounts in an image's SAM: list, passwd, enable, disable, unlock",
	}
	cmd.AddCommand(a.userListCommand(), a.userPasswdCommand(),
		a.userFlagCommand("enable", "Enable a local account", (*sam.SAM).Enable, "enabled"),
		a.userFlagCommand("disable", "Disable a local account", (*sam.SAM).Disable, "disabled"),
		a.userFlagCommand("unlock", "Unlock a locked-out local account and reset its bad password count", (*sam.SAM).Unlock, "unlocked"))
	return cmd
}

// userJSON is one account in the --json output of "user list".
type userJSON struct {
	Name                 string     `json:"name"`
	RID                  uint32     `json:"rid"`
	FullName             string     `json:"full_name"`
	Comment              string     `json:"comment"`
	Flags                string     `json:"flags"` // names joined by "|", e.g. "normal|dont-expire-password"
	Disabled             bool       `json:"disabled"`
	Locked               bool       `json:"locked"`
	Password             string     `json:"password"` // "blank", "set" or "unknown" (no usable boot key)
	PasswordNeverExpires bool       `json:"password_never_expires"`
	LMHash               bool       `json:"lm_hash"` // an LM hash is stored
	LastLogon            *time.Time `json:"last_logon"`
	PasswordLastSet      *time.Time `json:"password_last_set"`
	AccountExpires       *time.Time `json:"account_expires"` // null: never
	BadPasswords         int        `json:"bad_passwords"`
	Logons               int        `json:"logons"`
	Groups               []string   `json:"groups"`
}

// usersJSON is the --json document of "user list".
type usersJSON struct {
	KeyRevision string     `json:"key_revision"` // "rc4" or "aes"
	Users       []userJSON `json:"users"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *app) userListCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "list IMAGE",
		Short: "List the local accounts of an image's Windows install",
		Long: `List the accounts of the SAM: name, RID, disabled, locked, whether the password
is blank, never expires, last logon and local groups. Telling a set password
from a blank one needs the boot key of the SYSTEM hive; without it the
password shows as "unknown".`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			s, err := accounts(args[0], v)
			if err != nil {
				return err
			}
			users, err := s.Users()
			if err != nil {
				return err
			}
			if a.json {
				doc := usersJSON{KeyRevision: s.Revision().String(), Users: []userJSON{}}
				for _, u := range users {
					g := u.Groups
					if g == nil {
						g = []string{}
					}
					doc.Users = append(doc.Users, userJSON{Name: u.Name, RID: u.RID, FullName: u.FullName, Comment: u.Comment,
						Flags: u.Flags.String(), Disabled: u.Disabled(), Locked: u.Locked(), Password: u.Password.String(),
						PasswordNeverExpires: u.PasswordNeverExpires(), LMHash: u.HasLMHash, LastLogon: timePtr(u.LastLogon),
						PasswordLastSet: timePtr(u.PasswordLastSet), AccountExpires: timePtr(u.AccountExpires),
						BadPasswords: u.BadPasswords, Logons: u.Logons, Groups: g})
				}
				return a.printJSON(doc)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tRID\tDISABLED\tLOCKED\tPASSWORD\tNEVER EXPIRES\tLAST LOGON\tGROUPS")
			yes := func(b bool) string {
				if b {
					return "yes"
				}
				return "no"
			}
			for _, u := range users {
				logon := "never"
				if !u.LastLogon.IsZero() {
					logon = u.LastLogon.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.RID, yes(u.Disabled()), yes(u.Locked()),
					u.Password, yes(u.PasswordNeverExpires()), logon, strings.Join(u.Groups, ", "))
			}
			return tw.Flush()
		}),
	}
	vf.add(cmd)
	return cmd
}

// accounts opens the SAM of the install on v.
func accounts(image string, v *ntfs.Volume) (*sam.SAM, error) {
	r, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		return nil, fmt.Errorf("%s holds no Windows registry: %w", image, err)
	}
	return r.Accounts()
}

// editAccounts runs fn on the SAM of IMAGE's install, then saves the hive
// and commits the image as every writing command does (journal,
// --dry-run, --out).
func (a *app) editAccounts(image string, wf *writeFlags, fn func(s *sam.SAM) error) error {
	return a.writeVolume(image, wf, func(v *ntfs.Volume) error {
		r, err := imagecustom.OpenRegistry(v, "")
		if err != nil {
			return fmt.Errorf("%s holds no Windows registry: %w", image, err)
		}
		s, err := r.Accounts()
		if err != nil {
			return err
		}
		if err := fn(s); err != nil {
			return err
		}
		_, err = r.Save()
		return err
	})
}

// note prints what a user command did, in text mode.
func (a *app) userNote(wf *writeFlags, format string, args ...any) {
	if a.json || a.quiet {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if wf.dryRun {
		msg = "dry run: would have " + msg
	}
	fmt.Fprintln(a.stderr, msg)
}

// maxPasswordFile bounds what --password-file reads.
const maxPasswordFile = 64 << 10

// readPassword reads a password from a file, or standard input for "-":
// the whole content less one trailing line end.
func (a *app) readPassword(name string) (string, error) {
	var r io.Reader
	if name == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPasswordFile+1))
	if err != nil {
		return "", err
	}
	defer clear(b)
	if len(b) > maxPasswordFile {
		return "", usagef("--password-file %s: over %d bytes, not a password", name, maxPasswordFile)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", usagef("--password-file %s is empty: use --blank to remove the password", name)
	}
	if bytes.ContainsAny(b, "\x00") {
		return "", usagef("--password-file %s: a password cannot hold a NUL", name)
	}
	return string(b), nil
}

func (a *app) userPasswdCommand() *cobra.Command {
	var wf writeFlags
	var passwordFile string
	var blank bool
	cmd := &cobra.Command{
		Use:   "passwd IMAGE USER (--password-file F | --blank)",
		Short: "Set or remove a local account's password",
		Long: `Give USER a new password, read from --password-file (- for standard input; one
trailing line end is dropped), or remove it with --blank. The SAM stores the NT
hash (MD4 of the UTF-16LE password) and no LM hash, encrypted as its key
revision requires (RC4, or AES from Windows 10 1607 on) under the boot key of
the SYSTEM hive. The password never appears in arguments or output.`,
		Args: exactArgs(2, "IMAGE USER"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if (passwordFile == "") == !blank {
				return usagef("user passwd takes one of --password-file FILE and --blank")
			}
			password := ""
			if !blank {
				var err error
				if password, err = a.readPassword(passwordFile); err != nil {
					return err
				}
			}
			err := a.editAccounts(args[0], &wf, func(s *sam.SAM) error {
				if blank {
					return s.Blank(args[1])
				}
				return s.SetPassword(args[1], password)
			})
			if err != nil {
				return err
			}
			if blank {
				a.userNote(&wf, "removed the password of %s", args[1])
			} else {
				a.userNote(&wf, "set the password of %s", args[1])
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the new password from `FILE` (- for standard input)")
	cmd.Flags().BoolVar(&blank, "blank", false, "remove the password (no NT and no LM hash)")
	wf.add(cmd)
	return cmd
}

// userFlagCommand is "user enable|disable|unlock IMAGE USER".
func (a *app) userFlagCommand(name, short string, op func(*sam.SAM, string) error, done string) *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   name + " IMAGE USER",
		Short: short,
		Args:  exactArgs(2, "IMAGE USER"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if err := a.editAccounts(args[0], &wf, func(s *sam.SAM) error { return op(s, args[1]) }); err != nil {
				return err
			}
			a.userNote(&wf, "%s %s", done, args[1])
			return nil
		}),
	}
	wf.add(cmd)
	return cmd
}
