package main

import (
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// fsckJSON is the --json document of fsck.
type fsckJSON struct {
	Problems []problemJSON `json:"problems"` // never null: [] when clean
	Clean    bool          `json:"clean"`
}

// problemJSON is one problem fsck found.
type problemJSON struct {
	Kind   string `json:"kind"`   // e.g. "cluster-leaked"; see ntfs.ProblemKind
	Record int64  `json:"record"` // MFT record, -1 if none
	Offset int64  `json:"offset"` // byte offset in the volume, -1 if none
	Detail string `json:"detail"`
}

func (a *app) fsckCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "fsck [--partition N] IMAGE",
		Short: "Check an NTFS volume's consistency (exit 4 on problems)",
		Long: `fsck checks an NTFS volume of IMAGE without changing it: MFT records and
their fixups, the $MFT and cluster bitmaps against what the records use,
directory indexes (order, entries, names), link counts, $MFTMirr, security ids
and attributes. It prints one problem per line and exits with 4 if it found
any, 0 if the volume is clean.`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			problems, err := ntfs.Check(cmd.Context(), v, nil)
			if err != nil {
				return err
			}
			doc := fsckJSON{Problems: []problemJSON{}, Clean: len(problems) == 0}
			lines := make([]fmt.Stringer, len(problems))
			for i, p := range problems {
				doc.Problems = append(doc.Problems, problemJSON{Kind: p.Kind.String(), Record: p.Record, Offset: p.Offset, Detail: p.Detail})
				lines[i] = p
			}
			return a.reportProblems("fsck", doc, lines)
		}),
	}
	vf.add(cmd)
	return cmd
}

// reportProblems prints what a check found: doc under --json, else one
// line per problem on stdout and, when there is none, a note on stderr.
// It returns a problemsError (exit 4) when there are problems.
func (a *app) reportProblems(what string, doc any, problems []fmt.Stringer) error {
	if a.json {
		if err := a.printJSON(doc); err != nil {
			return err
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(a.stdout, p)
		}
		if len(problems) == 0 && !a.quiet {
			fmt.Fprintf(a.stderr, "%s: no problems found\n", what)
		}
	}
	if len(problems) > 0 {
		return problemsError{what: what, n: len(problems)}
	}
	return nil
}
