package inputs

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/world"
)

// Terraform configurations declare the same objects as the native files,
// as vault_policy, vault_token_auth_backend_role, vault_jwt_auth_backend,
// vault_jwt_auth_backend_role and nomad_job resources. They are read with
// the providers' attribute names into the same world objects, named by
// their attributes (the policy's name, the role's role_name, the mount's
// path), and every range stays inside the .tf file: an inline policy or
// jobspec is parsed on its own and its ranges mapped back to where its
// text is written.
//
// Expressions are evaluated as far as the configuration alone settles
// them, the way terraform plan would: attributes of the module's
// resources (vault_jwt_auth_backend.nomad.path), locals, variables with
// their values (tfvars.go), for_each and count, local module calls
// (tfcalls.go), path.*, file() and the pure functions (tfeval.go).
// Everything else (data sources, computed attributes, remote modules) is
// unknown, and rules that need it stay silent. A policy that interpolates
// an auth mount's accessor gets a stand-in (world.SymbolicAccessor) that
// is the same for every reference to the mount.

// The resource types nvlint reads.
const (
	tfPolicy    = "vault_policy"
	tfTokenRole = "vault_token_auth_backend_role"
	tfJWTConfig = "vault_jwt_auth_backend"
	tfJWTRole   = "vault_jwt_auth_backend_role"
	tfJob       = "nomad_job"
)

// tfAttrs are the attributes read per resource type: the providers'
// current names and the legacy ones older provider versions took.
var tfAttrs = map[string][]string{
	tfPolicy: {"name", "policy"},
	tfTokenRole: {
		"role_name", "allowed_policies", "disallowed_policies", "allowed_policies_glob", "disallowed_policies_glob",
		"orphan", "renewable", "token_period", "period", "token_explicit_max_ttl", "explicit_max_ttl",
		"token_no_default_policy", "token_type", "token_ttl", "token_max_ttl", "token_bound_cidrs",
		"token_num_uses", "path_suffix", "allowed_entity_aliases",
	},
	tfJWTConfig: {
		"path", "type", "jwks_url", "jwt_validation_pubkeys", "jwks_pairs", "oidc_discovery_url",
		"jwt_supported_algs", "default_role", "bound_issuer", "jwks_ca_pem", "oidc_discovery_ca_pem",
	},
	tfJWTRole: {
		"backend", "role_name", "role_type", "bound_audiences", "bound_subject", "bound_claims", "bound_claims_type",
		"disable_bound_claims_parsing", "user_claim", "user_claim_json_pointer", "claim_mappings",
		"token_policies", "policies", "token_period", "period", "token_ttl", "ttl", "token_max_ttl", "max_ttl",
		"token_explicit_max_ttl", "token_type", "token_no_default_policy", "token_bound_cidrs", "bound_cidrs",
		"token_num_uses", "groups_claim",
	},
	tfJob: {"jobspec", "json"},
}

var (
	tfRootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "resource", LabelNames: []string{"type", "name"}},
		{Type: "locals"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "module", LabelNames: []string{"name"}},
		{Type: "output", LabelNames: []string{"name"}},
	}}
	// tfSniff finds the resources in a file too broken to parse.
	tfSniff = regexp.MustCompile(`(?m)^\s*resource\s+"(vault_policy|vault_token_auth_backend_role|vault_jwt_auth_backend|vault_jwt_auth_backend_role|nomad_job)"`)
	// tfJSONFile is the one expression form read from .tf.json strings.
	tfJSONFile = regexp.MustCompile(`^\$\{\s*file\(\s*"((?:[^"\\]|\\.)*)"\s*\)\s*\}$`)
)

func isTerraformPath(p string) bool {
	p = strings.ToLower(p)
	return strings.HasSuffix(p, ".tf") || strings.HasSuffix(p, ".tf.json")
}

func tfSchema(typ string) *hcl.BodySchema {
	s := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "count"}, {Name: "for_each"}}}
	for _, a := range tfAttrs[typ] {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a})
	}
	return s
}

// tfLoader reads one Terraform file.
type tfLoader struct {
	f    *world.File
	opts Options
	w    *world.World
	ctx  *hcl.EvalContext
	// origins are where the module's variables' values are written.
	origins map[string]hcl.Expression
	// typos are the arguments the resource being read misspells (see
	// unknownArguments).
	typos map[string]hcl.Range
	json  bool
	lines lineIndex
	notes Notes
	// blocks are the native syntax's resource blocks, by where they start.
	blocks map[int]*hclsyntax.Block
	// module is the address of the module call being read ("module.x."),
	// "" in a root module; depth counts the calls.
	module string
	depth  int
	// shared is true inside a module called more than once: its blocks
	// are every call's, so an edit to one is no one object's fix.
	shared bool
	// called are the files of the modules read through calls.
	called []*world.File
	// stack are the module directories (samePath) of the calls that led
	// to this file, to stop at a cycle.
	stack []string
	// each is where the for_each element of the instance being read is
	// written, when it is written literally (see valueOrigin).
	each hcl.Expression
}

// eachOrigin is where the element of key is written in a for_each
// collection written at from, or nil.
func eachOrigin(from hcl.Expression, key string) hcl.Expression {
	if from == nil {
		return nil
	}
	e, _ := elementExpr(from, cty.StringVal(key))
	return e
}

// loadTerraform reads the resources of a .tf or .tf.json file. A file
// found by walking that declares none of them is skipped; one named
// explicitly is a Terraform configuration with nothing to check.
func loadTerraform(f *world.File, opts Options, w *world.World) Notes {
	l := &tfLoader{f: f, opts: opts, w: w, lines: newLineIndex(f.Src)}
	trimmed := bytes.TrimSpace(f.Src)
	l.json = strings.HasSuffix(strings.ToLower(f.Path), ".json") || (len(trimmed) > 0 && trimmed[0] == '{')
	var (
		file  *hcl.File
		diags hcl.Diagnostics
	)
	if l.json {
		file, diags = hcljson.Parse(f.Src, f.Path)
	} else {
		file, diags = parseTerraform(f.Src, f.Path)
	}
	if file == nil || file.Body == nil {
		if f.Explicit || tfSniff.Match(f.Src) {
			f.Kind = world.KindTerraform
			f.Diags = append(f.Diags, diags...)
		}
		return nil
	}
	if f.Path != "-" && opts.tf.isCalled(filepath.Dir(f.Path)) {
		// Read through the calls of the module that uses it, with the
		// values they give its variables.
		f.Kind = world.KindTerraform
		return nil
	}
	opts.tf.keepBody(f, file.Body)
	content, _, _ := file.Body.PartialContent(tfRootSchema)
	// A file with a resource nvlint reads, or a call of a local module
	// (which may have them), is a Terraform file of the run.
	reads := false
	for _, b := range content.Blocks {
		switch {
		case b.Type == "resource" && tfAttrs[b.Labels[0]] != nil:
			reads = true
		case b.Type == "module" && f.Path != "-":
			if src, _, ok := callSource(b); ok {
				_, local := localSource(filepath.Dir(f.Path), src)
				reads = reads || local
			}
		}
	}
	switch {
	case reads, f.Explicit, diags.HasErrors() && tfSniff.Match(f.Src):
		f.Kind = world.KindTerraform
		f.Diags = append(f.Diags, diags...)
	default:
		return nil
	}
	if f.Path != "-" {
		f.Terraform = filepath.Dir(f.Path)
	}
	l.ctx, l.origins = opts.tf.context(f.Path, file.Body)
	l.readBody(file.Body)
	w.Files = append(w.Files, l.called...)
	return l.notes
}

