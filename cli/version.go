package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// BuildInfo is what nvlint knows about its own build.
type BuildInfo struct {
	// Version is the module version ("v1.2.0", a pseudo-version for a
	// build of a commit), or "dev" for a build from a work tree Go does
	// not stamp.
	Version string `json:"version"`
	// Revision and Time are the VCS commit and its commit time, when the
	// binary was built in a repository; Modified says the work tree had
	// uncommitted changes.
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary; Platform is
	// GOOS/GOARCH.
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
}

// ReadBuildInfo reads the binary's build information.
func ReadBuildInfo() BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	return buildInfo(bi, ok)
}

func buildInfo(bi *debug.BuildInfo, ok bool) BuildInfo {
	out := BuildInfo{Version: "dev", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if !ok || bi == nil {
		return out
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		out.Version = v
	}
	if bi.GoVersion != "" {
		out.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			out.Revision = s.Value
		case "vcs.time":
			out.Time = s.Value
		case "vcs.modified":
			out.Modified = s.Value == "true"
		case "GOOS", "GOARCH":
			// runtime already says the platform the binary runs on.
		}
	}
	return out
}

// String is the multi-line text nvlint version prints.
func (b BuildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "nvlint %s\n", b.Version)
	if b.Revision != "" {
		var about []string
		if b.Time != "" {
			about = append(about, "committed "+b.Time)
		}
		if b.Modified {
			about = append(about, "built with uncommitted changes")
		}
		rev := b.Revision
		if len(about) > 0 {
			rev += " (" + strings.Join(about, ", ") + ")"
		}
		fmt.Fprintf(&s, "  commit: %s\n", rev)
	}
	fmt.Fprintf(&s, "  go:     %s %s\n", b.GoVersion, b.Platform)
	return s.String()
}

// Version is the module version nvlint was built as.
func Version() string { return ReadBuildInfo().Version }

// versionFlags are the flags of nvlint version.
type versionFlags struct {
	print printFlags
	short bool
}

func newVersionCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f versionFlags
	c := &cobra.Command{
		Use:               "version [flags]",
		Short:             "print the version and build (commit, time, Go)",
		Long:              "Prints nvlint's version and how it was built.\n\nExit status: 0, or 2 on a usage error.",
		Args:              cobra.NoArgs,
		ValidArgsFunction: noArgs,
		RunE: func(*cobra.Command, []string) error {
			*code = runVersion(&f, env)
			return nil
		},
	}
	f.print.register(c, g, "the build as data")
	c.Flags().BoolVar(&f.short, "short", false, "print the version only")
	return c
}

func runVersion(f *versionFlags, env Env) int {
	asJSON, _, err := f.print.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	b := ReadBuildInfo()
	switch {
	case f.short:
		fmt.Fprintln(env.Stdout, b.Version)
	case asJSON:
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b); err != nil {
			return ExitInternal
		}
	default:
		fmt.Fprint(env.Stdout, b)
	}
	return ExitOK
}
