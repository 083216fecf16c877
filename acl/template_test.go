package acl

import (
	"strings"
	"testing"
	"time"
)

func testEntity() *Entity {
	return &Entity{
		ID:       "ent-1",
		Name:     "web",
		Metadata: map[string]string{"team": "payments", "empty": "", "a.b": "dotted", "star": "a*b"},
		Aliases: map[string]Alias{
			"auth_jwt_1a2b": {
				ID:             "alias-1",
				Name:           "default:web",
				Metadata:       map[string]string{"nomad_namespace": "default", "nomad_job_id": "web", "blank": ""},
				CustomMetadata: map[string]string{"env": "prod"},
			},
			"auth_noname": {},
		},
		GroupNames: []string{"devs", "ops"},
		GroupIDs:   []string{"gid-devs", "gid-ops"},
		Groups: []Group{
			{ID: "gid-devs", Name: "devs", Metadata: map[string]string{"tier": "gold"}},
			{ID: "gid-anon", Name: ""},
		},
	}
}

func TestFill(t *testing.T) {
	ent := testEntity()
	now := time.Unix(1_700_000_000, 0)
	opts := Options{Now: now}
	cases := []struct {
		name   string
		path   string
		ent    *Entity
		opts   *Options
		want   string
		reason string // substring; empty means success
	}{
		{"no templating", "secret/foo", ent, nil, "secret/foo", ""},
		{"empty path", "", ent, nil, "", ""},
		{"entity id", "kv/{{identity.entity.id}}/*", ent, nil, "kv/ent-1/*", ""},
		{"spaces trimmed", "kv/{{  identity.entity.name }}", ent, nil, "kv/web", ""},
		{"entity metadata", "kv/{{identity.entity.metadata.team}}", ent, nil, "kv/payments", ""},
		{"metadata key with dots", "kv/{{identity.entity.metadata.a.b}}", ent, nil, "kv/dotted", ""},
		{"empty metadata value still fills", "kv/{{identity.entity.metadata.empty}}/x", ent, nil, "kv//x", ""},
		{"missing metadata key", "kv/{{identity.entity.metadata.nope}}", ent, nil, "", "{{identity.entity.metadata.nope}}: no value could be found for one of the template directives"},
		{"metadata without key", "kv/{{identity.entity.metadata}}", ent, nil, "", "no value could be found"},
		{"groups list never fills", "kv/{{identity.entity.groups.names}}", ent, nil, "", "no value could be found"},
		{"group ids list never fills", "kv/{{identity.entity.groups.ids}}", ent, nil, "", "no value could be found"},
		{"unknown entity field", "kv/{{identity.entity.email}}", ent, nil, "", "no value could be found"},
		{"unknown root", "kv/{{identity.other}}", ent, nil, "", "no value could be found"},
		{"empty directive", "kv/{{}}", ent, nil, "", "no value could be found"},
		{"no entity", "kv/{{identity.entity.id}}", nil, nil, "", "string contains entity template directives but no entity was provided"},
		{"empty entity name", "kv/{{identity.entity.name}}", &Entity{ID: "x"}, nil, "", "no value could be found"},
		{"alias metadata", "kv/data/{{identity.entity.aliases.auth_jwt_1a2b.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_1a2b.metadata.nomad_job_id}}/*", ent, nil, "kv/data/default/web/*", ""},
		{"alias id and name", "{{identity.entity.aliases.auth_jwt_1a2b.id}}/{{identity.entity.aliases.auth_jwt_1a2b.name}}", ent, nil, "alias-1/default:web", ""},
		{"alias custom metadata", "kv/{{identity.entity.aliases.auth_jwt_1a2b.custom_metadata.env}}", ent, nil, "kv/prod", ""},
		{"alias empty metadata value fills", "kv/{{identity.entity.aliases.auth_jwt_1a2b.metadata.blank}}", ent, nil, "kv/", ""},
		{"alias not found", "kv/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_job_id}}", ent, nil, "", "{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_job_id}}: alias not found"},
		{"alias missing key", "kv/{{identity.entity.aliases.auth_jwt_1a2b.metadata.nomad_task}}", ent, nil, "", "no value could be found"},
		{"alias empty name", "kv/{{identity.entity.aliases.auth_noname.name}}", ent, nil, "", "no value could be found"},
		{"alias selector without field", "kv/{{identity.entity.aliases.auth_jwt_1a2b}}", ent, nil, "", "invalid alias selector"},
		{"alias metadata without key", "kv/{{identity.entity.aliases.auth_jwt_1a2b.metadata}}", ent, nil, "", "no value could be found"},
		{"alias unknown field", "kv/{{identity.entity.aliases.auth_jwt_1a2b.role}}", ent, nil, "", "no value could be found"},
		{"group by name id", "g/{{identity.groups.names.devs.id}}", ent, nil, "g/gid-devs", ""},
		{"group by id name", "g/{{identity.groups.ids.gid-devs.name}}", ent, nil, "g/devs", ""},
		{"group metadata", "g/{{identity.groups.names.devs.metadata.tier}}", ent, nil, "g/gold", ""},
		{"group from GroupIDs pairs", "g/{{identity.groups.names.ops.id}}", ent, nil, "g/gid-ops", ""},
		{"group not member", "g/{{identity.groups.names.admins.id}}", ent, nil, "", `entity is not a member of group "admins"`},
		{"group empty name", "g/{{identity.groups.ids.gid-anon.name}}", ent, nil, "", "no value could be found"},
		{"group metadata missing", "g/{{identity.groups.names.ops.metadata.tier}}", ent, nil, "", "no value could be found"},
		{"group bad selector", "g/{{identity.groups.nmes.devs.id}}", ent, nil, "", "invalid groups selector"},
		{"group bad accessor", "g/{{identity.groups.names.devs}}", ent, nil, "", "invalid groups accessor"},
		{"no groups", "g/{{identity.groups.names.devs.id}}", &Entity{ID: "x"}, nil, "", "no groups were provided"},
		{"groups need an entity", "g/{{identity.groups.names.devs.id}}", nil, nil, "", "no groups were provided"},
		{"time now", "t/{{time.now}}", nil, &opts, "t/1700000000", ""},
		{"time plus", "t/{{time.now.plus.1h}}", nil, &opts, "t/1700003600", ""},
		{"time minus days", "t/{{time.now.minus.1d}}", nil, &opts, "t/1699913600", ""},
		{"time plus seconds", "t/{{time.now.plus.30}}", nil, &opts, "t/1700000030", ""},
		{"time missing operand", "t/{{time.now.plus}}", nil, &opts, "", "missing time operand"},
		{"time bad operator", "t/{{time.now.times.1h}}", nil, &opts, "", `invalid time operator "times"`},
		{"time bad selector", "t/{{time.then}}", nil, &opts, "", `invalid time selector "then"`},
		{"value with glob dropped", "kv/{{identity.entity.metadata.star}}", ent, nil, "", "globs and wildcards are not allowed in template result"},
		{"value with glob kept on old Vault", "kv/{{identity.entity.metadata.star}}", ent, &Options{TemplatedWildcards: true}, "kv/a*b", ""},
		{"slash allowed by default", "kv/{{identity.entity.aliases.auth_jwt_1a2b.name}}", &Entity{Aliases: map[string]Alias{"auth_jwt_1a2b": {Name: "a/b"}}}, nil, "kv/a/b", ""},
		{"slash denied by option", "kv/{{identity.entity.aliases.auth_jwt_1a2b.name}}", &Entity{Aliases: map[string]Alias{"auth_jwt_1a2b": {Name: "a/b"}}}, &Options{DenySlashInTemplatedPaths: true}, "", "cannot contain '/'"},
		{"unbalanced", "kv/{{identity.entity.id", ent, nil, "", "unbalanced templating characters"},
		{"close first", "kv/}}{{identity.entity.id}}", ent, nil, "", "unbalanced templating characters"},
		{"first failure wins", "{{identity.entity.nope}}/{{identity.entity.id", ent, nil, "", "no value could be found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{}
			if tc.opts != nil {
				o = *tc.opts
			}
			got, ok, reason := o.Fill(tc.path, tc.ent)
			if tc.reason == "" {
				if !ok || got != tc.want {
					t.Fatalf("Fill = %q, %v, %q; want %q", got, ok, reason, tc.want)
				}
				return
			}
			if ok || !strings.Contains(reason, tc.reason) {
				t.Fatalf("Fill = %q, %v, %q; want failure %q", got, ok, reason, tc.reason)
			}
		})
	}
}