// readBody reads the resources and module calls of a parsed file, in
// the loader's context.
func (l *tfLoader) readBody(body hcl.Body) {
	if l.module != "" {
		l.opts.tf.keepBody(l.f, body)
	}
	content, _, _ := body.PartialContent(tfRootSchema)
	if native, ok := body.(*hclsyntax.Body); ok {
		l.blocks = map[int]*hclsyntax.Block{}
		for _, b := range native.Blocks {
			l.blocks[b.DefRange().Start.Byte] = b
		}
	}
	l.templates(body)
	for _, b := range content.Blocks {
		if b.Type == "resource" && tfAttrs[b.Labels[0]] != nil {
			l.resource(b)
		}
	}
	l.calls(content.Blocks)
}

// templates records the files the configuration renders with
// templatefile(), whatever resource renders them: they are templates
// whose ${...} are the call's variables, not files to read on their own.
func (l *tfLoader) templates(body hcl.Body) {
	native, ok := body.(*hclsyntax.Body)
	if !ok || l.f.Path == "-" {
		return
	}
	_ = hclsyntax.VisitAll(native, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "templatefile" || len(call.Args) == 0 {
			return nil
		}
		if p := strValue(withContext(call.Args[0], l.ctx)); p.IsKnown() {
			path := p.V
			if !filepath.IsAbs(path) {
				path = filepath.Join(cmp.Or(l.f.Terraform, filepath.Dir(l.f.Path)), path)
			}
			l.opts.tf.addTemplate(filepath.Clean(path), l.f.Path)
		}
		return nil
	})
}

func (l *tfLoader) notef(r hcl.Range, format string, args ...any) {
	l.notes = append(l.notes, fmt.Sprintf("%s:%d: %s", l.f.Path, r.Start.Line, fmt.Sprintf(format, args...)))
}

// tfKinds are the kinds of object each resource type declares.
var tfKinds = map[string]world.Kind{
	tfPolicy: world.KindPolicy, tfTokenRole: world.KindTokenRole, tfJWTConfig: world.KindJWTAuthConfig,
	tfJWTRole: world.KindJWTRole, tfJob: world.KindJobspec,
}

// skip records a resource nvlint cannot read: rules then know an object
// of its kind may exist that they cannot see.
func (l *tfLoader) skip(kind world.Kind, name, what string, at hcl.Range) {
	l.w.Skipped = append(l.w.Skipped, &world.Skipped{Kind: kind, Name: name, What: what, Range: at})
}

func (l *tfLoader) resource(b *hcl.Block) {
	typ, name := b.Labels[0], b.Labels[1]
	addr := l.module + typ + "." + name
	content, _, _ := b.Body.PartialContent(tfSchema(typ))
	l.typos = l.unknownArguments(typ, b)
	defer func() { l.typos = nil }()
	if a, ok := content.Attributes["count"]; ok {
		n, ok := countOf(a.Expr, l.ctx)
		if !ok {
			l.notef(b.DefRange, "%s: skipped: its count is not a number known without Terraform", addr)
			l.skip(tfKinds[typ], "", addr+" (a count known only to Terraform)", b.DefRange)
			return
		}
		for i := range n {
			index := cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})
			l.instance(b, content, typ, fmt.Sprintf("%s[%d]", name, i), "count", index)
		}
		return
	}
	if a, ok := content.Attributes["for_each"]; ok {
		instances, ok := forEach(a.Expr, l.ctx)
		if !ok {
			l.notef(b.DefRange, "%s: skipped: its for_each collection is not known without Terraform", addr)
			l.skip(tfKinds[typ], "", addr+" (a for_each collection known only to Terraform)", b.DefRange)
			return
		}
		from, _ := valueOrigin(a.Expr, l.origins, nil)
		for _, inst := range instances {
			l.each = eachOrigin(from, inst.key)
			l.instance(b, content, typ, fmt.Sprintf("%s[%q]", name, inst.key), "each", inst.each)
		}
		l.each = nil
		return
	}
	l.instance(b, content, typ, name, "", cty.NilVal)
}

// maxCount bounds the instances nvlint makes of one resource with count:
// a count beyond it is a mistake or a number only a plan should expand.
const maxCount = 10000

// countOf is a count argument's value as Terraform takes it: a known,
// whole, non-negative number.
func countOf(expr hcl.Expression, ctx *hcl.EvalContext) (int, bool) {
	v, ok := evalPartial(expr, ctx)
	if !ok || !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	v, err := convert.Convert(v, cty.Number)
	if err != nil || !v.IsKnown() || v.IsNull() {
		return 0, false
	}
	bf := v.AsBigFloat()
	n, acc := bf.Int64()
	if !bf.IsInt() || acc != 0 || n < 0 || n > maxCount {
		return 0, false
	}
	return int(n), true
}

// tfInstance is one instance of a for_each resource: its key and the
// each object its expressions see.
type tfInstance struct {
	key  string
	each cty.Value
}

