package access

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// The one evaluation of a task's Vault calls: lint (NV411), access and
// doctor (NV661) all ask Token.Read, so they cannot disagree on a read.

// Read is one Vault call of a task's template and whether its token may
// make it.
type Read struct {
	Call templates.Access
	// Op and Capability are what Vault checks: read, list or update.
	Op         acl.Operation
	Capability string
	// Path is the path Vault receives: the call's, normalised as
	// consul-template does and, on a KV version 2 mount, rewritten under
	// data/ (metadata/ for a list). It is the call's own path while the
	// mount's KV version is not known.
	Path string
	// KV is what is known of the KV version of the mount.
	KV KV
	// Public is set when Vault serves the path without a token.
	Public string
	Answer
}

// Rewritten reports whether consul-template sends the call to another
// path than the one written in the template.
func (r Read) Rewritten() bool {
	return !r.Call.Dynamic && r.Path != templates.KVv2Path(r.Call.Path, "", r.Call.Op)
}

// Verb is the template's verb for the call: read, list or write.
func (r Read) Verb() string {
	switch r.Call.Op {
	case templates.OpList:
		return "list"
	case templates.OpWrite:
		return "write"
	}
	return "read"
}

// CallFromEvent is the template call a task event names: consul-template
// spells a waiting call vault.read(path), vault.list(path) or
// vault.write(path -> hash), with the path as the template wrote it.
func CallFromEvent(op, path string) templates.Access {
	path, _, _ = strings.Cut(path, " -> ")
	a := templates.Access{Func: "secret", Op: templates.OpRead, Path: strings.TrimSpace(path)}
	switch op {
	case "list":
		a.Func, a.Op = "secrets", templates.OpList
	case "write":
		a.Op = templates.OpWrite
	}
	return a
}

// Read decides whether the token may make a template's Vault call.
func (t Token) Read(w *world.World, a templates.Access) Read {
	return t.read(w, a, t.Can)
}

// allowed is whether the token may make the call, as Read(w, a).Allowed,
// but without explaining the decision: Can's answer in full only where
// it does not allow.
func (t Token) allowed(w *world.World, a templates.Access) bool {
	return t.read(w, a, t.canQuickly).Allowed
}

func (t Token) read(w *world.World, a templates.Access, can func(string, acl.Operation) Answer) Read {
	r := Read{Call: a, Op: acl.OpRead, Capability: "read"}
	switch a.Op {
	case templates.OpList:
		r.Op, r.Capability = acl.OpList, "list"
	case templates.OpWrite:
		r.Op, r.Capability = acl.OpUpdate, "update"
	}
	if a.Dynamic {
		r.Path = a.Prefix + "..."
		r.Answer = Answer{Why: fmt.Sprintf("the path is built at render time (prefix %q)", a.Prefix)}
		if a.Prefix == "" {
			r.Why = "the path is not known offline (a variable or expression nvlint cannot resolve)"
		}
		return r
	}
	literal := templates.KVv2Path(a.Path, "", a.Op)
	r.Path = literal
	if a.Op == templates.OpRead {
		// A PKI mount is no KV mount: consul-template reads it as written.
		if mount, pattern, ok := PublicPath(w, literal); ok {
			r.Public = fmt.Sprintf("Vault serves %s/%s of PKI mount %s without a token", mount, pattern, mount)
			r.Answer = Answer{Decision: acl.Decision{Allowed: true}, Known: true, Why: r.Public}
			if t.Refused != "" {
				// The template still needs a token to start rendering.
				r.Answer = can(literal, r.Op)
			}
			return r
		}
	}
	r.KV = KVIn(w, t.Place(), literal)
	if a.Func == "pkiCert" || r.KV.Version == KVNotV2 {
		r.Answer = can(literal, r.Op)
		return r
	}
	v2 := templates.KVv2Path(a.Path, r.KV.Mount, a.Op)
	if r.KV.Version == KVV2 || v2 == literal {
		r.Path = v2
		r.Answer = can(v2, r.Op)
		return r
	}
	// Unknown version: consul-template asks Vault. Where both readings
	// agree that is the answer; where they differ, nvlint cannot tell.
	asV1, asV2 := can(literal, r.Op), can(v2, r.Op)
	if asV1.Known && asV2.Known && asV1.Allowed == asV2.Allowed {
		r.Answer = asV1
		return r
	}
	r.Answer = Answer{Decision: asV1.Decision, Why: fmt.Sprintf(
		"whether mount %s is KV version 2 is not known offline (consul-template asks Vault, sys/internal/ui/mounts): on version 2 the template reads %s, which is %s, else %s, which is %s; "+
			"declare the mount (a Terraform vault_mount with options.version) or grant the path the mount's version reads",
		r.KV.Mount, v2, verdict(asV2), literal, verdict(asV1))}
	return r
}

