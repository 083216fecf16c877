// Package corpus writes a synthetic but realistic Nomad ↔ Vault
// repository for benchmarks and scale tests: jobspecs of varied shape (HCL
// and API JSON; several groups and tasks; vault blocks at job, group and
// task level; workload identities; templates that read KV v2 secrets,
// database credentials and PKI certificates), the Vault policies they
// need (some templated on the JWT auth mount's accessor), JWT roles, a
// JWT auth config, legacy token roles with their server policy, and
// Nomad agent configs.
//
// Everything forms one setup, as nvlint expects of one run: jobs log in
// with roles that exist and admit them and read what their policies
// grant, except for a small, seeded share of deliberate mistakes (a read
// outside the grants, an audience the role refuses) so reports have
// something to say. The same Options always write the same bytes.
package corpus

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options size and seed a corpus.
type Options struct {
	// Files is the number of files to write (about: the fixed files are
	// counted in). At least 10.
	Files int
	// Seed makes the corpus; the same seed gives the same bytes.
	Seed uint64
	// MistakeRate is the share of jobs given a deliberate mistake
	// (default 0.02; negative: none).
	MistakeRate float64
	// Mix splits Files between the kinds; the zero Mix is PlanFor's
	// split.
	Mix Mix
	// Plan, when set, is the split itself (Files and Mix are then
	// ignored): benchmarks that grow one kind at a time set it.
	Plan *Plan
}

// Stats says what was written.
type Stats struct {
	Files, Jobs, JSONJobs, Groups, Tasks, Templates, VaultReads            int
	Policies, TemplatedPolicies, JWTRoles, TokenRoles, AuthConfigs, Agents int
	Mistakes, Bytes                                                        int
}

func (s Stats) String() string {
	return fmt.Sprintf("%d files (%d bytes): %d jobs (%d JSON; %d groups, %d tasks, %d templates, %d Vault reads), "+
		"%d policies (%d templated), %d JWT roles, %d token roles, %d auth config, %d agent configs; %d deliberate mistakes",
		s.Files, s.Bytes, s.Jobs, s.JSONJobs, s.Groups, s.Tasks, s.Templates, s.VaultReads,
		s.Policies, s.TemplatedPolicies, s.JWTRoles, s.TokenRoles, s.AuthConfigs, s.Agents, s.Mistakes)
}

// Accessor is the JWT auth mount accessor the templated policies name.
const Accessor = "auth_jwt_5f1c7a2e"

// Mount is the JWT auth mount the corpus configures.
const Mount = "jwt-nomad"

// DefaultRole is the auth method's default_role.
const DefaultRole = "nomad-workloads"

