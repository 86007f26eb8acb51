package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time by release builds:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/imagecustom
//
// Otherwise the module version from the build info is used.
var version = ""

// versionInfo is the --json shape of "imagecustom version".
type versionInfo struct {
	Version  string `json:"version"`            // release or module version, "(devel)" for a source build
	Commit   string `json:"commit,omitempty"`   // VCS revision the binary was built from
	Time     string `json:"time,omitempty"`     // commit time, RFC 3339
	Modified bool   `json:"modified,omitempty"` // the work tree had uncommitted changes
	Go       string `json:"go"`                 // Go toolchain version
	Platform string `json:"platform"`           // GOOS/GOARCH
}

func buildVersion() versionInfo {
	v := versionInfo{
		Version:  version,
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if v.Version == "" {
			v.Version = "(unknown)"
		}
		return v
	}
	if v.Version == "" {
		v.Version = info.Main.Version
	}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version and build information",
		Args:  cobra.NoArgs,
		RunE: runE(func(*cobra.Command, []string) error {
			v := buildVersion()
			if a.json {
				return a.printJSON(v)
			}
			fmt.Fprintf(a.stdout, "imagecustom %s\n", v.Version)
			if v.Commit != "" {
				dirty := ""
				if v.Modified {
					dirty = " (modified)"
				}
				fmt.Fprintf(a.stdout, "commit %s%s %s\n", v.Commit, dirty, v.Time)
			}
			fmt.Fprintf(a.stdout, "%s %s\n", v.Go, v.Platform)
			return nil
		}),
	}
}
