package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/internal/realserver"
)

// A server token doctor read from an --agent-config file is a finding
// about that file: every format points at the token's line.
func TestDoctorServerTokenFromAgentConfigHasLocation(t *testing.T) {
	v := realserver.StartVault(t)
	dir := t.TempDir()
	agent := filepath.Join(dir, "server.hcl")
	must(t, os.WriteFile(agent, []byte(fmt.Sprintf("server {\n  enabled = true\n}\n\nvault {\n  enabled = true\n  token   = %q\n}\n", v.RootToken)), 0o600))
	env := map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken}
	args := func(format string) []string {
		return []string{"doctor", "--timeout", "5s", "--format", format, "--agent-config", agent}
	}

	r := nvlint(t, "", env, args("json")...)
	var rep struct {
		Findings []struct {
			Rule     string
			Location *struct {
				File string
				Line int
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Rule != "NV614" {
			continue
		}
		found = true
		if f.Location == nil || f.Location.File != agent || f.Location.Line != 7 {
			t.Errorf("json: NV614 location %+v, want %s:7", f.Location, agent)
		}
	}
	if !found {
		t.Fatalf("no NV614 for a root server token:\n%s", r.stdout)
	}

	r = nvlint(t, "", env, append(args("text"), "--color", "never")...)
	if _, after, ok := strings.Cut(r.stdout, "warning[NV614]"); !ok || !strings.HasPrefix(lineAfter(after), "  --> "+agent+":7:") || !strings.Contains(after, "7 |   token   = \"<redacted>\"") {
		t.Errorf("text: NV614 not at %s:7:\n%s", agent, r.stdout)
	}

	r = nvlint(t, "", env, args("sarif")...)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine int }
					}
				}
			}
		}
	}
	must(t, json.Unmarshal([]byte(r.stdout), &log))
	for _, res := range log.Runs[0].Results {
		if res.RuleID != "NV614" {
			continue
		}
		if p := res.Locations[0].PhysicalLocation; p == nil || !strings.HasSuffix(p.ArtifactLocation.URI, "/server.hcl") || p.Region.StartLine != 7 {
			t.Errorf("sarif: NV614 without the physical location: %+v", res.Locations)
		}
	}

	r = nvlint(t, "", env, args("checkstyle")...)
	var cs struct {
		Files []struct {
			Name   string `xml:"name,attr"`
			Errors []struct {
				Line   int    `xml:"line,attr"`
				Source string `xml:"source,attr"`
			} `xml:"error"`
		} `xml:"file"`
	}
	must(t, xml.Unmarshal([]byte(r.stdout), &cs))
	found = false
	for _, f := range cs.Files {
		for _, e := range f.Errors {
			if e.Source == "NV614" {
				found = f.Name == agent && e.Line == 7
			}
		}
	}
	if !found {
		t.Errorf("checkstyle: NV614 not under %s line 7:\n%s", agent, r.stdout)
	}

	r = nvlint(t, "", env, args("github")...)
	found = false
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "title=NV614 ") {
			found = strings.Contains(l, "file="+agent+",line=7,")
		}
	}
	if !found {
		t.Errorf("github: NV614 not at %s line 7:\n%s", agent, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, v.RootToken) {
		t.Error("the token leaked")
	}
}

// lineAfter returns the line after the first line break of s.
func lineAfter(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	line, _, _ := strings.Cut(rest, "\n")
	return line
}
