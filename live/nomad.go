package live

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

const agentSelfOrigin = "nomad:/v1/agent/self"

// maxAllocsPerJob is how many of a job's most recently modified
// allocations are searched for Vault failures.
const maxAllocsPerJob = 20

func nomadAddress(cfg *nomadapi.Config) string {
	if cfg.Address == "" {
		return "http://127.0.0.1:4646"
	}
	return cfg.Address
}

// newNomadClient builds a Nomad client from the caller's config over the
// read-only transport. src is not modified. owned is the HTTP client it
// made when src has none.
func newNomadClient(src *nomadapi.Config) (cl *nomadapi.Client, owned *http.Client, err error) {
	cfg := &nomadapi.Config{
		Address: nomadAddress(src), Region: src.Region, SecretID: src.SecretID, Namespace: src.Namespace,
		HttpAuth: src.HttpAuth, Headers: src.Headers.Clone(), TLSConfig: src.TLSConfig,
	}
	hc := src.HttpClient
	if hc == nil {
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: workers,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		}
		if sock, ok := strings.CutPrefix(cfg.Address, "unix://"); ok {
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			}
		}
		hc = &http.Client{Transport: tr}
		if err := nomadapi.ConfigureTLS(hc, src.TLSConfig); err != nil { // before it is shared
			return nil, nil, err
		}
		owned = hc
	}
	cfg.HttpClient = guardAPI(hc, false, "Nomad")
	cl, err = nomadapi.NewClient(cfg)
	return cl, owned, err
}

// guardedNomadHTTP is the read-only HTTP client the main Nomad client
// uses, to share with clients for other agents.
func guardedNomadHTTP(src *nomadapi.Config, owned *http.Client) *http.Client {
	hc := src.HttpClient
	if hc == nil {
		hc = owned
	}
	return guardAPI(hc, false, "Nomad")
}

// nomadClientAt is a client for another agent of the federation (a
// client node's HTTP address, host:port), with the same token, TLS
// settings and read-only transport as the main one.
func (c *collector) nomadClientAt(hostPort string) (*nomadapi.Client, error) {
	scheme := "http"
	if u, err := url.Parse(nomadAddress(c.o.Nomad)); err == nil && u.Scheme == "https" {
		scheme = "https"
	}
	src := c.o.Nomad
	return nomadapi.NewClient(&nomadapi.Config{
		Address: scheme + "://" + hostPort, SecretID: src.SecretID,
		HttpAuth: src.HttpAuth, Headers: src.Headers.Clone(), TLSConfig: src.TLSConfig,
		HttpClient: c.nomadHC,
	})
}

// nomadGet GETs a Nomad endpoint of the agent doctor talks to and
// decodes its JSON into out.
func (c *collector) nomadGet(path string, out any) error {
	return c.nomadGetIn(c.nomad, "", path, "", out)
}

// nomadGetIn GETs a Nomad endpoint through cl for a region ("": the
// agent's own) and decodes its JSON into out.
func (c *collector) nomadGetIn(cl *nomadapi.Client, region, path, namespace string, out any) error {
	return c.request(c.regionSide(region), func(ctx context.Context) error {
		var raw json.RawMessage
		q := (&nomadapi.QueryOptions{Namespace: namespace, Region: region}).WithContext(ctx)
		if _, err := cl.Raw().Query(path, &raw, q); err != nil {
			return err
		}
		if p, ok := out.(*json.RawMessage); ok {
			*p = raw
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("unexpected answer: %w", err)
		}
		return nil
	})
}

// nomadGetBody GETs a Nomad endpoint into body, as it is, for callers
// that decode it themselves (decoding it into a json.RawMessage first
// would scan it once more).
func (c *collector) nomadGetBody(body *bytes.Buffer, region, path, namespace string) error {
	return c.request(c.regionSide(region), func(ctx context.Context) error {
		body.Reset()
		q := (&nomadapi.QueryOptions{Namespace: namespace, Region: region}).WithContext(ctx)
		rc, err := c.nomad.Raw().Response(path, q)
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = body.ReadFrom(rc)
		return err
	})
}

// jobBodies keeps the buffers job answers are read into: a fleet's
// thousands of jobs are each decoded once and dropped, and growing a new
// buffer for each was a quarter of a run's allocations. A buffer grown
// past maxPooledBody by an outsized answer is left to the collector.
var jobBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 1 << 20

