package inputs

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

var (
	agentRootSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "region"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "vault"}, {Type: "server"}, {Type: "client"},
		},
	}
	serverSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "root_key_rotation_threshold"}}}
	clientSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "enabled"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "template"}},
	}
	clientTemplateSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "vault_retry"}}}
	retrySchema          = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "attempts"}, {Name: "backoff"}, {Name: "max_backoff"},
	}}
	vaultAgentSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "name"}, {Name: "enabled"}, {Name: "address"}, {Name: "token"},
			{Name: "create_from_role"}, {Name: "allow_unauthenticated"}, {Name: "task_token_ttl"},
			{Name: "jwt_auth_backend_path"}, {Name: "namespace"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "default_identity"}},
	}
	defaultIdentitySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "aud"}, {Name: "ttl"}}}
	// Nomad reads its agent config with HCL 1, where extra_claims may be
	// written as a block or as an object attribute.
	extraClaimsBlockSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "extra_claims"}}}
	extraClaimsAttrSchema  = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "extra_claims"}}}
)

func loadAgentHCL(f *world.File, body hcl.Body, w *world.World) {
	root, _, diags := body.PartialContent(agentRootSchema)
	f.Diags = append(f.Diags, diags...)
	a := &world.AgentConfig{Meta: world.Meta{File: f, Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: f.Path}}}
	a.Region = strAttr(root.Attributes, "region")
	for _, b := range root.Blocks {
		switch b.Type {
		case "server":
			c, _, _ := b.Body.PartialContent(serverSchema)
			f.Diags = append(f.Diags, typeCheck(c.Attributes, enabledTypes)...)
			a.Server = boolAttr(c.Attributes, "enabled")
			a.RootKeyRotation = secondsAttr(c.Attributes, "root_key_rotation_threshold")
		case "client":
			c, _, _ := b.Body.PartialContent(clientSchema)
			f.Diags = append(f.Diags, typeCheck(c.Attributes, enabledTypes)...)
			a.Client = boolAttr(c.Attributes, "enabled")
			for _, tb := range c.Blocks {
				tc, _, _ := tb.Body.PartialContent(clientTemplateSchema)
				for _, rb := range tc.Blocks {
					rc, _, _ := rb.Body.PartialContent(retrySchema)
					f.Diags = append(f.Diags, typeCheck(rc.Attributes, retryTypes)...)
					a.VaultRetry = &world.RetryConfig{
						Range:      rb.DefRange,
						Attempts:   intAttr(rc.Attributes, "attempts"),
						Backoff:    strAttr(rc.Attributes, "backoff"),
						MaxBackoff: strAttr(rc.Attributes, "max_backoff"),
					}
				}
			}
		case "vault":
			a.Vaults = append(a.Vaults, vaultConfig(f, b))
		}
	}
	if len(a.Vaults) > 0 {
		a.Range = a.Vaults[0].Range
	}
	w.Agents = append(w.Agents, a)
}

func vaultConfig(f *world.File, b *hcl.Block) *world.VaultConfig {
	c, rest, _ := b.Body.PartialContent(vaultAgentSchema)
	f.Diags = append(f.Diags, typeCheck(c.Attributes, agentVaultTypes)...)
	v := &world.VaultConfig{
		Range:                b.DefRange,
		Name:                 strAttr(c.Attributes, "name"),
		Enabled:              boolAttr(c.Attributes, "enabled"),
		Address:              strAttr(c.Attributes, "address"),
		Token:                strAttr(c.Attributes, "token"),
		CreateFromRole:       strAttr(c.Attributes, "create_from_role"),
		AllowUnauthenticated: boolAttr(c.Attributes, "allow_unauthenticated"),
		TaskTokenTTL:         strAttr(c.Attributes, "task_token_ttl"),
		JWTAuthBackendPath:   strAttr(c.Attributes, "jwt_auth_backend_path"),
		Namespace:            strAttr(c.Attributes, "namespace"),
		Attrs:                rawAttrs(c.Attributes),
	}
	if v.Token.Set {
		f.Secrets = append(f.Secrets, v.Token.Range)
	}
	for _, db := range c.Blocks {
		dc, drest, _ := db.Body.PartialContent(defaultIdentitySchema)
		f.Diags = append(f.Diags, typeCheck(dc.Attributes, defaultIdentityTypes)...)
		extra, drest := extraClaims(f, drest)
		v.DefaultIdentity = &world.DefaultIdentity{
			Range:       db.DefRange,
			Aud:         listAttr(dc.Attributes, "aud"),
			TTL:         strAttr(dc.Attributes, "ttl"),
			ExtraClaims: extra,
			Attrs:       append(rawAttrs(dc.Attributes), leftover(drest, defaultIdentityTypes)...),
		}
		if extra.Set {
			v.DefaultIdentity.Attrs = append(v.DefaultIdentity.Attrs, world.Attr{Name: "extra_claims", NameRange: extra.Range, Range: extra.Range})
			sortAttrs(v.DefaultIdentity.Attrs)
		}
	}
	v.Attrs = append(v.Attrs, leftover(rest, agentVaultTypes, "default_identity")...)
	return v
}

