package inputs

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/world"
)

// Objects read from a live cluster go through the same readers as files,
// so a rule sees the same values either way. They carry no file and no
// source range; their ObjectRef.Origin names the API path they came from.

// LiveObject parses the JSON data of one object read from an API (a
// token role, JWT auth config, JWT role, or a Nomad job) into w.
func LiveObject(w *world.World, kind world.Kind, name, origin string, data []byte) error {
	f := &world.File{}
	file, diags := hcljson.Parse(data, "")
	if diags.HasErrors() {
		return fmt.Errorf("%s: %s", origin, diags.Error())
	}
	top, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		return fmt.Errorf("%s: %s", origin, diags.Error())
	}
	part := &world.World{}
	switch kind {
	case world.KindTokenRole:
		loadTokenRole(f, top, world.ObjectRef{Kind: kind, Name: name}, part)
	case world.KindJWTAuthConfig:
		loadJWTConfig(f, top, world.ObjectRef{Kind: kind, Name: name}, part)
	case world.KindJWTRole:
		loadJWTRole(f, top, world.ObjectRef{Kind: kind, Name: name}, part)
	case world.KindJobspec:
		loadJobJSON(f, top, part)
		parseTemplates(part)
	default:
		return fmt.Errorf("%s: cannot read a live %s", origin, kind)
	}
	detach(part, origin, data)
	merge(w, part)
	return nil
}

// LivePolicy parses a policy's text as Vault stores it.
func LivePolicy(w *world.World, name, origin, text string) error {
	p, diags := acl.Parse([]byte(text), "")
	if p == nil {
		return fmt.Errorf("%s: %s", origin, diags.Error())
	}
	p.Name = name
	w.Policies = append(w.Policies, &world.Policy{
		Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindPolicy, Name: name, Origin: origin}, Raw: []byte(text)},
		ACL:  p,
		// Warnings: what Vault stores but drops (a template parameter
		// it can never fill).
		Diags: diags,
	})
	return nil
}

// detach drops the file and source ranges of objects parsed from API data,
// and keeps the data of each Vault object for snapshots. A job keeps none:
// APIJobJSON writes it back from what was read.
func detach(w *world.World, origin string, data []byte) {
	for _, o := range w.Jobs {
		o.File, o.Range, o.Ref.Origin = nil, hcl.Range{}, origin
	}
	metas := []*world.Meta{}
	for _, o := range w.TokenRoles {
		metas = append(metas, &o.Meta)
	}
	for _, o := range w.JWTConfigs {
		metas = append(metas, &o.Meta)
	}
	for _, o := range w.JWTRoles {
		metas = append(metas, &o.Meta)
	}
	for _, m := range metas {
		m.File = nil
		m.Range = hcl.Range{}
		m.Ref.Origin = origin
		m.Raw = data
	}
}