// agentSelf is the part of /v1/agent/self doctor reads.
type agentSelf struct {
	Config *struct {
		Region string
		Server *struct {
			Enabled                  *bool
			RootKeyRotationThreshold string
		}
		Client *struct {
			Enabled        *bool
			TemplateConfig *struct{ VaultRetry *agentRetry }
		}
		Version *struct{ Version string }
		Vaults  []agentVault
		Vault   *agentVault // Nomad 1.6 and earlier
	} `json:"config"`
	Member *struct {
		Name string
		Tags map[string]string
	} `json:"member"`
}

// agentRetry is a client template retry block; durations in
// nanoseconds.
type agentRetry struct {
	Attempts   *int64
	Backoff    *int64
	MaxBackoff *int64
}

// agentVault is one agent vault block as agent/self shows it: Go field
// names, durations in nanoseconds, the token "<redacted>" (1.9 and
// earlier) or, normally, empty (1.10).
type agentVault struct {
	Name                 *string
	Enabled              *bool
	Addr                 *string
	Role                 *string // create_from_role
	JWTAuthBackendPath   *string
	Namespace            *string
	Token                *string
	AllowUnauthenticated *bool
	TaskTokenTTL         *string
	DefaultIdentity      *struct {
		Audience []string
		TTL      *int64
		// ExtraClaims are shown as written, before interpolation.
		ExtraClaims map[string]string
	}
}

// nomadSetup builds the client and reads agent/self. It reports whether
// the rest of Nomad should be read.
func (c *collector) nomadSetup() bool {
	addr := nomadAddress(c.o.Nomad)
	var err error
	var owned *http.Client
	c.nomad, owned, err = newNomadClient(c.o.Nomad)
	if owned != nil {
		c.own(owned)
	}
	if err == nil {
		c.nomadHC = guardedNomadHTTP(c.o.Nomad, owned)
	}
	if err != nil {
		c.fatal("nomad", addr, "cannot build a Nomad client: "+reason(err, c.o.RequestTimeout))
		return false
	}
	var self agentSelf
	err = c.nomadGet("/v1/agent/self", &self)
	var notAPI *notAPIError
	switch {
	case errors.As(err, &notAPI):
		// A web server, not Nomad: every other answer would be its page.
		c.fatal("nomad", strings.TrimSuffix(addr, "/")+"/v1/agent/self", reason(err, c.o.RequestTimeout))
		return false
	case err != nil && statusOf(err) >= 400 && statusOf(err) < 500:
		// Reachable; the token may not read the agent (agent:read).
		c.nomadFail("/v1/agent/self", err)
		return true
	case err != nil:
		c.fatal("nomad", strings.TrimSuffix(addr, "/")+"/v1/agent/self", reason(err, c.o.RequestTimeout))
		return false
	case self.Config == nil || self.Member == nil:
		c.fatal("nomad", strings.TrimSuffix(addr, "/")+"/v1/agent/self", "the answer is not a Nomad agent/self response")
		return false
	}
	version := self.Member.Tags["build"]
	if version == "" && self.Config.Version != nil {
		version = self.Config.Version.Version
	}
	agent := c.agentConfig(&self)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.home = self.Config.Region
	c.live.Nomad.Region = c.home
	c.live.Nomad.Version = version
	c.live.Nomad.Region = self.Member.Tags["region"]
	c.w.Agents = append(c.w.Agents, agent)
	return true
}

