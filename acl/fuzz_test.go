package acl

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/nvlint/nvlint/internal/fuzzcrash"
)

var fuzzPolicySeeds = []string{
	nomadServerPolicy,
	nomadWorkloadsPolicy,
	"path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\npath \"secret/foo\" {\n  capabilities = [\"deny\"]\n}\n",
	"path \"secret/+/config\" { capabilities = [\"read\"] }\npath \"secret/app/*\" { capabilities = [\"deny\"] }\npath \"foo/+/+/baz\" { policy = \"write\" }\n",
	"path \"kv/{{identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id}}/*\" { capabilities = [\"read\"] }\npath \"/a/+*\" { capabilities = [\"read\"] }\n",
	`{"path": {"secret/*": {"capabilities": ["read"]}, "a/+": {"policy": "sudo"}}}`,
	`{"name": "x", "path": [{"a": {"capabilities": ["deny"]}}]}`,
	"name = \"ops\"\npath \"a\" \"b\" {}\npath {}\nfoo = 1\n",
	"path \"x\" {\n control_group {\n  factor \"a\" {}\n }\n min_wrapping_ttl = \"1h\"\n max_wrapping_ttl = 60\n}\n",
	"path \"a/{{time.now.plus.1h}}/{{identity.groups.names.devs.id}}\" { capabilities = [\"read\"] }\n",
	"path \"\\u00e9/\\\"q\\\"\" { capabilities = [\"read\"] }\n",
	"path \"a\" { capabilities = [\"${var.x}\"] }\n",
	"{",
	"path \"a\" {",
	"",
	// HCL 1 only, as Vault accepts it.
	"path \"a\" { capabilities = [\"read\"] } path \"b\" { \"capabilities\" = [\"list\",] }\r\n",
	"path \"a\" {\r\n  capabilities = [\"read\"],\r\n  allowed_parameters {\r\n    \"x\" = []\r\n  }\r\n}\r\n",
	"path \"a\" = {\n}\n",
	"path \"0\" {\ncapabilities = [0e\"]\n}\n",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzPolicySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := Parse(src, "fuzz.hcl")
		for _, d := range diags {
			if d == nil {
				t.Fatal("nil diagnostic")
			}
			// hcl's JSON parser points one byte past an unterminated string.
			if r := d.Subject; r != nil && (r.Start.Byte < 0 || r.Start.Byte > r.End.Byte || r.End.Byte > len(src)+1 || r.Start.Line < 1 || r.Start.Column < 1) {
				t.Fatalf("diagnostic %q has range %v outside the text (%d bytes)", d.Summary, r, len(src))
			}
		}
		if p == nil {
			if !diags.HasErrors() {
				t.Fatal("nil policy without an error")
			}
			return
		}
		for _, r := range p.Rules {
			if r == nil {
				t.Fatal("nil rule")
			}
			if r.CapRanges != nil && len(r.CapRanges) != len(r.Capabilities) {
				t.Fatalf("CapRanges %d vs Capabilities %d", len(r.CapRanges), len(r.Capabilities))
			}
			for _, prm := range TemplateParams(r.Path) {
				if prm.Start < 0 || prm.End > len(r.Path) || prm.Start >= prm.End {
					t.Fatalf("param offsets %d..%d in %q", prm.Start, prm.End, r.Path)
				}
			}
		}
		// Whatever parsed must evaluate without panicking.
		for _, path := range []string{"", "/", "secret/foo", "secret/foo/", "a/b/c"} {
			_ = Evaluate([]*Policy{p}, path, OpList, &Entity{ID: "e"})
			_ = Capabilities([]*Policy{p}, path, nil)
		}
	})
}

