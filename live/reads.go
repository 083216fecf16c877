package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/world"
)

// Token says whose token a read is made with.
type Token int

const (
	// NoToken is for endpoints that need none (sys/health, Nomad's JWKS).
	NoToken Token = iota
	// DoctorToken is VAULT_TOKEN or NOMAD_TOKEN, the token doctor runs with.
	DoctorToken
	// ServerToken is the Nomad servers' own Vault token (legacy flow),
	// checked with itself as Nomad checks it.
	ServerToken
)

// A Read is one kind of request doctor makes. Reads is the one list of
// them: the collector names each failed read by its path, the verdicts
// find the areas it leaves unchecked here, and --print-policy prints the
// grants doctor's token needs from it. A test checks that every request
// doctor sends to real servers matches an entry.
type Read struct {
	// Side is "vault" or "nomad".
	Side string
	// Path names the requests as a Vault policy does ("+" is one path
	// segment), or the Nomad HTTP path with "+" for an ID.
	Path string
	// Token is the token the read is made with.
	Token Token
	// Grant is what the doctor token's policy must allow: a Vault
	// capability ("read", "list"), or a Nomad ACL rule as "agent:read",
	// "node:read", "operator:read" or "namespace:list-jobs".
	Grant string
	// Areas are the report areas whose verdict rests on the read.
	Areas []string
	// Fallback reads stand in for another read when it fails; their own
	// failure leaves nothing unchecked and they need no grant.
	Fallback bool
	// Policy are the paths --print-policy grants instead of Path, with
	// PolicyNote above them: a Path whose "*" stands for any mount,
	// which a Vault policy cannot say without granting every mount.
	Policy     []string
	PolicyNote string
}

var (
	vaultPolicyAreas = []string{world.AreaPolicies, world.AreaWorkloadIdentity, world.AreaJobs, world.AreaLegacy}
	jwtAreas         = []string{world.AreaWorkloadIdentity}
)

