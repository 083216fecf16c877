package edits

import (
	"bytes"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

func TestRemoveJSONMember(t *testing.T) {
	for _, c := range []struct{ src, value, want string }{
		{"{\n  \"a\": 1,\n  \"b\": \"x\",\n  \"c\": 3\n}\n", `"x"`, "{\n  \"a\": 1,\n  \"c\": 3\n}\n"},
		{"{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n", `"x"`, "{\n  \"a\": 1\n}\n"},
		{"{\n  \"b\": [\"x\", \"y\"],\n  \"a\": 1\n}\n", `["x", "y"]`, "{\n  \"a\": 1\n}\n"},
		{`{"a": 1, "b": "x", "c": 3}`, `"x"`, `{"a": 1, "c": 3}`},
		{`{"a": 1, "b": "x"}`, `"x"`, `{"a": 1}`},
		{`{"b": "x"}`, `"x"`, `{}`},
	} {
		src := []byte(c.src)
		i := bytes.Index(src, []byte(c.value))
		f := &world.File{Path: "f.json", Src: src}
		r := hcl.Range{Filename: f.Path, Start: posAt(src, i), End: posAt(src, i+len(c.value))}
		e, ok := RemoveJSONMember(f, r)
		if !ok {
			t.Errorf("%q: not removed", c.src)
			continue
		}
		out, err := Apply(src, []rules.TextEdit{e})
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != c.want {
			t.Errorf("%q: got %q, want %q", c.src, out, c.want)
		}
	}
}

func TestPolicyWriteStdin(t *testing.T) {
	named := &world.Policy{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindPolicy, Name: "app"}, File: &world.File{Path: "-"}}}
	if got := PolicyWrite(named); got != nil {
		t.Errorf("a policy from standard input gets %q; want no command", (rules.Fix{Commands: got}).CommandLines())
	}
	live := &world.Policy{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindPolicy, Name: "app"}}}
	if got := PolicyWrite(live); got != nil {
		t.Errorf("a live policy gets %q", (rules.Fix{Commands: got}).CommandLines())
	}
	file := &world.Policy{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindPolicy, Name: "-app"}, File: &world.File{Path: "-app.hcl"}}}
	if got := (rules.Fix{Commands: PolicyWrite(file)}).CommandLines(); len(got) != 1 || got[0] != "vault policy write -- -app -app.hcl" {
		t.Errorf("got %q", got)
	}
}

func TestSedSubstitute(t *testing.T) {
	for _, c := range [][3]string{
		{"auth_jwt_1", "auth_jwt_2", "s/auth_jwt_1/auth_jwt_2/g"},
		{`"kv//x/*"`, `"kv/x/*"`, `s/"kv\/\/x\/\*"/"kv\/x\/*"/g`},
		{"a.b[c]^$", `x&y\z`, `s/a\.b\[c\]\^\$/x\&y\\z/g`},
	} {
		if got, ok := SedSubstitute(c[0], c[1]); !ok || got != c[2] {
			t.Errorf("SedSubstitute(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	if _, ok := SedSubstitute("a\nb", "c"); ok {
		t.Error("a line break must not make an expression")
	}
}
