package world

import (
	"fmt"
	"path/filepath"
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
	// Policy holds the literal parts of a policy whose text is partly
	// known only to Terraform: rules that read policy text check it,
	// rules that decide what a policy grants never see it.
	Policy *Policy
}

// PolicyTexts are the policies whose text rules may read: every policy,
// and the literal parts of those only partly known.
func (w *World) PolicyTexts() []*Policy {
	out := append([]*Policy(nil), w.Policies...)
	for _, s := range w.Skipped {
		if s.Policy != nil {
			out = append(out, s.Policy)
		}
	}
	return out
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

// Metas lists the Meta of every Vault object, for rules that look at
// where objects are declared whatever their kind.
func (w *World) Metas() []*Meta {
	var out []*Meta
	for _, o := range w.Policies {
		out = append(out, &o.Meta)
	}
	for _, o := range w.TokenRoles {
		out = append(out, &o.Meta)
	}
	for _, o := range w.JWTConfigs {
		out = append(out, &o.Meta)
	}
	for _, o := range w.JWTRoles {
		out = append(out, &o.Meta)
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
// named by a guess: name is the name it probably has.
func NameAdvice(m Meta, name string) string {
	file := "FILE"
	if m.File != nil {
		file = filepath.Base(m.File.Path)
	}
	return fmt.Sprintf("tell nvlint its name: --name %s=%s, or names = { %q = %q } in .nvlint.hcl", file, name, file, name)
}

// NameLookup is what the world says about a reference by name to an
// object of some kind.
type NameLookup struct {
	// Found is the object of that name; nil when there is none.
	Found *Meta
	// Unseen says why an object of that name may exist that nvlint
	// could not read (see World.Unseen); "" when there is none.
	Unseen string
	// Guesses are the objects of the kind whose names are guesses from
	// file names: one of them may be the object under its real name.
	Guesses []Meta
	// Count is the number of objects of the kind the world holds.
	Count int
}

// Missing reports whether the world is sure no object has the name: none
// has it, none may be hidden, and no name of the kind is a guess.
func (l NameLookup) Missing() bool {
	return l.Found == nil && l.Unseen == "" && len(l.Guesses) == 0
}

// Probably is the object the reference probably means when it matches
// no name: the only object of the kind, named by a guess.
func (l NameLookup) Probably() *Meta {
	if l.Found == nil && l.Unseen == "" && l.Count == 1 && len(l.Guesses) == 1 {
		return &l.Guesses[0]
	}
	return nil
}

// ProbablyNote says, for a reference to name that matches no object,
// that it probably means the only object of its kind, named by a guess:
// `the only JWT role given is named "acl" only by a guess from its file
// name, so it is probably role nomad-workloads under its real name`; ""
// unless Probably gives one.
func (l NameLookup) ProbablyNote(name string) string {
	m := l.Probably()
	if m == nil {
		return ""
	}
	what, short := kindWords(m.Ref.Kind)
	return fmt.Sprintf("the only %s given is named %q only by a guess from its file name, so it is probably %s %s under its real name", what, m.Ref.Name, short, name)
}

// ProbablyAdvice says how to tell nvlint that the object Probably gives
// is the one named name: "If acl-role.json holds role nomad-workloads,
// tell nvlint its name: --name ..."; "" unless Probably gives one.
func (l NameLookup) ProbablyAdvice(name string) string {
	m := l.Probably()
	if m == nil {
		return ""
	}
	_, short := kindWords(m.Ref.Kind)
	file := "its file"
	if m.File != nil {
		file = filepath.Base(m.File.Path)
	}
	return fmt.Sprintf("If %s holds %s %s, %s", file, short, name, NameAdvice(*m, name))
}

// kindWords name a kind without its article ("JWT role") and, short,
// without "JWT " or "Vault " too ("role").
func kindWords(k Kind) (what, short string) {
	what = strings.TrimPrefix(strings.TrimPrefix(k.Noun(), "a "), "an ")
	return what, strings.TrimPrefix(strings.TrimPrefix(what, "JWT "), "Vault ")
}

// Assumed are the references to the guessed objects, for a finding's
// Assumes.
func (l NameLookup) Assumed() []ObjectRef {
	out := make([]ObjectRef, len(l.Guesses))
	for i, m := range l.Guesses {
		out[i] = m.Ref
	}
	return out
}

// Evidence says what the guessed names are, where they come from, and
// how to tell nvlint the real ones.
func (l NameLookup) Evidence() []string {
	var out []string
	for _, m := range l.Guesses {
		out = append(out, m.GuessEvidence())
	}
	return out
}

// GuessEvidence is the evidence line of a finding that rests on, or whose
// fix writes, the object's guessed name: what was assumed and how to tell
// nvlint the real name.
func (m Meta) GuessEvidence() string {
	return "assumed: " + m.Assumption() + "; if that is not its name, " + NameAdvice(m, "NAME")
}

// Lookup resolves a reference by name to an object of kind. Vault keeps
// role and policy names in lower case, so case does not matter.
func (w *World) Lookup(kind Kind, name string) NameLookup {
	return w.LookupIn(kind, Place{}, name)
}

// LookupIn is Lookup for a reference from place at: only the objects
// that may be there (in its Vault cluster and namespace) count.
func (w *World) LookupIn(kind Kind, at Place, name string) NameLookup {
	var l NameLookup
	metas := w.metasOf(kind)
	if at.Cluster.IsKnown() || at.Namespace.IsKnown() {
		in := metas[:0:0]
		for _, m := range metas {
			if m.In(at) {
				in = append(in, m)
			}
		}
		metas = in
	}
	l.Count = len(metas)
	for i := range metas {
		if metas[i].Ref.Name == name {
			l.Found = &metas[i]
			return l
		}
	}
	for i := range metas {
		if strings.EqualFold(metas[i].Ref.Name, name) {
			l.Found = &metas[i]
			return l
		}
	}
	l.Unseen = w.Unseen(kind, name)
	l.Guesses = w.Guesses(kind)
	return l
}