// agentConfig builds the world's agent config from agent/self.
func (c *collector) agentConfig(self *agentSelf) *world.AgentConfig {
	cfg := self.Config
	a := &world.AgentConfig{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: self.Member.Name, Origin: agentSelfOrigin}}}
	a.Region = str(&cfg.Region)
	if cfg.Server != nil && cfg.Server.Enabled != nil {
		a.Server = known(*cfg.Server.Enabled)
		if d, err := time.ParseDuration(cfg.Server.RootKeyRotationThreshold); err == nil && d > 0 {
			a.RootKeyRotation = world.Seconds{V: int64(d / time.Second), Set: true, Known: true}
		}
	}
	if cfg.Client != nil && cfg.Client.Enabled != nil {
		a.Client = known(*cfg.Client.Enabled)
	}
	if cfg.Client != nil && cfg.Client.TemplateConfig != nil && cfg.Client.TemplateConfig.VaultRetry != nil {
		r := cfg.Client.TemplateConfig.VaultRetry
		a.VaultRetry = &world.RetryConfig{}
		if r.Attempts != nil {
			a.VaultRetry.Attempts = world.Value[int64]{V: *r.Attempts, Set: true, Known: true}
		}
		for _, d := range []struct {
			ns  *int64
			dst *world.Str
		}{{r.Backoff, &a.VaultRetry.Backoff}, {r.MaxBackoff, &a.VaultRetry.MaxBackoff}} {
			if d.ns != nil {
				*d.dst = world.Str{V: time.Duration(*d.ns).String(), Set: true, Known: true}
			}
		}
	}
	vaults := cfg.Vaults
	if len(vaults) == 0 && cfg.Vault != nil {
		vaults = []agentVault{*cfg.Vault}
	}
	server := !a.Server.IsKnown() || a.Server.V
	for _, av := range vaults {
		v := &world.VaultConfig{
			Name:               str(av.Name),
			Address:            str(av.Addr),
			CreateFromRole:     str(av.Role),
			JWTAuthBackendPath: str(av.JWTAuthBackendPath),
			Namespace:          str(av.Namespace),
		}
		if av.Enabled != nil {
			v.Enabled = known(*av.Enabled)
		}
		if av.Token != nil && *av.Token != "" {
			// Only whether it is set; the value never enters the world.
			v.Token = world.Str{Set: true}
			if *av.Token != "<redacted>" {
				c.secrets.Add(*av.Token)
			}
		}
		// The legacy keys only mean something to a server (1.9 and
		// earlier); agent/self shows their defaults on every agent.
		if server {
			if av.AllowUnauthenticated != nil {
				v.AllowUnauthenticated = known(*av.AllowUnauthenticated)
			}
			v.TaskTokenTTL = str(av.TaskTokenTTL)
		}
		if di := av.DefaultIdentity; di != nil {
			d := &world.DefaultIdentity{}
			if len(di.Audience) > 0 {
				d.Aud = world.List{Set: true, Known: true}
				for _, aud := range di.Audience {
					d.Aud.Items = append(d.Aud.Items, world.Str{V: aud, Set: true, Known: true})
				}
			}
			if di.TTL != nil && *di.TTL > 0 {
				d.TTL = world.Str{V: duration(time.Duration(*di.TTL)), Set: true, Known: true}
			}
			if len(di.ExtraClaims) > 0 {
				d.ExtraClaims = world.Map{Set: true, Known: true, Entries: map[string]world.Str{}}
				for k, v := range di.ExtraClaims {
					d.ExtraClaims.Entries[k] = world.Str{V: v, Set: true, Known: true}
				}
			}
			v.DefaultIdentity = d
		}
		if v.ClusterName() == "default" && v.CreateFromRole.V != "" {
			c.createFromRole = v.CreateFromRole.V
		}
		a.Vaults = append(a.Vaults, v)
	}
	return a
}

func str(s *string) world.Str {
	if s == nil || *s == "" {
		return world.Str{}
	}
	return world.Str{V: *s, Set: true, Known: true}
}

func known(b bool) world.Bool { return world.Bool{V: b, Set: true, Known: true} }

// duration writes d as an HCL duration: 1h, 30m, 1h30m, 90s.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// nomadCollect finds the regions to read and starts the Nomad
// collectors: members and the legacy token count once, nodes, keys and
// jobs for every region, each read through the agent doctor talks to,
// which forwards what is for another region.
func (c *collector) nomadCollect() {
	c.spawn("nomad", "/v1/agent/members", c.nomadMembers)
	c.spawn("nomad", upgradeCheckPath, c.nomadUpgradeCheck)
	c.spawn("nomad", keyringPath, c.nomadKeyring)
	c.spawn("nomad", "/v1/regions", func() {
		regions := c.nomadRegions()
		c.update(func(l *world.Live) { l.Nomad.Regions = regions })
		c.multi = len(regions) > 1
		for _, r := range regions {
			c.spawn("nomad", "/v1/nodes"+c.inRegion(r, "?"), func() { c.nomadNodes(r) })
			c.spawn("nomad", "/.well-known/jwks.json"+c.inRegion(r, "?"), func() { c.nomadJWKS(r) })
			c.spawn("nomad", "/v1/jobs"+c.inRegion(r, "?"), func() { c.nomadJobs(r) })
		}
	})
}

