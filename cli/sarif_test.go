package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

func TestSARIFDocsURLFromEnvironment(t *testing.T) {
	const bad = "../fixtures/cases/NV302-unknown-vault-key/bad-typo"
	r := nvlint(t, "", map[string]string{"NVLINT_DOCS_URL": "https://git.example.internal/nvlint/docs/rules/"}, "lint", "--format", "sarif", bad)
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID      string `json:"id"`
						HelpURI string `json:"helpUri"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil || r.code != cli.ExitFindings {
		t.Fatalf("code %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, rl := range log.Runs[0].Tool.Driver.Rules {
		if rl.HelpURI != "https://git.example.internal/nvlint/docs/rules/"+rl.ID+".md" {
			t.Fatalf("%s: helpUri %q", rl.ID, rl.HelpURI)
		}
	}
	r = nvlint(t, "", map[string]string{"NVLINT_DOCS_URL": "docs/rules"}, "lint", "--format", "sarif", bad)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "NVLINT_DOCS_URL") {
		t.Errorf("a relative NVLINT_DOCS_URL: code %d, stderr %q", r.code, r.stderr)
	}
}
