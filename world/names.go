package world

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Skipped is an object a source declares that nvlint could not read:
// rules must not call an object missing that may be one of these.
type Skipped struct {
	Kind Kind
	// Name is the object's name when it is known (a policy whose text
	// only Terraform knows); empty when any name is possible.
	Name string
	// What says what was skipped and why, for --verbose and evidence:
	// "vault_jwt_auth_backend_role.roles (for_each nvlint cannot expand)".
	What  string
	Range hcl.Range
}

// Unseen says why an object of kind named name may exist although no
// object the world holds has that name: a skipped object that may be it,
// or an object whose name only Terraform knows. It returns "" when the
// world has seen every object of the kind.
func (w *World) Unseen(kind Kind, name string) string {
	for _, s := range w.Skipped {
		if s.Kind == kind && (s.Name == "" || strings.EqualFold(s.Name, name)) {
			return s.What
		}
	}
	for _, ref := range w.refsOf(kind) {
		if !ref.NameKnown() {
			return fmt.Sprintf("%s, whose name only Terraform knows", ref.Name)
		}
	}
	return ""
}

// Guesses are the objects of kind whose names are guesses from file
// names: when a reference matches none of the world's names, it may be
// one of these under its real name.
func (w *World) Guesses(kind Kind) []Meta {
	var out []Meta
	for _, m := range w.metasOf(kind) {
		if m.Ref.Guessed() {
			out = append(out, m)
		}
	}
	return out
}

func (w *World) refsOf(kind Kind) []ObjectRef {
	metas := w.metasOf(kind)
	out := make([]ObjectRef, len(metas))
	for i, m := range metas {
		out[i] = m.Ref
	}
	return out
}

func (w *World) metasOf(kind Kind) []Meta {
	var out []Meta
	switch kind {
	case KindPolicy:
		for _, o := range w.Policies {
			out = append(out, o.Meta)
		}
	case KindTokenRole:
		for _, o := range w.TokenRoles {
			out = append(out, o.Meta)
		}
	case KindJWTAuthConfig:
		for _, o := range w.JWTConfigs {
			out = append(out, o.Meta)
		}
	case KindJWTRole:
		for _, o := range w.JWTRoles {
			out = append(out, o.Meta)
		}
	}
	return out
}

// NameAdvice tells the user how to give nvlint the real name of an object
// named by a guess.
func NameAdvice(m Meta) string {
	file := "FILE"
	if m.File != nil {
		file = m.File.Path
	}
	return fmt.Sprintf("if it is, tell nvlint its name: --name %s=NAME, or names = { %q = \"NAME\" } in .nvlint.hcl", file, file)
}