// nomadRegions lists the federation's regions and keeps those asked for.
// When the list cannot be read, the agent's own region is read alone.
func (c *collector) nomadRegions() []string {
	var all []string
	if err := c.nomadGet("/v1/regions", &all); err != nil {
		if statusOf(err) != http.StatusNotFound { // a proxy passing only some paths
			c.nomadFail("/v1/regions", err)
		}
		all = nil
	}
	if len(all) == 0 {
		all = []string{cmp.Or(c.home, "global")}
	}
	slices.Sort(all)
	if len(c.o.Regions) == 0 {
		return all
	}
	var out []string
	for _, r := range c.o.Regions {
		switch {
		case slices.Contains(out, r):
		case slices.Contains(all, r):
			out = append(out, r)
		default:
			c.record(world.Problem{Area: "nomad", What: "/v1/regions", Region: r,
				Reason: fmt.Sprintf("region %s is not a region of this federation (regions: %s)", r, strings.Join(all, ", ")),
				Areas:  SideAreas("nomad")})
		}
	}
	slices.Sort(out)
	return out
}

// inRegion is the query that names region r in a read's description
// (sep is "?" or "&"), when the federation has more than one region.
func (c *collector) inRegion(r, sep string) string {
	if !c.multi || r == "" {
		return ""
	}
	return sep + "region=" + url.QueryEscape(r)
}