// forEach expands a for_each collection as Terraform does: a map or
// object gives each.key and each.value per element, a set of strings
// gives both as the element. ok is false when the keys are not known.
func forEach(expr hcl.Expression, ctx *hcl.EvalContext) ([]tfInstance, bool) {
	v, ok := evalPartial(expr, ctx)
	if !ok || !v.IsKnown() || v.IsNull() {
		return nil, false
	}
	t := v.Type()
	var out []tfInstance
	switch {
	case t.IsMapType() || t.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, ev := it.Element()
			out = append(out, tfInstance{key: k.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": k, "value": ev})})
		}
	case t.IsSetType() || t.IsListType() || t.IsTupleType():
		if !v.IsWhollyKnown() {
			return nil, false
		}
		for it := v.ElementIterator(); it.Next(); {
			_, ev := it.Element()
			s, err := convert.Convert(ev, cty.String)
			if err != nil || s.IsNull() {
				return nil, false
			}
			out = append(out, tfInstance{key: s.AsString(), each: cty.ObjectVal(map[string]cty.Value{"key": s, "value": s})})
		}
	default:
		return nil, false
	}
	return out, true
}

// instance reads one instance of a resource. An instance of a resource
// with count or for_each sees its own count or each object (scope, with
// value val); scope is "" for a resource with neither.
func (l *tfLoader) instance(b *hcl.Block, content *hcl.BodyContent, typ, name, scope string, val cty.Value) {
	ctx := l.ctx
	if scope != "" {
		vars := maps.Clone(l.ctx.Variables)
		vars[scope] = val
		ctx = &hcl.EvalContext{Variables: vars, Functions: l.ctx.Functions}
		// The instance's policy or jobspec text sees each too.
		mod := l.ctx
		l.ctx = ctx
		defer func() { l.ctx = mod }()
	}
	res := &world.Resource{Type: typ, Name: name, Module: strings.TrimSuffix(l.module, "."), File: l.f, Block: b.DefRange, Attrs: map[string]hcl.Range{}, Instance: scope != "" || l.shared}
	attrs := hcl.Attributes{}
	for n, a := range content.Attributes {
		if n == "for_each" || n == "count" {
			continue
		}
		res.Attrs[n] = a.Expr.Range()
		c := *a
		c.Expr = withContext(a.Expr, ctx)
		if origin, ok := valueOrigin(a.Expr, l.origins, l.each); ok {
			if base, ok := c.Expr.(tfExpr); ok {
				at := origin.Range()
				c.Expr = tfVarExpr{tfExpr: base, at: at}
				res.Attrs[n] = at
				if at.Filename != l.f.Path {
					l.opts.tf.useOrigin(at.Filename, l.f.Terraform)
				}
			}
		}
		attrs[n] = &c
	}
	typoAttrs(attrs, l.typos)
	l.insertPoint(b, res)
	meta := world.Meta{File: l.f, Range: b.DefRange, Resource: res}
	switch typ {
	case tfPolicy:
		l.policy(attrs, content.Attributes, meta)
	case tfTokenRole:
		l.tokenRole(attrs, meta)
	case tfJWTConfig:
		l.jwtConfig(attrs, meta)
	case tfJWTRole:
		l.jwtRole(attrs, meta)
	case tfJob:
		l.job(attrs, content.Attributes, meta)
	}
}

// objectName is the name an attribute gives an object, or the resource's
// address when the attribute is not a value nvlint can know.
func (l *tfLoader) objectName(attrs hcl.Attributes, key string, res *world.Resource) (string, world.NameSource) {
	if v := strAttr(attrs, key); v.IsKnown() && v.V != "" {
		return v.V, world.NameFromTerraform
	}
	if a, ok := attrs[key]; ok {
		l.notef(a.Expr.Range(), "%s: %s is not a value nvlint can know; the object is named %s and nothing refers to it by name", res.Address(), key, res.Address())
	}
	return res.Address(), world.NameUnknown
}

func (l *tfLoader) tokenRole(attrs hcl.Attributes, meta world.Meta) {
	name, src := l.objectName(attrs, "role_name", meta.Resource)
	meta.Ref = world.ObjectRef{Kind: world.KindTokenRole, Name: name, NameSource: src}
	l.w.TokenRoles = append(l.w.TokenRoles, &world.TokenRole{
		Meta:                   meta,
		Name:                   strAttr(attrs, "role_name"),
		AllowedPolicies:        listAttr(attrs, "allowed_policies"),
		DisallowedPolicies:     listAttr(attrs, "disallowed_policies"),
		AllowedPoliciesGlob:    listAttr(attrs, "allowed_policies_glob"),
		DisallowedPoliciesGlob: listAttr(attrs, "disallowed_policies_glob"),
		Orphan:                 boolAttr(attrs, "orphan"),
		Renewable:              boolAttr(attrs, "renewable"),
		Period:                 secondsAttr(attrs, "period"),
		TokenPeriod:            secondsAttr(attrs, "token_period"),
		ExplicitMaxTTL:         secondsAttr(attrs, "explicit_max_ttl"),
		TokenExplicitMaxTTL:    secondsAttr(attrs, "token_explicit_max_ttl"),
		TokenNoDefaultPolicy:   boolAttr(attrs, "token_no_default_policy"),
		TokenType:              strAttr(attrs, "token_type"),
	})
}

// mountPath reads a mount path attribute with the provider's default and
// its trimming of slashes; "" when it is not a value nvlint can know.
func mountPath(attrs hcl.Attributes, key string) (string, bool) {
	v := strAttr(attrs, key)
	switch {
	case !v.Set:
		return "jwt", true
	case !v.Known:
		return "", false
	}
	return strings.Trim(v.V, "/"), true
}

func (l *tfLoader) jwtConfig(attrs hcl.Attributes, meta world.Meta) {
	mount, ok := mountPath(attrs, "path")
	name, src := mount, world.NameFromTerraform
	if !ok {
		name, src = meta.Resource.Address(), world.NameUnknown
		l.notef(attrs["path"].Expr.Range(), "%s: path is not a value nvlint can know; roles cannot be matched to this mount", name)
	}
	meta.Ref = world.ObjectRef{Kind: world.KindJWTAuthConfig, Name: name, NameSource: src}
	l.w.JWTConfigs = append(l.w.JWTConfigs, &world.JWTAuthConfig{
		Meta:                 meta,
		Mount:                mount,
		JWKSURL:              strAttr(attrs, "jwks_url"),
		JWTValidationPubkeys: listAttr(attrs, "jwt_validation_pubkeys"),
		JWKSPairs:            nonEmptyAttr(attrs, "jwks_pairs"),
		OIDCDiscoveryURL:     strAttr(attrs, "oidc_discovery_url"),
		JWTSupportedAlgs:     listAttr(attrs, "jwt_supported_algs"),
		DefaultRole:          strAttr(attrs, "default_role"),
		BoundIssuer:          strAttr(attrs, "bound_issuer"),
	})
}

func (l *tfLoader) jwtRole(attrs hcl.Attributes, meta world.Meta) {
	name, src := l.objectName(attrs, "role_name", meta.Resource)
	mount, _ := mountPath(attrs, "backend")
	meta.Ref = world.ObjectRef{Kind: world.KindJWTRole, Name: name, NameSource: src}
	r := &world.JWTRole{
		Meta:                 meta,
		Mount:                mount,
		RoleType:             strAttr(attrs, "role_type"),
		BoundAudiences:       listAttr(attrs, "bound_audiences"),
		BoundSubject:         strAttr(attrs, "bound_subject"),
		BoundClaimsType:      strAttr(attrs, "bound_claims_type"),
		UserClaim:            strAttr(attrs, "user_claim"),
		UserClaimJSONPointer: boolAttr(attrs, "user_claim_json_pointer"),
		ClaimMappings:        mapAttr(attrs, "claim_mappings"),
		TokenPolicies:        firstList(attrs, "token_policies", "policies"),
		TokenPeriod:          firstSeconds(attrs, "token_period", "period"),
		TokenTTL:             firstSeconds(attrs, "token_ttl", "ttl"),
		TokenMaxTTL:          firstSeconds(attrs, "token_max_ttl", "max_ttl"),
		TokenExplicitMaxTTL:  secondsAttr(attrs, "token_explicit_max_ttl"),
		TokenType:            strAttr(attrs, "token_type"),
		TokenNoDefaultPolicy: boolAttr(attrs, "token_no_default_policy"),
		TokenBoundCIDRs:      firstList(attrs, "token_bound_cidrs", "bound_cidrs"),
	}
	if a, ok := attrs["bound_claims"]; ok && !isNull(a.Expr) {
		r.BoundClaims = boundClaims(a)
		// The provider splits each value on commas unless told not to.
		if noSplit := boolAttr(attrs, "disable_bound_claims_parsing"); noSplit.IsKnown() && noSplit.V {
			if kvs, ok := objectAttrs(a.Expr); ok {
				for k, kv := range kvs {
					if s := strValue(kv.Expr); s.Known {
						r.BoundClaims.Claims[k] = world.List{Items: []world.Str{s}, Set: true, Known: true, Range: s.Range}
					}
				}
			}
		}
	}
	l.w.JWTRoles = append(l.w.JWTRoles, r)
}

func (l *tfLoader) policy(attrs, raw hcl.Attributes, meta world.Meta) {
	res := meta.Resource
	name, nsrc := l.objectName(attrs, "name", res)
	meta.Ref = world.ObjectRef{Kind: world.KindPolicy, Name: name, NameSource: nsrc}
	a, ok := raw["policy"]
	if !ok {
		return
	}
	src, ok := l.text(res, a, true)
	if !ok {
		l.skip(world.KindPolicy, knownName(meta.Ref), res.Address()+" (its text is known only to Terraform)", meta.Range)
		return
	}
	pol := &world.Policy{Meta: meta}
	if src.file != nil {
		p, diags := acl.Parse(src.file.Src, src.file.Path)
		src.file.Kind = world.KindPolicy
		src.file.Diags = append(src.file.Diags, diags...)
		pol.File, pol.ACL, pol.Diags = src.file, p, diags
		pol.Range = hcl.Range{Filename: src.file.Path, Start: hcl.InitialPos, End: hcl.InitialPos}
		l.w.Files = append(l.w.Files, src.file)
	} else {
		p, diags := acl.Parse(src.text, src.path)
		remapValue(p, src.remapRange, src.remapPos)
		// What Terraform fills in is not what nvlint sees: problems in
		// those parts are not the policy's.
		diags = src.known(src.remapDiags(diags))
		pol.ACL, pol.Diags = p, diags
		if t := src.template; t != nil {
			t.Kind = world.KindPolicy
			t.Diags = append(t.Diags, diags...)
			pol.File = t
			pol.Range = hcl.Range{Filename: t.Path, Start: hcl.InitialPos, End: hcl.InitialPos}
			l.w.Files = append(l.w.Files, t)
		} else {
			l.f.Diags = append(l.f.Diags, diags...)
		}
		if src.heredoc && len(src.unresolved) == 0 {
			at := src.closing
			res.TextEnd, res.TextIndent = &at, src.indent
		}
	}
	if pol.ACL == nil {
		if len(src.unresolved) > 0 {
			l.notef(a.Expr.Range(), "%s: the policy interpolates %s, which only Terraform can fill in, and its literal text does not parse; it is not checked", res.Address(), strings.Join(src.unresolved, ", "))
			l.skip(world.KindPolicy, knownName(meta.Ref), res.Address()+" (its text is known only to Terraform)", meta.Range)
		}
		return
	}
	pol.ACL.Name = name
	if len(src.unresolved) > 0 {
		// Only the literal parts are known: rules that read the text
		// check them, rules that decide what the policy grants do not
		// see it.
		l.notef(a.Expr.Range(), "%s: the policy interpolates %s, which only Terraform can fill in; only its literal text is checked", res.Address(), strings.Join(src.unresolved, ", "))
		l.w.Skipped = append(l.w.Skipped, &world.Skipped{Kind: world.KindPolicy, Name: knownName(meta.Ref), What: res.Address() + " (part of its text is known only to Terraform)", Range: meta.Range, Policy: pol})
		return
	}
	l.w.Policies = append(l.w.Policies, pol)
}

// knownName is an object's name for a skipped record: "" when only
// Terraform knows it, so that it may be any name.
func knownName(ref world.ObjectRef) string {
	if !ref.NameKnown() {
		return ""
	}
	return ref.Name
}

func (l *tfLoader) job(attrs, raw hcl.Attributes, meta world.Meta) {
	res := meta.Resource
	a, ok := raw["jobspec"]
	if !ok {
		return
	}
	src, ok := l.text(res, a, true)
	if !ok {
		return
	}
	kind := world.KindJobspec
	part := &world.World{}
	if src.file != nil {
		src.file.Kind = kind
		parse(src.file, kind, l.opts, part)
		l.w.Files = append(l.w.Files, src.file)
	} else {
		tmp := &world.File{Path: src.path, Src: src.text, Explicit: true}
		if isJSON := boolAttr(attrs, "json"); isJSON.IsKnown() && isJSON.V && !bytes.HasPrefix(bytes.TrimSpace(src.text), []byte("{")) {
			// A JSON jobspec Terraform renders; nvlint reads what it can.
			return
		}
		parse(tmp, kind, l.opts, part)
		diags := src.remapDiags(tmp.Diags)
		if diags.HasErrors() && len(src.unresolved) > 0 {
			l.notef(a.Expr.Range(), "%s: the jobspec interpolates %s, which only Terraform can fill in, and does not parse as written; the job is not checked", res.Address(), strings.Join(src.unresolved, ", "))
			return
		}
		if t := src.template; t != nil {
			t.Kind = kind
			t.Diags = append(t.Diags, diags...)
			l.w.Files = append(l.w.Files, t)
		} else {
			l.f.Diags = append(l.f.Diags, diags...)
		}
		for _, j := range part.Jobs {
			remapValue(j, src.remapRange, src.remapPos)
		}
	}
	for _, j := range part.Jobs {
		j.Resource = res
		switch {
		case src.template != nil:
			j.File = src.template
		case src.file == nil:
			j.File = l.f
		}
		l.w.Jobs = append(l.w.Jobs, j)
	}
}

// insertPoint works out where a fix adds an attribute to the block.
func (l *tfLoader) insertPoint(b *hcl.Block, res *world.Resource) {
	src := l.f.Src
	if l.json {
		// After the opening brace of the resource's object.
		start := b.DefRange.Start.Byte
		if i := bytes.IndexByte(src[min(start, len(src)):], '{'); i >= 0 {
			res.InsertAt = l.lines.pos(src, start+i+1)
			res.Indent = "  "
		}
		return
	}
	body, ok := b.Body.(*hclsyntax.Body)
	blk := l.blocks[b.DefRange.Start.Byte]
	if !ok || blk == nil {
		return
	}
	closeAt := blk.CloseBraceRange.Start.Byte
	if closeAt <= 0 || closeAt >= len(src) {
		return
	}
	res.Braces = hcl.Range{Filename: l.f.Path, Start: l.lines.pos(src, blk.OpenBraceRange.Start.Byte), End: l.lines.pos(src, closeAt+1)}
	lineStart := bytes.LastIndexByte(src[:closeAt], '\n') + 1
	if len(bytes.TrimSpace(src[lineStart:closeAt])) == 0 {
		res.InsertAt = l.lines.pos(src, lineStart)
	} else {
		res.InsertAt = l.lines.pos(src, closeAt)
	}
	res.Indent = "  "
	var first *hclsyntax.Attribute
	for _, a := range body.Attributes {
		if first == nil || a.SrcRange.Start.Byte < first.SrcRange.Start.Byte {
			first = a
		}
	}
	if first != nil {
		ls := bytes.LastIndexByte(src[:first.SrcRange.Start.Byte], '\n') + 1
		if ind := src[ls:first.SrcRange.Start.Byte]; len(bytes.TrimSpace(ind)) == 0 {
			res.Indent = string(ind)
		}
	}
}

// tfSource is the text of a policy or jobspec: inline, with the map of
// its bytes back to the .tf file, or read from a file with file().
type tfSource struct {
	*offsetMap
	text []byte
	file *world.File
	// unresolved are the interpolations kept as written, and unknown
	// the source spans they cover.
	unresolved []string
	unknown    [][2]int
	// template is the file a templatefile() call rendered the text from.
	template *world.File
	// heredoc is true for a heredoc; closing is the start of its closing
	// marker line, indent the indentation of its first line.
	heredoc bool
	closing hcl.Pos
	indent  string
}

// text reads the policy or jobspec text of an attribute. keepUnresolved
// keeps interpolations nvlint cannot fill in as written (a jobspec then
// sees them as its own expressions, unknown values); otherwise the text is
// unknown and ok is false.
func (l *tfLoader) text(res *world.Resource, a *hcl.Attribute, keepUnresolved bool) (*tfSource, bool) {
	what := "policy"
	if res.Type == tfJob {
		what = "jobspec"
	}
	expr := a.Expr
	if l.json {
		return l.jsonText(res, a, what)
	}
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		src := l.template(e, keepUnresolved)
		if len(src.unresolved) > 0 && !keepUnresolved {
			l.notef(expr.Range(), "%s: the %s interpolates %s, which only Terraform can fill in; it is not checked", res.Address(), what, strings.Join(src.unresolved, ", "))
			return nil, false
		}
		return src, true
	case *hclsyntax.ScopeTraversalExpr:
		if name, ok := policyDocRef(e); ok && res.Type == tfPolicy {
			return l.policyDoc(res, expr.Range(), name)
		}
		// A variable set to file("...") where its value is written (a
		// module call's argument): the file is the text.
		if origin, ok := valueOrigin(e, l.origins, l.each); ok {
			if call, ok := origin.(*hclsyntax.FunctionCallExpr); ok && isFileCall(call) {
				if p := strValue(withContext(call.Args[0], l.ctx)); p.IsKnown() {
					return l.readFile(res, origin.Range(), p.V, what)
				}
			}
		}
		l.notef(expr.Range(), "%s: the %s is %s, whose text only Terraform can work out; it is not checked", res.Address(), what, traversalString(e.Traversal))
		return nil, false
	case *hclsyntax.FunctionCallExpr:
		if e.Name == "templatefile" && len(e.Args) == 2 {
			return l.templateFile(res, e, what)
		}
		if e.Name == "file" && len(e.Args) == 1 {
			p := strValue(withContext(e.Args[0], l.ctx))
			if !p.IsKnown() {
				l.notef(expr.Range(), "%s: the %s is read from a file whose path nvlint cannot work out; it is not checked", res.Address(), what)
				return nil, false
			}
			return l.readFile(res, expr.Range(), p.V, what)
		}
		l.notef(expr.Range(), "%s: the %s is the result of %s(), which only Terraform can evaluate; it is not checked", res.Address(), what, e.Name)
		return nil, false
	}
	l.notef(expr.Range(), "%s: the %s is an expression only Terraform can evaluate; it is not checked", res.Address(), what)
	return nil, false
}

