package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// newVaultClient builds a Vault client from the caller's config, over the
// read-only transport hc, with exactly the token and namespace given: the
// VAULT_TOKEN and VAULT_NAMESPACE the api package reads from the
// environment are overridden.
func newVaultClient(src *vaultapi.Config, hc *http.Client, token, namespace string, timeout time.Duration) (*vaultapi.Client, error) {
	// DefaultConfig supplies the retry and backoff functions; everything
	// that says where and how to connect comes from src.
	cfg := vaultapi.DefaultConfig()
	cfg.Error = nil
	if src.Address != "" { // else VAULT_ADDR or the api's default, as NewClient would
		cfg.Address = src.Address
	}
	cfg.AgentAddress = src.AgentAddress
	cfg.HttpClient = hc
	cfg.MaxRetries = 0 // a doctor reports; it does not insist
	cfg.Timeout = timeout
	cfg.Limiter = src.Limiter
	cfg.SRVLookup = src.SRVLookup
	cfg.DisableRedirects = src.DisableRedirects
	cl, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	cl.SetToken(token)
	if namespace != "" {
		cl.SetNamespace(namespace)
	} else {
		cl.ClearNamespace()
	}
	return cl, nil
}

// vaultCluster is one Vault cluster Collect reads: the default one
// (VAULT_ADDR) or one of Options.VaultClusters. Each has its own clients,
// circuit breaker and live state, and what is read from it is tagged with
// its name.
type vaultCluster struct {
	// name is the cluster's name in Nomad's vault blocks: "default" for
	// the default one.
	name string
	cfg  *vaultapi.Config
	// token and namespace are those doctor reads with; noToken says why
	// token is empty. namespaces are further namespaces asked for.
	token, namespace, noToken string
	namespaces                []string
	// serverToken is the Nomad servers' own token (legacy flow, default
	// cluster only).
	serverToken string
	timeout     time.Duration

	live *world.VaultLive
	side *breaker

	// Clients, set by setup.
	cl  *vaultapi.Client // token, namespace
	sys *vaultapi.Client // no token, no namespace: sys/health
	// server is the client of serverToken; nil without one.
	server *vaultapi.Client
	// hc is the read-only HTTP client of the clients, shared with those
	// for other namespaces.
	hc *http.Client
	// enterprise is set when sys/health says Vault Enterprise: only it
	// has namespaces (CE ignores X-Vault-Namespace and answers from the
	// root namespace, as it does Nomad's logins).
	enterprise bool
}

// isDefault reports whether vc is the default cluster.
func (vc *vaultCluster) isDefault() bool { return vc.name == world.DefaultCluster }

// base is the scope of the namespace doctor's token reads in.
func (vc *vaultCluster) base() *vaultScope { return &vaultScope{vc: vc, cl: vc.cl} }

// at names a read of the cluster, for a problem: the cluster follows the
// path after a space, which ReadOf cuts off.
func (vc *vaultCluster) at(what string) string { return (&vaultScope{vc: vc}).at(what) }

