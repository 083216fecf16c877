package world

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Live holds what only running clusters can tell: health, the Nomad
// server's own token as Vault sees it, node fingerprints, failing
// allocations. It is nil when the world was filled from files alone
// (lint without --snapshot). Everything in it is safe to save and share:
// no token or secret value is ever stored.
type Live struct {
	CollectedAt time.Time `json:"collected_at"`
	// Vault is the default Vault cluster (VAULT_ADDR).
	Vault *VaultLive `json:"vault,omitempty"`
	// VaultClusters are the other Vault clusters read (doctor --vault
	// NAME=ADDR), each named by its Cluster, in name order.
	VaultClusters []*VaultLive `json:"vault_clusters,omitempty"`
	Nomad         *NomadLive   `json:"nomad,omitempty"`
	// Problems are what could not be checked, and why. Each becomes a
	// finding, so a half-broken world still yields a full report.
	Problems []Problem `json:"problems,omitempty"`
}

// Problem is one thing doctor could not collect.
type Problem struct {
	Area   string `json:"area"`   // "vault", "nomad", "jwks"...
	What   string `json:"what"`   // what was being read: an API path
	Reason string `json:"reason"` // the error, redacted
	// Fatal is true when the whole side could not be reached.
	Fatal bool `json:"fatal,omitempty"`
	// Region is the Nomad region the read was for, when it was for one.
	Region string `json:"region,omitempty"`
	// Cluster is the Vault cluster the read was for, when not the
	// default one.
	Cluster string `json:"cluster,omitempty"`
	// Areas are the report areas that cannot be called ok for want of
	// this read (snapshots before this field have none: see
	// live.AreasOf).
	Areas []string `json:"areas,omitempty"`
}

// VaultOf is the live state of the Vault cluster of that name ("" or
// "default": the default one), nil when it was not read.
func (l *Live) VaultOf(cluster string) *VaultLive {
	if l == nil {
		return nil
	}
	if clusterName(cluster) == DefaultCluster {
		return l.Vault
	}
	for _, v := range l.VaultClusters {
		if v.Cluster == cluster {
			return v
		}
	}
	return nil
}

// VaultFor is the live state of the Vault cluster an object was read
// from: the default one for an object that does not say.
func (l *Live) VaultFor(m *Meta) *VaultLive {
	if m.Cluster.IsKnown() {
		return l.VaultOf(m.Cluster.V)
	}
	return l.VaultOf(DefaultCluster)
}

// Vaults are the Vault clusters read, the default one first.
func (l *Live) Vaults() []*VaultLive {
	if l == nil {
		return nil
	}
	var out []*VaultLive
	if l.Vault != nil {
		out = append(out, l.Vault)
	}
	return append(out, l.VaultClusters...)
}

// VaultLive is the live Vault side: one Vault cluster.
type VaultLive struct {
	// Cluster is the cluster's name as Nomad's vault blocks give it; ""
	// for the default cluster.
	Cluster string `json:"cluster,omitempty"`
	Addr    string `json:"addr"`
	// Namespace is the Vault namespace doctor's token reads in
	// (VAULT_NAMESPACE; "" the root one). The objects and auth mounts of
	// other namespaces carry their own.
	Namespace string       `json:"namespace,omitempty"`
	Health    *VaultHealth `json:"health,omitempty"`
	// AuthMounts lists the auth methods with their accessors.
	AuthMounts []AuthMount `json:"auth_mounts,omitempty"`
	// EngineMounts lists the secrets engines with their type and KV
	// version, as far as the token may see them.
	EngineMounts []EngineMount `json:"engine_mounts,omitempty"`
	// ServerToken is the Nomad server's own token (legacy flow), when one
	// was given.
	ServerToken *TokenInfo `json:"server_token,omitempty"`
	// ServerTokenAt is where the server token is written, when doctor took
	// it from an agent config file: findings about the token point there.
	// Not saved: a snapshot carries no files.
	ServerTokenAt hcl.Range `json:"-"`
	// TokenMountMaxTTL is the token auth method's max_lease_ttl in
	// seconds, as its tune endpoint reports it (the system's max when the
	// mount sets none); 0 when it could not be read.
	TokenMountMaxTTL int64 `json:"token_mount_max_ttl,omitempty"`
	// TokenMountTuneError says why TokenMountMaxTTL could not be read
	// (redacted); forecasts then name the default they assume.
	TokenMountTuneError string `json:"token_mount_tune_error,omitempty"`
	// ServerCapabilities maps each path Nomad checks to the capabilities
	// sys/capabilities-self reports for the server token.
	ServerCapabilities map[string][]string `json:"server_capabilities,omitempty"`
	// JWKS is what each JWT mount's jwks_url served, fetched from here,
	// for the mounts of Namespace (JWKSOf finds a config's).
	JWKS map[string]*JWKSFetch `json:"jwks,omitempty"`
	// JWTRoleLists are the role names of each JWT auth mount whose LIST
	// auth/<mount>/role was read: a role no list of a namespace names
	// does not exist there, whether or not its own read succeeded.
	JWTRoleLists []JWTRoleList `json:"jwt_role_lists,omitempty"`
	// EntityAliases are the entity aliases on the JWT auth mounts
	// (LIST identity/entity-alias/id), when they could be read.
	EntityAliases []EntityAlias `json:"entity_aliases,omitempty"`
	// LeaseRoles are the database and PKI roles whose credentials or
	// certificates the templates of running tasks render
	// (<mount>/roles/<name>), as far as they could be read.
	LeaseRoles []LeaseRole `json:"lease_roles,omitempty"`
	// LeaseMounts are the lease TTLs of those roles' mounts.
	LeaseMounts []LeaseMount `json:"lease_mounts,omitempty"`
}