// Generate writes a corpus into dir (created if needed; existing files
// with the same names are overwritten).
func Generate(dir string, o Options) (Stats, error) {
	if o.Files < 10 {
		o.Files = 10
	}
	if o.MistakeRate == 0 {
		o.MistakeRate = 0.02
	}
	g := &gen{dir: dir, o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	return g.run()
}

// Plan is how Generate splits Options.Files between kinds.
type Plan struct {
	Teams, AppsPerTeam, Jobs, AppPolicies, TokenRoles, Clients int
	// Servers are server agents of the workload-identity cluster besides
	// the first, each with its default_identity.
	Servers int
	// RolePolicies: each token role but the legacy one allows exactly one
	// policy of its own, written alongside.
	RolePolicies bool
	// ReadsPerTask is the number of templates of each task that uses
	// Vault; 0 draws one to three.
	ReadsPerTask int
	// JSONShare is the share of jobs written as API JSON, as `nomad job
	// inspect` prints them (0: a tenth; 1: all, as doctor reads them).
	JSONShare float64
	// NoLegacyServer leaves out the legacy cluster's server config (its
	// create_from_role): nvlint then checks every token role as one Nomad
	// may use.
	NoLegacyServer bool
	// SpareJWTRoles are JWT roles no job logs in with yet (a team not
	// deployed), each with a policy of its own.
	SpareJWTRoles int
	// SparePolicies are app policies of apps not deployed yet: no role or
	// job names them, so growing them leaves every other object as it is.
	SparePolicies int
}

// Plan splits n files as the mix says: every kind gets its share of n
// (at least what one working setup needs), and the jobs what remains.
// Each JWT role but the default one is a team's, names the team's shared
// policy and its apps' policies, and admits the team's jobs; each token
// role names a policy of its own, and the legacy servers' config is not
// in the tree. The zero Mix is PlanFor.
func (m Mix) Plan(n int) Plan {
	sum := m.Jobs + m.Policies + m.TokenRoles + m.JWTRoles + m.Agents
	if sum <= 0 {
		p := PlanFor(n)
		p.ReadsPerTask = m.ReadsPerTask
		return p
	}
	share := func(w float64) int { return int(math.Round(float64(n) * w / sum)) }
	// The legacy servers' config is kept elsewhere: which token role is
	// Nomad's is not written down, so every one is checked as if it were.
	p := Plan{RolePolicies: true, ReadsPerTask: m.ReadsPerTask, NoLegacyServer: true}
	agents := max(2, share(m.Agents))
	p.Servers = (agents - 1) / 4
	p.Clients = agents - 1 - p.Servers
	p.TokenRoles = max(1, share(m.TokenRoles))
	p.Teams = max(2, share(m.JWTRoles)-1)
	// The server policy, the default role's, a shared one per team and
	// one per token role but the legacy one come first.
	fixedPolicies := 2 + p.Teams + p.TokenRoles - 1
	p.AppPolicies = max(0, share(m.Policies)-fixedPolicies)
	others := 1 + agents + p.TokenRoles + p.Teams + 1 + fixedPolicies + p.AppPolicies
	p.Jobs = max(2, n-others)
	p.AppsPerTeam = max(1, (p.Jobs+p.Teams-1)/p.Teams)
	return p
}

// Mix weighs the kinds of file of a corpus. The weights need not add up
// to 100.
type Mix struct {
	Jobs, Policies, TokenRoles, JWTRoles, Agents float64
	// ReadsPerTask is the number of templates, each reading a secret, of
	// every task that uses Vault; 0 draws one to three.
	ReadsPerTask int
}

// Mixes are the named mixes ParseMix knows.
var Mixes = map[string]Mix{
	// PlanFor's split: mostly jobs, a policy per few apps, a JWT role per
	// team of about 40 apps, at most 20 token roles.
	"default": {},
	// A platform team's tree: a token role and a JWT role per team, each
	// naming its own policy.
	"platform": {Jobs: 60, Policies: 25, TokenRoles: 5, JWTRoles: 5, Agents: 5},
	// Hundreds of roles, each with its own policy, over fewer jobs.
	"role-heavy": {Jobs: 35, Policies: 30, TokenRoles: 15, JWTRoles: 15, Agents: 5},
	// Mostly policies.
	"policy-heavy": {Jobs: 30, Policies: 60, TokenRoles: 3, JWTRoles: 4, Agents: 3},
	// The platform mix, every task reading eight secrets.
	"templates": {Jobs: 60, Policies: 25, TokenRoles: 5, JWTRoles: 5, Agents: 5, ReadsPerTask: 8},
}

// MixNames lists the named mixes in a stable order.
func MixNames() []string {
	return []string{"default", "platform", "role-heavy", "policy-heavy", "templates"}
}

var mixKeys = []struct {
	key string
	get func(*Mix) *float64
}{
	{"jobs", func(m *Mix) *float64 { return &m.Jobs }},
	{"policies", func(m *Mix) *float64 { return &m.Policies }},
	{"token-roles", func(m *Mix) *float64 { return &m.TokenRoles }},
	{"jwt-roles", func(m *Mix) *float64 { return &m.JWTRoles }},
	{"agents", func(m *Mix) *float64 { return &m.Agents }},
}

// ParseMix reads a mix: a name of Mixes, or weights such as
// "jobs=60,policies=25,token-roles=5,jwt-roles=5,agents=5", optionally
// with "reads=N" (templates per task). A kind left out weighs nothing
// (it still gets what one working setup needs).
func ParseMix(s string) (Mix, error) {
	if m, ok := Mixes[s]; ok {
		return m, nil
	}
	var m Mix
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Mix{}, fmt.Errorf("mix %q: %q is not KIND=WEIGHT, and no named mix is called that (%s)", s, part, strings.Join(MixNames(), ", "))
		}
		if k == "reads" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Mix{}, fmt.Errorf("mix %q: reads=%s is not a count", s, v)
			}
			m.ReadsPerTask = n
			continue
		}
		found := false
		for _, mk := range mixKeys {
			if mk.key == k {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
					return Mix{}, fmt.Errorf("mix %q: %s=%s is not a weight", s, k, v)
				}
				*mk.get(&m) = f
				found = true
			}
		}
		if !found {
			return Mix{}, fmt.Errorf("mix %q: unknown kind %q (jobs, policies, token-roles, jwt-roles, agents, reads)", s, k)
		}
	}
	if m.Jobs+m.Policies+m.TokenRoles+m.JWTRoles+m.Agents <= 0 {
		return Mix{}, fmt.Errorf("mix %q: no weight", s)
	}
	return m, nil
}

