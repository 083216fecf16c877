package templates

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"text/template"
)

// want is the expected part of an Access; Src is text[Offset:EndOffset].
type want struct {
	Func, Op, Path string
	Dynamic        bool
	Prefix         string
	Args           []string
	Line, Column   int
	Src            string
}

func got(text string, a Access) want {
	return want{a.Func, a.Op, a.Path, a.Dynamic, a.Prefix, a.Args, a.Line, a.Column, text[a.Offset:a.EndOffset]}
}

// Seeds from /work/shared/seeds: 004 (Nomad workload identity tutorial) and
// 003 (Nomad Vault integration guide); the heredoc bodies as Nomad passes them.
const (
	seedMongoKV = "MONGO_INITDB_ROOT_USERNAME=root\n" +
		"MONGO_INITDB_ROOT_PASSWORD={{with secret \"kv/data/default/mongo/config\"}}{{.Data.data.root_password}}{{end}}\n"
	seedMongoDB = "{{with secret \"database/creds/mongo\"}}\n" +
		"MONGO_USERNAME={{.Data.username}}\n" +
		"MONGO_PASSWORD={{.Data.password}}\n" +
		"{{end}}\n" +
		"{{range nomadService 1 (env \"NOMAD_ALLOC_ID\") \"mongo\"}}\n" +
		"MONGO_URL=mongodb://{{.Address}}:{{.Port}}\n" +
		"{{end}}\n"
	seedAccessDB = "{{ with secret \"database/creds/accessdb\" }}\n" +
		"  {\n" +
		"    \"host\": \"database.service.consul\",\n" +
		"    \"port\": 5432,\n" +
		"    \"username\": \"{{ .Data.username }}\",\n" +
		"    \"password\": \"{{ .Data.password }}\",\n" +
		"    \"db\": \"postgres\"\n" +
		"  }\n" +
		"{{ end }}\n"
)

type findCase struct {
	name, text, left, right string
	want                    []want
}

