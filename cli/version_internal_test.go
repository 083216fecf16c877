package cli

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/nvlint/nvlint", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	b := buildInfo(bi, true)
	if b.Version != "v1.2.0" || b.Revision != "0123456789abcdef" || b.Time != "2026-01-02T03:04:05Z" || !b.Modified || b.GoVersion != "go1.26.8" {
		t.Errorf("%+v", b)
	}
	text := b.String()
	for _, want := range []string{"nvlint v1.2.0\n", "commit: 0123456789abcdef (committed 2026-01-02T03:04:05Z, built with uncommitted changes)", "go:     go1.26.8 "} {
		if !strings.Contains(text, want) {
			t.Errorf("version text lacks %q:\n%s", want, text)
		}
	}
	// A build Go does not stamp (go run, a work tree without VCS).
	bi = &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}
	if b := buildInfo(bi, true); b.Version != "dev" || b.Revision != "" || strings.Contains(b.String(), "commit") {
		t.Errorf("devel build: %+v\n%s", b, b.String())
	}
	if b := buildInfo(nil, false); b.Version != "dev" || b.GoVersion == "" {
		t.Errorf("no build info: %+v", b)
	}
}