func verdict(a Answer) string {
	switch {
	case !a.Known:
		return "unknown"
	case a.Allowed:
		return "allowed"
	}
	return "denied"
}

// KV versions of a mount, as far as the inputs tell.
const (
	KVUnknown = 0
	KVNotV2   = 1 // KV version 1, or no KV mount at all: read as written
	KVV2      = 2
)

// KV is what the inputs say of the mount a path lies on.
type KV struct {
	// Mount is the mount path: the one the evidence names, else the
	// path's first element.
	Mount   string
	Version int
	// Why is the evidence.
	Why string
}

// KVOf infers the KV version of the mount path lies on. consul-template
// decides from Vault's sys/internal/ui/mounts/<path> (a kv mount with
// options.version "2" is version 2, anything else is read as written);
// the evidence is, strongest first: Vault's own mount table (doctor), a
// declared mount (Terraform vault_mount, vault_kv_secret_backend_v2), the
// shape the templates read their secrets in (.Data.data.key or
// .Data.key), then policies, whose data/ and
// metadata/ paths exist only on version 2 and whose other paths on the
// mount are what a version 1 mount (or another engine) is read with.
func KVOf(w *world.World, path string) KV {
	return KVIn(w, world.Place{}, path)
}

// KVIn is KVOf for a read in place at: Vault's mount table is that of its
// Vault cluster (the default one when at does not say).
func KVIn(w *world.World, at world.Place, path string) KV {
	cluster := world.DefaultCluster
	if at.Cluster.IsKnown() {
		cluster = at.Cluster.V
	}
	ev := world.Derived(w, kvEvidenceKey{cluster}, func(w *world.World) map[string]KV { return kvEvidence(w, cluster) })
	// The path and each of its prefixes ending before a "/", longest
	// first, without building them.
	p := strings.Trim(path, "/")
	for end := len(p); end >= 0; end = strings.LastIndexByte(p[:end], '/') {
		if kv, ok := ev[p[:end]]; ok {
			return kv
		}
	}
	first, _, _ := strings.Cut(p, "/")
	return KV{Mount: first, Why: "no mount or policy in the inputs says what " + first + " is"}
}

// kvEvidenceKey names the KV version of each mount of a Vault cluster.
type kvEvidenceKey struct{ cluster string }

