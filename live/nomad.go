package live

import (
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
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
		if err := nomadapi.ConfigureTLS(hc, src.TLSConfig); err != nil {
			return nil, nil, err
		}
		owned = hc
	}
	cfg.HttpClient = guardAPI(hc, false, "Nomad")
	cl, err = nomadapi.NewClient(cfg)
	return cl, owned, err
}

// nomadGet GETs a Nomad endpoint and decodes its JSON into out.
func (c *collector) nomadGet(path, namespace string, out any) error {
	return c.request(c.nomadSide, func(ctx context.Context) error {
		var raw json.RawMessage
		q := (&nomadapi.QueryOptions{Namespace: namespace}).WithContext(ctx)
		if _, err := c.nomad.Raw().Query(path, &raw, q); err != nil {
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

// nomadGetBody GETs a Nomad endpoint and returns its body as it is, for
// callers that decode it themselves (decoding it into a json.RawMessage
// first would scan it once more).
func (c *collector) nomadGetBody(path, namespace string) ([]byte, error) {
	var body []byte
	err := c.request(c.nomadSide, func(ctx context.Context) error {
		q := (&nomadapi.QueryOptions{Namespace: namespace}).WithContext(ctx)
		rc, err := c.nomad.Raw().Response(path, q)
		if err != nil {
			return err
		}
		defer rc.Close()
		body, err = io.ReadAll(rc)
		return err
	})
	return body, err
}

// agentSelf is the part of /v1/agent/self doctor reads.
type agentSelf struct {
	Config *struct {
		Server *struct{ Enabled *bool }
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
	if err != nil {
		c.fatal("nomad", addr, "cannot build a Nomad client: "+reason(err, c.o.RequestTimeout))
		return false
	}
	var self agentSelf
	err = c.nomadGet("/v1/agent/self", "", &self)
	var notAPI *notAPIError
	switch {
	case errors.As(err, &notAPI):
		// A web server, not Nomad: every other answer would be its page.
		c.fatal("nomad", strings.TrimSuffix(addr, "/")+"/v1/agent/self", reason(err, c.o.RequestTimeout))
		return false
	case err != nil && statusOf(err) >= 400 && statusOf(err) < 500:
		// Reachable; the token may not read the agent (agent:read).
		c.fail("nomad", "/v1/agent/self", err)
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
	c.live.Nomad.Version = version
	c.live.Nomad.Region = self.Member.Tags["region"]
	c.w.Agents = append(c.w.Agents, agent)
	return true
}

// agentConfig builds the world's agent config from agent/self.
func (c *collector) agentConfig(self *agentSelf) *world.AgentConfig {
	cfg := self.Config
	a := &world.AgentConfig{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: self.Member.Name, Origin: agentSelfOrigin}}}
	if cfg.Server != nil && cfg.Server.Enabled != nil {
		a.Server = known(*cfg.Server.Enabled)
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

// nomadCollect starts the Nomad collectors.
func (c *collector) nomadCollect() {
	c.spawn("nomad", "/v1/agent/members", c.nomadMembers)
	c.spawn("nomad", "/v1/nodes", c.nomadNodes)
	c.spawn("nomad", "/.well-known/jwks.json", c.nomadJWKS)
	c.spawn("nomad", "/v1/jobs", c.nomadJobs)
	c.spawn("nomad", upgradeCheckPath, c.nomadUpgradeCheck)
}

func (c *collector) nomadMembers() {
	var m struct {
		Members []struct {
			Name   string
			Status string
			Tags   map[string]string
		}
	}
	if err := c.nomadGet("/v1/agent/members", "", &m); err != nil {
		c.fail("nomad", "/v1/agent/members", err)
		return
	}
	var out []world.NomadMember
	for _, x := range m.Members {
		out = append(out, world.NomadMember{Name: x.Name, Version: x.Tags["build"], Status: x.Status})
	}
	c.update(func(l *world.Live) { l.Nomad.Members = out })
}

// nomadNodes lists the client nodes and reads each for its Vault
// fingerprint (the list stubs carry no attributes).
func (c *collector) nomadNodes() {
	var stubs []struct {
		ID, Name, Status, Version string
	}
	if err := c.nomadGet("/v1/nodes", "", &stubs); err != nil {
		c.fail("nomad", "/v1/nodes", err)
		return
	}
	for _, s := range stubs {
		path := "/v1/node/" + url.PathEscape(s.ID)
		c.spawn("nomad", path, func() {
			node := world.NomadNode{ID: s.ID, Name: s.Name, Version: s.Version, Status: s.Status}
			var full struct {
				Attributes map[string]string
			}
			if err := c.nomadGet(path, "", &full); err != nil {
				c.fail("nomad", path, err)
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
			}
			c.update(func(l *world.Live) { l.Nomad.Nodes = append(l.Nomad.Nodes, node) })
		})
	}
}

// nomadJWKS reads the keys Nomad signs workload identities with.
func (c *collector) nomadJWKS() {
	const path = "/.well-known/jwks.json"
	f := &world.JWKSFetch{URL: strings.TrimSuffix(nomadAddress(c.o.Nomad), "/") + path}
	var raw json.RawMessage
	err := c.nomadGet(path, "", &raw)
	if err == nil {
		f.Keys, err = parseJWKS(raw)
	}
	if err != nil {
		f.Error = reason(err, c.o.RequestTimeout)
	}
	c.update(func(l *world.Live) { l.Nomad.JWKS = f })
}

const upgradeCheckPath = "/v1/operator/upgrade-check/vault-workload-identity"

// nomadUpgradeCheck counts the legacy Vault tokens Nomad still tracks
// (what `nomad setup vault -check` lists).
func (c *collector) nomadUpgradeCheck() {
	var r struct {
		VaultTokens []json.RawMessage
	}
	if err := c.nomadGet(upgradeCheckPath, "", &r); err != nil {
		if statusOf(err) != http.StatusNotFound { // before 1.7.3: no such endpoint
			c.fail("nomad", upgradeCheckPath, err)
		}
		return
	}
	c.update(func(l *world.Live) { l.Nomad.LegacyTokens = len(r.VaultTokens) })
}

// nomadJobs reads every job and keeps those with a vault block.
func (c *collector) nomadJobs() {
	ns := c.o.Nomad.Namespace
	if ns == "" {
		ns = "*"
	}
	var stubs []jobStub
	if err := c.nomadGet("/v1/jobs", ns, &stubs); err != nil {
		c.fail("nomad", "/v1/jobs", err)
		return
	}
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
	for _, s := range stubs {
		if k := (jobKey{s.Namespace, s.ParentID}); s.ParentID != "" && listed[k] {
			children[k] = append(children[k], s)
		}
	}
	for _, s := range stubs {
		if s.ParentID != "" && listed[jobKey{s.Namespace, s.ParentID}] {
			continue
		}
		kids := children[jobKey{s.Namespace, s.ID}]
		path := "/v1/job/" + url.PathEscape(s.ID)
		what := path + "?namespace=" + url.QueryEscape(s.Namespace)
		c.spawn("nomad", what, func() {
			raw, err := c.nomadGetBody(path, s.Namespace)
			if err != nil {
				if statusOf(err) != http.StatusNotFound { // purged since the list
					c.fail("nomad", what, err)
				}
				return
			}
			// Only what nvlint reads of the job goes further: the API job
			// is several times larger, and its environment and config,
			// which may hold secrets, stay out of snapshots.
			raw = inputs.TrimAPIJob(raw)
			uses, err := usesVault(raw)
			var syntax *json.SyntaxError
			switch {
			case errors.As(err, &syntax):
				c.problem("nomad", what, reason(err, c.o.RequestTimeout)) // "not JSON", as for every other read
				return
			case err != nil:
				c.problem("nomad", what, "unexpected answer: "+err.Error())
				return
			}
			if !uses {
				return
			}
			part := &world.World{}
			if err := inputs.LiveObject(part, world.KindJobspec, s.ID, "nomad:"+what, raw); err != nil {
				c.problem("nomad", what, "cannot read the job: "+err.Error())
				return
			}
			c.merge(part)
			c.spawn("nomad", path+"/allocations", func() { c.nomadAllocs(s.ID, "", s.Namespace) })
			for _, kid := range latestChildren(kids) {
				c.spawn("nomad", "/v1/job/"+url.PathEscape(kid.ID)+"/allocations", func() { c.nomadAllocs(kid.ID, s.ID, s.Namespace) })
			}
		})
	}
}

// jobStub is the part of a /v1/jobs entry doctor reads.
type jobStub struct {
	ID, Namespace, ParentID string
	SubmitTime              int64
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

// usesVault reports whether any task of an API job has a vault block.
func usesVault(raw []byte) (bool, error) {
	var j struct {
		TaskGroups []struct {
			Tasks []struct {
				Vault json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return false, err
	}
	for _, g := range j.TaskGroups {
		for _, t := range g.Tasks {
			if len(t.Vault) > 0 && string(t.Vault) != "null" {
				return true, nil
			}
		}
	}
	return false, nil
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
func (c *collector) nomadAllocs(jobID, parentID, namespace string) {
	path := "/v1/job/" + url.PathEscape(jobID) + "/allocations"
	var allocs []allocStub
	if err := c.nomadGet(path, namespace, &allocs); err != nil {
		c.fail("nomad", path+"?namespace="+url.QueryEscape(namespace), err)
		return
	}
	slices.SortFunc(allocs, func(a, b allocStub) int { return cmp.Compare(b.ModifyTime, a.ModifyTime) })
	if len(allocs) > maxAllocsPerJob {
		allocs = allocs[:maxAllocsPerJob]
	}
	var out []world.NomadAlloc
	var running []world.NomadTask
	for _, a := range allocs {
		for task, st := range a.TaskStates {
			if st == nil {
				continue
			}
			if st.State == "running" && !st.StartedAt.IsZero() {
				running = append(running, world.NomadTask{AllocID: a.ID, JobID: a.JobID, ParentJobID: parentID, Namespace: a.Namespace,
					TaskGroup: a.TaskGroup, Task: task, StartedAt: st.StartedAt.UTC()})
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
				out = append(out, world.NomadAlloc{ID: a.ID, JobID: a.JobID, ParentJobID: parentID, Namespace: a.Namespace, TaskGroup: a.TaskGroup, Task: task, Events: events})
			}
		}
	}
	if len(out) > 0 || len(running) > 0 {
		c.update(func(l *world.Live) {
			l.Nomad.FailingAllocs = append(l.Nomad.FailingAllocs, out...)
			l.Nomad.RunningTasks = append(l.Nomad.RunningTasks, running...)
		})
	}
}