// templateFile renders the file a templatefile() call reads: a template
// whose ${...} are the call's variables, not a policy on its own. What
// the variables leave unknown stays unknown (see tfSource.unresolved).
func (l *tfLoader) templateFile(res *world.Resource, e *hclsyntax.FunctionCallExpr, what string) (*tfSource, bool) {
	p := strValue(withContext(e.Args[0], l.ctx))
	if !p.IsKnown() {
		l.notef(e.Range(), "%s: the %s is rendered from a template whose path nvlint cannot work out; it is not checked", res.Address(), what)
		return nil, false
	}
	read, ok := l.readFile(res, e.Range(), p.V, what)
	if !ok {
		return nil, false
	}
	tf := read.file
	tmpl, diags := hclsyntax.ParseTemplate(tf.Src, tf.Path, hcl.InitialPos)
	te, isTemplate := tmpl.(*hclsyntax.TemplateExpr)
	if diags.HasErrors() || !isTemplate {
		l.notef(e.Range(), "%s: the %s template %s does not parse as a Terraform template; it is not checked", res.Address(), what, tf.Path)
		return nil, false
	}
	vars := map[string]cty.Value{}
	if v, ok := evalPartial(e.Args[1], l.ctx); ok && v.IsKnown() && !v.IsNull() && (v.Type().IsObjectType() || v.Type().IsMapType()) {
		vars = v.AsValueMap()
	}
	ctx := &hcl.EvalContext{Variables: vars, Functions: tfFunctions}
	out := l.render(tfTemplate{src: tf.Src, path: tf.Path, lines: newLineIndex(tf.Src), ctx: ctx, whole: true}, te, true)
	out.template = tf
	return out, true
}

