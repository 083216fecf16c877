package inputs

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/nvlint/nvlint/internal/suggest"
)

// tfArguments are the arguments Terraform accepts in the Vault resources
// nvlint reads, from the hashicorp/vault provider v5.9.0 schemas
// (vault/resource_policy.go, resource_token_auth_backend_role.go,
// resource_jwt_auth_backend.go, resource_jwt_auth_backend_role.go, the
// token fields of auth_token.go, the namespace every resource takes and
// disable_remount of internal/provider/schema_util.go). Attributes the
// provider computes (accessor) are listed too: setting one is a different
// Terraform error, not a misspelling. The legacy names older providers
// took (period, policies, ttl...) stay accepted, so that a setup pinned
// to an old provider is not called broken. nomad_job is not checked.
var tfArguments = map[string][]string{
	tfPolicy: {"name", "policy", "namespace"},
	tfTokenRole: append([]string{
		"role_name", "allowed_policies", "allowed_policies_glob", "disallowed_policies", "disallowed_policies_glob",
		"orphan", "allowed_entity_aliases", "renewable", "path_suffix", "namespace",
		// legacy
		"period", "explicit_max_ttl",
	}, tfTokenFields...),
	tfJWTConfig: {
		"path", "type", "description", "oidc_discovery_url", "oidc_discovery_ca_pem", "oidc_client_id",
		"oidc_client_secret", "oidc_client_secret_wo", "oidc_client_secret_wo_version", "oidc_response_mode",
		"oidc_response_types", "jwks_url", "jwks_ca_pem", "jwks_pairs", "jwt_validation_pubkeys", "bound_issuer",
		"jwt_supported_algs", "default_role", "accessor", "local", "provider_config", "namespace_in_state",
		"disable_remount", "namespace",
	},
	tfJWTRole: append([]string{
		"role_name", "role_type", "bound_audiences", "user_claim", "clock_skew_leeway", "expiration_leeway",
		"not_before_leeway", "allowed_redirect_uris", "bound_subject", "oidc_scopes", "bound_claims_type",
		"bound_claims", "disable_bound_claims_parsing", "claim_mappings", "groups_claim", "verbose_oidc_logging",
		"user_claim_json_pointer", "max_age", "backend", "namespace",
		// legacy
		"policies", "period", "ttl", "max_ttl", "bound_cidrs", "num_uses",
	}, tfTokenFields...),
}

// tfBlocks are the nested blocks the resources take.
var tfBlocks = map[string][]string{
	tfJWTConfig: {"tune"},
}

var tfTokenFields = []string{
	"token_bound_cidrs", "token_max_ttl", "token_ttl", "token_explicit_max_ttl", "token_no_default_policy",
	"token_period", "token_policies", "token_type", "token_num_uses", "alias_metadata",
}

// tfMetaArguments are Terraform's own, accepted in every resource.
var (
	tfMetaArguments = []string{"count", "for_each", "provider", "depends_on"}
	tfMetaBlocks    = []string{"lifecycle", "provisioner", "connection", "dynamic"}
)

// unknownArguments reports the arguments and blocks of a resource the
// provider does not take, as Terraform refuses them ("Unsupported
// argument"), each at its own name with the closest valid one. typos maps
// each suggested argument nvlint reads to the misspelt one's range: the
// user meant to set it, so it is not read as absent.
func (l *tfLoader) unknownArguments(typ string, b *hcl.Block) (typos map[string]hcl.Range) {
	args, ok := tfArguments[typ]
	blk := l.blocks[b.DefRange.Start.Byte]
	if !ok || blk == nil {
		return nil
	}
	valid := append(slices.Clone(args), tfMetaArguments...)
	for name, a := range blk.Body.Attributes {
		if slices.Contains(valid, name) {
			continue
		}
		detail := fmt.Sprintf("An argument named %q is not expected here.", name)
		if s, ok := suggest.Closest(name, valid, 3); ok {
			detail += fmt.Sprintf(" Did you mean %q?", s)
			if slices.Contains(tfAttrs[typ], s) {
				if _, set := blk.Body.Attributes[s]; !set {
					if typos == nil {
						typos = map[string]hcl.Range{}
					}
					typos[s] = a.NameRange
				}
			}
		}
		l.f.Diags = append(l.f.Diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: detail, Subject: a.NameRange.Ptr(),
		})
	}
	blocks := append(slices.Clone(tfBlocks[typ]), tfMetaBlocks...)
	for _, nb := range blk.Body.Blocks {
		if slices.Contains(blocks, nb.Type) {
			continue
		}
		detail := fmt.Sprintf("Blocks of type %q are not expected here.", nb.Type)
		if s, ok := suggest.Closest(nb.Type, blocks, 2); ok {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		} else if slices.Contains(valid, nb.Type) {
			detail += fmt.Sprintf(" Did you mean to define argument %q? If so, use the equals sign to assign it a value.", nb.Type)
		}
		l.f.Diags = append(l.f.Diags, &hcl.Diagnostic{
			Severity: hcl.DiagError, Summary: "Unsupported block type", Detail: detail, Subject: nb.TypeRange.Ptr(),
		})
	}
	return typos
}

// typoAttrs stands an unknown value, at the misspelt argument, for each
// argument a typo was meant to set.
func typoAttrs(attrs hcl.Attributes, typos map[string]hcl.Range) {
	for name, at := range typos {
		if _, ok := attrs[name]; !ok {
			attrs[name] = &hcl.Attribute{Name: name, Expr: hcl.StaticExpr(cty.DynamicVal, at), Range: at, NameRange: at}
		}
	}
}
