package inputs

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Secrets engine mounts declared in Terraform. They are no object rules
// judge, but they settle what a template read of a KV mount becomes:
// consul-template reads kv/x as kv/data/x on a version 2 mount.
const (
	tfMount     = "vault_mount"
	tfKVv2Setup = "vault_kv_secret_backend_v2"
)

func init() {
	// Registered here so a file declaring only mounts is still read as
	// Terraform; resource() passes over types it builds no object for.
	tfAttrs[tfMount] = []string{"path", "type", "options"}
	tfAttrs[tfKVv2Setup] = []string{"mount"}
}

var tfMountsSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "resource", LabelNames: []string{"type", "name"}},
}}

// readSecretMounts adds the vault_mount resources of w's Terraform files
// to w.SecretMounts. A vault_kv_secret_backend_v2 configures a version 2
// mount: one pointing at a vault_mount makes that mount version 2.
func readSecretMounts(w *world.World, tf *tfModules) {
	byAddr := map[string]*world.SecretMount{}
	var kvV2 []string // the mount references of vault_kv_secret_backend_v2
	for _, f := range w.Files {
		if f.Kind != world.KindTerraform || !bytes.Contains(f.Src, []byte("vault_")) {
			continue
		}
		body := tf.bodyOf(f)
		if body == nil {
			continue
		}
		content, _, _ := body.PartialContent(tfMountsSchema)
		for _, b := range content.Blocks {
			switch b.Labels[0] {
			case tfMount:
				attrs, _ := b.Body.JustAttributes()
				if _, ok := attrs["for_each"]; ok {
					continue
				}
				if _, ok := attrs["count"]; ok {
					continue
				}
				path := strAttr(attrs, "path")
				if !path.IsKnown() {
					continue
				}
				m := &world.SecretMount{
					Meta: world.Meta{File: f, Range: b.DefRange, Resource: &world.Resource{Type: tfMount, Name: b.Labels[1], File: f, Block: b.DefRange}},
					Path: strings.Trim(path.V, "/"),
					Type: strAttr(attrs, "type"),
				}
				m.Ref = world.ObjectRef{Kind: "secret-mount", Name: m.Path}
				if a, ok := attrs["options"]; ok {
					m.Version = world.Str{Set: true, Range: a.Expr.Range()}
					if opts, ok := objectAttrs(a.Expr); ok {
						m.Version = strAttr(opts, "version")
					}
				}
				w.SecretMounts = append(w.SecretMounts, m)
				byAddr[tfMount+"."+b.Labels[1]] = m
			case tfKVv2Setup:
				attrs, _ := b.Body.JustAttributes()
				if a, ok := attrs["mount"]; ok {
					if t, diags := hcl.AbsTraversalForExpr(a.Expr); !diags.HasErrors() && len(t) >= 2 {
						kvV2 = append(kvV2, traversalString(t[:2]))
					}
				}
			}
		}
	}
	for _, ref := range kvV2 {
		if m := byAddr[ref]; m != nil && m.Type.IsKnown() && m.Type.V == "kv" && !m.Version.IsKnown() {
			m.Version = world.Str{V: "2", Set: true, Known: true, Range: m.Range}
		}
	}
}