var findCases = []findCase{
	{name: "empty", text: ""},
	{name: "no actions", text: "plain text, secret \"kv/x\"\n"},
	{name: "seed 004 kv", text: seedMongoKV, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/default/mongo/config", Line: 2, Column: 42, Src: `"kv/data/default/mongo/config"`},
	}},
	{name: "seed 004 database", text: seedMongoDB, want: []want{
		{Func: "secret", Op: "read", Path: "database/creds/mongo", Line: 1, Column: 15, Src: `"database/creds/mongo"`},
	}},
	{name: "seed 003", text: seedAccessDB, want: []want{
		{Func: "secret", Op: "read", Path: "database/creds/accessdb", Line: 1, Column: 16, Src: `"database/creds/accessdb"`},
	}},
	{name: "custom delimiters", left: "[[", right: "]]",
		text: "{{ secret \"kv/not/an/action\" }}\n[[ with secret \"kv/data/app\" ]][[ .Data.data.k ]][[ end ]]", want: []want{
			{Func: "secret", Op: "read", Path: "kv/data/app", Line: 2, Column: 16, Src: `"kv/data/app"`},
		}},
	{name: "custom one-sided delimiter", left: "<%", text: `<% secret "a/b" }}`, want: []want{
		{Func: "secret", Op: "read", Path: "a/b", Line: 1, Column: 11, Src: `"a/b"`},
	}},
	{name: "comments and trim markers",
		text: "{{/* secret \"kv/commented\" */}}\n{{- /* c */ -}}\n  {{- secret \"kv/real\" -}}", want: []want{
			{Func: "secret", Op: "read", Path: "kv/real", Line: 3, Column: 14, Src: `"kv/real"`},
		}},
	{name: "list", text: `{{ range secrets "kv/metadata/" }}{{ . }}{{ end }}`, want: []want{
		{Func: "secrets", Op: "list", Path: "kv/metadata/", Line: 1, Column: 18, Src: `"kv/metadata/"`},
	}},
	{name: "list then read each", text: `{{ range $k := secrets "kv/metadata/app/" }}{{ with secret (printf "kv/data/app/%s" $k) }}{{ .Data.data.v }}{{ end }}{{ end }}`,
		want: []want{
			{Func: "secrets", Op: "list", Path: "kv/metadata/app/", Line: 1, Column: 24, Src: `"kv/metadata/app/"`},
			{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/app/", Line: 1, Column: 60, Src: `(printf "kv/data/app/%s" $k)`},
		}},
	{name: "pkiCert", text: `{{ with pkiCert "pki/issue/web" "common_name=web.example.com" "ttl=24h" }}{{ .Cert }}{{ end }}`,
		want: []want{
			{Func: "pkiCert", Op: "write", Path: "pki/issue/web", Args: []string{"common_name=web.example.com", "ttl=24h"}, Line: 1, Column: 17, Src: `"pki/issue/web"`},
		}},
	{name: "secret write", text: `{{ with secret "pki/issue/web" "common_name=a.example.com" }}{{ .Data.certificate }}{{ end }}`,
		want: []want{
			{Func: "secret", Op: "write", Path: "pki/issue/web", Args: []string{"common_name=a.example.com"}, Line: 1, Column: 16, Src: `"pki/issue/web"`},
		}},
	{name: "empty extra argument still writes", text: `{{ secret "transit/x" "" }}`, want: []want{
		{Func: "secret", Op: "write", Path: "transit/x", Args: []string{""}, Line: 1, Column: 11, Src: `"transit/x"`},
	}},
	{name: "write with dynamic argument", text: `{{ secret "pki/issue/r" (printf "common_name=%s" (env "HOST")) }}`, want: []want{
		{Func: "secret", Op: "write", Path: "pki/issue/r", Args: []string{`(printf "common_name=%s" (env "HOST"))`}, Line: 1, Column: 11, Src: `"pki/issue/r"`},
	}},
	{name: "piped path and piped data", text: `{{ "kv/data/p" | secret }}{{ "ttl=1h" | secret "auth/token/create" }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/p", Line: 1, Column: 4, Src: `"kv/data/p"`},
		{Func: "secret", Op: "write", Path: "auth/token/create", Args: []string{"ttl=1h"}, Line: 1, Column: 48, Src: `"auth/token/create"`},
	}},
	{name: "printf with env", text: `{{ with secret (printf "kv/data/%s/x" (env "NOMAD_JOB_NAME")) }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 16, Src: `(printf "kv/data/%s/x" (env "NOMAD_JOB_NAME"))`},
	}},
	{name: "nomad job id", text: `{{ with secret (printf "kv/data/%s" (env "NOMAD_JOB_ID")) }}{{ .Data.data.pw }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 16, Src: `(printf "kv/data/%s" (env "NOMAD_JOB_ID"))`},
	}},
	{name: "piped printf", text: `{{ secret (env "NOMAD_NAMESPACE" | printf "kv/data/%s/db") }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 11, Src: `(env "NOMAD_NAMESPACE" | printf "kv/data/%s/db")`},
	}},
	{name: "fully dynamic", text: `{{ secret (env "SECRET_PATH") }}{{ secret (printf "%s/x" (env "M")) }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 11, Src: `(env "SECRET_PATH")`},
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 43, Src: `(printf "%s/x" (env "M"))`},
	}},
	{name: "constant printf folds", text: `{{ secret (printf "kv/data/%s/%d" "app" 3) }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/app/3", Line: 1, Column: 11, Src: `(printf "kv/data/%s/%d" "app" 3)`},
	}},
	{name: "print concatenation", text: `{{ secret (print "kv/data/" (env "JOB") "/cfg") }}{{ secret (print "kv/" "data/" "x") }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 11, Src: `(print "kv/data/" (env "JOB") "/cfg")`},
		{Func: "secret", Op: "read", Path: "kv/data/x", Line: 1, Column: 61, Src: `(print "kv/" "data/" "x")`},
	}},
	{name: "variables", text: `{{ $base := "kv/data/" }}{{ $p := printf "%sdb" $base }}{{ with secret $p }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/db", Line: 1, Column: 72, Src: `$p`},
	}},
	{name: "variable assigned in branches", text: `{{ $p := "kv/data/a" }}{{ if .x }}{{ $p = "kv/data/b" }}{{ end }}{{ secret $p }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 76, Src: `$p`},
	}},
	{name: "variable assigned in both branches", text: `{{ $p := "x" }}{{ if .x }}{{ $p = "kv/a" }}{{ else }}{{ $p = "kv/a" }}{{ end }}{{ secret $p }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/a", Line: 1, Column: 90, Src: `$p`},
	}},
	{name: "variable reassigned in loop", text: `{{ $p := "kv/a" }}{{ range .x }}{{ secret $p }}{{ $p = "kv/b" }}{{ end }}{{ secret $p }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 43, Src: `$p`},
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/", Line: 1, Column: 84, Src: `$p`},
	}},
	{name: "with dot and else", text: `{{ with "kv/data/w" }}{{ secret . }}{{ else }}{{ secret . }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/w", Line: 1, Column: 33, Src: `.`},
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 57, Src: `.`},
	}},
	{name: "define, block and template", text: "{{ define \"creds\" }}{{ with secret \"database/creds/ro\" }}{{ .Data.username }}{{ end }}{{ end }}\n" +
		"{{ template \"creds\" }}\n{{ block \"b\" . }}{{ secret .path.x }}{{ end }}", want: []want{
		{Func: "secret", Op: "read", Path: "database/creds/ro", Line: 1, Column: 36, Src: `"database/creds/ro"`},
		{Func: "secret", Op: "read", Dynamic: true, Line: 3, Column: 28, Src: `.path.x`},
	}},
	{name: "nested secrets", text: `{{ with secret (printf "kv/data/%s" (secret "kv/data/ptr").Data.data.target) }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Prefix: "kv/data/", Line: 1, Column: 16, Src: `(printf "kv/data/%s" (secret "kv/data/ptr").Data.data.target)`},
		{Func: "secret", Op: "read", Path: "kv/data/ptr", Line: 1, Column: 45, Src: `"kv/data/ptr"`},
	}},
	{name: "with and else with", text: `{{ with env "X" }}{{ secret "kv/a" }}{{ else with secret "kv/b" }}{{ .Data }}{{ end }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/a", Line: 1, Column: 29, Src: `"kv/a"`},
		{Func: "secret", Op: "read", Path: "kv/b", Line: 1, Column: 58, Src: `"kv/b"`},
	}},
	{name: "version query kept as written", text: `{{ secret "kv/data/x?version=2" }}`, want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/x?version=2", Line: 1, Column: 11, Src: `"kv/data/x?version=2"`},
	}},
	{name: "raw string and multi-byte columns", text: "é€ {{ secret `kv/data/ü` }}\n\t«{{ secrets \"kv/metadata\" }}", want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/ü", Line: 1, Column: 14, Src: "`kv/data/ü`"},
		{Func: "secrets", Op: "list", Path: "kv/metadata", Line: 2, Column: 14, Src: `"kv/metadata"`},
	}},
	{name: "multi-line action", text: "a\n{{ with secret\n\t\"kv/data/ml\"\n}}\n{{ end }}", want: []want{
		{Func: "secret", Op: "read", Path: "kv/data/ml", Line: 3, Column: 2, Src: `"kv/data/ml"`},
	}},
	{name: "not reaching vault", text: `{{ secret }}{{ secret "" }}{{ secret "/" }}{{ secrets "a" "b" }}{{ secret 3 }}{{ pkiCert }}{{ printf "secret %s" "kv/x" }}` +
		`{{ secret "kv/x" "notkv" }}{{ pkiCert "pki/issue/r" "ttl" }}{{ secret "kv/%zz" }}{{ pkiCert "pki/%zz" }}`},
	{name: "write path is not URL-parsed", text: `{{ secret "transit/%zz" "a=b" }}`, want: []want{
		{Func: "secret", Op: "write", Path: "transit/%zz", Args: []string{"a=b"}, Line: 1, Column: 11, Src: `"transit/%zz"`},
	}},
	{name: "field and chain paths", text: `{{ secret .a.b }}{{ secret $.c }}{{ secret (env "X").Y }}`, want: []want{
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 11, Src: `.a.b`},
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 28, Src: `$.c`},
		{Func: "secret", Op: "read", Dynamic: true, Line: 1, Column: 44, Src: `(env "X").Y`},
	}},
}