// regionSide is the breaker of a region's reads ("": the agent's own
// reads, not for a region), made with the region's deadline on first
// use: a region that stops answering stops only its own reads.
func (c *collector) regionSide(region string) *breaker {
	if region == "" || !c.multi {
		return c.nomadSide // one region: the run's deadline is its own
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.regionSides[region]; b != nil {
		return b
	}
	b := &breaker{area: "nomad", name: "Nomad region " + region, addr: c.nomadSide.addr, timeout: c.nomadSide.timeout, ctx: c.ctx}
	if c.o.RegionDeadline > 0 {
		var cancel context.CancelFunc
		b.ctx, cancel = context.WithTimeout(c.ctx, c.o.RegionDeadline)
		c.cancels = append(c.cancels, cancel)
	}
	if c.regionSides == nil {
		c.regionSides = map[string]*breaker{}
	}
	c.regionSides[region] = b
	return b
}

// failIn records a failed read for a region. Once the region's deadline
// has passed, one problem says so for all its reads left.
func (c *collector) failIn(region, what string, err error) {
	if errors.Is(err, errSkipped) {
		return
	}
	if b := c.regionSide(region); b.ctx != nil && b.ctx.Err() != nil && c.ctx.Err() == nil {
		c.mu.Lock()
		reported := c.overdue[region]
		if c.overdue == nil {
			c.overdue = map[string]bool{}
		}
		c.overdue[region] = true
		c.mu.Unlock()
		if !reported {
			c.record(world.Problem{Area: "nomad", What: "region " + region, Region: region,
				Reason: fmt.Sprintf("not all read within the region deadline of %s; the rest of region %s was not read", c.o.RegionDeadline, region),
				Areas:  SideAreas("nomad")})
		}
		return
	}
	r := reason(err, c.o.RequestTimeout)
	if statusOf(err) == http.StatusForbidden && c.o.Nomad.SecretID == "" {
		r += " (no token: NOMAD_TOKEN is unset)"
	}
	c.problemIn(region, what, r)
}

// problemIn records a problem of a region's read.
func (c *collector) problemIn(region, what, reason string) {
	if !c.multi {
		region = ""
	}
	c.record(world.Problem{Area: "nomad", What: what, Reason: reason, Areas: AreasOf("nomad", what), Region: region})
}

func (c *collector) nomadMembers() {
	var m struct {
		Members []struct {
			Name   string
			Status string
			Tags   map[string]string
		}
	}
	if err := c.nomadGet("/v1/agent/members", &m); err != nil {
		c.nomadFail("/v1/agent/members", err)
		return
	}
	var out []world.NomadMember
	for _, x := range m.Members {
		out = append(out, world.NomadMember{Name: x.Name, Region: x.Tags["region"], Version: x.Tags["build"], Status: x.Status})
	}
	c.update(func(l *world.Live) { l.Nomad.Members = out })
}

// nomadNodes lists a region's client nodes and reads each for its Vault
// fingerprint (the list stubs carry no attributes), and the agent config
// of a few of them: their vault block says where their tasks log in.
func (c *collector) nomadNodes(region string) {
	var stubs []struct {
		ID, Name, Status, Version, Datacenter string
	}
	if err := c.nomadGetIn(c.nomad, region, "/v1/nodes", "", &stubs); err != nil {
		c.failIn(region, "/v1/nodes"+c.inRegion(region, "?"), err)
		return
	}
	agents := 0
	for _, s := range stubs {
		path := "/v1/node/" + url.PathEscape(s.ID)
		readAgent := s.Status == "ready" && agents < maxAgentsPerRegion
		if readAgent {
			agents++
		}
		c.spawn("nomad", path, func() {
			node := world.NomadNode{ID: s.ID, Region: region, Name: s.Name, Version: s.Version, Status: s.Status}
			var full struct {
				HTTPAddr   string
				Attributes map[string]string
			}
			if err := c.nomadGetIn(c.nomad, region, path, "", &full); err != nil {
				c.failIn(region, path+c.inRegion(region, "?"), err)
			} else {
				if v := full.Attributes["nomad.version"]; v != "" {
					node.Version = v
				}
				for k, v := range full.Attributes {
					if strings.HasPrefix(k, "vault.") {
						if node.VaultAttrs == nil {
							node.VaultAttrs = map[string]string{}
						}
						node.VaultAttrs[k] = v
					}
				}
				if readAgent {
					c.nomadClientAgent(region, s.Name, full.HTTPAddr)
				}
			}
			c.update(func(l *world.Live) { l.Nomad.Nodes = append(l.Nomad.Nodes, node) })
		})
	}
}

// maxAgentsPerRegion bounds the client agents whose config is read in
// each region: clients of one region are configured alike, and a few
// show a region whose clients log in elsewhere.
const maxAgentsPerRegion = 3

// nomadClientAgent reads a client's agent/self at its HTTP address: the
// agent doctor talks to shows only its own config, and agent/self is not
// forwarded. The agent doctor talks to is not read twice.
func (c *collector) nomadClientAgent(region, node, httpAddr string) {
	if httpAddr == "" {
		return
	}
	if u, err := url.Parse(nomadAddress(c.o.Nomad)); err == nil && (u.Host == httpAddr || u.Scheme == "unix") {
		return // the agent doctor talks to, or one only its socket reaches
	}
	what := "/v1/agent/self?node=" + url.QueryEscape(node) + c.inRegion(region, "&")
	cl, err := c.nomadClientAt(httpAddr)
	if err != nil {
		c.problemIn(region, what, "cannot build a Nomad client: "+err.Error())
		return
	}
	var self agentSelf
	if err := c.nomadGetIn(cl, "", "/v1/agent/self", "", &self); err != nil {
		c.failIn(region, what, err)
		return
	}
	if self.Config == nil || self.Member == nil {
		c.problemIn(region, what, "the answer is not a Nomad agent/self response")
		return
	}
	a := c.agentConfig(&self)
	a.Ref.Name = node
	a.Ref.Origin = "nomad:" + what
	if !a.Region.IsKnown() {
		a.Region = world.Str{V: region, Set: true, Known: true}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Agents = append(c.w.Agents, a)
}

// nomadJWKS reads the keys a region signs workload identities with. Each
// region has its own keyring; any server answers for another region by
// forwarding.
func (c *collector) nomadJWKS(region string) {
	const path = "/.well-known/jwks.json"
	f := &world.JWKSFetch{URL: strings.TrimSuffix(nomadAddress(c.o.Nomad), "/") + path + c.inRegion(region, "?")}
	var raw json.RawMessage
	err := c.nomadGetIn(c.nomad, region, path, "", &raw)
	if err == nil {
		f.Keys, err = parseJWKS(raw)
	}
	if err != nil {
		f.Error = reason(err, c.o.RequestTimeout)
	}
	c.update(func(l *world.Live) {
		if l.Nomad.RegionJWKS == nil {
			l.Nomad.RegionJWKS = map[string]*world.JWKSFetch{}
		}
		l.Nomad.RegionJWKS[region] = f
		// The rules about the agent's own keys read them here.
		if region == c.home || l.Nomad.JWKS == nil {
			l.Nomad.JWKS = f
		}
	})
}

const keyringPath = "/v1/operator/keyring/keys"

// nomadKeyring reads the agent's region's root keys, for the forecast of
// the next signing key. The list takes a management token: a failure is
// kept for the forecast to name and leaves no area unchecked.
func (c *collector) nomadKeyring() {
	var keys []struct {
		KeyID, State            string
		CreateTime, PublishTime int64
	}
	err := c.nomadGet(keyringPath, &keys)
	if errors.Is(err, errSkipped) {
		return
	}
	if err != nil {
		r := keyringPath + ": " + reason(err, c.timeout(c.nomadSide))
		c.update(func(l *world.Live) { l.Nomad.KeyringError = r })
		return
	}
	out := make([]world.NomadRootKey, 0, len(keys))
	for _, k := range keys {
		rk := world.NomadRootKey{KeyID: k.KeyID, State: k.State, CreateTime: time.Unix(0, k.CreateTime).UTC()}
		if k.PublishTime > 0 {
			rk.PublishTime = time.Unix(0, k.PublishTime).UTC()
		}
		out = append(out, rk)
	}
	slices.SortFunc(out, func(a, b world.NomadRootKey) int { return a.CreateTime.Compare(b.CreateTime) })
	c.update(func(l *world.Live) { l.Nomad.Keyring = out })
}

const upgradeCheckPath = "/v1/operator/upgrade-check/vault-workload-identity"

// nomadUpgradeCheck counts the legacy Vault tokens Nomad still tracks
// (what `nomad setup vault -check` lists).
func (c *collector) nomadUpgradeCheck() {
	var r struct {
		VaultTokens []json.RawMessage
	}
	if err := c.nomadGet(upgradeCheckPath, &r); err != nil {
		if statusOf(err) != http.StatusNotFound { // before 1.7.3: no such endpoint
			c.nomadFail(upgradeCheckPath, err)
		}
		return
	}
	c.update(func(l *world.Live) { l.Nomad.LegacyTokens = len(r.VaultTokens) })
}

// vaultJobsFilter asks Nomad (go-bexpr, evaluated on the whole job) for
// the jobs with a vault block in some task: Nomad adds the constraint
// ${attr.vault.version} (${attr.vault.CLUSTER.version} for another
// cluster) to every task group with one when the job is registered. The
// vault block itself cannot be asked for: a task without one has a nil
// Vault, which fails the whole filter. Only those jobs are fetched whole.
const vaultJobsFilter = `any TaskGroups as g { any g.Constraints as c { "${attr.vault." in c.LTarget } }`

// jobsPerPage is the page size of job and allocation lists.
const jobsPerPage = 500

// nomadJobs reads the jobs of a region with a vault block, and the
// allocations of those that fail.
func (c *collector) nomadJobs(region string) {
	namespaces := c.o.Namespaces
	if len(namespaces) == 0 {
		namespaces = []string{"*"}
	}
	var stubs []jobStub
	for _, ns := range namespaces {
		listWhat := "/v1/jobs" + c.inRegion(region, "?")
		if ns != "*" {
			listWhat = "/v1/jobs?namespace=" + url.QueryEscape(ns) + c.inRegion(region, "&")
		}
		got, err := c.nomadJobList(region, ns, vaultJobsFilter)
		if statusOf(err) == http.StatusBadRequest {
			// A Nomad that cannot evaluate the filter: list everything,
			// and read every job to find those with a vault block.
			got, err = c.nomadJobList(region, ns, "")
		}
		if err != nil {
			c.failIn(region, listWhat, err)
			continue
		}
		stubs = append(stubs, got...)
	}
	slices.SortFunc(stubs, func(a, b jobStub) int { return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.ID, b.ID)) })
	stubs = slices.CompactFunc(stubs, func(a, b jobStub) bool { return a.Namespace == b.Namespace && a.ID == b.ID })
	// A periodic or dispatched child runs a copy of its parent's job: its
	// spec adds nothing, and as a job of the world it would repeat every
	// finding about the parent. Only its allocations are read, where it
	// fails.
	// A child whose parent is gone is read as a job of its own.
	listed := map[jobKey]bool{}
	for _, s := range stubs {
		listed[jobKey{s.Namespace, s.ID}] = true
	}
	children := map[jobKey][]jobStub{}
	spec := map[jobKey]string{}
	for _, s := range stubs {
		spec[jobKey{s.Namespace, s.ID}] = s.ID
		if k := (jobKey{s.Namespace, s.ParentID}); s.ParentID != "" && listed[k] {
			children[k] = append(children[k], s)
			spec[jobKey{s.Namespace, s.ID}] = s.ParentID
		}
	}
	if len(spec) > 0 {
		c.spawn("nomad", "/v1/allocations"+c.inRegion(region, "?"), func() { c.nomadRunning(region, namespaces, spec) })
	}
	for _, s := range stubs {
		if s.ParentID != "" && listed[jobKey{s.Namespace, s.ParentID}] {
			continue
		}
		kids := children[jobKey{s.Namespace, s.ID}]
		path := "/v1/job/" + url.PathEscape(s.ID)
		what := path + "?namespace=" + url.QueryEscape(s.Namespace) + c.inRegion(region, "&")
		c.spawn("nomad", what, func() {
			body := jobBodies.Get().(*bytes.Buffer)
			defer func() {
				if body.Cap() <= maxPooledBody {
					jobBodies.Put(body)
				}
			}()
			err := c.nomadGetBody(body, region, path, s.Namespace)
			raw := body.Bytes() // LiveJob keeps none of it
			if err != nil {
				if statusOf(err) != http.StatusNotFound { // purged since the list
					c.failIn(region, what, err)
				}
				return
			}
			// Only what nvlint reads of the job goes further: the API job
			// is several times larger, and its environment and config,
			// which may hold secrets, stay out of snapshots.
			part := &world.World{}
			uses, err := inputs.LiveJob(part, s.ID, "nomad:"+what, raw)
			var syntax *json.SyntaxError
			var shape *json.UnmarshalTypeError
			switch {
			case errors.As(err, &syntax):
				c.problemIn(region, what, reason(err, c.o.RequestTimeout)) // "not JSON", as for every other read
				return
			case errors.As(err, &shape):
				c.problemIn(region, what, "unexpected answer: "+err.Error())
				return
			case err != nil:
				c.problemIn(region, what, "cannot read the job: "+err.Error())
				return
			}
			if !uses {
				return
			}
			c.merge(part)
			if s.failing() {
				c.spawn("nomad", path+"/allocations", func() { c.nomadAllocs(region, s.ID, "", s.Namespace) })
			}
			for _, kid := range latestChildren(kids) {
				if kid.failing() {
					c.spawn("nomad", "/v1/job/"+url.PathEscape(kid.ID)+"/allocations", func() { c.nomadAllocs(region, kid.ID, s.ID, s.Namespace) })
				}
			}
		})
	}
}