func FuzzEvaluate(f *testing.F) {
	type seed struct {
		a, b, path, op, meta string
	}
	seeds := []seed{
		{nomadServerPolicy, "", "auth/token/create/nomad-cluster", "update", ""},
		{nomadWorkloadsPolicy, rule("kv/metadata/*", "deny"), "kv/metadata/default/", "list", "default"},
		{rule("secret/*", "read") + rule("secret/foo*", "deny"), rule("secret/+/x", "update"), "secret/foo/x", "read", ""},
		{rule("foo/+/bar/+", "read") + rule("foo/+/+/baz", "deny"), rule("foo/+/bar/ba*", "list"), "foo/x/bar/baz", "list", ""},
		{rule("kv/metadata/*", "list"), rule("kv/metadata/private/*", "deny"), "kv/metadata/private/", "list", ""},
		{rule("secret/+{{identity.entity.metadata.k}}*", "read"), rule("*", "read"), "secret/+v", "read", ""},
		{rule("kv/{{identity.entity.metadata.k}}/*", "read"), rule("+", "deny"), "kv/x/y", "read", "x"},
		{rule("+/sys/policies/acl", "list"), rule("", "read"), "ns/sys/policies/acl", "list", "*"},
	}
	for _, s := range seeds {
		f.Add(s.a, s.b, s.path, s.op, s.meta)
	}
	f.Fuzz(func(t *testing.T, a, b, path, op, meta string) {
		pa, _ := Parse([]byte(a), "a.hcl")
		pb, _ := Parse([]byte(b), "b.hcl")
		if pa == nil || pb == nil {
			return // not a policy: Vault stores nothing
		}
		pa.Name, pb.Name = "a", "b"
		ps := []*Policy{pa, pb}
		ent := &Entity{
			ID: "e", Name: meta,
			Metadata: map[string]string{"k": meta},
			Aliases:  map[string]Alias{"auth_jwt_x": {Metadata: map[string]string{"nomad_job_id": meta, "nomad_namespace": meta}}},
		}
		for _, mode := range []ListMode{ListTrimmedFirst, ListFullOnly, ListCombined} {
			o := Options{List: mode}
			d := o.Evaluate(ps, path, Operation(op), ent)
			checkDecision(t, d, Operation(op))
			if allows := o.Prepare(ps, ent).Allows(path, Operation(op)); allows != d.Allowed {
				t.Fatalf("mode %d: Allows says %v, Evaluate:\n%s", mode, allows, dumpDecision(d))
			}
			reqPath := path
			if Operation(op) == OpList && !strings.HasSuffix(reqPath, "/") {
				reqPath += "/"
			}
			if d.Error == "" {
				want := referenceWinner(t, o, ps, requestPath(reqPath), Operation(op), ent)
				got := ""
				if d.Winner != nil {
					got = d.Winner.Kind + ":" + d.Winner.Path
				}
				if got != want {
					t.Fatalf("mode %d: winner %q, reference %q\n%s", mode, got, want, dumpDecision(d))
				}
			}
			caps := o.Capabilities(ps, path, ent)
			if len(caps) == 0 || !slices.IsSorted(caps) {
				t.Fatalf("capabilities %v", caps)
			}
		}
	})
}

func checkDecision(t *testing.T, d Decision, op Operation) {
	t.Helper()
	if len(d.Capabilities) == 0 {
		t.Fatal("empty capabilities")
	}
	if d.Winner != nil && (len(d.Candidates) == 0 || d.Candidates[0] != d.Winner) {
		t.Fatalf("winner is not the first candidate\n%s", dumpDecision(d))
	}
	if d.Allowed && op != OpHelp && (d.Winner == nil || !slices.Contains(d.Capabilities, capNameOf(opCap[op]))) {
		t.Fatalf("allowed without the capability\n%s", dumpDecision(d))
	}
	seen := map[string]bool{}
	for _, c := range d.Candidates {
		k := c.Kind + ":" + c.Path
		if seen[k] {
			t.Fatalf("duplicate candidate %s\n%s", k, dumpDecision(d))
		}
		seen[k] = true
	}
}

func capNameOf(b capBits) string {
	for n, bit := range capByName {
		if bit == b {
			return n
		}
	}
	return ""
}

