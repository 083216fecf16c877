package live

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTMountUnconfigured: a JWT auth method with no config refuses every
// login.
var JWTMountUnconfigured rules.Rule = jwtMountUnconfigured{}

type jwtMountUnconfigured struct{}

func (jwtMountUnconfigured) Meta() *rules.Meta { return &jwtMountUnconfiguredMeta }

var jwtMountUnconfiguredMeta = rules.Meta{
	ID: "NV633", Name: "jwt-auth-method-unconfigured", Severity: rules.Error,
	Live:  true,
	Title: "the JWT auth method tasks log in with is mounted but has no config",
	Doc: rules.Doc{
		Why: "`vault auth enable -path=jwt-nomad jwt` mounts a method that can do nothing until `auth/jwt-nomad/config` is written: it knows no key to verify " +
			"a JWT with, and Vault refuses every login on it with `could not load configuration`. Tasks that use workload identity then get no Vault token " +
			"and their allocations fail with `failed to derive Vault token`. doctor reports it only when tasks log in there; otherwise the area's verdict names the mount.",
		Example: "vault auth enable -path=jwt-nomad jwt   # and no vault write auth/jwt-nomad/config",
		Fix: "Write the config, as `nomad setup vault` does: `vault write auth/jwt-nomad/config jwks_url=<Nomad servers>/.well-known/jwks.json " +
			"jwt_supported_algs=RS256,EdDSA default_role=nomad-workloads`.",
	},
}

func (jwtMountUnconfigured) Check(p *rules.Pass) {
	w := p.World
	unconfigured := w.UnconfiguredJWTMounts()
	if len(unconfigured) == 0 {
		return
	}
	vaultNS := w.Live.Vault.Namespace
	nsKey := func(ns string) string { return strings.Trim(cmp.Or(ns, vaultNS), "/") }
	type key struct{ ns, path string }
	users := map[key][]string{}
	for _, wl := range access.Workloads(w) {
		t := access.Resolve(w, wl)
		if t.Flow != access.FlowIdentity {
			continue
		}
		ns := vaultNS
		if t.Namespace.Set {
			if !t.Namespace.Known {
				continue
			}
			ns = t.Namespace.V
		}
		k := key{nsKey(ns), clientMount(w, wl.Vault.ClusterName())}
		users[k] = append(users[k], wl.String())
	}
	for _, m := range unconfigured {
		tasks := users[key{nsKey(m.Namespace), m.Path}]
		if len(tasks) == 0 {
			continue
		}
		in := ""
		if nsKey(m.Namespace) != nsKey("") {
			in = " in Vault namespace " + nsKey(m.Namespace)
		}
		who := tasks[0]
		if len(tasks) > 1 {
			who += fmt.Sprintf(", and %d more", len(tasks)-1)
		}
		path := "auth/" + m.Path + "/config"
		f := liveFinding(world.KindJWTAuthConfig, m.Path, "vault:"+path,
			fmt.Sprintf("JWT auth method %s%s is mounted but has no config (%s was never written): Vault refuses every login on it, so the tasks that log in there with workload identity get no Vault token (%s); write the config",
				m.Path, in, path, who),
			fmt.Sprintf("sys/auth lists %s/ (type %s)", m.Path, m.Type),
			path+": no config",
			fmt.Sprintf("%d task(s) log in at auth/%s/login", len(tasks), m.Path))
		f.Fixes = []rules.Fix{{
			Description: "Configure the auth method as nomad setup vault does (use your servers' address)",
			Commands:    []rules.Command{rules.Template("vault write %s jwks_url=<Nomad servers>/.well-known/jwks.json jwt_supported_algs=RS256,EdDSA default_role=<the JWT role>", path)},
		}}
		p.Report(f)
	}
}

// clientMount is the auth mount the clients log tasks of a Vault cluster
// in at: their jwt_auth_backend_path, else the declared or default one.
func clientMount(w *world.World, cluster string) string {
	for _, a := range w.Agents {
		if v := a.Vault(cluster); v != nil && v.JWTAuthBackendPath.IsKnown() && v.JWTAuthBackendPath.V != "" {
			return strings.Trim(v.JWTAuthBackendPath.V, "/")
		}
	}
	return w.NomadJWTMount()
}