func (l *tfLoader) readFile(res *world.Resource, at hcl.Range, p, what string) (*tfSource, bool) {
	if !filepath.IsAbs(p) && l.f.Path != "-" {
		// Terraform reads paths relative to the root module's directory
		// (a module's own files are "${path.module}/...").
		p = filepath.Join(cmp.Or(l.f.Terraform, filepath.Dir(l.f.Path)), p)
	}
	p = filepath.Clean(p)
	src, err := l.opts.tf.read(p)
	switch {
	case err != nil:
		l.notef(at, "%s: the %s file %s cannot be read (%v); it is not checked", res.Address(), what, p, err)
		return nil, false
	case len(src) > MaxFileSize || bytes.IndexByte(src, 0) >= 0 || !utf8.Valid(src):
		l.notef(at, "%s: the %s file %s is not a text file nvlint reads; it is not checked", res.Address(), what, p)
		return nil, false
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	return &tfSource{file: &world.File{Path: p, Src: src, Explicit: l.f.Explicit, Terraform: l.f.Terraform}}, true
}

func (l *tfLoader) jsonText(res *world.Resource, a *hcl.Attribute, what string) (*tfSource, bool) {
	r := a.Expr.Range()
	lit := r.SliceBytes(l.f.Src)
	if len(lit) < 2 || lit[0] != '"' {
		l.notef(r, "%s: the %s is not a string; it is not checked", res.Address(), what)
		return nil, false
	}
	text, starts, ends := unescape(l.f.Src, r.Start.Byte+1, r.End.Byte-1, "", true)
	if m := tfJSONFile.FindSubmatch(text); m != nil {
		p := strings.ReplaceAll(string(m[1]), `\"`, `"`)
		for _, prefix := range []string{"${path.module}/", "${path.root}/", "${path.cwd}/"} {
			p = strings.TrimPrefix(p, prefix)
		}
		if !strings.Contains(p, "${") {
			return l.readFile(res, r, p, what)
		}
	}
	if bytes.Contains(text, []byte("${")) || bytes.Contains(text, []byte("%{")) {
		l.notef(r, "%s: the %s holds Terraform template sequences, which only Terraform can evaluate; it is not checked", res.Address(), what)
		return nil, false
	}
	om := &offsetMap{lines: l.lines, src: l.f.Src, path: l.f.Path, starts: starts, ends: ends, first: r.Start.Byte + 1, last: r.End.Byte - 1}
	return &tfSource{offsetMap: om, text: text}, true
}

// template renders a native template expression (a heredoc or a quoted
// string) as Terraform would where nvlint can, keeping the map of its
// bytes to the source.
func (l *tfLoader) template(e *hclsyntax.TemplateExpr, keepUnresolved bool) *tfSource {
	return l.render(tfTemplate{src: l.f.Src, path: l.f.Path, lines: l.lines, ctx: l.ctx}, e, keepUnresolved)
}

// tfTemplate is where a template's text is written and what its
// interpolations see: an attribute of the .tf file in the module's
// context, or a file templatefile() renders with that call's variables.
type tfTemplate struct {
	src   []byte
	path  string
	lines lineIndex
	ctx   *hcl.EvalContext
	// whole is true for a template file: its text is all of src.
	whole bool
}

func (l *tfLoader) render(tpl tfTemplate, e *hclsyntax.TemplateExpr, keepUnresolved bool) *tfSource {
	src := tpl.src
	r := e.SrcRange
	out := &tfSource{offsetMap: &offsetMap{lines: tpl.lines, src: src, path: tpl.path}}
	contentStart, contentEnd := r.Start.Byte, r.End.Byte
	quoted := !tpl.whole && r.Start.Byte < len(src) && src[r.Start.Byte] == '"'
	if tpl.whole {
		contentStart, contentEnd = 0, len(src)
	} else if quoted {
		contentStart, contentEnd = r.Start.Byte+1, r.End.Byte-1
	} else if bytes.HasPrefix(src[r.Start.Byte:], []byte("<<")) {
		out.heredoc = true
		if i := bytes.IndexByte(src[r.Start.Byte:r.End.Byte], '\n'); i >= 0 {
			contentStart = r.Start.Byte + i + 1
		}
		contentEnd = bytes.LastIndexByte(src[:r.End.Byte], '\n') + 1
		contentEnd = max(contentEnd, contentStart)
		out.closing = tpl.lines.pos(src, contentEnd)
		line := src[contentStart:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		out.indent = string(line[:len(line)-len(bytes.TrimLeft(line, " \t"))])
	}
	out.first, out.last = contentStart, contentEnd
	for i, part := range e.Parts {
		pr := part.Range()
		if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
			text, starts, ends := unescape(src, pr.Start.Byte, pr.End.Byte, lit.Val.AsString(), quoted)
			out.add(text, starts, ends)
			continue
		}
		// An interpolation or directive: its span runs from the end of the
		// part before to the start of the part after, ${ and } included.
		a, b := contentStart, contentEnd
		if i > 0 {
			a = e.Parts[i-1].Range().End.Byte
		}
		if i+1 < len(e.Parts) {
			b = e.Parts[i+1].Range().Start.Byte
		}
		// The parts of a template HCL recovered from (a heredoc never
		// closed) may run past its content: the span keeps its start.
		a = min(a, len(src))
		b = min(max(a, b), len(src))
		if s, ok := interpolate(part, tpl.ctx); ok {
			out.addSpan([]byte(s), a, b)
			continue
		}
		if ref := strings.TrimSpace(string(pr.SliceBytes(src))); !slices.Contains(out.unresolved, ref) {
			out.unresolved = append(out.unresolved, ref)
		}
		out.unknown = append(out.unknown, [2]int{a, b})
		if keepUnresolved {
			text, starts, ends := unescape(src, a, b, string(src[a:b]), false)
			out.add(text, starts, ends)
		}
	}
	out.text = out.buf
	return out
}

// interpolate evaluates an interpolation: a value the configuration
// settles, or an auth mount's accessor, which gets its stand-in.
func interpolate(part hclsyntax.Expression, ctx *hcl.EvalContext) (string, bool) {
	if readsFile(part) {
		// A file's text in the middle of a policy has no place in the
		// .tf file to report or fix it at.
		return "", false
	}
	v, diags := part.Value(ctx)
	if !diags.HasErrors() && v.IsWhollyKnown() && !v.IsNull() {
		if s, err := convert.Convert(v, cty.String); err == nil {
			return s.AsString(), true
		}
	}
	if t, diags := hcl.AbsTraversalForExpr(part); !diags.HasErrors() && len(t) >= 2 {
		if last, ok := t[len(t)-1].(hcl.TraverseAttr); ok && last.Name == "accessor" {
			return world.SymbolicAccessor(traversalString(t)), true
		}
	}
	return "", false
}

// readsFile reports whether expr calls file() or templatefile().
func readsFile(expr hclsyntax.Expression) bool {
	found := false
	_ = hclsyntax.VisitAll(expr, func(n hclsyntax.Node) hcl.Diagnostics {
		if c, ok := n.(*hclsyntax.FunctionCallExpr); ok && (c.Name == "file" || c.Name == "templatefile") {
			found = true
		}
		return nil
	})
	return found
}

func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for i, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String {
				fmt.Fprintf(&b, "[%q]", s.Key.AsString())
			} else if s.Key.Type() == cty.Number {
				fmt.Fprintf(&b, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			}
		default:
			if i > 0 {
				b.WriteString(".?")
			}
		}
	}
	return b.String()
}

