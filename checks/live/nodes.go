package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// NodeNoVault: clients without the Vault fingerprint cannot run Vault jobs.
var NodeNoVault rules.Rule = nodeNoVault{}

type nodeNoVault struct{}

func (nodeNoVault) Meta() *rules.Meta { return &nodeNoVaultMeta }

var nodeNoVaultMeta = rules.Meta{
	ID: "NV631", Name: "node-without-vault", Severity: rules.Warning,
	Live:  true,
	Title: "a ready client has no Vault fingerprint",
	Doc: rules.Doc{
		Why: "Nomad adds the constraint ${attr.vault.version} semver >= 0.6.1 to every task group with a vault block. A client whose Vault fingerprint failed " +
			"(vault disabled in its config, a wrong address or TLS settings, Vault down when it started) has no vault.* attributes and never gets those " +
			"allocations: `Constraint ${attr.vault.version} semver >= 0.6.1 filtered 1 node`. Since 1.9.7/1.10 the fingerprint is not retried after success.",
		Example: "nomad node status -verbose <node> | grep vault   # nothing",
		Fix:     "Enable vault in the client's agent config with the right address and TLS settings, and restart the client.",
	},
}

func (nodeNoVault) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || l.Nomad == nil || len(access.Workloads(p.World)) == 0 {
		return
	}
	for _, n := range l.Nomad.Nodes {
		if n.Status != "ready" || n.VaultAttrs["vault.accessible"] == "true" {
			continue
		}
		p.Report(liveFinding("node", n.Name, "nomad:/v1/node/"+n.ID,
			fmt.Sprintf("client %s is ready but has no Vault fingerprint: jobs with a vault block are never placed on it; enable vault in its agent config and restart it", n.Name),
			"node attributes: no vault.accessible"))
	}
}

// JWTPathNotMounted: clients log in at auth/<jwt_auth_backend_path>/login.
var JWTPathNotMounted rules.Rule = jwtPathNotMounted{}

type jwtPathNotMounted struct{}

func (jwtPathNotMounted) Meta() *rules.Meta { return &jwtPathNotMountedMeta }

var jwtPathNotMountedMeta = rules.Meta{
	ID: "NV632", Name: "jwt-auth-path-not-mounted", Severity: rules.Error,
	Live:  true,
	Title: "the clients' jwt_auth_backend_path is not a JWT auth mount in Vault",
	Doc: rules.Doc{
		Why: "Nomad clients log tasks in at auth/<jwt_auth_backend_path>/login (default jwt-nomad). If no JWT auth method is mounted there, every login fails " +
			"with `failed to login with JWT`. `nomad setup vault` prints `jwt_auth_backend_path = \"jwt-nomad/\"` with a trailing slash, which Nomad does not trim.",
		Example: "vault { jwt_auth_backend_path = \"jwt\" }   # the method is mounted at jwt-nomad/",
		Fix:     "Set jwt_auth_backend_path to the mount path shown by `vault auth list` (without slashes), or mount the method there.",
	},
}

func (jwtPathNotMounted) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || !slices.ContainsFunc(l.Vaults(), func(v *world.VaultLive) bool { return len(v.AuthMounts) > 0 }) {
		return
	}
	identityInUse := len(p.World.JWTConfigs) > 0
	for _, a := range p.World.Agents {
		for _, v := range a.Vaults {
			identityInUse = identityInUse || v.DefaultIdentity != nil
		}
	}
	if !identityInUse {
		return // the legacy flow logs nothing in with JWTs
	}
	multi := l.Nomad != nil && len(l.Nomad.Regions) > 1
	for _, a := range p.World.Agents {
		who := "clients"
		if multi && a.Region.IsKnown() {
			who = "clients of region " + a.RegionName()
		}
		for _, v := range a.Vaults {
			if !v.Enabled.V || v.DefaultIdentity == nil && !a.Client.V {
				continue
			}
			// The clients log in to the Vault cluster of their block
			// (one doctor did not read is not checked), in the
			// namespace of their block: its mounts, not those of the
			// namespace doctor reads in.
			vl := l.VaultOf(v.ClusterName())
			if vl == nil || len(vl.AuthMounts) == 0 {
				continue
			}
			ns, in := vl.Namespace, ""
			if v.Namespace.Set {
				if !v.Namespace.Known {
					continue
				}
				ns = v.Namespace.V
			}
			if strings.Trim(ns, "/") != strings.Trim(vl.Namespace, "/") {
				in = " in Vault namespace " + strings.Trim(ns, "/")
			}
			in += vl.Label()
			nsMounts, read := vl.MountsIn(ns)
			if !read {
				continue // that namespace was not read
			}
			mounts := map[string]string{}
			var jwt []string
			for _, m := range nsMounts {
				mounts[m.Path] = m.Type
				if m.Type == "jwt" || m.Type == "oidc" {
					jwt = append(jwt, m.Path)
				}
			}
			path := "jwt-nomad"
			if v.JWTAuthBackendPath.IsKnown() && v.JWTAuthBackendPath.V != "" {
				path = v.JWTAuthBackendPath.V
			}
			trimmed := strings.Trim(path, "/")
			typ, ok := mounts[trimmed]
			switch {
			case ok && (typ == "jwt" || typ == "oidc") && trimmed == path:
				continue
			case ok && (typ == "jwt" || typ == "oidc"):
				f := liveFinding(world.KindAgentConfig, a.Ref.Name, a.Ref.Origin,
					fmt.Sprintf("jwt_auth_backend_path %q has a slash Nomad does not trim: %s log in at auth/%s/login; use %q", path, who, path, trimmed))
				f.Range = v.JWTAuthBackendPath.Range
				f.Cluster = vl.Cluster
				p.Report(f)
			case len(jwt) == 0:
				// No other mount the clients may have meant: mount one
				// where they log in.
				f := liveFinding(world.KindAgentConfig, a.Ref.Name, a.Ref.Origin,
					fmt.Sprintf("%s log tasks in at auth/%s/login but Vault has no JWT auth method mounted at all%s: mount one at %s/ and configure it", who, trimmed, in, trimmed))
				f.Range = v.JWTAuthBackendPath.Range
				f.Cluster = vl.Cluster
				enable := []string{"vault", "auth", "enable"}
				if ns := strings.Trim(ns, "/"); ns != "" {
					enable = append(enable, "-namespace="+ns)
				}
				f.Fixes = []rules.Fix{{
					Description: fmt.Sprintf("Mount the JWT auth method at %s/, where the clients log in; then write its config and roles", trimmed),
					Commands:    []rules.Command{rules.Cmd(append(enable, "-path="+trimmed, "jwt")...)},
				}}
				p.Report(f)
			default:
				f := liveFinding(world.KindAgentConfig, a.Ref.Name, a.Ref.Origin,
					fmt.Sprintf("%s log tasks in at auth/%s/login but Vault has no JWT auth method mounted at %s/%s (JWT mounts: %s)", who, trimmed, trimmed, in, strings.Join(jwt, ", ")))
				f.Range = v.JWTAuthBackendPath.Range
				f.Cluster = vl.Cluster
				p.Report(f)
			}
		}
	}
}
