package world

import (
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Resource is the Terraform resource that declares an object read from a
// .tf file. Fixes edit the resource block (attribute names and types are
// the provider's) and apply it with terraform instead of vault or nomad.
type Resource struct {
	Type, Name string
	// Module is the address of the module call the resource is read
	// through (module.roles), "" in a root module.
	Module string
	// File is the .tf file that declares the resource.
	File *File
	// Block is the resource block's header: resource "vault_policy" "x".
	Block hcl.Range
	// Attrs are the value ranges of the attributes written in the block;
	// for one set to a variable, where the variable's value is written.
	Attrs map[string]hcl.Range
	// InsertAt is where a new attribute goes (the start of the line of the
	// block's closing brace) and Indent the indentation it takes. Braces
	// covers the block's body, braces included.
	InsertAt hcl.Pos
	Indent   string
	Braces   hcl.Range
	// TextEnd is where text appended to an inline policy goes: the start
	// of its heredoc's closing marker line; nil when the text is not an
	// inline heredoc. TextIndent is the indentation of its lines.
	TextEnd    *hcl.Pos
	TextIndent string
	// Instance is true for one instance of a resource with count or for_each
	// (Name then ends in its key or index): its block is shared by every
	// instance, so an edit to it is not one instance's fix.
	Instance bool
}

// Address is the resource's Terraform address: vault_policy.nomad_server,
// or module.roles.vault_policy.app inside a module call.
func (r *Resource) Address() string {
	if r.Module != "" {
		return r.Module + "." + r.Type + "." + r.Name
	}
	return r.Type + "." + r.Name
}

// SymbolicAccessor stands in for an auth mount accessor a Terraform
// policy interpolates (${vault_jwt_auth_backend.nomad.accessor}):
// Terraform fills in the real one at apply time, so every reference to
// the same mount gets the same stand-in and templated paths stay
// comparable. ref is the reference as written, without ${ }.
func SymbolicAccessor(ref string) string {
	return "<" + strings.ReplaceAll(ref, ".", "/") + ">"
}

// IsSymbolicAccessor reports whether an accessor is a SymbolicAccessor:
// right by construction, and never the name of a live mount.
func IsSymbolicAccessor(s string) bool {
	return len(s) > 2 && strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">")
}

// tfRenamed are Vault parameters the providers only take under their
// token_* names.
var tfRenamed = map[string]string{
	"period":           "token_period",
	"explicit_max_ttl": "token_explicit_max_ttl",
	"ttl":              "token_ttl",
	"max_ttl":          "token_max_ttl",
	"policies":         "token_policies",
	"bound_cidrs":      "token_bound_cidrs",
	"num_uses":         "token_num_uses",
}

// tfSeconds are the attributes the providers type as whole seconds.
var tfSeconds = map[string]bool{
	"token_period": true, "token_ttl": true, "token_max_ttl": true, "token_explicit_max_ttl": true,
	"token_num_uses": true, "clock_skew_leeway": true, "expiration_leeway": true, "not_before_leeway": true, "max_age": true,
}

// tfLists are the attributes the providers type as lists (or sets) of
// strings, where Vault also takes a comma-separated string.
var tfLists = map[string]bool{
	"allowed_policies": true, "disallowed_policies": true, "allowed_policies_glob": true, "disallowed_policies_glob": true,
	"allowed_entity_aliases": true, "token_bound_cidrs": true, "token_policies": true, "bound_audiences": true,
	"allowed_redirect_uris": true, "oidc_scopes": true, "jwt_supported_algs": true, "jwt_validation_pubkeys": true,
	"oidc_response_types": true,
}

// TerraformAttribute translates a Vault API parameter and its value as a
// fix writes it (JSON, which is also HCL) into the provider's attribute
// and a value of the provider's type: token_period = 1800 for Vault's
// "period": "30m", a list for a comma-separated string.
func TerraformAttribute(key, valueJSON string) (string, string) {
	if n, ok := tfRenamed[key]; ok {
		key = n
	}
	s, err := strconv.Unquote(strings.TrimSpace(valueJSON))
	if err != nil {
		return key, valueJSON
	}
	switch {
	case tfSeconds[key]:
		if secs, ok := seconds(s); ok {
			return key, strconv.FormatInt(secs, 10)
		}
	case tfLists[key]:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, strconv.Quote(it))
			}
		}
		return key, "[" + strings.Join(items, ", ") + "]"
	}
	return key, valueJSON
}

// seconds parses Vault's duration forms: whole seconds, a Go duration, or
// days ("3d").
func seconds(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseInt(d, 10, 64); err == nil {
			return n * 86400, true
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		return int64(d / time.Second), true
	}
	return 0, false
}