// Reads are all the reads doctor makes.
var Reads = []Read{
	{Side: "vault", Path: "sys/health", Token: NoToken, Areas: []string{world.AreaVault}},
	{Side: "vault", Path: "sys/auth", Token: DoctorToken, Grant: "read", Areas: jwtAreas},
	{Side: "vault", Path: "sys/internal/ui/mounts", Token: DoctorToken, Fallback: true},
	// Which secrets engine mounts are KV version 2 decides the path a
	// template's read reaches, as consul-template decides it.
	{Side: "vault", Path: "sys/mounts", Token: DoctorToken, Grant: "read", Areas: []string{world.AreaJobs}},
	{Side: "vault", Path: "sys/policies/acl", Token: DoctorToken, Grant: "list", Areas: vaultPolicyAreas},
	{Side: "vault", Path: "sys/policies/acl/+", Token: DoctorToken, Grant: "read", Areas: vaultPolicyAreas},
	{Side: "vault", Path: "auth/token/roles", Token: DoctorToken, Grant: "list", Areas: []string{world.AreaLegacy}},
	{Side: "vault", Path: "auth/token/roles/+", Token: DoctorToken, Grant: "read", Areas: []string{world.AreaLegacy}},
	{Side: "vault", Path: "auth/+/config", Token: DoctorToken, Grant: "read", Areas: jwtAreas},
	{Side: "vault", Path: "auth/+/role", Token: DoctorToken, Grant: "list", Areas: jwtAreas},
	{Side: "vault", Path: "auth/+/role/+", Token: DoctorToken, Grant: "read", Areas: jwtAreas},
	// The entity aliases of the JWT mounts show which jobs share one
	// (NV235) and the metadata of the latest login.
	{Side: "vault", Path: "identity/entity-alias/id", Token: DoctorToken, Grant: "list", Areas: jwtAreas},
	// The token auth method's max TTL ends a non-periodic server token.
	// Without it the forecast names the default it assumes, so the read
	// leaves nothing unchecked.
	{Side: "vault", Path: "sys/auth/token/tune", Token: DoctorToken, Grant: "read"},
	{Side: "vault", Path: "sys/mounts/auth/token/tune", Token: DoctorToken, Fallback: true},
	// The database and PKI roles running tasks' templates read, and
	// their mounts' lease TTLs: when what a task holds ends (NV626). A
	// role that cannot be read is reported and its forecast not made; a
	// mount whose tuning cannot be read is forecast on Vault's defaults,
	// which the forecast names. Neither leaves an area unchecked.
	{Side: "vault", Path: "*/roles/+", Token: DoctorToken, Grant: "read",
		Policy:     []string{"database/roles/+", "pki/roles/+"},
		PolicyNote: "the roles of each database and PKI mount templates read (database/creds/ROLE, pki/issue/ROLE): name your mounts"},
	{Side: "vault", Path: "sys/mounts/*/tune", Token: DoctorToken, Grant: "read",
		Policy: []string{"sys/mounts/database/tune", "sys/mounts/pki/tune"}},
	{Side: "vault", Path: "auth/token/lookup-self", Token: ServerToken, Areas: []string{world.AreaLegacy}},
	{Side: "vault", Path: "sys/capabilities-self", Token: ServerToken, Areas: []string{world.AreaLegacy}},

	{Side: "nomad", Path: "/v1/agent/self", Token: DoctorToken, Grant: "agent:read", Areas: []string{world.AreaNomad, world.AreaAgentConfig}},
	// Any agent lists the regions of its federation; no ACL guards it.
	{Side: "nomad", Path: "/v1/regions", Token: NoToken, Areas: []string{world.AreaNomad}},
	{Side: "nomad", Path: "/v1/agent/members", Token: DoctorToken, Grant: "node:read", Areas: []string{world.AreaNomad}},
	{Side: "nomad", Path: "/v1/nodes", Token: DoctorToken, Grant: "node:read", Areas: []string{world.AreaNomad}},
	{Side: "nomad", Path: "/v1/node/+", Token: DoctorToken, Grant: "node:read", Areas: []string{world.AreaNomad}},
	{Side: "nomad", Path: "/.well-known/jwks.json", Token: NoToken},
	{Side: "nomad", Path: "/v1/jobs", Token: DoctorToken, Grant: "namespace:list-jobs", Areas: []string{world.AreaJobs}},
	{Side: "nomad", Path: "/v1/job/+", Token: DoctorToken, Grant: "namespace:read-job", Areas: []string{world.AreaJobs}},
	{Side: "nomad", Path: "/v1/job/+/allocations", Token: DoctorToken, Grant: "namespace:read-job", Areas: []string{world.AreaJobs}},
	// Running allocations, one listing for all jobs: when each task logged
	// in, for the forecasts of its token's end (NV624).
	{Side: "nomad", Path: "/v1/allocations", Token: DoctorToken, Grant: "namespace:read-job", Areas: []string{world.AreaJobs}},
	// The keyring's create and publish times tell when the signing key
	// changes (NV625). Nomad lists it to management tokens alone, which a
	// read-only policy cannot grant: a denied read leaves nothing
	// unchecked and the forecast says it was not made.
	{Side: "nomad", Path: keyringPath, Token: DoctorToken, Grant: "management"},
	{Side: "nomad", Path: upgradeCheckPath, Token: DoctorToken, Grant: "operator:read", Areas: []string{world.AreaLegacy}},
}

// serverTokenSuffix marks what the server token read, in a Problem.
const serverTokenSuffix = " (server token)"

// ReadOf finds the read a request path (as a Problem names it: a Vault
// path, or a Nomad path, perhaps with a query) belongs to.
func ReadOf(side, what string) (Read, bool) {
	token := DoctorToken
	if strings.HasSuffix(what, serverTokenSuffix) {
		token = ServerToken
	}
	path, _, _ := strings.Cut(what, " ")
	path, _, _ = strings.Cut(path, "?")
	for _, r := range Reads {
		if r.Side == side && matchPath(r.Path, path) && (r.Token == token || r.Token == NoToken) {
			return r, true
		}
	}
	return Read{}, false
}

// matchPath matches a path against a pattern whose "+" segments match
// any one segment, and whose "*" segment matches one or more (a mount
// path).
func matchPath(pattern, path string) bool {
	return matchSegments(strings.Split(pattern, "/"), strings.Split(strings.TrimSuffix(path, "/"), "/"))
}