// LeaseRole is a database or PKI role, with the settings that end what
// it issues. TTLs are in seconds, 0 when the role sets none.
type LeaseRole struct {
	Mount string `json:"mount"`
	// Type is the mount's engine: "database" or "pki".
	Type string `json:"type"`
	Name string `json:"name"`
	// TTL is a database role's default_ttl, a PKI role's ttl.
	TTL    int64 `json:"ttl,omitempty"`
	MaxTTL int64 `json:"max_ttl,omitempty"`
	// GenerateLease is a PKI role's generate_lease: its certificates
	// come with a lease Vault revokes (and the certificate with it) when
	// it ends.
	GenerateLease bool `json:"generate_lease,omitempty"`
}

// LeaseMount is a secrets engine mount's lease TTLs, as its tune
// endpoint (sys/mounts/<path>/tune) reports them: the system's when the
// mount sets none. Both are 0 when the tuning could not be read, and
// TuneError says why (redacted).
type LeaseMount struct {
	Path            string `json:"path"`
	DefaultLeaseTTL int64  `json:"default_lease_ttl,omitempty"`
	MaxLeaseTTL     int64  `json:"max_lease_ttl,omitempty"`
	TuneError       string `json:"tune_error,omitempty"`
}

// LeaseRole finds a role read from mount, nil when it was not read.
func (v *VaultLive) LeaseRole(mount, name string) *LeaseRole {
	for i := range v.LeaseRoles {
		if r := &v.LeaseRoles[i]; r.Mount == mount && r.Name == name {
			return r
		}
	}
	return nil
}

// LeaseMount finds the tuning read for a mount, nil when none was.
func (v *VaultLive) LeaseMount(path string) *LeaseMount {
	for i := range v.LeaseMounts {
		if m := &v.LeaseMounts[i]; m.Path == path {
			return m
		}
	}
	return nil
}

// EngineMount finds a secrets engine mount by path, nil when Vault's
// mount table does not list it.
func (v *VaultLive) EngineMount(path string) *EngineMount {
	for i := range v.EngineMounts {
		if m := &v.EngineMounts[i]; m.Path == path {
			return m
		}
	}
	return nil
}

