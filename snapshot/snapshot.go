// Package snapshot saves what doctor collected from live clusters as a
// redacted, shareable JSON file, and replays it into the same world
// offline (nvlint doctor --from, nvlint lint --snapshot). Objects are
// kept as the raw API data they were read from and replayed through the
// same readers, so a replay sees exactly what the live run saw.
package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/live"
	"github.com/nvlint/nvlint/world"
)

// Version is the snapshot format version.
const Version = 1

// Snapshot is the file format.
type Snapshot struct {
	Version int         `json:"version"`
	Live    *world.Live `json:"live"`
	Objects []Object    `json:"objects"`
	Agents  []Agent     `json:"agents,omitempty"`
}

// Object is one Vault or Nomad object as the API returned it.
type Object struct {
	Kind     world.Kind      `json:"kind"`
	Name     string          `json:"name"`
	Origin   string          `json:"origin"`
	Mount    string          `json:"mount,omitempty"`
	Accessor string          `json:"accessor,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Text     string          `json:"text,omitempty"` // policies
	// VaultNamespace is the Vault namespace the object was read in, when
	// doctor read several ("" is the root one); nil when it read one.
	VaultNamespace *string `json:"vault_namespace,omitempty"`
	// VaultCluster is the Vault cluster the object was read from, when
	// not the default one (doctor --vault NAME=ADDR).
	VaultCluster string `json:"vault_cluster,omitempty"`
}

// vaultCluster is the cluster a Vault object was tagged with, "" for the
// default one.
func vaultCluster(m *world.Meta) string {
	if !m.Cluster.IsKnown() || m.Cluster.V == world.DefaultCluster {
		return ""
	}
	return m.Cluster.V
}

// vaultNamespace is the namespace a Vault object was tagged with.
func vaultNamespace(m *world.Meta) *string {
	if !m.Namespace.IsKnown() {
		return nil
	}
	ns := m.Namespace.V
	return &ns
}

// Agent is a Nomad agent's vault configuration, as agent/self reports it,
// without its token.
type Agent struct {
	Name   string       `json:"name"`
	Origin string       `json:"origin"`
	Region string       `json:"region,omitempty"`
	Server bool         `json:"server,omitempty"`
	Client bool         `json:"client,omitempty"`
	Vaults []AgentVault `json:"vaults"`
	// VaultRetry is client { template { vault_retry } }.
	VaultRetry *AgentRetry `json:"vault_retry,omitempty"`
}

// AgentRetry is a client template retry block; durations as Go writes
// them ("250ms").
type AgentRetry struct {
	Attempts   *int64 `json:"attempts,omitempty"`
	Backoff    string `json:"backoff,omitempty"`
	MaxBackoff string `json:"max_backoff,omitempty"`
}

// AgentVault is one vault block.
type AgentVault struct {
	Name                 string   `json:"name"`
	Enabled              bool     `json:"enabled"`
	Address              string   `json:"address,omitempty"`
	CreateFromRole       string   `json:"create_from_role,omitempty"`
	JWTAuthBackendPath   string   `json:"jwt_auth_backend_path,omitempty"`
	Namespace            string   `json:"namespace,omitempty"`
	TokenSet             bool     `json:"token_set,omitempty"`
	AllowUnauthenticated *bool    `json:"allow_unauthenticated,omitempty"`
	TaskTokenTTL         string   `json:"task_token_ttl,omitempty"`
	DefaultIdentityAud   []string `json:"default_identity_aud,omitempty"`
	HasDefaultIdentity   bool     `json:"has_default_identity,omitempty"`
	DefaultIdentityTTL   string   `json:"default_identity_ttl,omitempty"`
	// DefaultIdentityExtraClaims are as written, before interpolation;
	// null when the files' extra_claims could not be read.
	DefaultIdentityExtraClaims map[string]string `json:"default_identity_extra_claims,omitempty"`
}

// From captures a live world.
func From(w *world.World) (*Snapshot, error) {
	if w.Live == nil {
		return nil, errors.New("the world was not read from live clusters")
	}
	s := &Snapshot{Version: Version, Live: w.Live}
	for _, p := range w.Policies {
		s.Objects = append(s.Objects, Object{Kind: world.KindPolicy, Name: p.Name(), Origin: p.Ref.Origin, Text: string(p.Raw), VaultNamespace: vaultNamespace(&p.Meta), VaultCluster: vaultCluster(&p.Meta)})
	}
	for _, r := range w.TokenRoles {
		s.Objects = append(s.Objects, Object{Kind: world.KindTokenRole, Name: r.Ref.Name, Origin: r.Ref.Origin, Data: raw(r.Raw), VaultNamespace: vaultNamespace(&r.Meta), VaultCluster: vaultCluster(&r.Meta)})
	}
	for _, c := range w.JWTConfigs {
		s.Objects = append(s.Objects, Object{Kind: world.KindJWTAuthConfig, Name: c.Ref.Name, Origin: c.Ref.Origin, Mount: c.Mount, Accessor: c.Accessor, Data: raw(c.Raw), VaultNamespace: vaultNamespace(&c.Meta), VaultCluster: vaultCluster(&c.Meta)})
	}
	for _, r := range w.JWTRoles {
		s.Objects = append(s.Objects, Object{Kind: world.KindJWTRole, Name: r.Ref.Name, Origin: r.Ref.Origin, Mount: r.Mount, Data: raw(r.Raw), VaultNamespace: vaultNamespace(&r.Meta), VaultCluster: vaultCluster(&r.Meta)})
	}
	for _, j := range w.Jobs {
		data, err := inputs.APIJobJSON(j)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", j.Ref.Name, err)
		}
		s.Objects = append(s.Objects, Object{Kind: world.KindJobspec, Name: j.Ref.Name, Origin: j.Ref.Origin, Data: data})
	}
	for _, a := range w.Agents {
		ag := Agent{Name: a.Ref.Name, Origin: a.Ref.Origin, Region: a.Region.V, Server: a.Server.V, Client: a.Client.V}
		for _, v := range a.Vaults {
			av := AgentVault{
				Name: v.ClusterName(), Enabled: v.Enabled.V, Address: v.Address.V, CreateFromRole: v.CreateFromRole.V,
				JWTAuthBackendPath: v.JWTAuthBackendPath.V, Namespace: v.Namespace.V, TokenSet: v.Token.Set,
				TaskTokenTTL: v.TaskTokenTTL.V,
			}
			if v.AllowUnauthenticated.Set {
				b := v.AllowUnauthenticated.V
				av.AllowUnauthenticated = &b
			}
			if d := v.DefaultIdentity; d != nil {
				av.HasDefaultIdentity, av.DefaultIdentityAud, av.DefaultIdentityTTL = true, d.Aud.Strings(), d.TTL.V
				if d.ExtraClaims.Set && d.ExtraClaims.Known {
					av.DefaultIdentityExtraClaims = map[string]string{}
					for k, c := range d.ExtraClaims.Entries {
						av.DefaultIdentityExtraClaims[k] = c.V
					}
				}
			}
			ag.Vaults = append(ag.Vaults, av)
		}
		if r := a.VaultRetry; r != nil {
			ag.VaultRetry = &AgentRetry{Backoff: r.Backoff.V, MaxBackoff: r.MaxBackoff.V}
			if r.Attempts.IsKnown() {
				n := r.Attempts.V
				ag.VaultRetry.Attempts = &n
			}
		}
		s.Agents = append(s.Agents, ag)
	}
	return s, nil
}

func raw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// Marshal encodes a snapshot.
func (s *Snapshot) Marshal() ([]byte, error) { return json.MarshalIndent(s, "", "  ") }

// Load decodes a snapshot and replays it into a world.
func Load(data []byte) (*world.World, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("not an nvlint snapshot: %w", err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("snapshot version %d; this nvlint reads version %d", s.Version, Version)
	}
	return s.World()
}

// World replays the snapshot.
func (s *Snapshot) World() (*world.World, error) {
	w := &world.World{Live: s.Live}
	if w.Live == nil {
		w.Live = &world.Live{}
	}
	// Snapshots saved before problems named the areas they leave
	// unchecked: find them as the collector does.
	for i := range w.Live.Problems {
		p := &w.Live.Problems[i]
		switch {
		case p.Areas != nil:
		case p.Fatal:
			p.Areas = live.SideAreas(p.Area)
		default:
			p.Areas = live.AreasOf(p.Area, p.What)
		}
	}
	var errs []error
	for _, o := range s.Objects {
		var err error
		if o.Kind == world.KindPolicy {
			err = inputs.LivePolicy(w, o.Name, o.Origin, o.Text)
		} else {
			err = inputs.LiveObject(w, o.Kind, o.Name, o.Origin, o.Data)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var ns world.Str
		if o.VaultNamespace != nil {
			ns = world.Str{V: *o.VaultNamespace, Set: true, Known: true}
		}
		// Every Vault object was read from a cluster: the default one
		// unless the snapshot names another (snapshots from before
		// several were read name none).
		cluster := world.Str{V: world.DefaultCluster, Set: true, Known: true}
		if o.VaultCluster != "" {
			cluster.V = o.VaultCluster
		}
		var m *world.Meta
		switch o.Kind {
		case world.KindPolicy:
			m = &w.Policies[len(w.Policies)-1].Meta
		case world.KindTokenRole:
			m = &w.TokenRoles[len(w.TokenRoles)-1].Meta
		case world.KindJWTAuthConfig:
			c := w.JWTConfigs[len(w.JWTConfigs)-1]
			c.Mount, c.Accessor = o.Mount, o.Accessor
			m = &c.Meta
		case world.KindJWTRole:
			r := w.JWTRoles[len(w.JWTRoles)-1]
			r.Mount = o.Mount
			m = &r.Meta
		}
		if m != nil {
			m.Namespace, m.Cluster = ns, cluster
		}
	}
	for _, a := range s.Agents {
		w.Agents = append(w.Agents, a.config())
	}
	return w, errors.Join(errs...)
}

// config rebuilds the agent config the snapshot describes.
func (a Agent) config() *world.AgentConfig {
	known := func(s string) world.Str { return world.Str{V: s, Set: s != "", Known: true} }
	cfg := &world.AgentConfig{
		Meta:   world.Meta{Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: a.Name, Origin: a.Origin}},
		Region: known(a.Region),
		Server: world.Bool{V: a.Server, Set: true, Known: true},
		Client: world.Bool{V: a.Client, Set: true, Known: true},
	}
	for _, v := range a.Vaults {
		vc := &world.VaultConfig{
			Name: known(v.Name), Enabled: world.Bool{V: v.Enabled, Set: true, Known: true},
			Address: known(v.Address), CreateFromRole: known(v.CreateFromRole),
			JWTAuthBackendPath: known(v.JWTAuthBackendPath), Namespace: known(v.Namespace),
			TaskTokenTTL: known(v.TaskTokenTTL),
		}
		if v.TokenSet {
			vc.Token = world.Str{Set: true}
		}
		if v.AllowUnauthenticated != nil {
			vc.AllowUnauthenticated = world.Bool{V: *v.AllowUnauthenticated, Set: true, Known: true}
		}
		if v.HasDefaultIdentity {
			d := &world.DefaultIdentity{TTL: known(v.DefaultIdentityTTL)}
			d.Aud = world.List{Set: true, Known: true}
			for _, x := range v.DefaultIdentityAud {
				d.Aud.Items = append(d.Aud.Items, known(x))
			}
			if len(v.DefaultIdentityExtraClaims) > 0 {
				d.ExtraClaims = world.Map{Set: true, Known: true, Entries: map[string]world.Str{}}
				for k, c := range v.DefaultIdentityExtraClaims {
					d.ExtraClaims.Entries[k] = known(c)
				}
			}
			vc.DefaultIdentity = d
		}
		cfg.Vaults = append(cfg.Vaults, vc)
	}
	if r := a.VaultRetry; r != nil {
		cfg.VaultRetry = &world.RetryConfig{Backoff: known(r.Backoff), MaxBackoff: known(r.MaxBackoff)}
		if r.Attempts != nil {
			cfg.VaultRetry.Attempts = world.Value[int64]{V: *r.Attempts, Set: true, Known: true}
		}
	}
	return cfg
}

// Overlay puts files over a live world: the files are the proposed change
// (a pull request), the snapshot is what runs. An object a file defines
// replaces the live object of the same kind and name: in its Vault
// cluster when the file says which (a Terraform provider's address), in
// every cluster otherwise.
func Overlay(files, live *world.World) *world.World {
	w := &world.World{Files: files.Files, Live: live.Live, Skipped: files.Skipped}
	type key struct {
		kind          world.Kind
		name, cluster string
	}
	defined := map[key]bool{}
	define := func(m *world.Meta) {
		cluster := "*"
		if m.Cluster.IsKnown() {
			cluster = m.Cluster.V
		}
		defined[key{m.Ref.Kind, m.Ref.Name, cluster}] = true
	}
	replaced := func(m *world.Meta) bool {
		return defined[key{m.Ref.Kind, m.Ref.Name, "*"}] || m.Cluster.IsKnown() && defined[key{m.Ref.Kind, m.Ref.Name, m.Cluster.V}]
	}
	w.Jobs = append(w.Jobs, files.Jobs...)
	w.Agents = append(w.Agents, files.Agents...)
	w.Policies = append(w.Policies, files.Policies...)
	w.TokenRoles = append(w.TokenRoles, files.TokenRoles...)
	w.JWTConfigs = append(w.JWTConfigs, files.JWTConfigs...)
	w.JWTRoles = append(w.JWTRoles, files.JWTRoles...)
	for _, o := range files.Jobs {
		define(&o.Meta)
	}
	for _, m := range files.Metas() {
		define(m)
	}
	for _, o := range live.Jobs {
		if !replaced(&o.Meta) {
			w.Jobs = append(w.Jobs, o)
		}
	}
	for _, o := range live.Policies {
		if !replaced(&o.Meta) {
			w.Policies = append(w.Policies, o)
		}
	}
	for _, o := range live.TokenRoles {
		if !replaced(&o.Meta) {
			w.TokenRoles = append(w.TokenRoles, o)
		}
	}
	for _, o := range live.JWTConfigs {
		if !replaced(&o.Meta) {
			w.JWTConfigs = append(w.JWTConfigs, o)
		}
	}
	for _, o := range live.JWTRoles {
		if !replaced(&o.Meta) {
			w.JWTRoles = append(w.JWTRoles, o)
		}
	}
	if len(files.Agents) == 0 {
		w.Agents = live.Agents
	}
	return w
}