// referenceWinner is a deliberately naive transcription of the lookup order
// in vault/acl.go (AllowOperation, CheckAllowedFromNonExactPaths and the
// 2026 LIST resolution), kept separate from the production bookkeeping.
func referenceWinner(t *testing.T, o Options, ps []*Policy, path string, op Operation, ent *Entity) string {
	t.Helper()
	exact, prefix, segment := map[string]bool{}, map[string]bool{}, map[string]capBits{}
	bits := map[string]capBits{}
	for _, p := range ps {
		for _, r := range p.Rules {
			if checkTemplating(r.Path) != nil {
				continue
			}
			fp := r.Path
			if r.Templated() {
				var ok bool
				if fp, ok, _ = o.Fill(fp, ent); !ok {
					continue
				}
			}
			fp = strings.TrimPrefix(fp, "/")
			if strings.Contains(fp, "+*") {
				continue
			}
			var k string
			switch {
			case fp == "+" || strings.Contains(fp, "/+") || strings.HasPrefix(fp, "+/"):
				k = "segment:" + fp
				segment[fp] = 0
			case strings.HasSuffix(fp, "*"):
				k = "prefix:" + strings.TrimSuffix(fp, "*")
				prefix[strings.TrimSuffix(fp, "*")] = true
			default:
				k = "exact:" + fp
				exact[fp] = true
			}
			b := bitsOf(r.Capabilities)
			if old, ok := bits[k]; ok {
				switch {
				case old&capDeny != 0:
					b = capDeny
				case b&capDeny != 0:
				default:
					b |= old
				}
			}
			bits[k] = b
		}
	}
	type d struct {
		key      string // kind:pattern as Match reports it
		first    int
		wc       int
		isPrefix bool
		wcPath   string
	}
	lowerRef := func(x, y d) bool {
		if x.first != y.first {
			return x.first < y.first
		}
		if x.isPrefix != y.isPrefix {
			return x.isPrefix
		}
		if x.wc != y.wc {
			return x.wc > y.wc
		}
		if len(x.wcPath) != len(y.wcPath) {
			return len(x.wcPath) < len(y.wcPath)
		}
		return x.wcPath < y.wcPath
	}
	candidates := func(p string) []d {
		var out []d
		best := -1
		for k := range prefix {
			if strings.HasPrefix(p, k) && len(k) > best {
				best = len(k)
				out = []d{{key: "prefix:" + k + "*", first: len(k), isPrefix: true, wcPath: k}}
			}
		}
		parts := strings.Split(p, "/")
	next:
		for full := range segment {
			x := d{key: "segment:" + full, first: strings.Index(full, "+")}
			cur := full
			if strings.HasSuffix(cur, "*") {
				x.isPrefix, cur = true, strings.TrimSuffix(cur, "*")
			}
			x.wcPath = cur
			sp := strings.Split(cur, "/")
			if len(parts) < len(sp) || (!x.isPrefix && len(sp) != len(parts)) {
				continue
			}
			for i, s := range sp {
				switch {
				case s == "+":
					x.wc++
				case s == parts[i]:
				case x.isPrefix && i == len(sp)-1 && strings.HasPrefix(parts[i], s):
				default:
					continue next
				}
			}
			out = append(out, x)
		}
		return out
	}
	bitsFor := func(key string) capBits {
		kind, pat, _ := strings.Cut(key, ":")
		if kind == "prefix" {
			pat = strings.TrimSuffix(pat, "*")
		}
		return bits[kind+":"+pat]
	}
	best := func(ds []d) string {
		if len(ds) == 0 {
			return ""
		}
		sort.Slice(ds, func(i, j int) bool { return lowerRef(ds[i], ds[j]) })
		return ds[len(ds)-1].key
	}
	if exact[path] {
		return "exact:" + path
	}
	if op == OpList && exact[strings.TrimSuffix(path, "/")] {
		return "exact:" + strings.TrimSuffix(path, "/")
	}
	if op == OpList && strings.HasSuffix(path, "/") {
		tr := candidates(strings.TrimSuffix(path, "/"))
		switch o.List {
		case ListTrimmedFirst:
			if w := best(tr); w != "" {
				return w
			}
		case ListCombined:
			all := slices.Concat(tr, candidates(path))
			if len(all) == 0 {
				return ""
			}
			var deny, list *d
			for i := range all {
				c := &all[i]
				b := bitsFor(c.key)
				if b&capDeny != 0 && (deny == nil || lowerRef(*deny, *c)) {
					deny = c
				}
				if b&capList != 0 && (list == nil || lowerRef(*list, *c)) {
					list = c
				}
			}
			if deny != nil && (list == nil || lowerRef(*list, *deny)) {
				return deny.key
			}
			if list != nil {
				return list.key
			}
			return best(all)
		}
	}
	return best(candidates(path))
}

