package inputs

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/world"
)

// Files are recognised by content: the top-level keys of a JSON document
// or the top-level blocks of an HCL file. The name is only a fallback for
// files too broken to parse.

var (
	// Blocks only a Nomad agent config has at its top: Consul's config
	// shares data_dir, datacenter, bind_addr, ports, acl, telemetry,
	// addresses and tls, and says server = true, not server { ... }.
	agentBlocks = []string{"server", "client", "vault", "consul", "plugin", "advertise"}
	// Attributes only a Nomad agent config has at its top.
	agentAttrs = []string{"region"}
	// Blocks of the other tools whose configs have a vault or consul
	// block: Vault Agent and Vault Proxy, consul-template, Vault itself.
	notAgentBlocks = []string{"auto_auth", "cache", "template", "template_config", "listener", "api_proxy", "exec", "env_template", "storage", "seal"}
	// Keys that only JWT roles have.
	jwtRoleKeys   = []string{"role_type", "bound_audiences", "user_claim", "user_claim_json_pointer", "bound_claims", "bound_claims_type", "claim_mappings", "bound_subject", "groups_claim", "allowed_redirect_uris", "oidc_scopes", "verbose_oidc_logging", "expiration_leeway", "not_before_leeway", "clock_skew_leeway"}
	jwtConfigKeys = []string{"jwks_url", "jwt_validation_pubkeys", "oidc_discovery_url", "jwt_supported_algs", "default_role", "bound_issuer", "jwks_ca_pem", "oidc_client_id", "oidc_client_secret", "oidc_discovery_ca_pem", "jwks_pairs", "provider_config", "namespace_in_state", "oidc_response_mode", "oidc_response_types"}
	tokenRoleKeys = []string{"allowed_policies", "disallowed_policies", "allowed_policies_glob", "disallowed_policies_glob", "orphan", "explicit_max_ttl", "path_suffix", "allowed_entity_aliases", "renewable", "period"}
)

func hasAny(attrs hcl.Attributes, keys []string) bool {
	for _, k := range keys {
		if _, ok := attrs[k]; ok {
			return true
		}
	}
	return false
}

func detectJSON(top hcl.Attributes) world.Kind {
	switch {
	case hasAny(top, []string{"Job", "TaskGroups"}), hasAny(top, []string{"job"}):
		return world.KindJobspec
	case hasAny(top, []string{"path"}):
		return world.KindPolicy
	case hasAny(top, jwtRoleKeys):
		return world.KindJWTRole
	case hasAny(top, jwtConfigKeys):
		return world.KindJWTAuthConfig
	case hasAny(top, tokenRoleKeys):
		return world.KindTokenRole
	case jsonAgent(top):
		return world.KindAgentConfig
	}
	// A role with only token_* parameters: JWT roles always carry one of
	// the keys above, so this is a token role.
	for k := range top {
		if strings.HasPrefix(k, "token_") {
			return world.KindTokenRole
		}
	}
	return ""
}

func detectHCL(body *hclsyntax.Body) world.Kind {
	blocks := map[string]bool{}
	for _, b := range body.Blocks {
		blocks[b.Type] = true
	}
	switch {
	case blocks["job"]:
		return world.KindJobspec
	case blocks["path"]:
		return world.KindPolicy
	}
	for _, k := range notAgentBlocks {
		if blocks[k] {
			return ""
		}
	}
	for _, k := range agentBlocks {
		if blocks[k] {
			return world.KindAgentConfig
		}
	}
	for _, k := range agentAttrs {
		if _, ok := body.Attributes[k]; ok {
			return world.KindAgentConfig
		}
	}
	return ""
}

// jsonAgent reports whether a JSON document's top-level keys are a Nomad
// agent config's: one of its blocks as an object (or a list of them), or
// one of its attributes, and none of another tool's blocks.
func jsonAgent(top hcl.Attributes) bool {
	if hasAny(top, notAgentBlocks) {
		return false
	}
	if hasAny(top, agentAttrs) {
		return true
	}
	for _, k := range agentBlocks {
		a, ok := top[k]
		if !ok {
			continue
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() || v.IsNull() {
			continue
		}
		if t := v.Type(); t.IsObjectType() || t.IsTupleType() || t.IsMapType() || t.IsListType() {
			return true
		}
	}
	return false
}

var (
	sniffJob    = regexp.MustCompile(`(?m)^\s*job\s+"`)
	sniffPolicy = regexp.MustCompile(`(?m)^\s*path\s+"`)
	sniffAgent  = regexp.MustCompile(`(?m)^\s*(vault|server|client)\s*\{`)
)

// sniffHCL guesses the kind of an HCL file too broken to parse, so its
// syntax error is still reported.
func sniffHCL(src []byte) world.Kind {
	switch {
	case sniffJob.Match(src):
		return world.KindJobspec
	case sniffPolicy.Match(src):
		return world.KindPolicy
	case sniffAgent.Match(src):
		return world.KindAgentConfig
	}
	return ""
}

func kindFromName(path string) world.Kind {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case isTerraformPath(base):
		return world.KindTerraform
	case strings.HasSuffix(base, ".nomad") || strings.HasSuffix(base, ".nomad.hcl") || strings.HasSuffix(base, ".nomad.json"):
		return world.KindJobspec
	case strings.Contains(base, "policy") || strings.HasSuffix(base, ".policy"):
		return world.KindPolicy
	}
	return ""
}