func kvEvidence(w *world.World, cluster string) map[string]KV {
	out := map[string]KV{}
	if v := w.Live.VaultOf(cluster); v != nil {
		// What Vault says it has beats any declaration.
		for _, m := range v.EngineMounts {
			kv := KV{Mount: m.Path, Version: KVNotV2, Why: fmt.Sprintf("Vault has mount %s of type %s", m.Path, m.Type)}
			if m.Type == "kv" && m.Version == "2" {
				kv.Version, kv.Why = KVV2, fmt.Sprintf("Vault has mount %s as KV version 2", m.Path)
			}
			out[m.Path] = kv
		}
	}
	for _, m := range w.SecretMounts {
		kv := KV{Mount: m.Path, Version: KVNotV2}
		switch m.KVVersion() {
		case 2:
			kv.Version, kv.Why = KVV2, fmt.Sprintf("%s declares mount %s as KV version 2", where(m.Meta), m.Path)
		case 1:
			kv.Why = fmt.Sprintf("%s declares mount %s as KV version 1", where(m.Meta), m.Path)
		default:
			if !m.Type.IsKnown() || (m.Type.V == "kv" && !m.Version.IsKnown()) {
				kv.Version, kv.Why = KVUnknown, fmt.Sprintf("%s declares mount %s without a literal type and version", where(m.Meta), m.Path)
			} else {
				kv.Why = fmt.Sprintf("%s declares mount %s as a %s engine", where(m.Meta), m.Path, m.Type.V)
			}
		}
		if _, live := out[m.Path]; !live {
			out[m.Path] = kv
		}
	}
	for m, why := range templateKV(w) {
		if _, known := out[m]; !known {
			out[m] = why
		}
	}
	v2 := map[string]string{}
	other := map[string]string{}
	for _, pol := range w.Policies {
		if pol.ACL == nil {
			continue
		}
		for _, r := range pol.ACL.Rules {
			elems := strings.SplitN(strings.TrimPrefix(r.Path, "/"), "/", 3)
			mount := elems[0]
			if mount == "" || strings.ContainsAny(mount, "*+{") {
				continue
			}
			if len(elems) >= 2 && (elems[1] == "data" || elems[1] == "metadata") {
				if _, seen := v2[mount]; !seen {
					v2[mount] = fmt.Sprintf("policy %s grants %q, a KV version 2 path", pol.Name(), r.Path)
				}
				continue
			}
			if _, seen := other[mount]; !seen && len(elems) >= 2 && !strings.ContainsAny(elems[1], "*+{") {
				other[mount] = fmt.Sprintf("policy %s grants %q and no policy a data/ or metadata/ path on %s: read as KV version 1 or another engine", pol.Name(), r.Path, mount)
			}
		}
	}
	for _, m := range sortedKeys(v2) {
		if _, declared := out[m]; !declared {
			out[m] = KV{Mount: m, Version: KVV2, Why: v2[m]}
		}
	}
	for _, m := range sortedKeys(other) {
		if _, known := out[m]; !known {
			out[m] = KV{Mount: m, Version: KVNotV2, Why: other[m]}
		}
	}
	return out
}

func where(m world.Meta) string {
	if m.Resource != nil {
		return m.Resource.Address()
	}
	if m.File != nil {
		return m.File.Path
	}
	return "Vault"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dataField finds what a template does with a secret: .Data.data.<key>
// is a KV version 2 secret's value, .Data.<key> a version 1 secret's (or
// another engine's).
var dataField = regexp.MustCompile(`\.Data\.([A-Za-z_][A-Za-z0-9_]*)`)

// templateKV is the KV version the templates' own use of their secrets
// implies, per mount: the text a call's with block (or pipeline) reads,
// up to the next {{ end }} or Vault call. Mounts the templates disagree
// on are left out.
func templateKV(w *world.World) map[string]KV {
	votes := map[string]map[int]string{}
	for _, j := range w.Jobs {
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				for _, tpl := range t.Templates {
					if !tpl.Data.Known {
						continue
					}
					calls, err := tpl.VaultCalls()
					if err != nil {
						continue
					}
					for i, a := range calls {
						if a.Op != templates.OpRead || a.Dynamic || a.Func != "secret" {
							continue
						}
						end := len(tpl.Data.V)
						if i+1 < len(calls) {
							end = calls[i+1].Offset
						}
						body := tpl.Data.V[min(a.EndOffset, end):end]
						if k := strings.Index(body, "end"); k >= 0 {
							body = body[:k]
						}
						m := dataField.FindStringSubmatch(body)
						if m == nil {
							continue
						}
						p := templates.KVv2Path(a.Path, "", a.Op)
						mount, _, _ := strings.Cut(p, "/")
						version := KVNotV2
						if m[1] == "data" || m[1] == "metadata" {
							version = KVV2
						}
						if votes[mount] == nil {
							votes[mount] = map[int]string{}
						}
						if _, seen := votes[mount][version]; !seen {
							votes[mount][version] = fmt.Sprintf("job %s reads %s as %s", j.Ref.Name, a.Path, strings.TrimPrefix(m[0], "."))
						}
					}
				}
			}
		}
	}
	out := map[string]KV{}
	for mount, vs := range votes {
		if len(vs) != 1 {
			continue
		}
		for v, why := range vs {
			kind := "a KV version 1 secret or another engine's"
			if v == KVV2 {
				kind = "a KV version 2 secret"
			}
			out[mount] = KV{Mount: mount, Version: v, Why: why + ", the shape of " + kind}
		}
	}
	return out
}