// FuzzPrepared checks the ACL built once for many requests (Prepare)
// against a fresh evaluation, and that an ACL reused for another entity
// (Prepared.For says it may be) answers as one built for it.
func FuzzPrepared(f *testing.F) {
	for _, s := range []struct{ a, b, path, op, m1, m2 string }{
		{nomadWorkloadsPolicy, nomadServerPolicy, "kv/data/default/web/config", "read", "web", "web"},
		{nomadWorkloadsPolicy, rule("kv/data/*", "deny"), "kv/data/default/web/config", "read", "web", "api"},
		{rule("kv/{{identity.entity.metadata.k}}/*", "read"), rule("kv/x/*", "deny"), "kv/x/y", "read", "x", "y"},
		{rule("a/{{identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id}}", "list"), rule("a/+*", "read"), "a/", "list", "", "*"},
		{rule("root", "sudo"), "", "sys/mounts", "update", "x", "x"},
		{rule("kv/{{identity.entity.metadata.k}}", "read") + rule("kv/x", "list") + rule("a/+*", "read"), rule("kv/x", "update") + rule("kv/{{identity.entity.metadata.k}}", "create"), "kv/x", "read", "x", "y"},
		{rule("b/+*", "read") + rule("a/+{{identity.entity.metadata.k}}*", "read") + rule("c/+*", "read"), rule("a/{{identity.entity.metadata.k}}", "read"), "a/b", "read", "", "b"},
	} {
		f.Add(s.a, s.b, s.path, s.op, s.m1, s.m2)
	}
	f.Fuzz(func(t *testing.T, a, b, path, op, m1, m2 string) {
		pa, _ := Parse([]byte(a), "a.hcl")
		pb, _ := Parse([]byte(b), "b.hcl")
		if pa == nil || pb == nil {
			return // not a policy: Vault stores nothing
		}
		pa.Name, pb.Name = "a", "b"
		ps := []*Policy{pa, pb}
		entity := func(m string) *Entity {
			return &Entity{
				ID: "e", Name: m, Metadata: map[string]string{"k": m},
				Aliases: map[string]Alias{"auth_jwt_x": {Metadata: map[string]string{"nomad_job_id": m, "nomad_namespace": "ns"}}},
			}
		}
		e1, e2 := entity(m1), entity(m2)
		o := Options{Now: time.Unix(1700000000, 0)}
		p1 := o.Prepare(ps, e1)
		if !p1.For(ps, e1) && p1.d.Error == "" {
			t.Fatal("an ACL is not for the entity it was built for")
		}
		for _, e := range []*Entity{e1, e2} {
			if e == e2 && !p1.For(ps, e2) {
				continue
			}
			got := p1.Evaluate(path, Operation(op))
			want := o.Evaluate(ps, path, Operation(op), e)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("prepared (for %q) and fresh (%q) differ:\n%s\n---\n%s", m1, e.Name, dumpDecision(got), dumpDecision(want))
			}
			if allows := p1.Allows(path, Operation(op)); allows != got.Allowed {
				t.Fatalf("Allows (for %q) says %v, Evaluate:\n%s", m1, allows, dumpDecision(got))
			}
		}
		// The ACL layered over the set's fixed rules answers as one built
		// whole, for any entity, and is for that entity.
		set := o.Compile(ps)
		for _, e := range []*Entity{e1, e2} {
			p := set.Prepare(e)
			got := p.Evaluate(path, Operation(op))
			want := o.Evaluate(ps, path, Operation(op), e)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("prepared on the set (for %q) and fresh differ:\n%s\n---\n%s", e.Name, dumpDecision(got), dumpDecision(want))
			}
			if allows := p.Allows(path, Operation(op)); allows != got.Allowed {
				t.Fatalf("Allows on the set (for %q) says %v, Evaluate:\n%s", e.Name, allows, dumpDecision(got))
			}
			if got, want := p.Capabilities(path), o.Capabilities(ps, path, e); !slices.Equal(got, want) {
				t.Fatalf("capabilities on the set (for %q): %v, fresh %v", e.Name, got, want)
			}
			if want.Error == "" && !p.For(ps, e) {
				t.Fatal("an ACL prepared on the set is not for the entity it was built for")
			}
		}
		if p1.For([]*Policy{pb, pa}, e1) && len(pa.Rules)+len(pb.Rules) > 0 {
			t.Fatal("an ACL is for other policies")
		}
	})
}
