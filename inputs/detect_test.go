package inputs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// Only what a Nomad agent config alone has makes a file one: Consul's
// config shares most of its top-level keys, and Vault Agent's and
// consul-template's have a vault block.
func TestDetectAgentConfig(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      world.Kind
	}{
		{"consul.hcl", "datacenter = \"dc1\"\ndata_dir = \"/opt/consul\"\nserver = true\nbind_addr = \"0.0.0.0\"\nacl {\n  enabled = true\n}\nports {\n  grpc = 8502\n}\ntelemetry {\n  disable_hostname = true\n}\ntls {\n  defaults {\n    verify_incoming = true\n  }\n}\n", ""},
		{"consul.json", `{"datacenter": "dc1", "data_dir": "/opt/consul", "server": true, "acl": {"enabled": true}}`, ""},
		{"vault-agent.hcl", "vault {\n  address = \"https://vault:8200\"\n}\nauto_auth {\n  method \"approle\" {}\n}\n", ""},
		{"consul-template.hcl", "consul {\n  address = \"127.0.0.1:8500\"\n}\nvault {\n  address = \"https://vault:8200\"\n}\ntemplate {\n  source = \"in.tpl\"\n}\n", ""},
		{"base.hcl", "data_dir = \"/opt/nomad\"\nbind_addr = \"0.0.0.0\"\n", ""},
		{"server.hcl", "data_dir = \"/opt/nomad\"\nserver {\n  enabled = true\n}\n", world.KindAgentConfig},
		{"client.hcl", "client {\n  enabled = true\n}\n", world.KindAgentConfig},
		{"vault.hcl", "vault {\n  enabled = true\n}\n", world.KindAgentConfig},
		{"region.hcl", "region = \"eu\"\n", world.KindAgentConfig},
		{"server.json", `{"data_dir": "/opt/nomad", "server": {"enabled": true}}`, world.KindAgentConfig},
		{"client.json", `{"client": [{"enabled": true}]}`, world.KindAgentConfig},
		// Markdown with examples that look like blocks, and syntax errors.
		{"README.md", "# Setup\n\n```hcl\nvault {\n  enabled = true\n}\nserver {\n```\n\nRun `nomad agent -config server.hcl`.\n", ""},
		{"notes.txt", "server {\n  enabled = true\n", ""},
		// A broken file named as HCL is still read as what it looks like,
		// so its syntax error is reported.
		{"broken.hcl", "server {\n  enabled = true\n", world.KindAgentConfig},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		w, _, err := inputs.Load([]string{p}, inputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Files) != 1 || w.Files[0].Kind != c.want {
			var got world.Kind
			if len(w.Files) > 0 {
				got = w.Files[0].Kind
			}
			t.Errorf("%s: kind %q, want %q", c.name, got, c.want)
		}
		if c.want == "" && len(w.Files) == 1 && len(w.Files[0].Diags) > 0 {
			t.Errorf("%s: syntax errors reported for a file nvlint does not read: %v", c.name, w.Files[0].Diags)
		}
	}
}