func TestFind(t *testing.T) {
	for _, tc := range findCases {
		t.Run(tc.name, func(t *testing.T) {
			accs, err := Find(tc.text, tc.left, tc.right)
			if err != nil {
				t.Fatalf("Find: %v", err)
			}
			var g []want
			for _, a := range accs {
				g = append(g, got(tc.text, a))
			}
			if !reflect.DeepEqual(g, tc.want) {
				t.Errorf("got\n%#v\nwant\n%#v", g, tc.want)
			}
			checkInvariants(t, tc.text, accs)
			checkAgainstExec(t, tc.text, tc.left, tc.right, accs)
		})
	}
}

func TestFindErrors(t *testing.T) {
	cases := []struct {
		text, left, right string
		line, col         int
		msg               string
	}{
		{text: "{{ if }}", line: 1, col: 1, msg: "missing value for if"},
		{text: "a\n{{ with secret \"kv/x\" }}\nb\n", line: 4, col: 1, msg: "unexpected EOF"},
		{text: "line1\n  {{ secret \"kv/x\" ) }}", line: 2, col: 20, msg: "unexpected right paren"},
		{text: "x\n\ty {{ secret \"kv/x }}\nz", line: 2, col: 14, msg: "unterminated quoted string"},
		{text: "é {{ secret @ }}", line: 1, col: 13, msg: "unexpected \"@\" in operand"},
		{text: "{{ end }}", line: 1, col: 1, msg: "unexpected {{end}}"},
		{text: "{{ secret $p }}", line: 1, col: 11, msg: "undefined variable \"$p\""},
		{text: "{{/* open", line: 1, col: 3, msg: "unclosed comment"},
		{text: "{{ secret \"a\"", line: 1, col: 1, msg: "unclosed action"},
		{text: "[[ secret \"a\" ]]\n[[ else ]]", left: "[[", right: "]]", line: 2, col: 1, msg: "unexpected {{else}}"},
		{text: "{{ define \"\" }}x{{ end }}y", line: 1, col: 26, msg: "template: multiple definition of template \"\""},
	}
	for _, tc := range cases {
		accs, err := Find(tc.text, tc.left, tc.right)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, %v; want *ParseError", tc.text, accs, err)
			continue
		}
		if pe.Line != tc.line || pe.Column != tc.col || pe.Msg != tc.msg {
			t.Errorf("%q: got %d:%d %q, want %d:%d %q", tc.text, pe.Line, pe.Column, pe.Msg, tc.line, tc.col, tc.msg)
		}
	}
}

