package acl

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// pol is a named policy source for table tests.
type pol struct{ name, src string }

// rule builds a one-path policy source.
func rule(path string, caps ...string) string {
	q := make([]string, len(caps))
	for i, c := range caps {
		q[i] = fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("path %q {\n  capabilities = [%s]\n}\n", path, strings.Join(q, ", "))
}

func policies(t testing.TB, ps ...pol) []*Policy {
	t.Helper()
	out := make([]*Policy, len(ps))
	for i, p := range ps {
		out[i] = mustParse(t, p.name, p.src)
	}
	return out
}

// one puts every rule into a single policy named "p".
func one(rules ...string) []pol { return []pol{{"p", strings.Join(rules, "")}} }

type evalCase struct {
	name    string
	pols    []pol
	path    string
	op      Operation
	opts    Options
	allowed bool
	winner  string   // winning pattern; "" = nothing matched
	kind    string   // winner kind, checked when set
	caps    []string // Decision.Capabilities, checked when set
	why     string   // substring of Winner.Why, checked when set
}

func runEval(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			op := tc.op
			if op == "" {
				op = OpRead
			}
			d := tc.opts.Evaluate(policies(t, tc.pols...), tc.path, op, nil)
			if d.Error != "" {
				t.Fatalf("error: %s", d.Error)
			}
			got := ""
			if d.Winner != nil {
				got = d.Winner.Path
			}
			if d.Allowed != tc.allowed || got != tc.winner {
				t.Fatalf("%s %q: allowed=%v winner=%q, want allowed=%v winner=%q\n%s", op, tc.path, d.Allowed, got, tc.allowed, tc.winner, dumpDecision(d))
			}
			if tc.kind != "" && d.Winner.Kind != tc.kind {
				t.Errorf("kind = %q, want %q", d.Winner.Kind, tc.kind)
			}
			if tc.caps != nil && !slices.Equal(d.Capabilities, tc.caps) {
				t.Errorf("caps = %v, want %v", d.Capabilities, tc.caps)
			}
			if tc.why != "" && !strings.Contains(d.Winner.Why, tc.why) {
				t.Errorf("why = %q, want %q", d.Winner.Why, tc.why)
			}
			if tc.winner == "" && !slices.Equal(d.Capabilities, []string{"deny"}) {
				t.Errorf("no match should report deny, got %v", d.Capabilities)
			}
			if tc.winner != "" && d.Candidates[0] != d.Winner {
				t.Errorf("winner is not the first candidate\n%s", dumpDecision(d))
			}
		})
	}
}

func dumpDecision(d Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  allowed=%v caps=%v error=%q\n", d.Allowed, d.Capabilities, d.Error)
	for _, c := range d.Candidates {
		fmt.Fprintf(&b, "  cand %-8s %-30q caps=%v query=%q why=%q\n", c.Kind, c.Path, c.Capabilities, c.Query, c.Why)
	}
	for _, x := range d.Dropped {
		fmt.Fprintf(&b, "  dropped %s %q: %s\n", x.Policy, x.Rule.Path, x.Reason)
	}
	return b.String()
}

func TestEvaluateExact(t *testing.T) {
	runEval(t, []evalCase{
		{name: "exact grants", pols: one(rule("secret/foo", "read")), path: "secret/foo",
			allowed: true, winner: "secret/foo", kind: "exact", caps: []string{"read"}, why: "exact match wins outright"},
		{name: "exact wins outright without granting", pols: one(rule("secret/foo", "list"), rule("secret/*", "read")), path: "secret/foo",
			allowed: false, winner: "secret/foo", caps: []string{"list"}},
		{name: "exact deny beats prefix grant", pols: one(rule("secret/foo", "deny"), rule("secret/*", "read")), path: "secret/foo",
			allowed: false, winner: "secret/foo", caps: []string{"deny"}},
		{name: "prefix deny does not override exact grant", pols: []pol{{"a", rule("secret/*", "deny")}, {"b", rule("secret/foo", "read")}}, path: "secret/foo",
			allowed: true, winner: "secret/foo"},
		{name: "exact rule without capabilities still wins", pols: one("path \"secret/foo\" {}\n", rule("secret/*", "read")), path: "secret/foo",
			allowed: false, winner: "secret/foo", caps: []string{"deny"}},
		{name: "exact beats segment", pols: one(rule("secret/+", "read"), rule("secret/foo", "update")), path: "secret/foo",
			allowed: false, winner: "secret/foo"},
		{name: "no match is deny", pols: one(rule("secret/foo", "read")), path: "secret/bar", winner: ""},
		{name: "exact is not a prefix", pols: one(rule("secret/foo", "read")), path: "secret/foo/bar", winner: ""},
		{name: "literal * in the middle is exact", pols: one(rule("secret/*/foo", "read")), path: "secret/x/foo", winner: ""},
		{name: "literal * in the middle matches itself", pols: one(rule("secret/*/foo", "read")), path: "secret/*/foo",
			allowed: true, winner: "secret/*/foo", kind: "exact"},
		{name: "leading slash on rule is stripped", pols: one(rule("/secret/foo", "read")), path: "secret/foo",
			allowed: true, winner: "secret/foo"},
		{name: "leading slashes on request are stripped", pols: one(rule("/secret/foo", "read")), path: "///secret/foo",
			allowed: true, winner: "secret/foo"},
		{name: "only one leading slash is stripped from a rule", pols: one(rule("//secret/foo", "read")), path: "/secret/foo", winner: ""},
	})
}