// nomadJobList lists a region's jobs page by page, with a filter ("" for
// none).
func (c *collector) nomadJobList(region, ns, filter string) ([]jobStub, error) {
	var out []jobStub
	next := ""
	for {
		var page []jobStub
		err := c.request(c.regionSide(region), func(ctx context.Context) error {
			page = nil
			q := (&nomadapi.QueryOptions{Namespace: ns, Region: region, PerPage: jobsPerPage, NextToken: next, Filter: filter}).WithContext(ctx)
			meta, err := c.nomad.Raw().Query("/v1/jobs", &page, q)
			if err != nil {
				return err
			}
			next = meta.NextToken
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
	}
}

// jobStub is the part of a /v1/jobs entry doctor reads.
type jobStub struct {
	ID, Namespace, ParentID string
	SubmitTime              int64
	JobSummary              *struct {
		Summary map[string]struct{ Failed, Lost, Starting, Unknown int }
	}
}

// failing reports whether a job has allocations that failed or have not
// started (a task waiting on a template or a Vault login), whose events
// show why. A job whose summary is missing is read.
func (s jobStub) failing() bool {
	if s.JobSummary == nil || s.JobSummary.Summary == nil {
		return true
	}
	for _, tg := range s.JobSummary.Summary {
		if tg.Failed+tg.Lost+tg.Starting+tg.Unknown > 0 {
			return true
		}
	}
	return false
}

type jobKey struct{ namespace, id string }

// maxChildrenPerJob bounds the children whose allocations are read: a
// dispatched job may have thousands, and the latest show what fails now.
const maxChildrenPerJob = 10

func latestChildren(kids []jobStub) []jobStub {
	kids = slices.Clone(kids)
	slices.SortFunc(kids, func(a, b jobStub) int { return cmp.Compare(b.SubmitTime, a.SubmitTime) })
	return kids[:min(len(kids), maxChildrenPerJob)]
}

// vaultEventTypes are the task event types Vault and template failures
// show up as (facts §4).
var vaultEventTypes = map[string]bool{
	"Template": true, "Killing": true, "Task hook failed": true, "Driver Failure": true,
	"Restart Signaled": true, "Signaling": true,
}

// vaultMessage matches event messages about Vault or templates.
var vaultMessage = regexp.MustCompile(`(?i)vault|template|missing:`)

type apiEvent struct {
	Type           string
	Time           int64
	Message        string
	DisplayMessage string
	Details        map[string]string
}

// text is what the event says: Nomad fills DisplayMessage on the client;
// older events carry only Message or Details.
func (e apiEvent) text() string {
	if e.DisplayMessage != "" {
		return e.DisplayMessage
	}
	if e.Message != "" {
		return e.Message
	}
	for _, k := range []string{"kill_reason", "kill_error", "setup_error", "driver_error", "validation_error", "restart_reason"} {
		if v := e.Details[k]; v != "" {
			return v
		}
	}
	return ""
}

// allocStub is the part of an allocation list entry doctor reads; the
// stubs carry the task states with their events.
type allocStub struct {
	ID, JobID, Namespace, TaskGroup string
	ModifyTime                      int64
	TaskStates                      map[string]*struct {
		State     string
		StartedAt time.Time
		Events    []apiEvent
	}
}

// nomadAllocs finds the job's recent allocations whose tasks show Vault
// or template failures. parentID is set for a periodic or dispatched
// child, whose tasks are its parent's.
func (c *collector) nomadAllocs(region, jobID, parentID, namespace string) {
	path := "/v1/job/" + url.PathEscape(jobID) + "/allocations"
	var allocs []allocStub
	if err := c.nomadGetIn(c.nomad, region, path, namespace, &allocs); err != nil {
		c.failIn(region, path+"?namespace="+url.QueryEscape(namespace)+c.inRegion(region, "&"), err)
		return
	}
	slices.SortFunc(allocs, func(a, b allocStub) int { return cmp.Compare(b.ModifyTime, a.ModifyTime) })
	if len(allocs) > maxAllocsPerJob {
		allocs = allocs[:maxAllocsPerJob]
	}
	var out []world.NomadAlloc
	allocRegion := "" // named only in a run over several regions
	if c.multi {
		allocRegion = region
	}
	for _, a := range allocs {
		for task, st := range a.TaskStates {
			if st == nil {
				continue
			}
			var events []world.NomadEvent
			for _, e := range st.Events {
				msg := e.text()
				if !vaultEventTypes[e.Type] || (e.Type != "Template" && !vaultMessage.MatchString(msg)) {
					continue
				}
				events = append(events, world.NomadEvent{Type: e.Type, Message: msg, Time: time.Unix(0, e.Time).UTC()})
			}
			if len(events) > 0 {
				out = append(out, world.NomadAlloc{ID: a.ID, Region: allocRegion, JobID: a.JobID, ParentJobID: parentID, Namespace: a.Namespace, TaskGroup: a.TaskGroup, Task: task, Events: events})
			}
		}
	}
	if len(out) > 0 {
		c.update(func(l *world.Live) {
			l.Nomad.FailingAllocs = append(l.Nomad.FailingAllocs, out...)
		})
	}
}

// runningStub is the part of a /v1/allocations entry the forecasts read.
type runningStub struct {
	ID, JobID, Namespace, TaskGroup string
	TaskStates                      map[string]*struct {
		State     string
		StartedAt time.Time
	}
}

// nomadRunning lists a region's running allocations, page by page, and
// keeps the running tasks of the jobs listed (spec maps a job to the job
// whose spec it runs): each task logged in when it started, and its
// token's life is forecast from then. One listing per namespace asked
// for, however many jobs run.
func (c *collector) nomadRunning(region string, namespaces []string, spec map[jobKey]string) {
	var running []world.NomadTask
	for _, ns := range namespaces {
		what := "/v1/allocations?namespace=" + url.QueryEscape(ns) + c.inRegion(region, "&")
		next := ""
		for {
			var page []runningStub
			err := c.request(c.regionSide(region), func(ctx context.Context) error {
				page = nil
				q := (&nomadapi.QueryOptions{Namespace: ns, Region: region, PerPage: jobsPerPage, NextToken: next, Filter: `ClientStatus == "running"`}).WithContext(ctx)
				meta, err := c.nomad.Raw().Query("/v1/allocations", &page, q)
				if err != nil {
					return err
				}
				next = meta.NextToken
				return nil
			})
			if err != nil {
				c.failIn(region, what, err)
				break
			}
			for _, a := range page {
				specID, ok := spec[jobKey{a.Namespace, a.JobID}]
				if !ok {
					continue
				}
				parent := ""
				if specID != a.JobID {
					parent = specID
				}
				for task, st := range a.TaskStates {
					if st != nil && st.State == "running" && !st.StartedAt.IsZero() {
						running = append(running, world.NomadTask{AllocID: a.ID, JobID: a.JobID, ParentJobID: parent, Namespace: a.Namespace,
							TaskGroup: a.TaskGroup, Task: task, StartedAt: st.StartedAt.UTC()})
					}
				}
			}
			if next == "" {
				break
			}
		}
	}
	if len(running) > 0 {
		c.update(func(l *world.Live) { l.Nomad.RunningTasks = append(l.Nomad.RunningTasks, running...) })
	}
}