// String writes the mix as ParseMix reads it.
func (m Mix) String() string {
	var parts []string
	for _, mk := range mixKeys {
		if v := *mk.get(&m); v != 0 {
			parts = append(parts, mk.key+"="+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	if m.ReadsPerTask != 0 {
		parts = append(parts, "reads="+strconv.Itoa(m.ReadsPerTask))
	}
	if len(parts) == 0 {
		return "default"
	}
	return strings.Join(parts, ",")
}

// PlanFor splits n files: about 3/4 jobspecs, 1/6 policies, 1/20 JWT roles
// (one per team), a handful of token roles and agent configs, one auth
// config.
func PlanFor(n int) Plan {
	p := Plan{}
	p.Teams = max(2, n/40)
	p.TokenRoles = min(20, max(1, n/250))
	p.Clients = min(8, max(1, n/1000))
	fixed := 1 + 2 + p.Clients + p.TokenRoles + 1 + 1 // auth config, server+legacy server, clients, token roles, server policy, nomad-workloads
	fixed += p.Teams                                  // team JWT roles
	fixed += p.Teams                                  // team shared policies
	rest := max(2, n-fixed)
	p.AppPolicies = rest * 2 / 11
	p.Jobs = rest - p.AppPolicies
	p.AppsPerTeam = max(1, (p.Jobs+p.Teams-1)/p.Teams)
	return p
}

type gen struct {
	dir   string
	o     Options
	rng   *rand.Rand
	stats Stats
	plan  Plan
	// appPolicy says which apps have a policy of their own (and so may
	// read database credentials).
	appPolicy map[string]bool
	// legacyPolicies are the app policies the legacy token role allows.
	legacyPolicies []string
}

var teamWords = []string{"payments", "search", "identity", "ledger", "mobile", "growth", "infra", "data", "risk", "media", "ads", "core", "edge", "ml", "ops", "web"}
var appWords = []string{"api", "worker", "gateway", "indexer", "cache", "scheduler", "ingest", "export", "notifier", "billing", "auth", "frontend", "backend", "cron", "sync", "proxy", "reporter", "crawler", "mailer", "uploader"}

func teamName(i int) string {
	return fmt.Sprintf("%s-%d", teamWords[i%len(teamWords)], i/len(teamWords))
}

func appName(team, i int) string {
	return fmt.Sprintf("%s-%s-%d", teamName(team), appWords[i%len(appWords)], i)
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *gen) write(rel, content string) error {
	p := filepath.Join(g.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return err
	}
	g.stats.Files++
	g.stats.Bytes += len(content)
	return nil
}

func (g *gen) writeJSON(rel string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return g.write(rel, string(b)+"\n")
}

func (g *gen) run() (Stats, error) {
	if g.o.Plan != nil {
		g.plan = *g.o.Plan
		g.plan.Teams = max(1, g.plan.Teams)
		g.plan.AppsPerTeam = max(1, (g.plan.Jobs+g.plan.Teams-1)/g.plan.Teams)
	} else {
		g.plan = g.o.Mix.Plan(g.o.Files)
	}
	g.appPolicy = map[string]bool{}
	steps := []func() error{g.agents, g.auth, g.tokenRoles, g.policies, g.jwtRoles, g.jobs}
	for _, s := range steps {
		if err := s(); err != nil {
			return g.stats, err
		}
	}
	return g.stats, nil
}

func (g *gen) agents() error {
	server := `# Nomad server agent: workload identity for the default Vault cluster.
datacenter = "dc1"
data_dir   = "/opt/nomad/data"
bind_addr  = "0.0.0.0"

server {
  enabled          = true
  bootstrap_expect = 3
}

acl {
  enabled = true
}

vault {
  enabled               = true
  address               = "https://vault.service.consul:8200"
  jwt_auth_backend_path = "` + Mount + `"

  default_identity {
    aud = ["vault.io"]
    ttl = "1h"
  }
}
`
	if err := g.write("nomad/agents/server.hcl", server); err != nil {
		return err
	}
	legacy := `# The legacy Vault cluster, still on the token-role flow.
server {
  enabled = true
}

vault {
  name                  = "legacy"
  enabled               = true
  address               = "https://vault-legacy.service.consul:8200"
  create_from_role      = "nomad-cluster"
  allow_unauthenticated = false
}
`
	g.stats.Agents++
	if !g.plan.NoLegacyServer {
		if err := g.write("nomad/agents/server-legacy.hcl", legacy); err != nil {
			return err
		}
		g.stats.Agents++
	}
	for i := range g.plan.Servers {
		if err := g.write(fmt.Sprintf("nomad/agents/server-%d.hcl", i+1), server); err != nil {
			return err
		}
		g.stats.Agents++
	}
	for i := range g.plan.Clients {
		client := fmt.Sprintf(`# Nomad client agents, pool %d.
datacenter = "dc%d"
data_dir   = "/opt/nomad/data"

client {
  enabled    = true
  node_pool  = "pool-%d"
}

vault {
  enabled = true
  address = "https://vault.service.consul:8200"
}

vault {
  name    = "legacy"
  enabled = true
  address = "https://vault-legacy.service.consul:8200"
}
`, i, 1+i%3, i)
		if err := g.write(fmt.Sprintf("nomad/agents/client-%d.hcl", i), client); err != nil {
			return err
		}
		g.stats.Agents++
	}
	return nil
}

func (g *gen) auth() error {
	g.stats.AuthConfigs++
	return g.writeJSON("vault/auth/vault-auth-method-"+Mount+".json", map[string]any{
		"jwks_url":           "https://nomad.service.consul:4646/.well-known/jwks.json",
		"jwt_supported_algs": []string{"RS256", "EdDSA"},
		"default_role":       DefaultRole,
	})
}

func (g *gen) tokenRoles() error {
	// The legacy server's own policy.
	server := `# The Nomad servers' token (legacy flow).
path "auth/token/create/nomad-cluster" {
  capabilities = ["update"]
}

path "auth/token/roles/nomad-cluster" {
  capabilities = ["read"]
}

path "auth/token/lookup-self" {
  capabilities = ["read"]
}

path "auth/token/lookup" {
  capabilities = ["update"]
}

path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}

path "sys/capabilities-self" {
  capabilities = ["update"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
`
	if err := g.write("vault/policies/nomad-server-policy.hcl", server); err != nil {
		return err
	}
	g.stats.Policies++
	for i := range g.plan.TokenRoles {
		name := "nomad-cluster"
		if i > 0 {
			name = fmt.Sprintf("ci-runner-%d", i)
		}
		role := map[string]any{
			"name":                name,
			"disallowed_policies": "nomad-server",
			"explicit_max_ttl":    0,
			"orphan":              true,
			"period":              259200,
			"renewable":           true,
		}
		switch {
		case i > 0 && g.plan.RolePolicies:
			role["allowed_policies"] = fmt.Sprintf("ci-%d", i)
			delete(role, "disallowed_policies")
			pol := fmt.Sprintf("# What CI runner %[1]d deploys with.\npath \"kv/data/ci/runner-%[1]d/*\" {\n  capabilities = [\"read\"]\n}\n\npath \"auth/token/lookup-self\" {\n  capabilities = [\"read\"]\n}\n", i)
			if err := g.write(fmt.Sprintf("vault/policies/ci/ci-%d-policy.hcl", i), pol); err != nil {
				return err
			}
			g.stats.Policies++
		case i > 0 && g.chance(0.5):
			role["allowed_policies"] = fmt.Sprintf("ci-%d", i)
			delete(role, "disallowed_policies")
		}
		if err := g.writeJSON(fmt.Sprintf("vault/token-roles/%s-role.json", name), role); err != nil {
			return err
		}
		g.stats.TokenRoles++
	}
	return nil
}

func meta(field string) string {
	return "{{identity.entity.aliases." + Accessor + ".metadata." + field + "}}"
}

func (g *gen) policies() error {
	workloads := fmt.Sprintf(`# Every workload reads its own job's KV secrets.
path "kv/data/%[1]s/%[2]s/*" {
  capabilities = ["read"]
}

path "kv/data/%[1]s/%[2]s" {
  capabilities = ["read"]
}

path "kv/metadata/%[1]s/*" {
  capabilities = ["list"]
}
`, meta("nomad_namespace"), meta("nomad_job_id"))
	if err := g.write("vault/policies/vault-policy-"+DefaultRole+".hcl", workloads); err != nil {
		return err
	}
	g.stats.Policies++
	g.stats.TemplatedPolicies++
	for t := range g.plan.Teams {
		team := teamName(t)
		shared := fmt.Sprintf(`# Team %[3]s: shared secrets of the namespace and its PKI role.
path "kv/data/%[1]s/shared/*" {
  capabilities = ["read"]
}

path "kv/data/%[1]s/%[2]s/*" {
  capabilities = ["read"]
}

path "pki/issue/%[3]s" {
  capabilities = ["create", "update"]
}

path "kv/metadata/%[1]s/*" {
  capabilities = ["list"]
}
`, meta("nomad_namespace"), meta("nomad_job_id"), team)
		if err := g.write(fmt.Sprintf("vault/policies/%s/vault-policy-%s-shared.hcl", team, team), shared); err != nil {
			return err
		}
		g.stats.Policies++
		g.stats.TemplatedPolicies++
	}
	// App policies: spread over the teams' first apps.
	for i := range g.plan.AppPolicies {
		t := i % g.plan.Teams
		a := i / g.plan.Teams
		team, app := teamName(t), appName(t, a)
		g.appPolicy[app] = true
		var b strings.Builder
		fmt.Fprintf(&b, "# %s of team %s\n", app, team)
		fmt.Fprintf(&b, "path \"database/creds/%s\" {\n  capabilities = [\"read\"]\n}\n\n", app)
		fmt.Fprintf(&b, "path \"kv/data/%s/%s/*\" {\n  capabilities = [\"read\"]\n}\n", team, app)
		if g.chance(0.4) {
			fmt.Fprintf(&b, "\npath \"aws/creds/%s\" {\n  capabilities = [\"read\"]\n}\n", app)
		}
		if g.chance(0.3) {
			fmt.Fprintf(&b, "\npath \"transit/encrypt/%s\" {\n  capabilities = [\"update\"]\n}\n\npath \"transit/decrypt/%s\" {\n  capabilities = [\"update\"]\n}\n", app, app)
		}
		if g.chance(0.2) {
			fmt.Fprintf(&b, "\npath \"kv/data/%s/%s/admin\" {\n  capabilities = [\"deny\"]\n}\n", team, app)
		}
		if g.chance(0.1) {
			g.legacyPolicies = append(g.legacyPolicies, app)
		}
		if err := g.write(fmt.Sprintf("vault/policies/%s/%s-policy.hcl", team, app), b.String()); err != nil {
			return err
		}
		g.stats.Policies++
	}
	for i := range g.plan.SparePolicies {
		t := i % g.plan.Teams
		team, app := teamName(t), appName(t, 1000+i/g.plan.Teams)
		text := fmt.Sprintf("# %s of team %s, not deployed yet\npath \"kv/data/%s/%s/*\" {\n  capabilities = [\"read\"]\n}\n", app, team, team, app)
		if err := g.write(fmt.Sprintf("vault/policies/%s/%s-policy.hcl", team, app), text); err != nil {
			return err
		}
		g.stats.Policies++
	}
	return nil
}

func (g *gen) jwtRoles() error {
	claims := map[string]string{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"}
	if err := g.writeJSON("vault/jwt-roles/vault-role-"+DefaultRole+".json", map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         []string{"vault.io"},
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"claim_mappings":          claims,
		"token_type":              "service",
		"token_policies":          []string{DefaultRole},
		"token_period":            "30m",
		"token_explicit_max_ttl":  0,
	}); err != nil {
		return err
	}
	g.stats.JWTRoles++
	for t := range g.plan.Teams {
		team := teamName(t)
		pols := []string{DefaultRole, team + "-shared"}
		for a := range g.plan.AppsPerTeam {
			if app := appName(t, a); g.appPolicy[app] {
				pols = append(pols, app)
			}
		}
		if err := g.writeJSON(fmt.Sprintf("vault/jwt-roles/vault-role-%s.json", team), map[string]any{
			"role_type":               "jwt",
			"bound_audiences":         []string{"vault.io"},
			"bound_claims":            map[string]any{"nomad_namespace": team},
			"user_claim":              "/nomad_job_id",
			"user_claim_json_pointer": true,
			"claim_mappings":          claims,
			"token_type":              "service",
			"token_policies":          pols,
			"token_period":            "1h",
			"token_explicit_max_ttl":  0,
		}); err != nil {
			return err
		}
		g.stats.JWTRoles++
	}
	for i := range g.plan.SpareJWTRoles {
		name := fmt.Sprintf("svc-%d", i)
		pol := fmt.Sprintf("# Service %[1]s, not deployed yet.\npath \"kv/data/%[1]s/%[2]s/*\" {\n  capabilities = [\"read\"]\n}\n", name, meta("nomad_job_id"))
		if err := g.write(fmt.Sprintf("vault/policies/svc/vault-policy-%s.hcl", name), pol); err != nil {
			return err
		}
		g.stats.Policies++
		g.stats.TemplatedPolicies++
		if err := g.writeJSON(fmt.Sprintf("vault/jwt-roles/vault-role-%s.json", name), map[string]any{
			"role_type":               "jwt",
			"bound_audiences":         []string{"vault.io"},
			"bound_claims":            map[string]any{"nomad_namespace": name},
			"user_claim":              "/nomad_job_id",
			"user_claim_json_pointer": true,
			"claim_mappings":          claims,
			"token_type":              "service",
			"token_policies":          []string{DefaultRole, name},
			"token_period":            "1h",
			"token_explicit_max_ttl":  0,
		}); err != nil {
			return err
		}
		g.stats.JWTRoles++
	}
	return nil
}

// The jobspec model the writers below render as HCL or API JSON.
type job struct {
	id, namespace, typ string
	vault              *vaultBlock
	groups             []*group
}

type group struct {
	name  string
	count int
	vault *vaultBlock
	tasks []*task
}

type task struct {
	name, driver, image string
	vault               *vaultBlock
	identity            []string // aud of a vault_default identity; nil: none
	templates           []tmpl
}

type vaultBlock struct {
	role, cluster string
	policies      []string
}

type tmpl struct {
	data, dest string
	env        bool
}

func (g *gen) jobs() error {
	for i := range g.plan.Jobs {
		t := i % g.plan.Teams
		a := i / g.plan.Teams
		j := g.job(t, a)
		var err error
		if g.chance(cmp.Or(g.plan.JSONShare, 0.1)) {
			err = g.writeJSON(fmt.Sprintf("nomad/jobs/%s/%s.nomad.json", j.namespace, j.id), j.api())
			g.stats.JSONJobs++
		} else {
			err = g.write(fmt.Sprintf("nomad/jobs/%s/%s.nomad.hcl", j.namespace, j.id), j.hcl())
		}
		if err != nil {
			return err
		}
		g.stats.Jobs++
	}
	return nil
}

// job makes app a of team t: its shape is drawn from the seed.
func (g *gen) job(t, a int) *job {
	team, app := teamName(t), appName(t, a)
	j := &job{id: app, namespace: team, typ: "service"}
	if g.chance(0.15) {
		j.typ = "batch"
	}
	legacy := g.appPolicy[app] && g.chance(0.05)
	for _, p := range g.legacyPolicies {
		if p == app {
			legacy = true
		}
	}
	mistake := g.o.MistakeRate > 0 && g.chance(g.o.MistakeRate)
	if mistake {
		g.stats.Mistakes++
	}
	// How the job logs in: its team's role (most), the default role, or
	// the legacy cluster's token role.
	mkVault := func() *vaultBlock {
		switch {
		case legacy:
			return &vaultBlock{cluster: "legacy", policies: []string{app}}
		case g.chance(0.8):
			return &vaultBlock{role: team}
		default:
			return &vaultBlock{}
		}
	}
	level := g.rng.IntN(10) // 0-1 job, 2-3 group, rest task
	if level < 2 {
		j.vault = mkVault()
	}
	role := func(v *vaultBlock) string {
		if v.cluster == "legacy" {
			return "legacy"
		}
		if v.role == "" {
			return DefaultRole
		}
		return v.role
	}
	ngroups := 1 + g.rng.IntN(3)
	if g.chance(0.05) {
		ngroups = 4 + g.rng.IntN(3)
	}
	mistakeDone := false
	for gi := range ngroups {
		gr := &group{name: []string{"app", "workers", "sidecars", "db", "cron", "edge", "ops"}[gi], count: 1 + g.rng.IntN(5)}
		if level >= 2 && level < 4 && g.chance(0.8) {
			gr.vault = mkVault()
		}
		ntasks := 1 + g.rng.IntN(3)
		for ti := range ntasks {
			tk := &task{name: fmt.Sprintf("%s-%d", []string{"main", "log-shipper", "migrate", "envoy", "exporter"}[ti%5], ti), driver: "docker", image: fmt.Sprintf("registry.example.com/%s/%s:1.%d.%d", team, app, g.rng.IntN(20), g.rng.IntN(50))}
			eff := j.vault
			if gr.vault != nil {
				eff = gr.vault
			}
			if level >= 4 && (ti == 0 || g.chance(0.5)) {
				tk.vault = mkVault()
				eff = tk.vault
			}
			if eff != nil && eff.cluster != "legacy" && g.chance(0.4) {
				tk.identity = []string{"vault.io"}
			}
			if eff == nil {
				// No Vault: a template without secrets, or none.
				if g.chance(0.5) {
					tk.templates = append(tk.templates, tmpl{data: "LOG_LEVEL={{ env \"NOMAD_META_log_level\" }}\nREGION={{ env \"NOMAD_REGION\" }}\n", dest: "local/env", env: true})
				}
				gr.tasks = append(gr.tasks, tk)
				continue
			}
			r := role(eff)
			ntpl := g.plan.ReadsPerTask
			if ntpl == 0 {
				ntpl = 1 + g.rng.IntN(3)
			}
			for k := range ntpl {
				tk.templates = append(tk.templates, g.template(j, r, k))
			}
			if mistake && !mistakeDone {
				mistakeDone = true
				switch {
				case r == "legacy":
					tk.templates = append(tk.templates, tmpl{data: fmt.Sprintf("{{ with secret \"database/creds/%s-admin\" }}ADMIN={{ .Data.password }}{{ end }}\n", app), dest: "secrets/admin.env", env: true})
				case tk.identity != nil && g.chance(0.5):
					tk.identity = []string{"nomad.io"}
				default:
					other := teamName((t + 1) % g.plan.Teams)
					tk.templates = append(tk.templates, tmpl{data: fmt.Sprintf("{{ with secret \"kv/data/%s/shared/api-key\" }}KEY={{ .Data.data.key }}{{ end }}\n", other), dest: "secrets/other.env", env: true})
				}
			}
			g.stats.Templates += len(tk.templates)
			gr.tasks = append(gr.tasks, tk)
		}
		g.stats.Tasks += len(gr.tasks)
		j.groups = append(j.groups, gr)
	}
	g.stats.Groups += len(j.groups)
	return j
}

// template renders the k-th template of a task logging in as role r:
// every read is one the role's policies grant.
func (g *gen) template(j *job, r string, k int) tmpl {
	ns, id, app := j.namespace, j.id, j.id
	own := fmt.Sprintf("kv/data/%s/%s/config", ns, id)
	var b strings.Builder
	read := func(path, body string) {
		fmt.Fprintf(&b, "{{ with secret %q }}\n%s{{ end }}\n", path, body)
		g.stats.VaultReads++
	}
	dest, env := "secrets/app.env", true
	switch {
	case r == "legacy":
		read("database/creds/"+app, "DB_USER={{ .Data.username }}\nDB_PASS={{ .Data.password }}\n")
		dest = fmt.Sprintf("secrets/db-%d.env", k)
	case k == 0:
		read(own, "DB_PASSWORD={{ .Data.data.password }}\nAPI_TOKEN={{ .Data.data.api_token }}\n")
		if g.chance(0.3) {
			fmt.Fprintf(&b, "{{ range secrets \"kv/metadata/%s/%s/\" }}\nKEY_{{ . }}=1\n{{ end }}\n", ns, id)
			g.stats.VaultReads++
		}
	case k == 1 && r != DefaultRole && g.appPolicy[app]:
		read("database/creds/"+app, "DB_USER={{ .Data.username }}\nDB_PASS={{ .Data.password }}\n")
		dest = "secrets/db.env"
	case k == 1 && r != DefaultRole:
		read(fmt.Sprintf("kv/data/%s/shared/smtp", ns), "SMTP_PASSWORD={{ .Data.data.password }}\n")
		dest = "secrets/smtp.env"
	case r != DefaultRole:
		fmt.Fprintf(&b, "{{ with pkiCert \"pki/issue/%s\" \"common_name=%s.service.consul\" \"ttl=24h\" }}\n{{ .Cert }}\n{{ .Key }}\n{{ end }}\n", ns, app)
		g.stats.VaultReads++
		dest, env = fmt.Sprintf("secrets/tls/bundle-%d.pem", k), false
	default:
		read(fmt.Sprintf("kv/data/%s/%s/feature-flags", ns, id), "{{ .Data.data | toJSON }}\n")
		dest, env = fmt.Sprintf("secrets/flags-%d.json", k), false
	}
	return tmpl{data: b.String(), dest: dest, env: env}
}

func (v *vaultBlock) hcl(indent string) string {
	var b strings.Builder
	b.WriteString(indent + "vault {\n")
	if v.cluster != "" {
		fmt.Fprintf(&b, "%s  cluster = %q\n", indent, v.cluster)
	}
	if v.role != "" {
		fmt.Fprintf(&b, "%s  role = %q\n", indent, v.role)
	}
	if len(v.policies) > 0 {
		fmt.Fprintf(&b, "%s  policies = [%s]\n", indent, quoteList(v.policies))
	}
	b.WriteString(indent + "  change_mode = \"restart\"\n")
	b.WriteString(indent + "}\n")
	return b.String()
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func (j *job) hcl() string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %q {\n  namespace   = %q\n  type        = %q\n  datacenters = [\"dc1\", \"dc2\"]\n\n", j.id, j.namespace, j.typ)
	fmt.Fprintf(&b, "  meta {\n    owner = %q\n  }\n\n", j.namespace)
	if j.vault != nil {
		b.WriteString(j.vault.hcl("  "))
		b.WriteString("\n")
	}
	for _, g := range j.groups {
		fmt.Fprintf(&b, "  group %q {\n    count = %d\n\n", g.name, g.count)
		fmt.Fprintf(&b, "    network {\n      port \"http\" {}\n    }\n\n")
		fmt.Fprintf(&b, "    service {\n      name     = \"%s-%s\"\n      port     = \"http\"\n      provider = \"nomad\"\n\n      check {\n        type     = \"http\"\n        path     = \"/health\"\n        interval = \"10s\"\n        timeout  = \"2s\"\n      }\n    }\n\n", j.id, g.name)
		if g.vault != nil {
			b.WriteString(g.vault.hcl("    "))
			b.WriteString("\n")
		}
		for _, t := range g.tasks {
			fmt.Fprintf(&b, "    task %q {\n      driver = %q\n\n      config {\n        image = %q\n        ports = [\"http\"]\n      }\n\n", t.name, t.driver, t.image)
			if t.vault != nil {
				b.WriteString(t.vault.hcl("      "))
				b.WriteString("\n")
			}
			if t.identity != nil {
				fmt.Fprintf(&b, "      identity {\n        name = \"vault_default\"\n        aud  = [%s]\n        ttl  = \"1h\"\n      }\n\n", quoteList(t.identity))
			}
			for _, tp := range t.templates {
				fmt.Fprintf(&b, "      template {\n        data        = <<EOF\n%sEOF\n        destination = %q\n        env         = %v\n        change_mode = \"restart\"\n      }\n\n", tp.data, tp.dest, tp.env)
			}
			b.WriteString("      resources {\n        cpu    = 200\n        memory = 256\n      }\n    }\n\n")
		}
		b.WriteString("  }\n\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// api renders the job as `nomad job inspect` prints it: the vault block
// of each task is the one that applies after inheritance, as the API
// shows it.
func (j *job) api() map[string]any {
	var groups []any
	for _, g := range j.groups {
		var tasks []any
		for _, t := range g.tasks {
			v := t.vault
			if v == nil {
				v = g.vault
			}
			if v == nil {
				v = j.vault
			}
			task := map[string]any{
				"Name":   t.name,
				"Driver": t.driver,
				"Config": map[string]any{"image": t.image, "ports": []string{"http"}},
				"Resources": map[string]any{
					"CPU": 200, "MemoryMB": 256,
				},
			}
			if v != nil {
				vault := map[string]any{"ChangeMode": "restart", "Env": true}
				if v.cluster != "" {
					vault["Cluster"] = v.cluster
				} else {
					vault["Cluster"] = "default"
				}
				if v.role != "" {
					vault["Role"] = v.role
				}
				if len(v.policies) > 0 {
					vault["Policies"] = v.policies
				}
				task["Vault"] = vault
			}
			if t.identity != nil {
				task["Identities"] = []any{map[string]any{"Name": "vault_default", "Audience": t.identity, "TTL": 3600000000000}}
			}
			var tpls []any
			for _, tp := range t.templates {
				tpls = append(tpls, map[string]any{"EmbeddedTmpl": tp.data, "DestPath": tp.dest, "Envvars": tp.env, "ChangeMode": "restart"})
			}
			if tpls != nil {
				task["Templates"] = tpls
			}
			tasks = append(tasks, task)
		}
		groups = append(groups, map[string]any{"Name": g.name, "Count": g.count, "Tasks": tasks})
	}
	return map[string]any{"Job": map[string]any{
		"ID": j.id, "Name": j.id, "Namespace": j.namespace, "Type": j.typ,
		"Datacenters": []string{"dc1", "dc2"}, "Meta": map[string]string{"owner": j.namespace},
		"TaskGroups": groups,
	}}
}