func TestFillDefaultOptions(t *testing.T) {
	got, ok, _ := Fill("kv/{{identity.entity.id}}", testEntity())
	if !ok || got != "kv/ent-1" {
		t.Fatalf("Fill = %q %v", got, ok)
	}
}

func TestTemplateParams(t *testing.T) {
	cases := []struct {
		path string
		want []Param // Start/End checked via Raw
	}{
		{"secret/foo", nil},
		{"kv/{{identity.entity.id}}", []Param{{Raw: "identity.entity.id", Kind: "entity-id"}}},
		{"kv/{{ identity.entity.name }}", []Param{{Raw: "identity.entity.name", Kind: "entity-name"}}},
		{"kv/{{identity.entity.metadata.k.x}}", []Param{{Raw: "identity.entity.metadata.k.x", Kind: "entity-metadata", Key: "k.x"}}},
		{"{{identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id}}", []Param{{Raw: "identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id", Kind: "alias-metadata", Accessor: "auth_jwt_x", Key: "nomad_job_id"}}},
		{"{{identity.entity.aliases.auth_jwt_x.custom_metadata.env}}", []Param{{Raw: "identity.entity.aliases.auth_jwt_x.custom_metadata.env", Kind: "alias-custom-metadata", Accessor: "auth_jwt_x", Key: "env"}}},
		{"{{identity.entity.aliases.auth_jwt_x.id}}{{identity.entity.aliases.auth_jwt_x.name}}", []Param{
			{Raw: "identity.entity.aliases.auth_jwt_x.id", Kind: "alias-id", Accessor: "auth_jwt_x"},
			{Raw: "identity.entity.aliases.auth_jwt_x.name", Kind: "alias-name", Accessor: "auth_jwt_x"},
		}},
		{"{{identity.groups.ids.g1.name}}", []Param{{Raw: "identity.groups.ids.g1.name", Kind: "group-name", GroupBy: "ids", Group: "g1"}}},
		{"{{identity.groups.names.devs.metadata.tier}}", []Param{{Raw: "identity.groups.names.devs.metadata.tier", Kind: "group-metadata", GroupBy: "names", Group: "devs", Key: "tier"}}},
		{"{{identity.groups.names.devs.id}}", []Param{{Raw: "identity.groups.names.devs.id", Kind: "group-id", GroupBy: "names", Group: "devs"}}},
		{"{{time.now.plus.1h}}", []Param{{Raw: "time.now.plus.1h", Kind: "time-now"}}},
		{"{{identity.entity.groups.names}}", []Param{{Raw: "identity.entity.groups.names", Kind: "entity-groups", Problem: "identity.entity.groups.names is a list, which ACL path templating cannot render"}}},
		{"{{identity.entity.nme}}", []Param{{Raw: "identity.entity.nme", Kind: "unknown", Problem: "unknown template parameter"}}},
		{"{{entity.id}}", []Param{{Raw: "entity.id", Kind: "unknown", Problem: "unknown template parameter"}}},
		{"{{identity.entity.aliases.x}}", []Param{{Raw: "identity.entity.aliases.x", Kind: "unknown", Problem: "invalid alias selector"}}},
		{"{{identity.entity.aliases.x.foo}}", []Param{{Raw: "identity.entity.aliases.x.foo", Kind: "unknown", Accessor: "x", Problem: `unknown alias field "foo"`}}},
		{"{{identity.groups.names.devs}}", []Param{{Raw: "identity.groups.names.devs", Kind: "unknown", Problem: "invalid groups accessor"}}},
		{"{{identity.groups.names.devs.metadata}}", []Param{{Raw: "identity.groups.names.devs.metadata", Kind: "unknown", GroupBy: "names", Group: "devs", Problem: `unknown group field "metadata"`}}},
		{"{{time.now.plus}}", []Param{{Raw: "time.now.plus", Kind: "unknown", Problem: "missing time operand"}}},
		// Stops at the first unbalanced piece, like Vault.
		{"{{identity.entity.id}}/{{identity.entity.name", []Param{{Raw: "identity.entity.id", Kind: "entity-id"}}},
		{"}}{{identity.entity.id}}", nil},
	}
	for _, tc := range cases {
		got := TemplateParams(tc.path)
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %+v", tc.path, got)
			continue
		}
		for i, w := range tc.want {
			g := got[i]
			if !strings.Contains(tc.path[g.Start:g.End], g.Raw) || !strings.HasPrefix(tc.path[g.Start:], "{{") || !strings.HasSuffix(tc.path[:g.End], "}}") {
				t.Errorf("%s: param %d offsets %d..%d", tc.path, i, g.Start, g.End)
			}
			g.Start, g.End = 0, 0
			if g != w {
				t.Errorf("%s: param %d = %+v, want %+v", tc.path, i, g, w)
			}
		}
	}
}
