package rules

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// guessRule reports an error with an edit that rests on the name of
// object ref.
type guessRule struct {
	meta *Meta
	ref  world.ObjectRef
}

func (r guessRule) Meta() *Meta { return r.meta }
func (r guessRule) Check(p *Pass) {
	at := hcl.Range{Filename: "f.json", Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2, Byte: 1}}
	p.Report(Finding{
		Message: "names a role that is not given", Range: at, Assumes: []world.ObjectRef{r.ref},
		Fixes: []Fix{{Description: "rename", Edits: []TextEdit{{Range: at, NewText: "x"}}, Commands: []Command{Template("vault write ...")}}},
	})
}

// Whatever the rule says and however .nvlint.hcl raises it, a finding
// that rests on a guessed or unknown name is at most a warning and edits
// nothing; one that rests on a declared name keeps both.
func TestFindingsOnGuessesAreNotCertain(t *testing.T) {
	doc := Doc{Why: "w", Example: "e", Fix: "f"}
	w := &world.World{Files: []*world.File{{Path: "f.json", Src: []byte("{}")}}}
	for _, c := range []struct {
		source  world.NameSource
		certain bool
	}{
		{world.NameFromFileName, false},
		{world.NameUnknown, false},
		{world.NameFromConfig, true},
		{world.NameFromFlag, true},
		{world.NameFromSetupVault, true},
	} {
		meta := &Meta{ID: "NV224", Name: "x", Title: "t", Severity: Error, Doc: doc}
		rule := guessRule{meta, world.ObjectRef{Kind: world.KindJWTRole, Name: "acl", NameSource: c.source}}
		for _, set := range []Settings{{}, {Severity: map[string]Severity{"NV224": Error}}} {
			res := RunWith(w, []Rule{rule}, set)
			if len(res.Findings) != 1 {
				t.Fatalf("%s: %d findings", c.source, len(res.Findings))
			}
			f := res.Findings[0]
			if got := f.Severity == Error && len(f.Fixes[0].Edits) == 1; got != c.certain {
				t.Errorf("%s: severity %v, edits %d; want certain=%v", c.source, f.Severity, len(f.Fixes[0].Edits), c.certain)
			}
			if len(f.Fixes[0].Commands) != 1 {
				t.Errorf("%s: the command to review was dropped", c.source)
			}
		}
	}
}

// commandRule reports one finding about object with one fix.
type commandRule struct {
	meta   *Meta
	object world.ObjectRef
	fix    Fix
}

func (r commandRule) Meta() *Meta { return r.meta }
func (r commandRule) Check(p *Pass) {
	p.Report(Finding{Message: "m", Object: r.object, Fixes: []Fix{r.fix}})
}

// A fix whose command writes an object under a name guessed from its
// file name says so in the evidence, with how to tell nvlint; a name the
// file's name does not guess, or a mount only a role's path names, does
// not.
func TestGuessedNamesInCommandsAreEvidence(t *testing.T) {
	doc := Doc{Why: "w", Example: "e", Fix: "f"}
	file := func(p string) *world.File { return &world.File{Path: p, Src: []byte("{}")} }
	role := &world.JWTRole{Meta: world.Meta{File: file("dir/vault-role-web.json"), Ref: world.ObjectRef{Kind: world.KindJWTRole, Name: "web", NameSource: world.NameFromFileName}}}
	declared := &world.JWTRole{Meta: world.Meta{File: file("dir/api.json"), Ref: world.ObjectRef{Kind: world.KindJWTRole, Name: "api", NameSource: world.NameFromConfig}}}
	cfg := &world.JWTAuthConfig{Mount: "jwt-nomad", Meta: world.Meta{File: file("dir/auth-method.json"), NameGuess: "auth-method.json names no mount; jwt-nomad is Nomad's default",
		Ref: world.ObjectRef{Kind: world.KindJWTAuthConfig, Name: "jwt-nomad", NameSource: world.NameFromFileName}}}
	pol := &world.Policy{Meta: world.Meta{File: file("dir/web-policy.hcl"), Ref: world.ObjectRef{Kind: world.KindPolicy, Name: "web", NameSource: world.NameFromFileName}}}
	w := &world.World{JWTRoles: []*world.JWTRole{role, declared}, JWTConfigs: []*world.JWTAuthConfig{cfg}, Policies: []*world.Policy{pol}}
	for _, c := range []struct {
		name   string
		object world.ObjectRef
		fix    Fix
		want   []string
	}{
		{"role write", role.Ref, Fix{Description: "d", Commands: []Command{Cmd("vault", "write", "auth/jwt-nomad/role/web", "@dir/vault-role-web.json")}},
			[]string{`assumed: JWT role "web": name guessed from file vault-role-web.json; if that is not its name, tell nvlint its name: --name vault-role-web.json=NAME`}},
		{"declared role", declared.Ref, Fix{Description: "d", Commands: []Command{Cmd("vault", "write", "auth/jwt-nomad/role/api", "@dir/api.json")}}, nil},
		{"config's mount in a description", cfg.Ref, Fix{Description: "Write JWT role x: vault write auth/jwt-nomad/role/x @FILE.json"},
			[]string{`assumed: JWT auth config "jwt-nomad": auth-method.json names no mount; jwt-nomad is Nomad's default; if that is not its name, tell nvlint its name: --name auth-method.json=NAME`}},
		{"config write", role.Ref, Fix{Description: "d", Commands: []Command{Template("vault write %s <the other config parameters>", "auth/jwt-nomad/config")}},
			[]string{`assumed: JWT auth config "jwt-nomad"`}},
		{"policy write", pol.Ref, Fix{Description: "d", Commands: []Command{Cmd("vault", "policy", "write", "web", "dir/web-policy.hcl")}},
			[]string{`assumed: Vault policy "web": name guessed from file web-policy.hcl`}},
	} {
		meta := &Meta{ID: "NV235", Name: "x", Title: "t", Severity: Warning, Doc: doc}
		res := RunWith(w, []Rule{commandRule{meta, c.object, c.fix}}, Settings{})
		if len(res.Findings) != 1 {
			t.Fatalf("%s: %d findings", c.name, len(res.Findings))
		}
		ev := res.Findings[0].Evidence
		if len(ev) != len(c.want) {
			t.Errorf("%s: evidence %q, want %d lines", c.name, ev, len(c.want))
			continue
		}
		for i, want := range c.want {
			if !strings.HasPrefix(ev[i], want) {
				t.Errorf("%s: evidence %q, want %q", c.name, ev[i], want)
			}
		}
	}
}