// checkInvariants holds for every successful Find.
func checkInvariants(t *testing.T, text string, accs []Access) {
	t.Helper()
	starts := lineStarts(text)
	for i, a := range accs {
		if a.Offset < 0 || a.Offset > a.EndOffset || a.EndOffset > len(text) {
			t.Fatalf("access %d: bad span %d..%d (len %d)", i, a.Offset, a.EndOffset, len(text))
		}
		if i > 0 && accs[i-1].Offset > a.Offset {
			t.Fatalf("accesses out of order: %+v", accs)
		}
		if l, c := position(text, starts, a.Offset); l != a.Line || c != a.Column {
			t.Fatalf("access %d: line/col %d:%d, want %d:%d", i, a.Line, a.Column, l, c)
		}
		if a.Dynamic == (a.Path != "") || (!a.Dynamic && a.Prefix != "") {
			t.Fatalf("access %d: inconsistent Path/Dynamic/Prefix: %+v", i, a)
		}
		switch {
		case a.Func == "secret" && a.Op == OpRead && len(a.Args) == 0,
			a.Func == "secret" && a.Op == OpWrite && len(a.Args) > 0,
			a.Func == "secrets" && a.Op == OpList && len(a.Args) == 0,
			a.Func == "pkiCert" && a.Op == OpWrite:
		default:
			t.Fatalf("access %d: unexpected func/op/args: %+v", i, a)
		}
	}
}

