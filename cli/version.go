package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
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

func runVersion(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint version", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	format := fs.String("format", "text", "text or json")
	short := fs.Bool("short", false, "print the version only")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(rest) > 0 {
		return usageError(env, fmt.Errorf("version takes no arguments, got %q", rest[0]))
	}
	b := ReadBuildInfo()
	switch {
	case *short:
		fmt.Fprintln(env.Stdout, b.Version)
	case *format == "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b); err != nil {
			return ExitInternal
		}
	case *format == "text":
		fmt.Fprint(env.Stdout, b)
	default:
		return usageError(env, fmt.Errorf("--format wants text or json, got %q", *format))
	}
	return ExitOK
}