// EntityAlias is one entity alias: named by a login's user_claim value,
// with the metadata of the latest login (Vault overwrites it at each).
type EntityAlias struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	MountAccessor string            `json:"mount_accessor"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// VaultHealth is sys/health.
type VaultHealth struct {
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	Standby     bool   `json:"standby"`
	Version     string `json:"version"`
	ClusterName string `json:"cluster_name,omitempty"`
}

// AuthMount is one enabled auth method.
type AuthMount struct {
	Path     string `json:"path"` // without trailing slash
	Type     string `json:"type"`
	Accessor string `json:"accessor"`
	// Namespace is the Vault namespace of the mount, when not
	// VaultLive.Namespace.
	Namespace string `json:"namespace,omitempty"`
}

// JWTRoleList is the role names LIST auth/<mount>/role gave.
type JWTRoleList struct {
	Mount string `json:"mount"`
	// Namespace is the mount's Vault namespace, when not
	// VaultLive.Namespace.
	Namespace string   `json:"namespace,omitempty"`
	Names     []string `json:"names,omitempty"`
}

// JWTRoleAbsent reports whether Vault certainly has no JWT role name in
// place at: doctor listed the roles of every JWT and OIDC auth mount of
// that cluster and namespace, and none names it. Vault matches role
// names without case. Files never make a role absent: a role no file
// gives may well be in Vault.
func (w *World) JWTRoleAbsent(at Place, name string) bool {
	if at.Cluster.Set && !at.Cluster.Known || at.Namespace.Set && !at.Namespace.Known {
		return false
	}
	v := w.Live.VaultOf(at.Cluster.V)
	if v == nil {
		return false
	}
	ns := strings.Trim(v.Namespace, "/")
	if at.Namespace.Set {
		ns = strings.Trim(at.Namespace.V, "/")
	}
	mounts, read := v.MountsIn(ns)
	if !read {
		return false
	}
	jwtMounts := 0
	for _, m := range mounts {
		if m.Type != "jwt" && m.Type != "oidc" {
			continue
		}
		jwtMounts++
		i := slices.IndexFunc(v.JWTRoleLists, func(l JWTRoleList) bool {
			return l.Mount == m.Path && v.namespaceOf(l.Namespace) == ns
		})
		if i < 0 {
			return false // this mount's roles were not listed
		}
		if slices.ContainsFunc(v.JWTRoleLists[i].Names, func(n string) bool { return strings.EqualFold(n, name) }) {
			return false
		}
	}
	return jwtMounts > 0
}

// JWTRolesListed reports whether doctor listed the roles of a JWT auth
// mount: none there is then something known, not something not given.
func (w *World) JWTRolesListed() bool {
	if w.Live == nil {
		return false
	}
	return slices.ContainsFunc(w.Live.Vaults(), func(v *VaultLive) bool { return len(v.JWTRoleLists) > 0 })
}

// Name is the cluster's name: "default" for the default one.
func (v *VaultLive) Name() string { return clusterName(v.Cluster) }

// Label is " (vault cluster NAME)" for a cluster other than the default
// one, "" for it: messages name the cluster when it is not the default.
func (v *VaultLive) Label() string { return ClusterLabel(v.Cluster) }

// namespaceOf is the namespace of an object read in ns, which is ""
// when it is the one doctor's token reads in, without slashes.
func (v *VaultLive) namespaceOf(ns string) string {
	if ns := strings.Trim(ns, "/"); ns != "" {
		return ns
	}
	return strings.Trim(v.Namespace, "/")
}

// MountsIn are the auth mounts of Vault namespace ns ("" the root
// one), and whether that namespace was read at all.
func (v *VaultLive) MountsIn(ns string) (mounts []AuthMount, read bool) {
	ns = strings.Trim(ns, "/")
	for _, m := range v.AuthMounts {
		if v.namespaceOf(m.Namespace) == ns {
			mounts = append(mounts, m)
		}
	}
	return mounts, len(mounts) > 0 || ns == strings.Trim(v.Namespace, "/")
}

// UnconfiguredJWTMounts are the JWT and OIDC auth methods sys/auth lists
// that have no config: auth/<mount>/config was read and never written.
// Vault refuses every login on such a method ("could not load
// configuration"). A mount whose config could not be read is not among
// them: nothing says it has none. Only configs read from Vault count;
// one from a file says what should be written, not what is.
func (w *World) UnconfiguredJWTMounts() []AuthMount {
	l := w.Live
	if l == nil || l.Vault == nil {
		return nil
	}
	v := l.Vault
	nsOf := func(ns string) string { return strings.Trim(cmp.Or(ns, v.Namespace), "/") }
	var out []AuthMount
	for _, m := range v.AuthMounts {
		if m.Type != "jwt" && m.Type != "oidc" {
			continue
		}
		configured := false
		for _, c := range w.JWTConfigs {
			if c.File != nil || c.Mount != m.Path || c.Cluster.IsKnown() && clusterName(c.Cluster.V) != v.Name() {
				continue
			}
			// A config of no known namespace may be this mount's.
			if !c.Namespace.IsKnown() || nsOf(c.Namespace.V) == nsOf(m.Namespace) {
				configured = true
				break
			}
		}
		if configured {
			continue
		}
		unread := false
		for _, p := range l.Problems {
			// The read of the config, in any namespace, or of Vault.
			if p.Area == "vault" && (p.Fatal || strings.HasPrefix(p.What, "auth/"+m.Path+"/config")) {
				unread = true
				break
			}
		}
		if !unread {
			out = append(out, m)
		}
	}
	return out
}

// JWKSOf is what the jwks_url of a JWT auth config of this cluster
// served, nil when it was not fetched (a mount of another namespace is
// not) or the config is another cluster's.
func (v *VaultLive) JWKSOf(c *JWTAuthConfig) *JWKSFetch {
	if c.Cluster.IsKnown() && clusterName(c.Cluster.V) != v.Name() {
		return nil
	}
	if c.Namespace.IsKnown() && strings.Trim(c.Namespace.V, "/") != strings.Trim(v.Namespace, "/") {
		return nil
	}
	return v.JWKS[c.Mount]
}

// EngineMount is one secrets engine mount.
type EngineMount struct {
	Path    string `json:"path"` // without trailing slash
	Type    string `json:"type"`
	Version string `json:"version,omitempty"` // options.version
	// DefaultLeaseTTL and MaxLeaseTTL are the mount's own lease TTLs in
	// seconds (config in sys/mounts); 0 when it sets none and the
	// system's apply.
	DefaultLeaseTTL int64 `json:"default_lease_ttl,omitempty"`
	MaxLeaseTTL     int64 `json:"max_lease_ttl,omitempty"`
}

// TokenInfo is a token lookup, without the token itself.
type TokenInfo struct {
	Accessor    string    `json:"accessor,omitempty"`
	Policies    []string  `json:"policies"`
	Role        string    `json:"role,omitempty"`
	Period      int64     `json:"period,omitempty"`
	TTL         int64     `json:"ttl"`
	CreationTTL int64     `json:"creation_ttl"`
	Renewable   bool      `json:"renewable"`
	Orphan      bool      `json:"orphan"`
	ExpireTime  time.Time `json:"expire_time,omitzero"`
	Type        string    `json:"type,omitempty"`
	// CreationTime is when the token was created: its max TTL counts
	// from there however often it is renewed.
	CreationTime time.Time `json:"creation_time,omitzero"`
	// ExplicitMaxTTL caps the token's life in seconds, periodic or not;
	// 0 for none.
	ExplicitMaxTTL int64 `json:"explicit_max_ttl,omitempty"`
}

// IsRoot reports whether the token carries the root policy.
func (t *TokenInfo) IsRoot() bool {
	for _, p := range t.Policies {
		if p == "root" {
			return true
		}
	}
	return false
}

// JWKSFetch is the result of fetching a JWKS URL.
type JWKSFetch struct {
	URL string `json:"url"`
	// Discovery is the oidc_discovery_url the URL was found through (its
	// jwks_uri), "" for a jwks_url.
	Discovery string `json:"discovery,omitempty"`
	Keys      []JWK  `json:"keys,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Source names where the keys come from, for messages: `jwks_url U`, or