func TestEvaluatePrefix(t *testing.T) {
	runEval(t, []evalCase{
		{name: "prefix grants", pols: one(rule("secret/*", "read")), path: "secret/a/b",
			allowed: true, winner: "secret/*", kind: "prefix", why: "only matching prefix rule"},
		{name: "prefix matches empty remainder", pols: one(rule("secret/*", "read")), path: "secret/",
			allowed: true, winner: "secret/*"},
		{name: "prefix needs its slash", pols: one(rule("secret/*", "read")), path: "secret", winner: ""},
		{name: "prefix without slash matches siblings", pols: one(rule("secret*", "read")), path: "secrets/x",
			allowed: true, winner: "secret*"},
		{name: "star alone matches everything", pols: one(rule("*", "read")), path: "any/thing",
			allowed: true, winner: "*"},
		{name: "longest prefix wins", pols: one(rule("secret/*", "read"), rule("secret/foo*", "deny")), path: "secret/foobar",
			allowed: false, winner: "secret/foo*", why: "longest prefix"},
		{name: "shorter prefix when longer does not match", pols: one(rule("secret/*", "read"), rule("secret/foo*", "deny")), path: "secret/fo",
			allowed: true, winner: "secret/*"},
		{name: "no fallthrough to a shorter prefix", pols: one(rule("secret/*", "read"), rule("secret/app/*", "list")), path: "secret/app/x",
			allowed: false, winner: "secret/app/*"},
		{name: "literal * inside a prefix", pols: one(rule("secret/*/foo*", "read")), path: "secret/*/foobar",
			allowed: true, winner: "secret/*/foo*", kind: "prefix"},
		{name: "literal * inside a prefix is not a glob", pols: one(rule("secret/*/foo*", "read")), path: "secret/a/foobar", winner: ""},
		{name: "plus inside a word is literal in a prefix", pols: one(rule("a+b/*", "read")), path: "a+b/c",
			allowed: true, winner: "a+b/*", kind: "prefix"},
		{name: "unrelated segment rules do not disturb prefix", pols: one(rule("secret/*", "read"), rule("other/+/x", "deny")), path: "secret/a",
			allowed: true, winner: "secret/*"},
	})
}

func TestEvaluateSegments(t *testing.T) {
	runEval(t, []evalCase{
		{name: "plus matches one segment", pols: one(rule("secret/+/config", "read")), path: "secret/app/config",
			allowed: true, winner: "secret/+/config", kind: "segment"},
		{name: "plus does not match two segments", pols: one(rule("secret/+/config", "read")), path: "secret/a/b/config", winner: ""},
		{name: "plus does not match zero segments", pols: one(rule("secret/+/config", "read")), path: "secret/config", winner: ""},
		{name: "plus matches an empty segment", pols: one(rule("secret/+/config", "read")), path: "secret//config",
			allowed: true, winner: "secret/+/config"},
		{name: "leading plus", pols: one(rule("+/sys/policies/acl", "read")), path: "ns1/sys/policies/acl",
			allowed: true, winner: "+/sys/policies/acl"},
		{name: "plus alone", pols: one(rule("+", "read")), path: "sys", allowed: true, winner: "+"},
		{name: "plus alone is one segment", pols: one(rule("+", "read")), path: "sys/x", winner: ""},
		{name: "plus with trailing glob", pols: one(rule("secret/+/conf*", "read")), path: "secret/a/config",
			allowed: true, winner: "secret/+/conf*", kind: "segment"},
		{name: "plus with trailing glob spans segments", pols: one(rule("secret/+/conf*", "read")), path: "secret/a/conf/x/y",
			allowed: true, winner: "secret/+/conf*"},
		{name: "plus with trailing glob keeps segment count before it", pols: one(rule("secret/+/conf*", "read")), path: "secret/a/b/config", winner: ""},
		{name: "plus slash star needs the slash", pols: one(rule("secret/+/*", "read")), path: "secret/a", winner: ""},
		{name: "plus slash star", pols: one(rule("secret/+/*", "read")), path: "secret/a/b/c",
			allowed: true, winner: "secret/+/*"},
		{name: "plus-word is literal", pols: one(rule("secret/+x", "read")), path: "secret/+x",
			allowed: true, winner: "secret/+x", kind: "segment"},
		{name: "plus-word does not match other words", pols: one(rule("secret/+x", "read")), path: "secret/ax", winner: ""},
		{name: "plus-word beats glob at the same position", pols: one(rule("secret/+x", "read"), rule("secret/*", "deny")), path: "secret/+x",
			allowed: true, winner: "secret/+x", why: "non-prefix beats trailing *"},
	})
}