// unescape decodes the source bytes [a, b) of a literal whose value is
// want (empty: decode it all), mapping each byte of the result to the
// source bytes it came from. quoted decodes backslash escapes; HCL's $${
// and %%{ escapes and a heredoc's stripped indentation are skipped over.
func unescape(src []byte, a, b int, want string, quoted bool) (text []byte, starts, ends []int) {
	decodeAll := want == ""
	j := a
	emit := func(p []byte, from, to int) {
		for _, c := range p {
			text = append(text, c)
			starts = append(starts, from)
			ends = append(ends, to)
		}
	}
	for j < b && (decodeAll || len(text) < len(want)) {
		c := src[j]
		if quoted && c == '\\' && j+1 < b {
			p, n := decodeEscape(src[j:b])
			if decodeAll || strings.HasPrefix(want[len(text):], string(p)) {
				emit(p, j, j+n)
				j += n
				continue
			}
		}
		if (c == '$' || c == '%') && j+2 < b && src[j+1] == c && src[j+2] == '{' {
			// $${ is a literal ${ (and %%{ a literal %{).
			if decodeAll || strings.HasPrefix(want[len(text):], string(c)+"{") {
				emit([]byte{c}, j, j+2)
				emit([]byte{'{'}, j+2, j+3)
				j += 3
				continue
			}
		}
		if decodeAll || want[len(text)] == c {
			emit([]byte{c}, j, j+1)
		}
		j++
	}
	// What the source could not account for (it should not happen) maps
	// to the end of the literal.
	for !decodeAll && len(text) < len(want) {
		emit([]byte{want[len(text)]}, b, b)
	}
	return text, starts, ends
}

// decodeEscape decodes the backslash escape at the start of s.
func decodeEscape(s []byte) ([]byte, int) {
	switch s[1] {
	case 'n':
		return []byte{'\n'}, 2
	case 't':
		return []byte{'\t'}, 2
	case 'r':
		return []byte{'\r'}, 2
	case 'b':
		return []byte{'\b'}, 2
	case 'f':
		return []byte{'\f'}, 2
	case 'u', 'U':
		n := 4
		if s[1] == 'U' {
			n = 8
		}
		if len(s) >= 2+n {
			var r rune
			if _, err := fmt.Sscanf(string(s[2:2+n]), "%x", &r); err == nil {
				return []byte(string(r)), 2 + n
			}
		}
	}
	return []byte{s[1]}, 2
}

// offsetMap maps offsets in a rendered text back to its source file.
type offsetMap struct {
	lines lineIndex
	src   []byte
	path  string
	buf   []byte
	// starts[i] is where byte i of the text starts in the source, ends[i]
	// where it ends; first and last bound the text in the source.
	starts, ends []int
	first, last  int
}

func (m *offsetMap) add(text []byte, starts, ends []int) {
	m.buf = append(m.buf, text...)
	m.starts = append(m.starts, starts...)
	m.ends = append(m.ends, ends...)
}