// `oidc_discovery_url D (jwks_uri U)`.
func (f *JWKSFetch) Source() string {
	switch {
	case f.Discovery == "":
		return "jwks_url " + f.URL
	case f.URL == "":
		return "oidc_discovery_url " + f.Discovery
	}
	return "oidc_discovery_url " + f.Discovery + " (jwks_uri " + f.URL + ")"
}

// JWK is the public part of a signing key that matters here.
type JWK struct {
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Kty string `json:"kty"`
	// The public key itself (RSA: n and e; OKP: crv and x, base64url),
	// to compare with the PEM keys of jwt_validation_pubkeys.
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
}

// NomadLive is the live Nomad side.
type NomadLive struct {
	Addr    string `json:"addr"`
	Version string `json:"version,omitempty"`
	// Region is the region of the agent doctor talks to; "" in
	// snapshots from before regions were read.
	Region string `json:"region,omitempty"`
	// Regions are the regions of the federation that were read.
	Regions []string `json:"regions,omitempty"`
	// RegionJWKS is what /.well-known/jwks.json serves for each region
	// read: each region signs with its own keyring.
	RegionJWKS map[string]*JWKSFetch `json:"region_jwks,omitempty"`
	Members    []NomadMember         `json:"members,omitempty"`
	Nodes      []NomadNode           `json:"nodes,omitempty"`
	// JWKS is what Nomad's /.well-known/jwks.json serves.
	JWKS *JWKSFetch `json:"jwks,omitempty"`
	// Keyring are the root keys of the agent's region
	// (/v1/operator/keyring/keys), which sign workload identities; nil
	// when unread. Listing them takes a management token, so
	// KeyringError says why they are missing.
	Keyring      []NomadRootKey `json:"keyring,omitempty"`
	KeyringError string         `json:"keyring_error,omitempty"`
	// RunningTasks are the running tasks of recent allocations of jobs
	// that use Vault, with when each started: a task logs in to Vault at
	// its start.
	RunningTasks []NomadTask `json:"running_tasks,omitempty"`
	// FailingAllocs are recent allocations whose tasks show Vault or
	// template failures.
	FailingAllocs []NomadAlloc `json:"failing_allocs,omitempty"`
	// LegacyTokens counts legacy Vault token accessors Nomad still tracks
	// (setup vault -check); -1 when unknown.
	LegacyTokens int `json:"legacy_tokens"`
}

