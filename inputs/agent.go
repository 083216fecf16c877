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
	enabledSchema    = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "enabled"}}}
	vaultAgentSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{
			{Name: "name"}, {Name: "enabled"}, {Name: "address"}, {Name: "token"},
			{Name: "create_from_role"}, {Name: "allow_unauthenticated"}, {Name: "task_token_ttl"},
			{Name: "jwt_auth_backend_path"}, {Name: "namespace"},
		},
		Blocks: []hcl.BlockHeaderSchema{{Type: "default_identity"}},
	}
	defaultIdentitySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "aud"}, {Name: "ttl"}}}
)

func loadAgentHCL(f *world.File, body hcl.Body, w *world.World) {
	root, _, diags := body.PartialContent(agentRootSchema)
	f.Diags = append(f.Diags, diags...)
	a := &world.AgentConfig{Meta: world.Meta{File: f, Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: f.Path}}}
	a.Region = strAttr(root.Attributes, "region")
	for _, b := range root.Blocks {
		switch b.Type {
		case "server":
			c, _, _ := b.Body.PartialContent(enabledSchema)
			f.Diags = append(f.Diags, typeCheck(c.Attributes, enabledTypes)...)
			a.Server = boolAttr(c.Attributes, "enabled")
		case "client":
			c, _, _ := b.Body.PartialContent(enabledSchema)
			f.Diags = append(f.Diags, typeCheck(c.Attributes, enabledTypes)...)
			a.Client = boolAttr(c.Attributes, "enabled")
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
		v.DefaultIdentity = &world.DefaultIdentity{
			Range: db.DefRange,
			Aud:   listAttr(dc.Attributes, "aud"),
			TTL:   strAttr(dc.Attributes, "ttl"),
			Attrs: append(rawAttrs(dc.Attributes), leftover(drest, defaultIdentityTypes)...),
		}
	}
	v.Attrs = append(v.Attrs, leftover(rest, agentVaultTypes, "default_identity")...)
	return v
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