// addSpan adds text that stands for the whole source span [a, b).
func (m *offsetMap) addSpan(text []byte, a, b int) {
	for range text {
		m.starts = append(m.starts, a)
		m.ends = append(m.ends, b)
	}
	m.buf = append(m.buf, text...)
}

func (m *offsetMap) offset(i int, end bool) int {
	switch {
	case end && i > 0 && i-1 < len(m.ends):
		return m.ends[i-1]
	case end && i <= 0:
		return m.first
	case i < len(m.starts):
		return m.starts[i]
	}
	return m.last
}

func (m *offsetMap) remapRange(r hcl.Range) hcl.Range {
	if r.Filename != m.path {
		return r
	}
	a := m.offset(r.Start.Byte, false)
	b := a
	if r.End.Byte > r.Start.Byte {
		b = max(m.offset(r.End.Byte, true), a)
	}
	return hcl.Range{Filename: m.path, Start: m.lines.pos(m.src, a), End: m.lines.pos(m.src, b)}
}

func (m *offsetMap) remapPos(p hcl.Pos) hcl.Pos {
	return m.lines.pos(m.src, m.offset(p.Byte, false))
}

// known drops the diagnostics about text Terraform fills in: those whose
// subject touches an interpolation nvlint could not resolve.
func (s *tfSource) known(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(s.unknown) == 0 {
		return diags
	}
	out := diags[:0:0]
	for _, d := range diags {
		if d.Subject != nil && d.Subject.Filename == s.path && s.touchesUnknown(d.Subject.Start.Byte, d.Subject.End.Byte) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (s *tfSource) touchesUnknown(a, b int) bool {
	for _, u := range s.unknown {
		if a <= u[1] && u[0] <= b {
			return true
		}
	}
	return false
}

func (m *offsetMap) remapDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, 0, len(diags))
	for _, d := range diags {
		c := *d
		if c.Subject != nil {
			c.Subject = m.remapRange(*c.Subject).Ptr()
		}
		if c.Context != nil {
			c.Context = m.remapRange(*c.Context).Ptr()
		}
		// Expression and EvalContext refer to the rendered text.
		c.Expression, c.EvalContext = nil, nil
		out = append(out, &c)
	}
	return out
}

// lineIndex holds the offsets where the lines of a source start.
type lineIndex []int

func newLineIndex(src []byte) lineIndex {
	li := lineIndex{0}
	for i, c := range src {
		if c == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

// pos converts a byte offset to a position, columns counted in
// characters as hcl counts them.
func (li lineIndex) pos(src []byte, off int) hcl.Pos {
	off = max(0, min(off, len(src)))
	line := sort.Search(len(li), func(i int) bool { return li[i] > off }) - 1
	line = max(line, 0)
	return hcl.Pos{Line: line + 1, Column: utf8.RuneCount(src[li[line]:off]) + 1, Byte: off}
}

// tfModules caches the evaluation context of each Terraform module
// (directory) during one Load, and the notes of each Terraform file.
type tfModules struct {
	mu      sync.Mutex
	dirs    map[string]*tfModule
	notes   map[*world.File]Notes
	sources map[string][]byte
	// vars are the command line's --var-file and --var, in order.
	vars []TerraformVar
	// origins are the files, by samePath, that hold variable values
	// the run reads.
	origins map[string]*world.File
	// templates maps the files templatefile() renders (samePath) to the
	// .tf file that renders them.
	templates map[string]string
	// bodies are the parsed Terraform files, so that what reads them
	// again after loading (mounts, namespaces) does not parse them again.
	bodies map[*world.File]hcl.Body
	// parsed are the Terraform files of module directories, by
	// samePath; called counts the local module calls of each directory
	// (see planCalls), and callFiles are the files read through them.
	parsed    map[string][]*tfParsed
	called    map[string]int
	callFiles map[string]*world.File
	fileLocks map[*world.File]*sync.Mutex
	// childCache are called modules' variables by call (see childVars).
	childCache map[string]tfChildVars
	// funcs are the functions of the modules under each root (see
	// functions).
	funcs map[string]map[string]function.Function
}

// keepBody records the parsed body of a Terraform file.
func (m *tfModules) keepBody(f *world.File, body hcl.Body) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bodies == nil {
		m.bodies = map[*world.File]hcl.Body{}
	}
	m.bodies[f] = body
}

// bodyOf is the parsed body of a loaded Terraform file, or nil.
func (m *tfModules) bodyOf(f *world.File) hcl.Body {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bodies[f]
}

func (m *tfModules) addTemplate(path, by string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.templates == nil {
		m.templates = map[string]string{}
	}
	m.templates[samePath(path)] = by
}

// templateOf is the .tf file that renders the file at path with
// templatefile(), or "".
func (m *tfModules) templateOf(path string) string {
	if m == nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.templates[samePath(path)]
}

func (m *tfModules) addNotes(f *world.File, n Notes) {
	if m == nil || len(n) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.notes == nil {
		m.notes = map[*world.File]Notes{}
	}
	m.notes[f] = append(m.notes[f], n...)
}

func (m *tfModules) notesFor(f *world.File) Notes {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notes[f]
}

// read reads a file the way Load does: what Options.Sources holds for it,
// else the disk.
func (m *tfModules) read(path string) ([]byte, error) {
	if m != nil {
		if src, ok := m.sources[path]; ok {
			return append([]byte(nil), src...), nil
		}
	}
	return readLimited(path)
}

type tfModule struct {
	once    sync.Once
	vars    map[string]cty.Value
	origins map[string]hcl.Expression
}

// context is the evaluation context of the module of the file at path:
// the literal attributes of every resource declared in its directory,
// its literal locals, its variables, and path.*, with where the
// variables' values are written. Standard input is a module on its own.
func (m *tfModules) context(path string, body hcl.Body) (*hcl.EvalContext, map[string]hcl.Expression) {
	if m == nil || path == "-" {
		vars, origins := moduleVars(nil, "", "", []hcl.Body{body}, m.tfVarSets(""), nil)
		return &hcl.EvalContext{Variables: vars, Functions: tfFunctions}, origins
	}
	dir := filepath.Dir(path)
	m.mu.Lock()
	if m.dirs == nil {
		m.dirs = map[string]*tfModule{}
	}
	mod := m.dirs[dir]
	if mod == nil {
		mod = &tfModule{}
		m.dirs[dir] = mod
	}
	m.mu.Unlock()
	mod.once.Do(func() {
		mod.vars, mod.origins = moduleVars(m, dir, dir, m.moduleBodies(dir, path, body), m.tfVarSets(dir), nil)
	})
	return &hcl.EvalContext{Variables: mod.vars, Functions: m.functions(dir)}, mod.origins
}

// moduleBodies parses the Terraform files of a directory; self is the
// file being loaded, already parsed.
func (m *tfModules) moduleBodies(dir, self string, selfBody hcl.Body) []hcl.Body {
	bodies := []hcl.Body{selfBody}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return bodies
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() || !isTerraformPath(p) || filepath.Clean(p) == filepath.Clean(self) {
			continue
		}
		src, err := m.read(p)
		if err != nil || len(src) > MaxFileSize {
			continue
		}
		file, _ := parseTerraform(src, p)
		if file != nil && file.Body != nil {
			bodies = append(bodies, file.Body)
		}
	}
	return bodies
}