// Object names follow the seeds' file names: nomad-server-policy.hcl is
// the policy nomad-server, vault-role-nomad-workloads.json the role
// nomad-workloads, vault-auth-method-jwt-nomad.json the mount jwt-nomad.
var (
	namePrefixes = map[world.Kind][]string{
		world.KindPolicy:        {"vault-policy-", "vault_policy_", "policy-", "policy_"},
		world.KindTokenRole:     {"vault-token-role-", "vault-role-", "token-role-", "role-"},
		world.KindJWTRole:       {"vault-jwt-role-", "vault-role-", "jwt-role-", "role-"},
		world.KindJWTAuthConfig: {"vault-auth-method-", "auth-method-", "vault-auth-", "auth-"},
	}
	nameSuffixes = map[world.Kind][]string{
		world.KindPolicy:        {"-policy", "_policy"},
		world.KindTokenRole:     {"-token-role", "-role", "_role"},
		world.KindJWTRole:       {"-jwt-role", "-role", "_role"},
		world.KindJWTAuthConfig: {"-config", "_config"},
	}
)

// mountlessWords are the words of a JWT auth config's file name that say
// what the file is, not which mount it configures: auth-method.json (the
// file of Nomad's docs), jwt-config.json, 02-vault-auth-jwt.json.
var mountlessWords = map[string]bool{
	"auth": true, "method": true, "config": true, "configuration": true, "jwt": true,
	"oidc": true, "vault": true, "backend": true, "settings": true,
}

// namesNoMount reports whether a JWT auth config's file name holds no
// mount name: only words such as auth, method, config and numbers.
func namesNoMount(path string) bool {
	words := strings.FieldsFunc(strings.ToLower(filepath.Base(path)), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		if i == len(words)-1 && w == "json" {
			continue
		}
		if !mountlessWords[w] && strings.Trim(w, "0123456789") != "" {
			return false
		}
	}
	return true
}

// objectName derives an object's name from its file name.
func objectName(path string, kind world.Kind) string {
	base := filepath.Base(path)
	for {
		ext := filepath.Ext(base)
		if ext == "" || ext == base {
			break
		}
		switch strings.ToLower(ext) {
		case ".json", ".hcl", ".policy", ".nomad":
			base = strings.TrimSuffix(base, ext)
			continue
		}
		break
	}
	for _, p := range namePrefixes[kind] {
		if strings.HasPrefix(base, p) && len(base) > len(p) {
			base = base[len(p):]
			break
		}
	}
	for _, s := range nameSuffixes[kind] {
		if strings.HasSuffix(base, s) && len(base) > len(s) {
			base = base[:len(base)-len(s)]
			break
		}
	}
	return base
}

func overrideName(path string, opts Options) string {
	if opts.NameAs != nil {
		path = opts.NameAs(path)
	}
	if n, ok := opts.Names[path]; ok {
		return n
	}
	if n, ok := opts.Names[filepath.Base(path)]; ok {
		return n
	}
	return ""
}

// setupVaultNames are the objects `nomad setup vault` writes from its own
// files (command/asset in the Nomad repository, command/setup_vault.go):
// the JWT auth method jwt-nomad, its role nomad-workloads and the policy
// nomad-workloads, whatever the files are called.
var setupVaultNames = map[string]struct {
	kind world.Kind
	name string
}{
	"vault-wi-default-auth-method-config.json": {world.KindJWTAuthConfig, "jwt-nomad"},
	"vault-wi-default-role.json":               {world.KindJWTRole, "nomad-workloads"},
	"vault-wi-default-policy.hcl":              {world.KindPolicy, "nomad-workloads"},
}

// nameFor names the object of a file and says how: --name, one of nomad
// setup vault's files, or a guess from the file name.
func nameFor(path string, kind world.Kind, opts Options) (string, world.NameSource) {
	if n := overrideName(path, opts); n != "" {
		return n, world.NameFromFlag
	}
	if c, ok := setupVaultNames[strings.ToLower(filepath.Base(path))]; ok && c.kind == kind {
		return c.name, world.NameFromSetupVault
	}
	return objectName(path, kind), world.NameFromFileName
}
