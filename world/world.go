// Package world is the model every rule sees: the Nomad jobs and agent
// configs and the Vault policies, token roles and JWT auth objects of one
// integration. Files (nvlint lint) and live clusters (nvlint doctor) both
// fill it, so a rule never knows or cares where a fact came from.
//
// Every value that a finding may point at carries its source range. Values
// read from a live cluster have a zero range and an Origin on their object.
package world

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
)

// World is everything known about one Nomad ↔ Vault integration.
type World struct {
	Files []*File

	Jobs       []*Job
	Agents     []*AgentConfig
	Policies   []*Policy
	TokenRoles []*TokenRole
	JWTConfigs []*JWTAuthConfig
	JWTRoles   []*JWTRole
	// Skipped are objects declared where nvlint could not read them
	// (Terraform resources with count or a for_each it cannot expand, a
	// policy whose text only Terraform knows): a rule that does not find
	// an object by name asks Unseen before calling it missing.
	Skipped []*Skipped
	// SecretMounts are the secrets engine mounts the inputs declare
	// (Terraform vault_mount): what KV version a template read meets.
	SecretMounts []*SecretMount

	// Live is set when the world was read from running clusters.
	Live *Live

	// memo caches derived facts while a run holds it (Memoize).
	memo memoPtr
	// Hints are what the user declared in .nvlint.hcl: target versions
	// and names the files cannot tell.
	Hints Hints
}

// Kind names what a file or object is.
type Kind string

// The kinds of input nvlint understands.
const (
	KindJobspec       Kind = "jobspec"
	KindAgentConfig   Kind = "agent-config"
	KindPolicy        Kind = "policy"
	KindTokenRole     Kind = "token-role"
	KindJWTAuthConfig Kind = "jwt-auth-config"
	KindJWTRole       Kind = "jwt-role"
	// KindTerraform is a file kind only: a Terraform configuration whose
	// resources declare objects of the kinds above.
	KindTerraform Kind = "terraform"
)

// Noun names the kind with its article, for messages: "a token role".
func (k Kind) Noun() string {
	switch k {
	case KindJobspec:
		return "a Nomad jobspec"
	case KindAgentConfig:
		return "a Nomad agent config"
	case KindPolicy:
		return "a Vault policy"
	case KindTokenRole:
		return "a Vault token role"
	case KindJWTAuthConfig:
		return "a JWT auth config"
	case KindJWTRole:
		return "a JWT role"
	case KindTerraform:
		return "a Terraform configuration"
	}
	return "a " + string(k)
}

// Kinds lists every kind, in the order used for help text.
var Kinds = []Kind{KindJobspec, KindAgentConfig, KindPolicy, KindTokenRole, KindJWTAuthConfig, KindJWTRole, KindTerraform}

// File is one input file as read, kept for source snippets and fixes.
type File struct {
	Path string // as given on the command line
	Kind Kind   // empty when the kind could not be recognised
	Src  []byte
	// Diags are the parse diagnostics; a file with errors contributes
	// whatever could still be understood to the world.
	Diags hcl.Diagnostics
	// Secrets are ranges of secret values (tokens) that output must mask.
	Secrets []hcl.Range
	// Explicit is true when the user named the file (not found by walking
	// a directory).
	Explicit bool
	// Terraform is the directory of the Terraform configuration that
	// applies the file: set for .tf files and for the files their
	// resources read with file(). Commands that would write such a file's
	// objects with vault or nomad become terraform apply.
	Terraform string

	// QuotedNames are the argument and block names of an agent config
	// read as HCL 1 reads them ("datacenter" = "dc1"): the offsets of
	// each name's opening and closing quote, which the reader took for
	// spaces.
	QuotedNames [][2]int

	lines atomic.Pointer[[]int] // where each line starts, found on first use (posOf)
}

// Renamed is a copy of f under another path.
func (f *File) Renamed(path string) *File {
	return &File{Path: path, Kind: f.Kind, Src: f.Src, Diags: f.Diags, Secrets: f.Secrets, Explicit: f.Explicit, Terraform: f.Terraform, QuotedNames: f.QuotedNames}
}