// moduleVars builds the variables Terraform expressions of a module can
// use that nvlint can know: path.*, the locals (partly known where they
// use what only Terraform knows, so that a for_each over a map of them
// still has its keys), and the resources' attributes known with those.
// Locals and resources may refer to each other, so they are evaluated
// again until nothing more becomes known. var.* are the declared
// variables' values from their defaults and sets (see variableValues).
// module.* are the outputs of the local modules the module calls, which
// may use its locals too. The module is in dir, called through the
// module directories in stack from the root module in root; path.module
// is dir relative to root, as Terraform gives it.
func moduleVars(m *tfModules, root, dir string, bodies []hcl.Body, sets []tfVarSet, stack []string) (map[string]cty.Value, map[string]hcl.Expression) {
	here := cty.StringVal(".")
	module := here
	if rel, err := filepath.Rel(root, dir); err == nil && root != "" && rel != "." {
		module = cty.StringVal(filepath.ToSlash(rel))
	}
	vars := map[string]cty.Value{"path": cty.ObjectVal(map[string]cty.Value{"module": module, "root": here, "cwd": here})}
	ctx := &hcl.EvalContext{Variables: vars, Functions: m.functions(root)}
	var locals hcl.Attributes = map[string]*hcl.Attribute{}
	type resource struct {
		typ, name string
		attrs     hcl.Attributes
	}
	var (
		resources []resource
		variables []*hcl.Block
		calls     []*hcl.Block
	)
	for _, body := range bodies {
		content, _, _ := body.PartialContent(tfRootSchema)
		for _, b := range content.Blocks {
			switch b.Type {
			case "variable":
				variables = append(variables, b)
				continue
			case "module":
				if m != nil && dir != "" {
					calls = append(calls, b)
				}
				continue
			case "output":
				continue
			}
			attrs, _ := b.Body.JustAttributes()
			switch b.Type {
			case "locals":
				maps.Copy(locals, attrs)
			case "resource":
				// An instance of a resource with count or for_each is
				// reached by index; nvlint leaves those unknown.
				_, counted := attrs["count"]
				_, each := attrs["for_each"]
				if !counted && !each {
					resources = append(resources, resource{b.Labels[0], b.Labels[1], attrs})
				}
			}
		}
	}
	var origins map[string]hcl.Expression
	vars["var"], origins = variableValues(variables, sets)
	prev := cty.NilVal
	for range 8 {
		vals := map[string]cty.Value{}
		for n, a := range locals {
			if v, ok := evalPartial(a.Expr, ctx); ok {
				vals[n] = v
			}
		}
		vars["local"] = cty.ObjectVal(vals)
		if len(calls) > 0 {
			mods := map[string]cty.Value{}
			for _, b := range calls {
				mods[b.Labels[0]] = m.moduleOutputs(b, root, dir, ctx, origins, stack)
			}
			vars["module"] = cty.ObjectVal(mods)
		}
		byType := map[string]map[string]cty.Value{}
		for _, r := range resources {
			obj := map[string]cty.Value{}
			for n, a := range r.attrs {
				if v, diags := a.Expr.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
					obj[n] = v
				}
			}
			if byType[r.typ] == nil {
				byType[r.typ] = map[string]cty.Value{}
			}
			byType[r.typ][r.name] = cty.ObjectVal(obj)
		}
		for typ, byName := range byType {
			if typ != "path" && typ != "local" && typ != "each" && typ != "var" && typ != "module" {
				vars[typ] = cty.ObjectVal(byName)
			}
		}
		now := cty.ObjectVal(vars)
		if prev != cty.NilVal && now.RawEquals(prev) {
			break
		}
		prev = now
	}
	return vars, origins
}

// Expressions of a Terraform file evaluate in their module's context;
// these wrappers carry it, so the value readers work unchanged.
type tfExpr struct {
	hcl.Expression
	ctx *hcl.EvalContext
}

func (e tfExpr) Value(*hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return e.Expression.Value(e.ctx)
}

type tfListExpr struct {
	tfExpr
	elems []hcl.Expression
}

func (e tfListExpr) ExprList() []hcl.Expression { return e.elems }

type tfMapExpr struct {
	tfExpr
	pairs []hcl.KeyValuePair
}

func (e tfMapExpr) ExprMap() []hcl.KeyValuePair { return e.pairs }

func withContext(expr hcl.Expression, ctx *hcl.EvalContext) hcl.Expression {
	base := tfExpr{Expression: expr, ctx: ctx}
	if elems, diags := hcl.ExprList(expr); !diags.HasErrors() {
		out := tfListExpr{tfExpr: base, elems: make([]hcl.Expression, len(elems))}
		for i, e := range elems {
			out.elems[i] = withContext(e, ctx)
		}
		return out
	}
	if pairs, diags := hcl.ExprMap(expr); !diags.HasErrors() {
		out := tfMapExpr{tfExpr: base, pairs: make([]hcl.KeyValuePair, len(pairs))}
		for i, kv := range pairs {
			out.pairs[i] = hcl.KeyValuePair{Key: withContext(kv.Key, ctx), Value: withContext(kv.Value, ctx)}
		}
		return out
	}
	return base
}

var (
	rangeType    = reflect.TypeOf(hcl.Range{})
	posType      = reflect.TypeOf(hcl.Pos{})
	filePtrType  = reflect.TypeOf((*world.File)(nil))
	resourceType = reflect.TypeOf((*world.Resource)(nil))
)

// remapValue rewrites every range and position in v (a pointer to a world
// object or a parsed policy), without following its file or resource.
func remapValue(v any, fr func(hcl.Range) hcl.Range, fp func(hcl.Pos) hcl.Pos) {
	remapReflect(reflect.ValueOf(v), fr, fp)
}

func remapReflect(v reflect.Value, fr func(hcl.Range) hcl.Range, fp func(hcl.Pos) hcl.Pos) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || v.Type() == filePtrType || v.Type() == resourceType {
			return
		}
		remapReflect(v.Elem(), fr, fp)
	case reflect.Struct:
		switch v.Type() {
		case rangeType:
			if v.CanSet() {
				v.Set(reflect.ValueOf(fr(v.Interface().(hcl.Range))))
			}
			return
		case posType:
			if v.CanSet() {
				v.Set(reflect.ValueOf(fp(v.Interface().(hcl.Pos))))
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				remapReflect(f, fr, fp)
			}
		}
	case reflect.Slice:
		switch v.Type().Elem().Kind() {
		case reflect.Struct, reflect.Pointer, reflect.Slice, reflect.Map:
			for i := range v.Len() {
				remapReflect(v.Index(i), fr, fp)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			remapReflect(e, fr, fp)
			v.SetMapIndex(k, e)
		}
	}
}

// linkTerraformAccessors gives a JWT auth mount Terraform declares the
// stand-in accessor its policies name it by, when they do: the templated
// paths then fill for the tokens of its roles, as Terraform makes them
// at apply time.
func linkTerraformAccessors(w *world.World) {
	for _, c := range w.JWTConfigs {
		if c.Resource == nil || c.Accessor != "" {
			continue
		}
		sym := world.SymbolicAccessor(c.Resource.Address() + ".accessor")
		for _, p := range w.Policies {
			if p.ACL != nil && slices.ContainsFunc(p.ACL.Rules, func(r *acl.PathRule) bool { return strings.Contains(r.Path, sym) }) {
				c.Accessor = sym
				break
			}
		}
	}
}

// samePath is a key under which two spellings of one path agree.
func samePath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
