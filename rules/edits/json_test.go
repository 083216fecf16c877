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
