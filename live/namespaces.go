package live

import (
	"slices"
	"strings"

	"github.com/nvlint/nvlint/world"
)

// Vault Enterprise keeps auth mounts, roles and policies per namespace.
// A job logs in and takes its policies in its vault.namespace, else in
// the namespace of its cluster's agent vault block; doctor reads each
// namespace named so, with the X-Vault-Namespace header, and tags what it
// reads there with the namespace, so lookups and duplicate checks key
// objects by namespace as they do for Terraform's.

// vaultNamespaces are the Vault namespaces of a cluster to read besides
// the one the first pass read: those asked for, and those of the jobs
// and agents read, for that cluster.
func (c *collector) vaultNamespaces(vc *vaultCluster) []string {
	base := strings.Trim(vc.namespace, "/")
	seen := map[string]bool{base: true}
	var out []string
	add := func(ns string) {
		ns = strings.Trim(ns, "/")
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	for _, ns := range vc.namespaces {
		add(ns)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.w.Agents {
		if v := a.Vault(vc.name); v != nil && v.Namespace.IsKnown() {
			add(v.Namespace.V)
		}
	}
	for _, j := range c.w.Jobs {
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				v := j.EffectiveVault(g, t)
				if v != nil && v.ClusterName() == vc.name && v.Namespace.IsKnown() {
					add(v.Namespace.V)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// vaultCollectNamespaces tags what the first pass read from a cluster
// with its namespace, then reads the policies and JWT auth methods of
// each of namespaces.
func (c *collector) vaultCollectNamespaces(vc *vaultCluster, namespaces []string) {
	base := world.Str{V: strings.Trim(vc.namespace, "/"), Set: true, Known: true}
	c.mu.Lock()
	tagNamespace(c.w, vc.name, base)
	c.mu.Unlock()
	for _, ns := range namespaces {
		s := &vaultScope{vc: vc, ns: world.Str{V: ns, Set: true, Known: true}}
		cl, err := newVaultClient(vc.cfg, vc.hc, vc.token, ns, vc.timeout)
		if err != nil {
			c.problem("vault", s.at("sys/auth"), "cannot build a Vault client: "+err.Error())
			continue
		}
		s.cl = cl
		c.spawn("vault", s.at("sys/auth"), func() { c.vaultAuthMounts(s) })
		c.spawn("vault", s.at("sys/policies/acl"), func() { c.vaultPolicies(s) })
	}
}