// vaultSetup builds the clients of a cluster and reads sys/health. It
// reports whether the rest of the cluster should be read.
func (c *collector) vaultSetup(vc *vaultCluster) bool {
	hc := vc.cfg.HttpClient
	if hc == nil {
		hc = vaultapi.DefaultConfig().HttpClient
		c.own(hc)
	}
	hc = guardAPI(hc, true, "Vault")
	vc.hc = hc
	var err error
	timeout := vc.timeout
	if vc.cl, err = newVaultClient(vc.cfg, hc, vc.token, vc.namespace, timeout); err == nil {
		// sys/health is not namespaced and needs no token.
		vc.sys, err = newVaultClient(vc.cfg, hc, "", "", timeout)
	}
	if err == nil && vc.serverToken != "" {
		vc.server, err = newVaultClient(vc.cfg, hc, vc.serverToken, vc.namespace, timeout)
	}
	if err != nil {
		c.vaultFatal(vc, vc.cfg.Address, "cannot build a Vault client: "+reason(err, timeout))
		return false
	}
	c.update(func(*world.Live) { vc.live.Addr = vc.cl.Address() })
	vc.side.addr = vc.cl.Address()

	// Health reports sealed, standby and uninitialised Vaults with a 2xx
	// status (the api sets uninitcode, sealedcode, standbycode... to 299).
	var h *vaultapi.HealthResponse
	err = c.request(vc.side, func(ctx context.Context) error {
		var err error
		h, err = vc.sys.Sys().HealthWithContext(ctx)
		return err
	})
	healthURL := strings.TrimSuffix(vc.cl.Address(), "/") + "/v1/sys/health"
	var notAPI *notAPIError
	switch {
	case errors.As(err, &notAPI):
		// A web server, not Vault: every other answer would be its page.
		c.vaultFatal(vc, healthURL, reason(err, timeout))
		return false
	case err != nil && statusOf(err) >= 400 && statusOf(err) < 500:
		// Something answers, and refuses health: a proxy, say. Try the rest.
		c.problem("vault", vc.at("sys/health"), reason(err, timeout))
		return true
	case err != nil:
		c.vaultFatal(vc, healthURL, reason(err, timeout))
		return false
	case h == nil || h.Version == "":
		c.vaultFatal(vc, healthURL, "the answer is not a Vault sys/health response")
		return false
	}
	vc.enterprise = strings.Contains(h.Version, "+ent")
	c.update(func(*world.Live) {
		vc.live.Health = &world.VaultHealth{
			Initialized: h.Initialized, Sealed: h.Sealed, Standby: h.Standby,
			Version: h.Version, ClusterName: h.ClusterName,
		}
	})
	if !h.Initialized || h.Sealed {
		state := "sealed"
		if !h.Initialized {
			state = "not initialised"
		}
		// Every other request would fail with 503.
		c.sideProblem("vault", vc.at("sys/health"), "Vault is "+state+": nothing else was read from it")
		return false
	}
	return true
}

// vaultFatal records that a cluster could not be reached: nothing of it
// was read, and every area resting on Vault is unchecked. Another
// cluster's than the default one names it.
func (c *collector) vaultFatal(vc *vaultCluster, what, reason string) {
	if vc.isDefault() {
		c.fatal("vault", what, reason)
		return
	}
	c.record(world.Problem{Area: "vault", What: vc.at(what), Reason: reason, Fatal: true, Cluster: vc.name, Areas: SideAreas("vault")})
}

// noTokenReason is why nothing but sys/health was read from a cluster.
func (vc *vaultCluster) noTokenReason() string {
	if vc.noToken != "" {
		return "no token: " + vc.noToken
	}
	return "no token given"
}

// vaultCollect starts the collectors of a cluster.
func (c *collector) vaultCollect(vc *vaultCluster) {
	if vc.token == "" {
		// Every read would be denied; say why once.
		c.record(world.Problem{Area: "vault", What: vc.at("token"), Reason: vc.noTokenReason(), Areas: tokenAreas("vault")})
		if vc.server != nil {
			c.spawn("vault", "auth/token/lookup-self"+serverTokenSuffix, func() { c.vaultServerToken(vc) })
		}
		return
	}
	base := vc.base()
	c.spawn("vault", base.at("sys/auth"), func() { c.vaultAuthMounts(base) })
	c.spawn("vault", base.at("sys/mounts"), func() { c.vaultEngineMounts(base) })
	c.spawn("vault", base.at("sys/policies/acl"), func() { c.vaultPolicies(base) })
	c.spawn("vault", base.at("auth/token/roles"), func() { c.vaultTokenRoles(base) })
	if vc.server != nil {
		c.spawn("vault", "sys/auth/token/tune", func() { c.vaultTokenTune(vc) })
		c.spawn("vault", "auth/token/lookup-self"+serverTokenSuffix, func() { c.vaultServerToken(vc) })
	}
}