// extraClaims reads default_identity's extra_claims, block or attribute,
// and returns the rest of the body. Values are taken as written: HCL 1
// keeps "${job.id}" as text for Nomad to interpolate, where HCL 2 would
// read a template.
func extraClaims(f *world.File, body hcl.Body) (world.Map, hcl.Body) {
	bc, rest, _ := body.PartialContent(extraClaimsBlockSchema)
	for _, b := range bc.Blocks {
		attrs, _ := b.Body.JustAttributes()
		m := world.Map{Set: true, Known: true, Range: b.DefRange, Entries: map[string]world.Str{}}
		for name, a := range attrs {
			v := rawString(f, a.Expr)
			if !v.Known {
				m.Known = false
				continue
			}
			v.Range = a.Range
			m.Entries[name] = v
		}
		return m, rest
	}
	ac, rest, _ := rest.PartialContent(extraClaimsAttrSchema)
	a, ok := ac.Attributes["extra_claims"]
	if !ok {
		return world.Map{}, rest
	}
	m := world.Map{Set: true, Range: a.Range, Entries: map[string]world.Str{}}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		return m, rest
	}
	m.Known = true
	for _, kv := range pairs {
		k := strValue(kv.Key)
		if !k.Known {
			// A bare key is a traversal: its name is the key.
			if name := hcl.ExprAsKeyword(kv.Key); name != "" {
				k = world.Str{V: name, Set: true, Known: true}
			}
		}
		v := rawString(f, kv.Value)
		if !k.Known || !v.Known {
			m.Known = false
			continue
		}
		v.Range = hcl.RangeBetween(kv.Key.Range(), kv.Value.Range())
		m.Entries[k.V] = v
	}
	return m, rest
}

// rawString is a string as HCL 1 reads it: a quoted string's text, with
// ${...} sequences kept.
func rawString(f *world.File, expr hcl.Expression) world.Str {
	if s := strValue(expr); s.Known {
		return s
	}
	r := expr.Range()
	out := world.Str{Set: true, Range: r}
	if f == nil || r.Start.Line != r.End.Line || r.End.Byte > len(f.Src) || r.End.Byte-r.Start.Byte < 2 {
		return out
	}
	text := string(f.Src[r.Start.Byte:r.End.Byte])
	if text[0] != '"' || text[len(text)-1] != '"' {
		return out
	}
	inner := text[1 : len(text)-1]
	if strings.ContainsAny(inner, "\\\"") {
		// Escapes read differently in HCL 1, HCL 2 and JSON: not guessed.
		return out
	}
	out.V, out.Known = inner, true
	return out
}

// leftover lists what a partial decode did not consume: the keys Nomad
// would silently ignore. types and blocks are the block's known attributes
// and nested blocks, to say which of them each leftover could not become.
func leftover(rest hcl.Body, types attrTypes, blocks ...string) []world.Attr {
	attrs, diags := rest.JustAttributes()
	out := rawAttrs(attrs)
	for i := range out {
		a := attrs[out[i].Name]
		out[i].Misfits = map[string]string{}
		for _, b := range blocks {
			out[i].Misfits[b] = "a block"
		}
		if v, ok := literal(a.Expr); ok && !v.IsNull() {
			for key, t := range types {
				if want := mismatch(v, t); want != "" {
					out[i].Misfits[key] = want
				}
			}
		}
	}
	// JustAttributes reports each nested block as an error naming it; keep
	// those as keys too.
	for _, d := range diags {
		name, ok := strings.CutPrefix(d.Summary, "Unexpected \"")
		if !ok || d.Subject == nil {
			continue
		}
		if name, ok = strings.CutSuffix(name, "\" block"); ok {
			misfits := map[string]string{}
			for key := range types {
				misfits[key] = "an attribute (key = value)"
			}
			out = append(out, world.Attr{Name: name, NameRange: *d.Subject, Range: *d.Subject, Misfits: misfits})
		}
	}
	sortAttrs(out)
	return out
}