func TestEvaluatePrecedence(t *testing.T) {
	runEval(t, []evalCase{
		{name: "later first wildcard: prefix beats earlier plus", pols: one(rule("secret/+/config", "read"), rule("secret/app/*", "deny")), path: "secret/app/config",
			allowed: false, winner: "secret/app/*", why: "later first wildcard position"},
		{name: "later first wildcard: plus beats earlier glob", pols: one(rule("secret/app/+", "read"), rule("secret/*", "deny")), path: "secret/app/x",
			allowed: true, winner: "secret/app/+", why: "later first wildcard position"},
		{name: "later first wildcard between plus rules", pols: one(rule("foo/+/bar/baz", "deny"), rule("foo/bar/+/baz", "read")), path: "foo/bar/bar/baz",
			allowed: true, winner: "foo/bar/+/baz", why: "later first wildcard position"},
		{name: "prefix glob beats plus when the glob comes later", pols: one(rule("foo/+", "deny"), rule("foo/a*", "read")), path: "foo/ab",
			allowed: true, winner: "foo/a*", why: "later first wildcard position"},
		{name: "non-prefix beats trailing glob: foo/+ over foo/*", pols: one(rule("foo/+", "read"), rule("foo/*", "deny")), path: "foo/bar",
			allowed: true, winner: "foo/+", why: "non-prefix beats trailing *"},
		{name: "glob still wins where plus does not match", pols: one(rule("foo/+", "read"), rule("foo/*", "deny")), path: "foo/bar/baz",
			allowed: false, winner: "foo/*"},
		{name: "non-prefix beats trailing glob among plus rules", pols: one(rule("foo/+/bar", "read"), rule("foo/+/ba*", "deny")), path: "foo/x/bar",
			allowed: true, winner: "foo/+/bar", why: "non-prefix beats trailing *"},
		{name: "plus glob where the exact plus rule does not match", pols: one(rule("foo/+/bar", "read"), rule("foo/+/ba*", "deny")), path: "foo/x/baz",
			allowed: false, winner: "foo/+/ba*"},
		{name: "fewer plus segments", pols: one(rule("foo/+/+/baz", "deny"), rule("foo/+/bar/baz", "read")), path: "foo/x/bar/baz",
			allowed: true, winner: "foo/+/bar/baz", why: "fewer + segments"},
		{name: "longer path among plus globs", pols: one(rule("foo/+/bar/b*", "deny"), rule("foo/+/bar/ba*", "read")), path: "foo/x/bar/baz",
			allowed: true, winner: "foo/+/bar/ba*", why: "longer path"},
		{name: "longer path among plus rules", pols: one(rule("foo/+/+/baz", "deny"), rule("foo/+/barr/+", "read")), path: "foo/x/barr/baz",
			allowed: true, winner: "foo/+/barr/+", why: "longer path"},
		{name: "lexicographically larger", pols: one(rule("foo/+/+/baz", "deny"), rule("foo/+/bar/+", "read")), path: "foo/x/bar/baz",
			allowed: true, winner: "foo/+/bar/+", why: "lexicographically larger path"},
		{name: "lexicographically larger regardless of order", pols: one(rule("foo/+/bar/+", "read"), rule("foo/+/+/baz", "deny")), path: "foo/x/bar/baz",
			allowed: true, winner: "foo/+/bar/+", why: "lexicographically larger path"},
		{name: "only the winner's capabilities count", pols: one(rule("secret/+/x", "read"), rule("secret/a/*", "list")), path: "secret/a/x",
			allowed: false, winner: "secret/a/*", caps: []string{"list"}},
		{name: "longest prefix against plus rules", pols: one(rule("a/*", "deny"), rule("a/b/*", "read"), rule("a/+/c", "deny")), path: "a/b/c",
			allowed: true, winner: "a/b/*", why: "later first wildcard position"},
	})
}

func TestEvaluateMerge(t *testing.T) {
	runEval(t, []evalCase{
		{name: "identical paths OR capabilities", pols: []pol{{"a", rule("secret/*", "read")}, {"b", rule("secret/*", "list")}}, path: "secret/x",
			allowed: true, winner: "secret/*", caps: []string{"list", "read"}},
		{name: "deny merged after grant", pols: []pol{{"a", rule("secret/*", "read")}, {"b", rule("secret/*", "deny")}}, path: "secret/x",
			allowed: false, winner: "secret/*", caps: []string{"deny"}},
		{name: "deny merged before grant", pols: []pol{{"a", rule("secret/*", "deny")}, {"b", rule("secret/*", "read")}}, path: "secret/x",
			allowed: false, winner: "secret/*", caps: []string{"deny"}},
		{name: "exact and prefix do not merge", pols: []pol{{"a", rule("secret/foo", "read")}, {"b", rule("secret/foo*", "deny")}}, path: "secret/foo",
			allowed: true, winner: "secret/foo"},
		{name: "exact and prefix do not merge (prefix side)", pols: []pol{{"a", rule("secret/foo", "read")}, {"b", rule("secret/foo*", "deny")}}, path: "secret/foob",
			allowed: false, winner: "secret/foo*"},
		{name: "trailing-slash exact is not the glob", pols: one(rule("secret/", "deny"), rule("secret/*", "read")), path: "secret/",
			allowed: false, winner: "secret/"},
		{name: "segment rules merge", pols: []pol{{"a", rule("a/+/b", "read")}, {"b", rule("a/+/b", "update")}}, path: "a/x/b",
			allowed: true, winner: "a/+/b", caps: []string{"read", "update"}},
		{name: "segment deny merge", pols: []pol{{"a", rule("a/+/b", "read")}, {"b", rule("a/+/b", "deny")}}, path: "a/x/b",
			allowed: false, winner: "a/+/b", caps: []string{"deny"}},
		{name: "leading slash variants merge", pols: []pol{{"a", rule("/secret/*", "read")}, {"b", rule("secret/*", "update")}}, path: "secret/x",
			allowed: true, winner: "secret/*", caps: []string{"read", "update"}},
		{name: "legacy policy merges", pols: []pol{{"a", "path \"secret/*\" { policy = \"read\" }\n"}, {"b", rule("secret/*", "update")}}, path: "secret/x",
			allowed: true, winner: "secret/*", caps: []string{"list", "read", "update"}},
		{name: "same policy duplicate blocks merge", pols: one(rule("secret/*", "read"), rule("secret/*", "create")), path: "secret/x",
			allowed: true, winner: "secret/*", caps: []string{"create", "read"}},
		{name: "legacy write", pols: one("path \"secret/*\" { policy = \"write\" }\n"), path: "secret/x", op: OpDelete,
			allowed: true, winner: "secret/*", caps: []string{"create", "delete", "list", "read", "update"}},
		{name: "legacy sudo", pols: one("path \"sys/raw/*\" { policy = \"sudo\" }\n"), path: "sys/raw/x", op: OpUpdate,
			allowed: true, winner: "sys/raw/*", caps: []string{"create", "delete", "list", "read", "sudo", "update"}},
		{name: "legacy deny", pols: []pol{{"a", "path \"secret/*\" { policy = \"deny\" }\n"}, {"b", rule("secret/*", "read")}}, path: "secret/x",
			allowed: false, winner: "secret/*", caps: []string{"deny"}},
	})
}