// NomadMember is a server.
type NomadMember struct {
	Name    string `json:"name"`
	Region  string `json:"region,omitempty"`
	Version string `json:"version"`
	Status  string `json:"status"`
}

// NomadNode is a client node with its Vault fingerprint.
type NomadNode struct {
	ID      string `json:"id"`
	Region  string `json:"region,omitempty"`
	Name    string `json:"name"`
	Version string `json:"version"`
	Status  string `json:"status"`
	// VaultAttrs are the node's vault.* attributes.
	VaultAttrs map[string]string `json:"vault_attrs,omitempty"`
}

// NomadAlloc is an allocation with task events worth explaining.
type NomadAlloc struct {
	ID     string `json:"id"`
	Region string `json:"region,omitempty"`
	JobID  string `json:"job_id"`
	// ParentJobID is set when the job is a periodic or dispatched child:
	// its tasks are the parent job's.
	ParentJobID string       `json:"parent_job_id,omitempty"`
	Namespace   string       `json:"namespace"`
	TaskGroup   string       `json:"task_group"`
	Task        string       `json:"task"`
	Events      []NomadEvent `json:"events"`
}

// SpecJobID is the job whose spec the allocation's tasks run: the parent
// of a periodic or dispatched child, else the job itself.
func (a NomadAlloc) SpecJobID() string {
	if a.ParentJobID != "" {
		return a.ParentJobID
	}
	return a.JobID
}

// Runs reports whether the allocation runs a task of job j: the job of
// its spec, in its namespace and its region (when both sides know them).
// Jobs of one name in two namespaces or regions are two jobs.
func (a NomadAlloc) Runs(j *Job) bool {
	if j.Ref.Name != a.SpecJobID() {
		return false
	}
	if a.Namespace != "" && j.NamespaceName() != a.Namespace {
		return false
	}
	return a.Region == "" || !j.Region.IsKnown() || j.RegionName() == a.Region
}

// NomadTask is one running task of an allocation.
type NomadTask struct {
	AllocID     string    `json:"alloc_id"`
	JobID       string    `json:"job_id"`
	ParentJobID string    `json:"parent_job_id,omitempty"`
	Namespace   string    `json:"namespace"`
	TaskGroup   string    `json:"task_group"`
	Task        string    `json:"task"`
	StartedAt   time.Time `json:"started_at"`
}

// SpecJobID is the job whose spec the task runs.
func (t NomadTask) SpecJobID() string {
	if t.ParentJobID != "" {
		return t.ParentJobID
	}
	return t.JobID
}

// NomadEvent is one task event.
type NomadEvent struct {
	Type    string    `json:"type"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// The areas of doctor's report, each with its own verdict. A Problem
// names the areas whose verdict rests on what it could not read.
const (
	AreaVault            = "Vault"
	AreaNomad            = "Nomad"
	AreaLegacy           = "Legacy token flow"
	AreaWorkloadIdentity = "Workload identity"
	AreaAgentConfig      = "Agent config"
	AreaJobs             = "Jobs"
	AreaPolicies         = "Policies"
)

// NomadRootKey is a key of Nomad's keyring, as the keyring list shows it.
type NomadRootKey struct {
	KeyID string `json:"key_id"`
	// State is active, inactive, prepublished, rekeying or deprecated.
	State      string    `json:"state"`
	CreateTime time.Time `json:"create_time"`
	// PublishTime is when a prepublished key becomes the active one.
	PublishTime time.Time `json:"publish_time,omitzero"`
}