// checkAgainstExec is a soundness oracle: it executes the template with the
// real text/template and stub Vault functions (data nil, as consul-template
// does; env returns "ENV"), and requires every Vault call made to be
// covered by a reported Access. Templates with range or template calls are
// skipped: their execution need not terminate quickly on fuzzed input.
func checkAgainstExec(t *testing.T, text, left, right string, accs []Access) {
	t.Helper()
	if strings.Contains(text, "range") || strings.Contains(text, "template") || strings.Contains(text, "block") {
		return
	}
	type call struct {
		fn, op, path string
		rejected     bool
	}
	var calls []call
	add := func(fn, op string, s []string) {
		rej := badPath(fn, op, s[0])
		for _, d := range s[1:] {
			rej = rej || badData(d)
		}
		calls = append(calls, call{fn, op, s[0], rej})
	}
	secretResult := map[string]any{"Data": map[string]any{"data": map[string]any{}}}
	funcs := template.FuncMap{
		"secret": func(s ...string) (any, error) {
			if len(s) > 0 {
				op := OpRead
				if len(s) > 1 {
					op = OpWrite
				}
				add("secret", op, s)
			}
			return secretResult, nil
		},
		"secrets": func(s string) ([]string, error) {
			add("secrets", OpList, []string{s})
			return []string{"a"}, nil
		},
		"pkiCert": func(s ...string) (any, error) {
			if len(s) > 0 {
				add("pkiCert", OpWrite, s)
			}
			return secretResult, nil
		},
		"env":          func(string) (string, error) { return "ENV", nil },
		"nomadService": func(...any) (any, error) { return nil, nil },
	}
	tmpl, err := template.New("").Delims(left, right).Funcs(funcs).Parse(text)
	if err != nil {
		return // e.g. a function the stubs lack
	}
	_ = tmpl.Execute(io.Discard, nil)
	for _, c := range calls {
		if c.rejected {
			continue // consul-template does not query Vault
		}
		found := false
		for _, a := range accs {
			if a.Func == c.fn && a.Op == c.op &&
				(a.Path == c.path || a.Dynamic && strings.HasPrefix(c.path, a.Prefix)) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("execution called %s %s %q, not covered by %+v", c.fn, c.op, c.path, accs)
		}
	}
}

func TestKVv2Path(t *testing.T) {
	cases := []struct{ path, mount, op, want string }{
		// read: data/ inserted after the mount unless data/, metadata/ or subkeys/ follow it
		{"kv/default/mongo/config", "kv/", "read", "kv/data/default/mongo/config"},
		{"kv/data/default/mongo/config", "kv/", "read", "kv/data/default/mongo/config"},
		{"kv/metadata/app", "kv", "read", "kv/metadata/app"},
		{"kv/subkeys/app", "kv/", "read", "kv/subkeys/app"},
		{"/secret/app/", "secret/", "read", "secret/data/app"},
		{"  secret/app ", "secret", "read", "secret/data/app"},
		{"secret", "secret/", "read", "secret/data"},
		{"secret/data", "secret/", "read", "secret/data/data"},
		{"kv/app?version=2", "kv/", "read", "kv/data/app"},
		{"kv/a//b/../c", "kv/", "read", "kv/data/a/c"},
		{"kv/a%20b", "kv/", "read", "kv/data/a b"},
		{"team/kv/app", "team/kv/", "read", "team/kv/data/app"},
		// write: same shim as read, but no URL parsing
		{"kv/app", "kv/", "write", "kv/data/app"},
		{"kv/data/app", "kv/", "write", "kv/data/app"},
		// list: metadata/ instead; data/ is not special
		{"kv/app/", "kv/", "list", "kv/metadata/app"},
		{"kv/", "kv/", "list", "kv/metadata"},
		{"kv/metadata/", "kv/", "list", "kv/metadata"},
		{"kv/metadata/app", "kv", "list", "kv/metadata/app"},
		{"kv/data/app", "kv/", "list", "kv/metadata/data/app"},
		// not on the given mount, or no mount: normalisation only
		{"database/creds/ro", "kv/", "read", "database/creds/ro"},
		{"kvx/app", "kv/", "read", "kvx/app"},
		{"/database/creds/ro/", "", "read", "database/creds/ro"},
		{"pki/issue/web", "", "write", "pki/issue/web"},
	}
	for _, tc := range cases {
		if g := KVv2Path(tc.path, tc.mount, tc.op); g != tc.want {
			t.Errorf("KVv2Path(%q, %q, %q) = %q, want %q", tc.path, tc.mount, tc.op, g, tc.want)
		}
	}
}
