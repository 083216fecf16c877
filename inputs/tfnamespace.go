package inputs

import (
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Vault namespaces of Terraform objects. The Vault provider writes a
// resource into its namespace argument, relative to the provider's own
// namespace (provider "vault" { namespace = ... }, or the aliased
// provider the resource's provider argument picks). Two objects of one
// name in different namespaces are two objects.
//
// Vault clusters of Terraform objects. A provider whose address is
// written literally, and is the address of exactly one Vault cluster the
// agent configs given define (vault { name = ... address = ... }), writes
// its resources into that cluster: they are tagged with its name. Any
// other resource's cluster is not known, and it fits every cluster.

var tfNamespaceSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "resource", LabelNames: []string{"type", "name"}},
	{Type: "provider", LabelNames: []string{"name"}},
}}

// tfNamespaces is what one module (directory) says about namespaces.
type tfNamespaces struct {
	// providers maps "" (the default vault provider) and each alias to
	// the provider's namespace; addresses to its address.
	providers, addresses map[string]world.Str
	// resources maps type.name to the resource's own namespace argument
	// and the alias of the provider it uses ("" for the default).
	resources map[string]tfResourceNS
}

type tfResourceNS struct {
	namespace world.Str
	provider  string
	// providerUnknown is true when the provider argument is not a plain
	// vault.<alias> reference nvlint can follow.
	providerUnknown bool
}

// readNamespaces sets the Namespace of every Vault object w read from a
// Terraform resource whose namespace the configuration declares, and its
// Cluster when its provider's address is that of one Vault cluster of
// the agent configs.
func readNamespaces(w *world.World, tf *tfModules) {
	clusters := agentClusters(w)
	modules := map[string]*tfNamespaces{}
	for _, f := range w.Files {
		// A module's file may say no namespace and still be placed by its
		// root module's provider.
		called := f.Terraform != "" && filepath.Dir(f.Path) != f.Terraform
		if f.Kind != world.KindTerraform || (!called && !strings.Contains(string(f.Src), "namespace") && (len(clusters) == 0 || !strings.Contains(string(f.Src), "address"))) {
			continue
		}
		body := tf.bodyOf(f)
		if body == nil {
			continue
		}
		dir := filepath.Dir(f.Path)
		m := modules[dir]
		if m == nil {
			m = &tfNamespaces{providers: map[string]world.Str{}, addresses: map[string]world.Str{}, resources: map[string]tfResourceNS{}}
			modules[dir] = m
		}
		content, _, _ := body.PartialContent(tfNamespaceSchema)
		for _, b := range content.Blocks {
			attrs, _ := b.Body.JustAttributes()
			switch {
			case b.Type == "provider" && b.Labels[0] == "vault":
				alias := strAttr(attrs, "alias")
				if alias.Set && !alias.Known {
					continue
				}
				m.providers[alias.V] = strAttr(attrs, "namespace")
				m.addresses[alias.V] = strAttr(attrs, "address")
			case b.Type == "resource" && strings.HasPrefix(b.Labels[0], "vault_"):
				r := tfResourceNS{namespace: strAttr(attrs, "namespace")}
				if a, ok := attrs["provider"]; ok {
					t, diags := hcl.AbsTraversalForExpr(a.Expr)
					if diags.HasErrors() || len(t) != 2 || t.RootName() != "vault" {
						r.providerUnknown = true
					} else if at, ok := t[1].(hcl.TraverseAttr); ok {
						r.provider = at.Name
					}
				}
				m.resources[b.Labels[0]+"."+b.Labels[1]] = r
			}
		}
	}
	if len(modules) == 0 {
		return
	}
	set := func(meta *world.Meta) {
		if meta.Resource == nil || meta.Resource.File == nil {
			return
		}
		res := meta.Resource
		m := modules[filepath.Dir(res.File.Path)]
		if m == nil {
			return
		}
		// The block declares every instance: name["key"] and name[0] are
		// name's.
		name, _, _ := strings.Cut(res.Name, "[")
		r, ok := m.resources[res.Type+"."+name]
		if !ok {
			return
		}
		if res.Module != "" && len(m.providers) == 0 {
			// A module without provider blocks uses its root module's.
			if root := modules[res.File.Terraform]; root != nil {
				withRoot := *m
				withRoot.providers, withRoot.addresses = root.providers, root.addresses
				m = &withRoot
			}
		}
		meta.Namespace = resourceNamespace(m, r)
		if a := m.addresses[r.provider]; !r.providerUnknown && a.IsKnown() {
			if name, ok := clusters[vaultAddress(a.V)]; ok && name != "" {
				meta.Cluster = world.Str{V: name, Set: true, Known: true, Range: a.Range}
			}
		}
	}
	for _, o := range w.Policies {
		set(&o.Meta)
	}
	for _, o := range w.TokenRoles {
		set(&o.Meta)
	}
	for _, o := range w.JWTConfigs {
		set(&o.Meta)
	}
	for _, o := range w.JWTRoles {
		set(&o.Meta)
	}
}

// resourceNamespace joins the provider's namespace and the resource's
// own, which is relative to it.
func resourceNamespace(m *tfNamespaces, r tfResourceNS) world.Str {
	if r.providerUnknown {
		return world.Str{Set: true, Range: r.namespace.Range}
	}
	prov := m.providers[r.provider]
	switch {
	case !prov.Set:
		return r.namespace
	case !r.namespace.Set:
		return prov
	case !prov.Known || !r.namespace.Known:
		return world.Str{Set: true, Range: r.namespace.Range}
	}
	ns := strings.Trim(prov.V, "/")
	if rel := strings.Trim(r.namespace.V, "/"); rel != "" {
		if ns != "" {
			ns += "/"
		}
		ns += rel
	}
	return world.Str{V: ns, Set: true, Known: true, Range: r.namespace.Range}
}

// agentClusters maps the address of each Vault cluster the agent configs
// of w define, written literally, to the cluster's name; "" for an
// address two clusters share, which says neither.
func agentClusters(w *world.World) map[string]string {
	out := map[string]string{}
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if !v.Address.IsKnown() || v.Address.V == "" {
				continue
			}
			addr, name := vaultAddress(v.Address.V), v.ClusterName()
			if prev, seen := out[addr]; seen && prev != name {
				name = ""
			}
			out[addr] = name
		}
	}
	return out
}

// vaultAddress is an address as Vault clients take it: without a
// trailing slash, the scheme and host in lower case.
func vaultAddress(addr string) string {
	addr = strings.TrimRight(strings.TrimSpace(addr), "/")
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		host, path, _ := strings.Cut(rest, "/")
		addr = strings.ToLower(scheme) + "://" + strings.ToLower(host)
		if path != "" {
			addr += "/" + path
		}
	}
	return addr
}