// ObjectRef identifies an object for humans and machines: "token-role
// nomad-cluster". Origin says where a live object was read from (the API
// path); it is empty for objects read from files.
type ObjectRef struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Origin string `json:"origin,omitempty"`
	// NameSource says how the name was found; empty when the source
	// states it (a job block, a live object's path).
	NameSource NameSource `json:"name_source,omitempty"`
}

// NameSource says where an object's name comes from. Vault objects have
// no name inside their files: Vault takes it from the path they are
// written to, so a file's object is named by a declaration or a guess.
type NameSource string

// The ways a name is found, from the surest to a guess.
const (
	// NameFromField is a name field in the file (a token role's name).
	NameFromField NameSource = "field"
	// NameFromFlag is --name FILE=NAME.
	NameFromFlag NameSource = "flag"
	// NameFromConfig is a names entry of .nvlint.hcl.
	NameFromConfig NameSource = "config"
	// NameFromTerraform is a Terraform resource's own attribute (name,
	// role_name, path) or its for_each key.
	NameFromTerraform NameSource = "terraform"
	// NameFromSetupVault is one of the files nomad setup vault writes
	// (command/asset/vault-wi-default-*), whose names the command fixes.
	NameFromSetupVault NameSource = "nomad-setup-vault"
	// NameFromFileName is a guess from the file name, which nothing
	// confirms.
	NameFromFileName NameSource = "file-name"
	// NameUnknown is a name only known at apply time (a Terraform
	// expression nvlint cannot evaluate); Name is then a stand-in (the
	// resource's address) that nothing can refer to.
	NameUnknown NameSource = "unknown"
)

// Guessed reports whether the name is a guess from the file name.
func (r ObjectRef) Guessed() bool { return r.NameSource == NameFromFileName }

// NameKnown reports whether the name is the object's real name, stated
// or guessed; false for a stand-in.
func (r ObjectRef) NameKnown() bool { return r.NameSource != NameUnknown }

// Assumption says, for a finding's evidence, what a guessed name rests
// on: `JWT role "acl" (name guessed from file acl-role.json)`.
func (r ObjectRef) Assumption(file string) string {
	what := strings.TrimPrefix(strings.TrimPrefix(r.Kind.Noun(), "a "), "an ")
	switch r.NameSource {
	case NameFromFileName:
		if file != "" {
			return fmt.Sprintf("%s %q: name guessed from file %s", what, r.Name, filepath.Base(file))
		}
		return fmt.Sprintf("%s %q: name guessed from its file name", what, r.Name)
	case NameUnknown:
		return fmt.Sprintf("%s %s: name known only when Terraform applies it", what, r.Name)
	}
	return fmt.Sprintf("%s %q", what, r.Name)
}

// Meta is embedded in every top-level object.
type Meta struct {
	Ref ObjectRef
	// File is the file the object came from; nil for live objects.
	File *File
	// Range covers the whole object definition (or its opening line).
	Range hcl.Range
	// Raw is the API data a live Vault object was read from, kept so a
	// snapshot can replay it through the same readers; nil for files and
	// jobs (a snapshot writes a live job back from what was read).
	Raw []byte
	// Resource is the Terraform resource that declares the object, when
	// it was read from a .tf file; nil otherwise.
	Resource *Resource
	// Namespace is the Vault namespace the object lives in, when its
	// source says (a Terraform resource's namespace argument, or its
	// provider's): V "" is the root namespace. Unset, as for plain files,
	// the object fits whatever namespace it is written to.
	Namespace Str
	// NameGuess says what a name guessed for a file's object rests on,
	// when its file name does not say it (auth-method.json names no
	// mount); "" when the name is the file name's.
	NameGuess string
	// Cluster is the Vault cluster the object lives in, named as Nomad
	// names it (an agent vault block's name; "default" for the unnamed
	// one), when its source says: doctor tags what it reads from each
	// cluster. Unset, as for plain files, the object fits any cluster.
	Cluster Str
}

