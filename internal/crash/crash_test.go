package crash

import "testing"

func TestTrimPath(t *testing.T) {
	for in, want := range map[string]string{
		moduleRoot + "/rules/run.go":                                      "rules/run.go",
		"/root/go/pkg/mod/github.com/hashicorp/hcl/v2@v2.24.0/ops.go":     "github.com/hashicorp/hcl/v2@v2.24.0/ops.go",
		"/usr/local/go/src/runtime/panic.go":                              "runtime/panic.go",
		"C:\\Users\\dev\\go\\pkg\\mod\\golang.org\\x\\sync@v0.16.0\\a.go": "golang.org/x/sync@v0.16.0/a.go",
		"/opt/build/elsewhere/gen.go":                                     "gen.go",
		// Built with -trimpath: already free of build paths.
		"github.com/nvlint/nvlint/rules/run.go":      "github.com/nvlint/nvlint/rules/run.go",
		"runtime/panic.go":                           "runtime/panic.go",
		"github.com/hashicorp/hcl/v2@v2.24.0/ops.go": "github.com/hashicorp/hcl/v2@v2.24.0/ops.go",
	} {
		if got := TrimPath(in); got != want {
			t.Errorf("TrimPath(%q) = %q, want %q", in, got, want)
		}
	}
}
