package inputs

import (
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The value readers (strAttr, listAttr...) leave a value nvlint cannot
// evaluate unknown, so rules stay silent about it. A literal of the wrong
// type is different: Nomad or Vault refuses the file, and saying nothing
// would let the file pass. typeCheck reports those, with the leniency of
// the tool that reads the file: Vault decodes weakly ("true" is a bool,
// "a,b" a list, "72h" a duration), Nomad's jobspec parser converts only
// what cty converts.

// valueType is what an attribute must hold.
type valueType int

const (
	tString      valueType = iota // any primitive (numbers and bools convert)
	tBool                         // Vault and agent configs: bool, number, or a string strconv parses
	tBoolStrict                   // jobspecs: bool, or "true"/"false"
	tList                         // Vault: a list of primitives, or a comma-separated string
	tListStrict                   // jobspecs: a list of primitives
	tDuration                     // Vault: whole seconds, or a duration string
	tStringMap                    // an object of primitives
	tBoundClaims                  // an object of primitives or lists of primitives
)

// attrTypes maps attribute names to what they must hold.
type attrTypes map[string]valueType

var (
	jobTypes      = attrTypes{"namespace": tString, "type": tString, "id": tString, "region": tString}
	vaultTypes    = attrTypes{"policies": tListStrict, "role": tString, "cluster": tString, "namespace": tString, "change_mode": tString, "allow_token_expiration": tBoolStrict}
	identityTypes = attrTypes{"name": tString, "aud": tListStrict, "ttl": tString}
	secretTypes   = attrTypes{"provider": tString, "path": tString, "engine": tString}
	templateTypes = attrTypes{
		"data": tString, "source": tString, "destination": tString, "env": tBoolStrict,
		"left_delimiter": tString, "right_delimiter": tString, "change_mode": tString,
	}
	enabledTypes    = attrTypes{"enabled": tBool}
	retryTypes      = attrTypes{"attempts": tString, "backoff": tString, "max_backoff": tString}
	agentVaultTypes = attrTypes{
		"name": tString, "enabled": tBool, "address": tString, "token": tString, "create_from_role": tString,
		"allow_unauthenticated": tBool, "task_token_ttl": tString, "jwt_auth_backend_path": tString, "namespace": tString,
	}
	defaultIdentityTypes = attrTypes{"aud": tList, "ttl": tString}
	tokenRoleTypes       = attrTypes{
		"name": tString, "allowed_policies": tList, "disallowed_policies": tList, "allowed_policies_glob": tList,
		"disallowed_policies_glob": tList, "orphan": tBool, "renewable": tBool, "period": tDuration, "token_period": tDuration,
		"explicit_max_ttl": tDuration, "token_explicit_max_ttl": tDuration, "token_no_default_policy": tBool, "token_type": tString,
	}
	jwtConfigTypes = attrTypes{
		"jwks_url": tString, "jwt_validation_pubkeys": tList, "oidc_discovery_url": tString, "jwt_supported_algs": tList,
		"default_role": tString, "bound_issuer": tString,
	}
	jwtRoleTypes = attrTypes{
		"role_type": tString, "bound_audiences": tList, "bound_subject": tString, "bound_claims_type": tString,
		"user_claim": tString, "user_claim_json_pointer": tBool, "claim_mappings": tStringMap, "bound_claims": tBoundClaims,
		"token_policies": tList, "policies": tList, "token_period": tDuration, "period": tDuration, "token_ttl": tDuration,
		"ttl": tDuration, "token_max_ttl": tDuration, "max_ttl": tDuration, "token_explicit_max_ttl": tDuration,
		"token_type": tString, "token_no_default_policy": tBool, "token_bound_cidrs": tList, "bound_cidrs": tList,
	}
)

// typeCheck reports the attributes of attrs that hold a literal of the
// wrong type. Values written as expressions nvlint does not evaluate are
// left alone.
func typeCheck(attrs hcl.Attributes, types attrTypes) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for name, a := range attrs {
		t, ok := types[name]
		if !ok {
			continue
		}
		v, ok := literal(a.Expr)
		if !ok || v.IsNull() {
			continue
		}
		if want := mismatch(v, t); want != "" {
			r := a.Expr.Range()
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Incorrect attribute value type",
				Detail:   fmt.Sprintf("Inappropriate value for attribute %q: %s is required, not %s.", name, want, typeName(v)),
				Subject:  &r,
			})
		}
	}
	// Map order is random; report in source order.
	sortDiags(diags)
	return diags
}

// mismatch returns what t requires when v does not hold it, else "".
func mismatch(v cty.Value, t valueType) string {
	ty := v.Type()
	switch t {
	case tString:
		if !ty.IsPrimitiveType() {
			return "a string"
		}
	case tBool, tBoolStrict:
		switch ty {
		case cty.Bool:
		case cty.Number:
			if t == tBoolStrict {
				return "a bool (true or false)"
			}
		case cty.String:
			if _, err := strconv.ParseBool(v.AsString()); err != nil {
				return "a bool (true or false)"
			}
		default:
			return "a bool (true or false)"
		}
	case tList, tListStrict:
		switch {
		case ty == cty.String && t == tList:
		case (ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) && primitivesOnly(v):
		default:
			return "a list of strings"
		}
	case tDuration:
		switch ty {
		case cty.Number:
		case cty.String:
			if _, ok := ParseVaultDuration(v.AsString()); !ok {
				return `a duration (whole seconds, or a string such as "72h")`
			}
		default:
			return `a duration (whole seconds, or a string such as "72h")`
		}
	case tStringMap, tBoundClaims:
		if !ty.IsObjectType() && !ty.IsMapType() {
			return "an object"
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || e.Type().IsPrimitiveType() {
				continue
			}
			if t == tBoundClaims && (e.Type().IsListType() || e.Type().IsTupleType()) && primitivesOnly(e) {
				continue
			}
			if t == tBoundClaims {
				return "an object of strings or lists of strings"
			}
			return "an object of strings"
		}
	}
	return ""
}

func primitivesOnly(v cty.Value) bool {
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsNull() && !e.Type().IsPrimitiveType() {
			return false
		}
	}
	return true
}

func typeName(v cty.Value) string {
	ty := v.Type()
	switch {
	case ty == cty.String:
		return "a string"
	case ty == cty.Number:
		return "a number"
	case ty == cty.Bool:
		return "a bool"
	case ty.IsListType(), ty.IsTupleType(), ty.IsSetType():
		return "a list"
	case ty.IsObjectType(), ty.IsMapType():
		return "an object"
	}
	return ty.FriendlyName()
}

func sortDiags(diags hcl.Diagnostics) {
	for i := 1; i < len(diags); i++ {
		for j := i; j > 0 && diags[j].Subject.Start.Byte < diags[j-1].Subject.Start.Byte; j-- {
			diags[j], diags[j-1] = diags[j-1], diags[j]
		}
	}
}