// Assumption is Ref.Assumption for the object's own file, with the
// reason for a guess its file name alone does not give.
func (m Meta) Assumption() string {
	if m.Ref.Guessed() && m.NameGuess != "" {
		what := strings.TrimPrefix(strings.TrimPrefix(m.Ref.Kind.Noun(), "a "), "an ")
		return fmt.Sprintf("%s %q: %s", what, m.Ref.Name, m.NameGuess)
	}
	file := ""
	if m.File != nil {
		file = m.File.Path
	}
	return m.Ref.Assumption(file)
}

// InCluster reports whether the object may be the one a reference from
// Vault cluster c means: it lives in c, or one of the two is not known.
func (m *Meta) InCluster(c Str) bool {
	if !m.Cluster.IsKnown() || !c.IsKnown() {
		return true
	}
	return clusterName(m.Cluster.V) == clusterName(c.V)
}

// In reports whether the object may be the one a reference from place
// at means: in its cluster and its namespace, as far as both are known.
func (m *Meta) In(at Place) bool {
	return m.InCluster(at.Cluster) && m.InNamespace(at.Namespace)
}

// Place is where the object lives, as far as its source says.
func (m *Meta) Place() Place { return Place{Cluster: m.Cluster, Namespace: m.Namespace} }

// InNamespace reports whether the object may be the one a reference
// from Vault namespace ns means: it is declared in ns, or one of the two
// is not known.
func (m *Meta) InNamespace(ns Str) bool {
	if !m.Namespace.IsKnown() || !ns.IsKnown() {
		return true
	}
	return strings.Trim(m.Namespace.V, "/") == strings.Trim(ns.V, "/")
}

// Object returns the reference of the object.
func (m *Meta) Object() ObjectRef { return m.Ref }

// Value is one scalar fact with where it was written. Set is false when
// the source did not mention it; Known is false when it was written as an
// expression nvlint cannot evaluate (variables, functions), in which case
// rules that need the value stay silent.
type Value[T any] struct {
	V     T
	Set   bool
	Known bool
	Range hcl.Range
}

// IsKnown reports whether the value was written with a literal nvlint
// could read.
func (v Value[T]) IsKnown() bool { return v.Set && v.Known }

// Str is a string value.
type Str = Value[string]

// Bool is a boolean value.
type Bool = Value[bool]

// Seconds is a duration in whole seconds, accepting Vault's int and
// duration-string forms.
type Seconds = Value[int64]

// List is a list of strings whose elements keep their own ranges. Vault's
// comma-separated string form is split into elements.
type List struct {
	Items []Str
	Set   bool
	Known bool
	Range hcl.Range
}

// Strings returns the element values.
func (l List) Strings() []string {
	out := make([]string, 0, len(l.Items))
	for _, it := range l.Items {
		out = append(out, it.V)
	}
	return out
}

// Contains reports whether s is an element.
func (l List) Contains(s string) bool {
	for _, it := range l.Items {
		if it.V == s {
			return true
		}
	}
	return false
}

// Find returns the element equal to s.
func (l List) Find(s string) (Str, bool) {
	for _, it := range l.Items {
		if it.V == s {
			return it, true
		}
	}
	return Str{}, false
}

// Map is a string-to-string map whose entries keep their ranges.
type Map struct {
	Entries map[string]Str
	Set     bool
	Known   bool
	Range   hcl.Range
}

// Keys returns the sorted keys.
func (m Map) Keys() []string {
	keys := make([]string, 0, len(m.Entries))
	for k := range m.Entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Attr is an attribute as written, kept for rules that look at the raw
// keys of a block (unknown or deprecated keys).
type Attr struct {
	Name      string
	NameRange hcl.Range
	Range     hcl.Range
	// Misfits are the block's known keys this one's value could not be
	// given to, each with what that key takes: renaming a typo to one of
	// them would turn an ignored key into a refused file.
	Misfits map[string]string
}