func matchSegments(ps, xs []string) bool {
	for i, p := range ps {
		if p == "*" {
			for n := 1; i+n <= len(xs); n++ {
				if matchSegments(ps[i+1:], xs[i+n:]) {
					return true
				}
			}
			return false
		}
		if i >= len(xs) || p != "+" && p != xs[i] {
			return false
		}
	}
	return len(ps) == len(xs)
}

// AreasOf are the areas a failed read leaves unchecked. A read not in
// Reads (a panic in a collector, say) leaves every area of its side
// unchecked: what doctor cannot place, it does not call ok.
func AreasOf(side, what string) []string {
	if side == "jwks" { // keys behind a JWT auth method's config
		return jwtAreas
	}
	if r, ok := ReadOf(side, what); ok {
		if r.Fallback {
			return nil
		}
		return r.Areas
	}
	return SideAreas(side)
}

// SideAreas are the areas resting on any read of a side.
func SideAreas(side string) []string {
	var out []string
	for _, r := range Reads {
		if r.Side == side {
			out = append(out, r.Areas...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tokenAreas are the areas resting on a side's reads with doctor's token.
func tokenAreas(side string) []string {
	var out []string
	for _, r := range Reads {
		if r.Side == side && r.Token == DoctorToken {
			out = append(out, r.Areas...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// VaultPolicy is the Vault policy a read-only doctor token needs: every
// grant of Reads. "+" matches any auth mount; narrow it to the JWT
// mounts to grant less.
func VaultPolicy() string {
	var b strings.Builder
	// Vault Enterprise: policies and auth mounts are read in each
	// namespace jobs and agents name, with the same token.
	b.WriteString("# nvlint doctor: read-only (Vault Enterprise: grant it in every namespace jobs and agent configs name too)\n")
	for _, r := range Reads {
		if r.Side != "vault" || r.Token != DoctorToken || r.Fallback {
			continue
		}
		if r.PolicyNote != "" {
			fmt.Fprintf(&b, "# %s\n", r.PolicyNote)
		}
		paths := r.Policy
		if paths == nil {
			paths = []string{r.Path}
		}
		for _, p := range paths {
			fmt.Fprintf(&b, "path %q {\n  capabilities = [%q]\n}\n", p, r.Grant)
		}
	}
	return b.String()
}

// NomadPolicy is the Nomad ACL policy a read-only doctor token needs.
func NomadPolicy() string {
	var b strings.Builder
	b.WriteString("# nvlint doctor: read-only\n")
	var caps []string
	seen := map[string]bool{}
	for _, r := range Reads {
		if r.Side != "nomad" || r.Token != DoctorToken || seen[r.Grant] {
			continue
		}
		if r.Grant == "management" {
			fmt.Fprintf(&b, "# %s needs a management token; without it the signing key forecast is not made\n", r.Path)
			continue
		}
		seen[r.Grant] = true
		scope, level, _ := strings.Cut(r.Grant, ":")
		if scope == "namespace" {
			caps = append(caps, level)
			continue
		}
		fmt.Fprintf(&b, "%s {\n  policy = %q\n}\n", scope, level)
	}
	if len(caps) > 0 {
		fmt.Fprintf(&b, "namespace \"*\" {\n  capabilities = [%s]\n}\n", quoteList(caps))
	}
	return b.String()
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// Policies is what --print-policy prints: the Vault policy and the Nomad
// ACL policy of a read-only doctor token, or the one of side ("vault",
// "nomad") alone, ready for `vault policy write` and `nomad acl policy
// apply`.
func Policies(side string) (string, error) {
	switch side {
	case "vault":
		return VaultPolicy(), nil
	case "nomad":
		return NomadPolicy(), nil
	case "":
		return "# Vault: vault policy write nvlint-doctor FILE\n" + VaultPolicy() +
			"\n# Nomad: nomad acl policy apply nvlint-doctor FILE\n" + NomadPolicy(), nil
	}
	return "", fmt.Errorf("no policy for %q: say vault or nomad", side)
}