func TestEvaluateEmptyPathRule(t *testing.T) {
	// "/" is stored as "", which only the bare request path matches.
	ps := policies(t, pol{"p", rule("/", "read")})
	d := Evaluate(ps, "/", OpRead, nil)
	if !d.Allowed || d.Winner == nil || d.Winner.Path != "" || d.Winner.Kind != "exact" {
		t.Fatalf("%s", dumpDecision(d))
	}
	if d := Evaluate(ps, "a", OpRead, nil); d.Winner != nil {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateMergeSources(t *testing.T) {
	ps := policies(t, pol{"a", rule("secret/*", "read")}, pol{"b", rule("other/*", "read")}, pol{"c", rule("secret/*", "deny")})
	d := Evaluate(ps, "secret/x", OpRead, nil)
	if d.Winner == nil || len(d.Winner.Sources) != 2 || d.Winner.Sources[0].Policy != "a" || d.Winner.Sources[1].Policy != "c" {
		t.Fatalf("sources: %s", dumpDecision(d))
	}
	if d.Winner.Sources[1].Rule != ps[2].Rules[0] {
		t.Error("source rule pointer mismatch")
	}
}

func TestEvaluateOperations(t *testing.T) {
	caps := func(c ...string) []pol { return one(rule("p/x", c...)) }
	runEval(t, []evalCase{
		{name: "read", pols: caps("read"), path: "p/x", op: OpRead, allowed: true, winner: "p/x"},
		{name: "read needs read", pols: caps("list", "update"), path: "p/x", op: OpRead, winner: "p/x"},
		{name: "create", pols: caps("create"), path: "p/x", op: OpCreate, allowed: true, winner: "p/x"},
		{name: "create is not update", pols: caps("update"), path: "p/x", op: OpCreate, winner: "p/x"},
		{name: "update", pols: caps("update"), path: "p/x", op: OpUpdate, allowed: true, winner: "p/x"},
		{name: "delete", pols: caps("delete"), path: "p/x", op: OpDelete, allowed: true, winner: "p/x"},
		{name: "patch", pols: caps("patch"), path: "p/x", op: OpPatch, allowed: true, winner: "p/x"},
		{name: "patch is not update", pols: caps("update"), path: "p/x", op: OpPatch, winner: "p/x"},
		{name: "renew needs update", pols: caps("update"), path: "p/x", op: OpRenew, allowed: true, winner: "p/x"},
		{name: "revoke needs update", pols: caps("update"), path: "p/x", op: OpRevoke, allowed: true, winner: "p/x"},
		{name: "rollback needs update", pols: caps("update"), path: "p/x", op: OpRollback, allowed: true, winner: "p/x"},
		{name: "renew without update", pols: caps("read", "create"), path: "p/x", op: OpRenew, winner: "p/x"},
		{name: "recover", pols: caps("recover"), path: "p/x", op: OpRecover, allowed: true, winner: "p/x"},
		{name: "sudo alone grants nothing", pols: caps("sudo"), path: "p/x", op: OpRead, winner: "p/x", caps: []string{"sudo"}},
		{name: "deny blocks everything", pols: caps("deny"), path: "p/x", op: OpUpdate, winner: "p/x"},
		{name: "help needs no rule", pols: caps("read"), path: "q", op: OpHelp, allowed: true},
		{name: "unknown operation", pols: caps("create", "read", "update", "delete", "list", "sudo", "patch"), path: "p/x", op: "frobnicate", winner: "p/x"},
	})
}

func TestEvaluateRootPrivs(t *testing.T) {
	d := Evaluate(policies(t, pol{"p", rule("sys/raw/*", "read", "sudo")}), "sys/raw/x", OpRead, nil)
	if !d.Allowed || !d.RootPrivs {
		t.Fatalf("want allowed with root privs: %s", dumpDecision(d))
	}
	d = Evaluate(policies(t, pol{"p", rule("sys/raw/*", "read")}), "sys/raw/x", OpRead, nil)
	if !d.Allowed || d.RootPrivs {
		t.Fatalf("want allowed without root privs: %s", dumpDecision(d))
	}
}

func TestEvaluateConditions(t *testing.T) {
	ps := policies(t, pol{"p", "path \"auth/token/create\" {\n  capabilities = [\"update\"]\n  max_wrapping_ttl = \"60s\"\n}\n"})
	d := Evaluate(ps, "auth/token/create", OpUpdate, nil)
	if !d.Allowed || !slices.Equal(d.Conditions, []string{"max_wrapping_ttl"}) {
		t.Fatalf("conditions = %v: %s", d.Conditions, dumpDecision(d))
	}
}

func TestEvaluateList(t *testing.T) {
	runEval(t, []evalCase{
		{name: "LIST adds the slash then retries the exact rule without it", pols: one(rule("secret/foo", "list")), path: "secret/foo", op: OpList,
			allowed: true, winner: "secret/foo", why: "LIST retry"},
		{name: "LIST retry with explicit slash", pols: one(rule("secret/foo", "list")), path: "secret/foo/", op: OpList,
			allowed: true, winner: "secret/foo"},
		{name: "LIST exact with slash", pols: one(rule("secret/foo/", "list")), path: "secret/foo", op: OpList,
			allowed: true, winner: "secret/foo/", why: "exact match wins outright"},
		{name: "READ does not retry without the slash", pols: one(rule("secret/foo", "read")), path: "secret/foo/", op: OpRead, winner: ""},
		{name: "slashed exact beats unslashed exact", pols: one(rule("secret/foo/", "deny"), rule("secret/foo", "list")), path: "secret/foo", op: OpList,
			allowed: false, winner: "secret/foo/"},
		{name: "exact retry beats globs", pols: one(rule("secret/foo", "read"), rule("secret/*", "list")), path: "secret/foo/", op: OpList,
			allowed: false, winner: "secret/foo", caps: []string{"read"}},
		{name: "plus rule without slash matches LIST (trimmed first)", pols: one(rule("+/sys/policies/acl", "list")), path: "ns1/sys/policies/acl", op: OpList,
			allowed: true, winner: "+/sys/policies/acl"},
		{name: "plus rule without slash does not match LIST (full only)", pols: one(rule("+/sys/policies/acl", "list")), path: "ns1/sys/policies/acl", op: OpList,
			opts: Options{List: ListFullOnly}, winner: ""},
		{name: "plus rule with slash matches LIST (full only)", pols: one(rule("+/sys/policies/acl/", "list")), path: "ns1/sys/policies/acl", op: OpList,
			opts: Options{List: ListFullOnly}, allowed: true, winner: "+/sys/policies/acl/"},
		{name: "plus rule without slash matches LIST (combined)", pols: one(rule("+/sys/policies/acl", "list")), path: "ns1/sys/policies/acl", op: OpList,
			opts: Options{List: ListCombined}, allowed: true, winner: "+/sys/policies/acl"},
		// A shorter glob matching the trimmed path shadows a longer one
		// that only matches with the slash.
		{name: "trimmed first: short glob shadows", pols: one(rule("secret/f*", "deny"), rule("secret/foo/*", "list")), path: "secret/foo/", op: OpList,
			allowed: false, winner: "secret/f*", why: "checked first"},
		{name: "full only: longest glob", pols: one(rule("secret/f*", "deny"), rule("secret/foo/*", "list")), path: "secret/foo/", op: OpList,
			opts: Options{List: ListFullOnly}, allowed: true, winner: "secret/foo/*"},
		{name: "combined: more specific list grant beats deny", pols: one(rule("secret/f*", "deny"), rule("secret/foo/*", "list")), path: "secret/foo/", op: OpList,
			opts: Options{List: ListCombined}, allowed: true, winner: "secret/foo/*", why: "most specific rule granting list"},
		// The 2026 deny bypass: a deny on private/* is skipped by the
		// trimmed lookup, which finds the parent glob.
		{name: "trimmed first: parent glob bypasses child deny", pols: one(rule("kv/metadata/*", "list"), rule("kv/metadata/private/*", "deny")), path: "kv/metadata/private/", op: OpList,
			allowed: true, winner: "kv/metadata/*"},
		{name: "full only: child deny", pols: one(rule("kv/metadata/*", "list"), rule("kv/metadata/private/*", "deny")), path: "kv/metadata/private/", op: OpList,
			opts: Options{List: ListFullOnly}, allowed: false, winner: "kv/metadata/private/*"},
		{name: "combined: child deny wins", pols: one(rule("kv/metadata/*", "list"), rule("kv/metadata/private/*", "deny")), path: "kv/metadata/private/", op: OpList,
			opts: Options{List: ListCombined}, allowed: false, winner: "kv/metadata/private/*", why: "most specific deny"},
		{name: "combined: no deny, no list grant picks most specific", pols: one(rule("kv/*", "read"), rule("kv/a/*", "update")), path: "kv/a/", op: OpList,
			opts: Options{List: ListCombined}, allowed: false, winner: "kv/a/*", caps: []string{"update"}},
		{name: "combined: nothing matches", pols: one(rule("other/*", "list")), path: "kv/a/", op: OpList,
			opts: Options{List: ListCombined}, winner: ""},
		{name: "trimmed first falls back to the full path", pols: one(rule("secret/foo/*", "list")), path: "secret/foo", op: OpList,
			allowed: true, winner: "secret/foo/*"},
		{name: "read on slashed path uses full path only", pols: one(rule("secret/f*", "deny"), rule("secret/foo/*", "read")), path: "secret/foo/", op: OpRead,
			allowed: true, winner: "secret/foo/*"},
	})
}

func TestEvaluateListCandidates(t *testing.T) {
	ps := policies(t, pol{"p", rule("secret/f*", "deny") + rule("secret/foo/*", "list") + rule("secret/*", "read")})
	d := Evaluate(ps, "secret/foo/", OpList, nil)
	var got []string
	for _, c := range d.Candidates {
		got = append(got, c.Path+"@"+c.Query)
	}
	want := []string{"secret/f*@secret/foo", "secret/*@secret/foo", "secret/foo/*@secret/foo/"}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates = %v, want %v\n%s", got, want, dumpDecision(d))
	}
	if !strings.Contains(d.Candidates[1].Why, "loses to secret/f*: longest prefix") || !strings.Contains(d.Candidates[2].Why, "not consulted") {
		t.Errorf("why:\n%s", dumpDecision(d))
	}
}

func TestEvaluateListCombinedCandidates(t *testing.T) {
	ps := policies(t, pol{"p", rule("kv/*", "list") + rule("kv/a/*", "read") + rule("kv/+", "deny")})
	// Trimmed "kv/a" matches kv/* and kv/+ (deny); full "kv/a/" matches kv/a/*.
	// kv/+ outranks kv/* at the same position, and the read-only kv/a/* is
	// the most specific but grants neither list nor deny.
	d := Options{List: ListCombined}.Evaluate(ps, "kv/a/", OpList, nil)
	if d.Allowed || d.Winner.Path != "kv/+" || !strings.Contains(d.Winner.Why, "most specific deny") {
		t.Fatalf("%s", dumpDecision(d))
	}
	var kva *Match
	for _, c := range d.Candidates {
		if c.Path == "kv/a/*" {
			kva = c
		}
	}
	if kva == nil || !strings.Contains(kva.Why, "more specific than kv/+") {
		t.Fatalf("%s", dumpDecision(d))
	}
	// Vault 1.21 takes the trimmed winner: the same deny.
	if d := Evaluate(ps, "kv/a/", OpList, nil); d.Allowed || d.Winner.Path != "kv/+" {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateCandidatesExplainShadowing(t *testing.T) {
	ps := policies(t, pol{"p", rule("secret/foo", "list") + rule("secret/*", "read") + rule("secret/+", "update")})
	d := Evaluate(ps, "secret/foo", OpRead, nil)
	if len(d.Candidates) != 3 || d.Winner.Kind != "exact" {
		t.Fatalf("%s", dumpDecision(d))
	}
	for _, c := range d.Candidates[1:] {
		if !strings.Contains(c.Why, "shadowed") {
			t.Errorf("%s: why %q", c.Path, c.Why)
		}
	}
	// Without the exact rule, "+" beats "*" at the same position.
	ps = policies(t, pol{"p", rule("secret/*", "read") + rule("secret/+", "update")})
	d = Evaluate(ps, "secret/foo", OpRead, nil)
	if d.Winner.Path != "secret/+" || d.Candidates[1].Path != "secret/*" || !strings.Contains(d.Candidates[1].Why, "loses to secret/+: non-prefix beats trailing *") {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestCapabilities(t *testing.T) {
	server := policies(t, pol{"nomad-server", nomadServerPolicy})
	cases := []struct {
		pols []*Policy
		path string
		want []string
	}{
		{server, "auth/token/create/nomad-cluster", []string{"update"}},
		{server, "auth/token/roles/nomad-cluster", []string{"read"}},
		{server, "auth/token/lookup-self", []string{"read"}},
		{server, "auth/token/lookup", []string{"update"}},
		{server, "auth/token/revoke-accessor", []string{"update"}},
		{server, "sys/capabilities-self", []string{"update"}},
		{server, "auth/token/renew-self", []string{"update"}},
		{server, "/auth/token/renew-self", []string{"update"}},
		{server, "auth/token/create/other-role", []string{"deny"}},
		{server, "auth/token/create", []string{"deny"}},
		// Evaluated as LIST, so the exact retry without "/" applies.
		{server, "auth/token/lookup/", []string{"update"}},
		{policies(t, pol{"p", rule("a/*", "update", "read", "sudo", "create", "patch", "list", "delete")}), "a/b", []string{"create", "delete", "list", "patch", "read", "sudo", "update"}},
		{policies(t, pol{"p", rule("a/*", "deny")}), "a/b", []string{"deny"}},
		{policies(t, pol{"p", "path \"a/b\" {}\n"}), "a/b", []string{"deny"}},
		{nil, "a/b", []string{"deny"}},
		{[]*Policy{{Name: "root"}}, "anything", []string{"root"}},
		{[]*Policy{{Name: "root"}, {Name: "default"}}, "anything", []string{"deny"}},
	}
	for _, tc := range cases {
		if got := Capabilities(tc.pols, tc.path, nil); !slices.Equal(got, tc.want) {
			t.Errorf("Capabilities(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestEvaluateRoot(t *testing.T) {
	d := Evaluate([]*Policy{{Name: "root"}}, "sys/raw/x", OpDelete, nil)
	if !d.Allowed || !d.RootPrivs || !slices.Equal(d.Capabilities, []string{"root"}) {
		t.Fatalf("root: %s", dumpDecision(d))
	}
	d = Evaluate([]*Policy{{Name: "root"}, {Name: "default"}}, "sys/raw/x", OpRead, nil)
	if d.Allowed || d.Error != "other policies present along with root" {
		t.Fatalf("root with others: %s", dumpDecision(d))
	}
}

func TestEvaluateNomadServer(t *testing.T) {
	ps := policies(t, pol{"nomad-server", nomadServerPolicy})
	cases := []struct {
		path string
		op   Operation
		ok   bool
	}{
		{"auth/token/create/nomad-cluster", OpUpdate, true},
		{"auth/token/create/nomad-cluster", OpCreate, false},
		{"auth/token/roles/nomad-cluster", OpRead, true},
		{"auth/token/lookup-self", OpRead, true},
		{"auth/token/lookup", OpUpdate, true},
		{"auth/token/revoke-accessor", OpUpdate, true},
		{"sys/capabilities-self", OpUpdate, true},
		{"auth/token/renew-self", OpUpdate, true},
		{"auth/token/renew-self", OpRenew, true},
		{"sys/leases/renew", OpUpdate, false},
		{"auth/token/roles/nomad-cluster", OpUpdate, false},
	}
	for _, tc := range cases {
		if d := Evaluate(ps, tc.path, tc.op, nil); d.Allowed != tc.ok {
			t.Errorf("%s %s = %v, want %v\n%s", tc.op, tc.path, d.Allowed, tc.ok, dumpDecision(d))
		}
	}
}

func jwtEntity(ns, job string) *Entity {
	return &Entity{
		ID:   "ent-1",
		Name: "entity_1",
		Aliases: map[string]Alias{
			"auth_jwt_d34481ad": {
				ID:       "alias-1",
				Name:     job,
				Metadata: map[string]string{"nomad_namespace": ns, "nomad_job_id": job, "nomad_task": "mongo"},
			},
		},
	}
}

func TestEvaluateNomadWorkloads(t *testing.T) {
	filled := policies(t, pol{"nomad-workloads", strings.ReplaceAll(nomadWorkloadsPolicy, "AUTH_METHOD_ACCESSOR", "auth_jwt_d34481ad")})
	placeholder := policies(t, pol{"nomad-workloads", nomadWorkloadsPolicy})
	mongo := jwtEntity("default", "mongo")
	cases := []struct {
		name    string
		pols    []*Policy
		ent     *Entity
		path    string
		op      Operation
		allowed bool
		winner  string
		dropped int
		reason  string
	}{
		{"secret under the job", filled, mongo, "kv/data/default/mongo/config", OpRead, true, "kv/data/default/mongo/*", 0, ""},
		{"the job path itself", filled, mongo, "kv/data/default/mongo", OpRead, true, "kv/data/default/mongo", 0, ""},
		{"another job", filled, mongo, "kv/data/default/redis/config", OpRead, false, "", 0, ""},
		{"another namespace", filled, mongo, "kv/data/prod/mongo/config", OpRead, false, "", 0, ""},
		{"no write", filled, mongo, "kv/data/default/mongo/config", OpUpdate, false, "kv/data/default/mongo/*", 0, ""},
		{"list own namespace metadata", filled, mongo, "kv/metadata/default/", OpList, true, "kv/metadata/*", 0, ""},
		{"list job metadata", filled, mongo, "kv/metadata/default/mongo", OpList, true, "kv/metadata/default/*", 0, ""},
		{"list any metadata", filled, mongo, "kv/metadata/prod/", OpList, true, "kv/metadata/*", 0, ""},
		{"placeholder accessor drops templated paths", placeholder, mongo, "kv/data/default/mongo/config", OpRead, false, "", 3, "alias not found"},
		{"no entity drops templated paths", filled, nil, "kv/data/default/mongo/config", OpRead, false, "", 3, "no entity was provided"},
		{"missing claim mapping drops paths using it", filled, &Entity{Aliases: map[string]Alias{"auth_jwt_d34481ad": {Metadata: map[string]string{"nomad_namespace": "default"}}}},
			"kv/metadata/default/x", OpList, true, "kv/metadata/default/*", 2, "{{identity.entity.aliases.auth_jwt_d34481ad.metadata.nomad_job_id}}: no value could be found"},
		{"pre-1.8.4 periodic child job id with slash", filled, jwtEntity("default", "backup/periodic-1700000000"),
			"kv/data/default/backup/periodic-1700000000/creds", OpRead, true, "kv/data/default/backup/periodic-1700000000/*", 0, ""},
		{"empty namespace value still fills", filled, jwtEntity("", "mongo"), "kv/data//mongo/x", OpRead, true, "kv/data//mongo/*", 0, ""},
		{"glob in a claim drops the path", filled, jwtEntity("default", "*"), "kv/data/default/x", OpRead, false, "", 2, "globs and wildcards are not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.pols, tc.path, tc.op, tc.ent)
			got := ""
			if d.Winner != nil {
				got = d.Winner.Path
			}
			if d.Allowed != tc.allowed || got != tc.winner || len(d.Dropped) != tc.dropped {
				t.Fatalf("allowed=%v winner=%q dropped=%d\n%s", d.Allowed, got, len(d.Dropped), dumpDecision(d))
			}
			for _, x := range d.Dropped {
				if !strings.Contains(x.Reason, tc.reason) || x.Policy != "nomad-workloads" || x.Rule == nil {
					t.Errorf("dropped = %+v", x)
				}
			}
		})
	}
}

func TestEvaluateTemplatedWildcardOption(t *testing.T) {
	ps := policies(t, pol{"w", strings.ReplaceAll(nomadWorkloadsPolicy, "AUTH_METHOD_ACCESSOR", "auth_jwt_d34481ad")})
	// Before the fix, a "*" claim turned the exact job path into a glob
	// over the whole namespace.
	d := Options{TemplatedWildcards: true}.Evaluate(ps, "kv/data/default/other-job", OpRead, jwtEntity("default", "*"))
	if !d.Allowed || d.Winner.Path != "kv/data/default/*" || d.Winner.Kind != "prefix" {
		t.Fatalf("%s", dumpDecision(d))
	}
	// The first path fills to "kv/data/default/*/*": its inner "*" is
	// literal, so it does not match a real job name.
	d = Options{TemplatedWildcards: true}.Evaluate(ps, "kv/data/default/x/y", OpRead, jwtEntity("default", "*"))
	if !d.Allowed || d.Winner.Path != "kv/data/default/*" || len(d.Candidates) != 1 {
		t.Fatalf("%s", dumpDecision(d))
	}
	d = Options{TemplatedWildcards: true}.Evaluate(ps, "kv/data/default/*/y", OpRead, jwtEntity("default", "*"))
	if !d.Allowed || d.Winner.Path != "kv/data/default/*/*" {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateTemplatedMerge(t *testing.T) {
	// A filled templated path merges with an identical literal path.
	ps := policies(t,
		pol{"tmpl", "path \"kv/data/{{identity.entity.name}}/*\" {\n  capabilities = [\"read\"]\n}\n"},
		pol{"lit", rule("kv/data/web/*", "deny")},
	)
	d := Evaluate(ps, "kv/data/web/x", OpRead, &Entity{Name: "web"})
	if d.Allowed || len(d.Winner.Sources) != 2 || !slices.Equal(d.Capabilities, []string{"deny"}) {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateTemplatedPlusStarFailsACL(t *testing.T) {
	ps := policies(t, pol{"t", "path \"secret/+{{identity.entity.metadata.x}}*\" {\n  capabilities = [\"read\"]\n}\n"})
	d := Evaluate(ps, "secret/a", OpRead, &Entity{Metadata: map[string]string{"x": ""}})
	if d.Allowed || !strings.Contains(d.Error, `error parsing templated policy "t"`) || !strings.Contains(d.Error, "'+*' is forbidden") {
		t.Fatalf("%s", dumpDecision(d))
	}
	if got := Capabilities(ps, "secret/a", &Entity{Metadata: map[string]string{"x": ""}}); !slices.Equal(got, []string{"deny"}) {
		t.Errorf("Capabilities = %v", got)
	}
	// With a value the path is a literal "+v" segment glob.
	d = Evaluate(ps, "secret/+vabc", OpRead, &Entity{Metadata: map[string]string{"x": "v"}})
	if !d.Allowed || d.Winner.Kind != "segment" {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateGroupsAndTime(t *testing.T) {
	ps := policies(t, pol{"g", rule("teams/{{identity.groups.names.devs.metadata.tier}}/*", "read") + rule("ts/{{time.now.plus.1h}}", "read")})
	ent := &Entity{ID: "e", Groups: []Group{{ID: "g1", Name: "devs", Metadata: map[string]string{"tier": "gold"}}}}
	if d := Evaluate(ps, "teams/gold/x", OpRead, ent); !d.Allowed {
		t.Fatalf("%s", dumpDecision(d))
	}
	o := Options{Now: time.Unix(1_700_000_000, 0)}
	if d := o.Evaluate(ps, "ts/1700003600", OpRead, nil); !d.Allowed || len(d.Dropped) != 1 {
		t.Fatalf("%s", dumpDecision(d))
	}
}

func TestEvaluateInvalidRulesAreDropped(t *testing.T) {
	// Hand-built rules that Vault would never have stored.
	ps := []*Policy{{Name: "bad", Rules: []*PathRule{
		{Path: "a/+*", Capabilities: []string{"read"}},
		{Path: "b/{{identity.entity.id", Capabilities: []string{"read"}},
		{Path: "c/}}", Capabilities: []string{"read"}},
		nil,
		{Path: "d/*", Capabilities: []string{"read", "bogus"}},
	}}, nil}
	d := Evaluate(ps, "d/x", OpRead, nil)
	if !d.Allowed || len(d.Dropped) != 3 {
		t.Fatalf("%s", dumpDecision(d))
	}
	for _, x := range d.Dropped {
		if !strings.HasPrefix(x.Reason, "Vault rejects this policy") {
			t.Errorf("reason %q", x.Reason)
		}
	}
}