// vaultRead reads a Vault path (LISTs it when list is set) and returns its
// data object. found is false when Vault says there is nothing there (404
// without an error message: an empty list, a missing object).
func (c *collector) vaultRead(s *vaultScope, path string, list bool) (data json.RawMessage, found bool, err error) {
	cl := s.cl
	err = c.request(s.vc.side, func(ctx context.Context) error {
		var params url.Values
		if list {
			params = url.Values{"list": {"true"}}
		}
		resp, err := cl.Logical().ReadRawWithDataWithContext(ctx, path, params)
		if resp != nil {
			defer resp.Body.Close()
		}
		if err != nil {
			var re *vaultapi.ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusNotFound && len(re.Errors) == 0 {
				return nil
			}
			return err
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			return fmt.Errorf("the answer is not JSON: %s", excerpt(body))
		}
		data, found = env.Data, true
		return nil
	})
	if string(data) == "null" {
		data = nil
	}
	return data, found, err
}

// vaultScope is where Vault objects are read from: a cluster, a client
// with its namespace, and the namespace the objects are tagged with
// (unset while only one namespace is read).
type vaultScope struct {
	vc *vaultCluster
	cl *vaultapi.Client
	ns world.Str
}

// at names a path read in the scope, for a problem: the cluster, when
// not the default one, and the namespace follow the path after a space,
// which ReadOf cuts off.
func (s *vaultScope) at(path string) string {
	var where []string
	if !s.vc.isDefault() {
		where = append(where, "vault cluster "+s.vc.name)
	}
	if s.ns.Set {
		where = append(where, "Vault namespace "+nsName(s.ns.V))
	}
	if len(where) == 0 {
		return path
	}
	return path + " (" + strings.Join(where, ", ") + ")"
}

// nsName names a Vault namespace for people: the root one is "root".
func nsName(ns string) string {
	if ns == "" {
		return "root"
	}
	return ns
}

// tag records the scope's cluster, and its namespace when set, on the
// objects of part.
func (s *vaultScope) tag(part *world.World) {
	cluster := world.Str{V: s.vc.name, Set: true, Known: true}
	for _, m := range part.Metas() {
		m.Cluster = cluster
		if s.ns.Set {
			m.Namespace = s.ns
		}
	}
}

// origin is the Origin of an object read at path: "vault:PATH" for the
// default cluster, "vault[NAME]:PATH" for another.
func (s *vaultScope) origin(path string) string { return world.VaultOrigin(s.vc.name, path) }

// tagNamespace sets the Vault namespace of every Vault object of w read
// from cluster.
func tagNamespace(w *world.World, cluster string, ns world.Str) {
	for _, m := range w.Metas() {
		if m.Cluster.V == cluster {
			m.Namespace = ns
		}
	}
}

// vaultFail records a failed read of a cluster, unless it was skipped.
func (c *collector) vaultFail(s *vaultScope, path string, err error) {
	if errors.Is(err, errSkipped) {
		return
	}
	c.problem("vault", s.at(path), reason(err, s.vc.side.timeout))
}

// vaultList LISTs a path and returns its keys; a missing path or a
// failed read (recorded as a problem) is an empty list.
func (c *collector) vaultList(s *vaultScope, path string) []string {
	keys, _ := c.vaultListed(s, path)
	return keys
}

// vaultListed is vaultList that also reports whether the list was read
// (an empty one included), not failed.
func (c *collector) vaultListed(s *vaultScope, path string) (keys []string, ok bool) {
	data, _, err := c.vaultRead(s, path, true)
	if err != nil {
		c.vaultFail(s, path, err)
		return nil, false
	}
	if data == nil {
		return nil, true
	}
	var l struct {
		Keys []string `json:"keys"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		c.problem("vault", s.at(path), "unexpected LIST answer: "+err.Error())
		return nil, false
	}
	return l.Keys, true
}

// vaultReadSome reads path; ok is false when there is nothing there or
// the read failed, which it records.
func (c *collector) vaultReadSome(s *vaultScope, path string) (data json.RawMessage, ok bool) {
	data, found, err := c.vaultRead(s, path, false)
	if err != nil {
		c.vaultFail(s, path, err)
		return nil, false
	}
	return data, found && data != nil
}

// vaultObject reads one object and parses it with the file readers.
func (c *collector) vaultObject(s *vaultScope, kind world.Kind, name, path string, adjust func(*world.World)) {
	// Deleted between the LIST and the read, or never written (an
	// unconfigured auth method has no config): nothing to check.
	data, ok := c.vaultReadSome(s, path)
	if !ok {
		return
	}
	part := &world.World{}
	if err := inputs.LiveObject(part, kind, name, s.origin(path), data); err != nil {
		c.problem("vault", s.at(path), "cannot read the answer: "+err.Error())
		return
	}
	s.tag(part)
	if adjust != nil {
		adjust(part)
	}
	c.merge(part)
}

// vaultPolicies reads every ACL policy.
func (c *collector) vaultPolicies(s *vaultScope) {
	names := c.vaultList(s, "sys/policies/acl")
	for _, name := range names {
		if name == "root" {
			// Built in; its text is empty and grants everything.
			continue
		}
		path := "sys/policies/acl/" + name
		c.spawn("vault", s.at(path), func() {
			data, found, err := c.vaultRead(s, path, false)
			if err != nil {
				c.vaultFail(s, path, err)
				return
			}
			if !found || data == nil {
				return
			}
			var p struct {
				Policy *string `json:"policy"`
			}
			if err := json.Unmarshal(data, &p); err != nil || p.Policy == nil {
				c.problem("vault", s.at(path), "the answer has no policy text")
				return
			}
			part := &world.World{}
			if err := inputs.LivePolicy(part, name, s.origin(path), *p.Policy); err != nil {
				c.problem("vault", s.at(path), "cannot parse the policy: "+err.Error())
				return
			}
			s.tag(part)
			c.merge(part)
		})
	}
}

// vaultTokenRoles reads every token role.
func (c *collector) vaultTokenRoles(base *vaultScope) {
	names := c.vaultList(base, "auth/token/roles")
	for _, name := range names {
		path := "auth/token/roles/" + name
		c.spawn("vault", base.at(path), func() { c.vaultObject(base, world.KindTokenRole, name, path, nil) })
	}
}

// vaultAuthMounts reads the auth methods, then every JWT/OIDC one. The
// entity aliases and fetched keys are those of the first namespace read.
func (c *collector) vaultAuthMounts(s *vaultScope) {
	l := s.vc.live
	first := !s.ns.Set
	type mount struct {
		Type     string `json:"type"`
		Accessor string `json:"accessor"`
	}
	var mounts map[string]mount
	data, _, err := c.vaultRead(s, "sys/auth", false)
	if err == nil {
		err = json.Unmarshal(data, &mounts)
	}
	// Only a whole sys/auth says which JWT mounts there are, and so
	// which role lists make a role certainly absent.
	allMounts := err == nil
	if err != nil {
		// sys/auth needs a read grant many operator tokens lack. The UI's
		// mount list shows only the mounts this token may use, so the
		// JWT mounts found there are checked, but the area is not called
		// ok: one this token cannot see may be missing.
		c.vaultFail(s, "sys/auth", err)
		fallback, _, ferr := c.vaultRead(s, "sys/internal/ui/mounts", false)
		var ui struct {
			Auth map[string]mount `json:"auth"`
		}
		if ferr == nil && json.Unmarshal(fallback, &ui) == nil && ui.Auth != nil {
			mounts = ui.Auth
		}
	}
	jwt := map[string]string{} // mount -> accessor
	var list []world.AuthMount
	for path, m := range mounts {
		p := strings.Trim(path, "/")
		list = append(list, world.AuthMount{Path: p, Type: m.Type, Accessor: m.Accessor})
		if m.Type == "jwt" || m.Type == "oidc" {
			jwt[p] = m.Accessor
		}
	}
	for _, m := range c.o.JWTMounts {
		m = strings.Trim(strings.TrimPrefix(strings.Trim(m, "/"), "auth/"), "/")
		if _, ok := jwt[m]; !ok && m != "" {
			jwt[m] = ""
		}
	}
	if !first {
		// Entity aliases, engine mounts and fetched keys are kept for
		// one namespace: the live state has no place for a second.
		for i := range list {
			list[i].Namespace = s.ns.V
		}
		c.update(func(*world.Live) { l.AuthMounts = append(l.AuthMounts, list...) })
		for mount, accessor := range jwt {
			c.spawn("vault", s.at("auth/"+mount), func() { c.vaultJWTMount(s, mount, accessor, allMounts) })
		}
		return
	}
	c.update(func(*world.Live) { l.AuthMounts = append(l.AuthMounts, list...) })
	accessors := map[string]bool{}
	for _, a := range jwt {
		if a != "" {
			accessors[a] = true
		}
	}
	if len(accessors) > 0 {
		c.spawn("vault", s.at(entityAliasesPath), func() { c.vaultEntityAliases(s, accessors) })
	}
	for mount, accessor := range jwt {
		c.spawn("vault", s.at("auth/"+mount), func() { c.vaultJWTMount(s, mount, accessor, allMounts) })
	}
}

const entityAliasesPath = "identity/entity-alias/id"

// vaultEntityAliases LISTs the entity aliases and keeps those of the JWT
// mounts (by accessor). Vault 1.15 and later show each alias's metadata
// in key_info.
func (c *collector) vaultEntityAliases(s *vaultScope, accessors map[string]bool) {
	data, _, err := c.vaultRead(s, entityAliasesPath, true)
	if err != nil {
		c.vaultFail(s, entityAliasesPath, err)
		return
	}
	if data == nil {
		return
	}
	var l struct {
		KeyInfo map[string]struct {
			Name          string            `json:"name"`
			MountAccessor string            `json:"mount_accessor"`
			Metadata      map[string]string `json:"metadata"`
		} `json:"key_info"`
	}
	if err := json.Unmarshal(data, &l); err != nil {
		c.problem("vault", s.at(entityAliasesPath), "unexpected LIST answer: "+err.Error())
		return
	}
	var out []world.EntityAlias
	for id, a := range l.KeyInfo {
		if accessors[a.MountAccessor] {
			out = append(out, world.EntityAlias{ID: id, Name: a.Name, MountAccessor: a.MountAccessor, Metadata: a.Metadata})
		}
	}
	slices.SortFunc(out, func(a, b world.EntityAlias) int { return strings.Compare(a.ID, b.ID) })
	c.update(func(*world.Live) { s.vc.live.EntityAliases = out })
}

// vaultEngineMounts reads the secrets engines: which mounts are KV
// version 2 decides what path a template's kv/x reaches (consul-template
// asks sys/internal/ui/mounts the same). A token that may not read
// sys/mounts leaves the Jobs area unchecked: the UI's list shows only
// the mounts this token may use, and the versions of the others are left
// to what the policies suggest, as offline.
func (c *collector) vaultEngineMounts(s *vaultScope) {
	type mount struct {
		Type    string            `json:"type"`
		Options map[string]string `json:"options"`
		Config  struct {
			DefaultLeaseTTL ttlValue `json:"default_lease_ttl"`
			MaxLeaseTTL     ttlValue `json:"max_lease_ttl"`
		} `json:"config"`
	}
	var mounts map[string]mount
	data, _, err := c.vaultRead(s, "sys/mounts", false)
	if err == nil && data != nil {
		err = json.Unmarshal(data, &mounts)
	}
	if err != nil || mounts == nil {
		if err != nil {
			c.vaultFail(s, "sys/mounts", err)
		}
		fallback, _, ferr := c.vaultRead(s, "sys/internal/ui/mounts", false)
		var ui struct {
			Secret map[string]mount `json:"secret"`
		}
		if ferr != nil || json.Unmarshal(fallback, &ui) != nil || ui.Secret == nil {
			return
		}
		mounts = ui.Secret
	}
	list := make([]world.EngineMount, 0, len(mounts))
	for path, m := range mounts {
		list = append(list, world.EngineMount{Path: strings.Trim(path, "/"), Type: m.Type, Version: m.Options["version"],
			DefaultLeaseTTL: int64(m.Config.DefaultLeaseTTL), MaxLeaseTTL: int64(m.Config.MaxLeaseTTL)})
	}
	c.update(func(*world.Live) { s.vc.live.EngineMounts = list })
}

// vaultJWTMount reads a JWT auth method's config and roles, and fetches
// the config's jwks_url. With keepList, the role names listed are kept
// (world.JWTRoleAbsent).
func (c *collector) vaultJWTMount(s *vaultScope, mount, accessor string, keepList bool) {
	c.spawn("vault", s.at("auth/"+mount+"/config"), func() {
		c.vaultObject(s, world.KindJWTAuthConfig, mount, "auth/"+mount+"/config", func(part *world.World) {
			for _, cfg := range part.JWTConfigs {
				cfg.Mount, cfg.Accessor = mount, accessor
				if s.ns.Set {
					continue // JWKS is keyed by mount alone
				}
				var extra struct {
					JWKSCAPEM      string `json:"jwks_ca_pem"`
					DiscoveryCAPEM string `json:"oidc_discovery_ca_pem"`
				}
				_ = json.Unmarshal(cfg.Raw, &extra) // LiveObject parsed it already
				var fetch func() *world.JWKSFetch
				switch {
				case cfg.JWKSURL.IsKnown() && cfg.JWKSURL.V != "":
					fetch = func() *world.JWKSFetch { return c.fetchJWKS(cfg.JWKSURL.V, extra.JWKSCAPEM) }
				case cfg.OIDCDiscoveryURL.IsKnown() && cfg.OIDCDiscoveryURL.V != "":
					fetch = func() *world.JWKSFetch { return c.fetchDiscovery(cfg.OIDCDiscoveryURL.V, extra.DiscoveryCAPEM) }
				default:
					continue
				}
				c.spawn("jwks", s.at("auth/"+mount+"/config")+" keys", func() {
					f := fetch()
					c.update(func(*world.Live) {
						l := s.vc.live
						if l.JWKS == nil {
							l.JWKS = map[string]*world.JWKSFetch{}
						}
						l.JWKS[mount] = f
					})
				})
			}
		})
	})
	names, listed := c.vaultListed(s, "auth/"+mount+"/role")
	if listed && keepList {
		list := world.JWTRoleList{Mount: mount, Names: names}
		if s.ns.Set {
			list.Namespace = s.ns.V
		}
		c.update(func(*world.Live) { s.vc.live.JWTRoleLists = append(s.vc.live.JWTRoleLists, list) })
	}
	for _, name := range names {
		path := "auth/" + mount + "/role/" + name
		c.spawn("vault", s.at(path), func() {
			c.vaultObject(s, world.KindJWTRole, name, path, func(part *world.World) {
				for _, r := range part.JWTRoles {
					r.Mount = mount
				}
			})
		})
	}
}

// serverCapabilityPaths are the paths a Nomad 1.9 server checks with
// sys/capabilities-self (facts §1.5), plus lookup-self.
func serverCapabilityPaths(roles ...string) []string {
	paths := []string{
		"auth/token/lookup-self", "auth/token/lookup", "auth/token/revoke-accessor",
		"auth/token/renew-self", "sys/capabilities-self",
	}
	for _, r := range roles {
		if r != "" {
			paths = append(paths, "auth/token/create/"+r, "auth/token/roles/"+r)
		}
	}
	slices.Sort(paths)
	return slices.Compact(paths)
}

// vaultServerToken looks the Nomad servers' token up with itself and asks
// Vault what it may do, as a Nomad 1.9 server does at startup.
func (c *collector) vaultServerToken(vc *vaultCluster) {
	const path = "auth/token/lookup-self"
	s := &vaultScope{vc: vc, cl: vc.server}
	data, found, err := c.vaultRead(s, path, false)
	var info *world.TokenInfo
	switch {
	case errors.Is(err, errSkipped):
	case err != nil:
		c.problem("vault", path+serverTokenSuffix, reason(err, vc.timeout))
	case !found || data == nil:
		c.problem("vault", path+serverTokenSuffix, "empty answer")
	default:
		info, err = c.tokenInfo(data)
		if err != nil {
			c.problem("vault", path+serverTokenSuffix, err.Error())
		}
	}
	var own string
	if info != nil {
		own = info.Role
		c.update(func(*world.Live) {
			vc.live.ServerToken = info
			if c.o.ServerTokenAt != nil {
				vc.live.ServerTokenAt = *c.o.ServerTokenAt
			}
		})
	}
	// Nomad uses create_from_role, else the token's own role.
	for _, p := range serverCapabilityPaths(c.createFromRole, own) {
		c.spawn("vault", "sys/capabilities-self"+serverTokenSuffix, func() {
			var caps []string
			err := c.request(vc.side, func(ctx context.Context) error {
				var err error
				caps, err = vc.server.Sys().CapabilitiesSelfWithContext(ctx, p)
				return err
			})
			if errors.Is(err, errSkipped) {
				return
			}
			if err != nil {
				c.problem("vault", "sys/capabilities-self "+p+serverTokenSuffix, reason(err, vc.timeout))
				return
			}
			if caps == nil {
				caps = []string{}
			}
			c.update(func(*world.Live) {
				if vc.live.ServerCapabilities == nil {
					vc.live.ServerCapabilities = map[string][]string{}
				}
				vc.live.ServerCapabilities[p] = caps
			})
		})
	}
}

// vaultTokenTune reads the token auth method's max_lease_ttl, which ends
// a non-periodic server token: sys/auth/token/tune, else the older
// sys/mounts/auth/token/tune. Either answers with the system's max when
// the mount sets none. A failure is kept for the forecast, which then
// names the default it assumes; it leaves no area unchecked.
func (c *collector) vaultTokenTune(vc *vaultCluster) {
	var firstErr error
	for _, path := range []string{"sys/auth/token/tune", "sys/mounts/auth/token/tune"} {
		data, found, err := c.vaultRead(vc.base(), path, false)
		if err == nil && (!found || data == nil) {
			err = errors.New("empty answer")
		}
		if err == nil {
			var t struct {
				MaxLeaseTTL json.Number `json:"max_lease_ttl"`
			}
			if err = json.Unmarshal(data, &t); err == nil && seconds(t.MaxLeaseTTL) > 0 {
				c.update(func(*world.Live) {
					vc.live.TokenMountMaxTTL, vc.live.TokenMountTuneError = seconds(t.MaxLeaseTTL), ""
				})
				return
			}
			if err == nil {
				err = errors.New("no max_lease_ttl in the answer")
			}
		}
		if errors.Is(err, errSkipped) {
			return
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("%s: %s", path, reason(err, vc.timeout))
		}
	}
	c.update(func(*world.Live) { vc.live.TokenMountTuneError = firstErr.Error() })
}

// tokenInfo decodes a token lookup, registering the token itself as a
// secret and keeping everything else.
func (c *collector) tokenInfo(data json.RawMessage) (*world.TokenInfo, error) {
	var d struct {
		ID          string      `json:"id"`
		Accessor    string      `json:"accessor"`
		Policies    []string    `json:"policies"`
		Role        string      `json:"role"`
		Period      json.Number `json:"period"`
		TTL         json.Number `json:"ttl"`
		CreationTTL json.Number `json:"creation_ttl"`
		Renewable   bool        `json:"renewable"`
		Orphan      bool        `json:"orphan"`
		ExpireTime  *string     `json:"expire_time"`
		Type        string      `json:"type"`
		// CreationTime is Unix seconds.
		CreationTime   json.Number `json:"creation_time"`
		ExplicitMaxTTL json.Number `json:"explicit_max_ttl"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("unexpected token lookup answer: %w", err)
	}
	c.secrets.Add(d.ID)
	info := &world.TokenInfo{
		Accessor: d.Accessor, Policies: d.Policies, Role: d.Role,
		Period: seconds(d.Period), TTL: seconds(d.TTL), CreationTTL: seconds(d.CreationTTL),
		Renewable: d.Renewable, Orphan: d.Orphan, Type: d.Type,
		ExplicitMaxTTL: seconds(d.ExplicitMaxTTL),
	}
	if ct := seconds(d.CreationTime); ct > 0 {
		info.CreationTime = time.Unix(ct, 0).UTC()
	}
	if info.Policies == nil {
		info.Policies = []string{}
	}
	if d.ExpireTime != nil && *d.ExpireTime != "" {
		if t, err := time.Parse(time.RFC3339Nano, *d.ExpireTime); err == nil {
			info.ExpireTime = t.UTC()
		}
	}
	return info, nil
}

func seconds(n json.Number) int64 {
	if v, err := n.Int64(); err == nil {
		return v
	}
	if f, err := n.Float64(); err == nil {
		return int64(f)
	}
	return 0
}
