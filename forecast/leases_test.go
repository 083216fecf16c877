package forecast

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// leaseWorld is a world with one running task of job app whose task has
// the given templates (API job JSON) and secret blocks, started at
// start, read at now.
func leaseWorld(t *testing.T, now, start time.Time, templates, secrets []map[string]any, vault map[string]any) *world.World {
	t.Helper()
	if vault == nil {
		vault = map[string]any{"Cluster": "default"}
	}
	task := map[string]any{"Name": "app", "Driver": "raw_exec", "Vault": vault, "Templates": templates}
	if secrets != nil {
		task["Secrets"] = secrets
	}
	job := map[string]any{"ID": "app", "Name": "app", "Namespace": "default", "Type": "service",
		"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{task}}}}
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	w := &world.World{}
	if err := inputs.LiveObject(w, world.KindJobspec, "app", "nomad:/v1/job/app", raw); err != nil {
		t.Fatal(err)
	}
	w.Live = &world.Live{
		CollectedAt: now,
		Vault: &world.VaultLive{
			EngineMounts: []world.EngineMount{{Path: "database", Type: "database"}, {Path: "team/pki", Type: "pki"}, {Path: "kv", Type: "kv", Version: "2"}},
		},
		Nomad: &world.NomadLive{RunningTasks: []world.NomadTask{{AllocID: "a1c1e2f0-0000-4000-8000-000000000001", JobID: "app", Namespace: "default", TaskGroup: "g", Task: "app", StartedAt: start}}},
	}
	return w
}

func tmpl(text, mode string, env bool) map[string]any {
	m := map[string]any{"EmbeddedTmpl": text, "DestPath": "secrets/out", "Envvars": env}
	if mode != "" {
		m["ChangeMode"] = mode
	}
	return m
}

const (
	dbCreds = `{{ with secret "database/creds/app" }}{{ .Data.password }}{{ end }}`
	pkiCert = `{{ with secret "team/pki/issue/web" "common_name=web.example" }}{{ .Data.certificate }}{{ end }}`
)

func TestLeases(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	start := now.Add(-30 * time.Minute)
	h := func(n float64) int64 { return int64(n * 3600) }
	tune := func(def, max int64) []world.LeaseMount {
		return []world.LeaseMount{{Path: "database", DefaultLeaseTTL: def, MaxLeaseTTL: max}, {Path: "team/pki", DefaultLeaseTTL: def, MaxLeaseTTL: max}}
	}
	for _, c := range []struct {
		name      string
		templates []map[string]any
		secrets   []map[string]any
		vault     map[string]any
		role      world.LeaseRole
		mounts    []world.LeaseMount
		engine    []world.EngineMount // replaces the mount table's entries of the same path
		start     time.Time           // zero: start
		want      time.Time           // zero: no forecast
		life      time.Duration
		from      string
		kind      string
		cycles    int
		assumed   string
	}{
		{name: "database max_ttl", templates: []map[string]any{tmpl(dbCreds, "", false)}, role: world.LeaseRole{Type: "database", TTL: 600, MaxTTL: h(1)}, mounts: tune(h(768), h(768)),
			want: start.Add(time.Hour), life: time.Hour, from: "max_ttl", kind: KindLease},
		// Vault lowers a database role's max_ttl to the mount's.
		{name: "database max_ttl above the mount's", templates: []map[string]any{tmpl(dbCreds, "restart", false)}, role: world.LeaseRole{Type: "database", MaxTTL: h(100)}, mounts: tune(h(1), h(10)),
			want: start.Add(10 * time.Hour), life: 10 * time.Hour, from: "the mount's max_lease_ttl", kind: KindLease},
		{name: "database tuning unread", templates: []map[string]any{tmpl(dbCreds, "", false)}, role: world.LeaseRole{Type: "database"},
			mounts: []world.LeaseMount{{Path: "database", TuneError: "sys/mounts/database/tune: 403 permission denied"}},
			want:   start.Add(768 * time.Hour), life: 768 * time.Hour, from: "the mount's max_lease_ttl", kind: KindLease, assumed: "max_lease_ttl of 768h for mount database, whose tuning could not be read (sys/mounts/database/tune: 403"},
		// The mount table says what the mount sets itself.
		{name: "database tuning unread, mount table", templates: []map[string]any{tmpl(dbCreds, "", false)}, role: world.LeaseRole{Type: "database"},
			engine: []world.EngineMount{{Path: "database", Type: "database", DefaultLeaseTTL: 60, MaxLeaseTTL: h(5)}},
			want:   start.Add(5 * time.Hour), life: 5 * time.Hour, from: "the mount's max_lease_ttl", kind: KindLease},
		// The role's own max_ttl counts only below the mount's, which
		// rests on Vault's default when unread.
		{name: "database tuning unread, role max", templates: []map[string]any{tmpl(dbCreds, "", false)}, role: world.LeaseRole{Type: "database", MaxTTL: h(2)},
			want: start.Add(2 * time.Hour), life: 2 * time.Hour, from: "max_ttl", kind: KindLease, assumed: "max_lease_ttl of 768h for mount database"},
		// A PKI role's max_ttl needs no mount setting.
		{name: "pki tuning unread, role ttl and max", templates: []map[string]any{tmpl(pkiCert, "", false)}, role: world.LeaseRole{Type: "pki", TTL: h(1), MaxTTL: h(2)},
			want: start.Add(54 * time.Minute), life: time.Hour, from: "ttl", kind: KindLease},
		{name: "pki tuning unread, mount default", templates: []map[string]any{tmpl(pkiCert, "", false)}, role: world.LeaseRole{Type: "pki", MaxTTL: h(2)},
			want: start.Add(108 * time.Minute), life: 2 * time.Hour, from: "max_ttl", kind: KindLease, assumed: "default_lease_ttl of 768h for mount team/pki"},
		// noop: the task keeps the credentials Vault revokes, even once passed.
		{name: "noop", templates: []map[string]any{tmpl(dbCreds, "noop", false)}, role: world.LeaseRole{Type: "database", MaxTTL: 600}, mounts: tune(h(768), h(768)),
			want: start.Add(10 * time.Minute), life: 10 * time.Minute, from: "max_ttl", kind: KindLeaseRevoked},
		{name: "env script", templates: []map[string]any{tmpl(dbCreds, "script", true)}, role: world.LeaseRole{Type: "database", MaxTTL: h(1)}, mounts: tune(h(768), h(768)),
			want: start.Add(time.Hour), life: time.Hour, from: "max_ttl", kind: KindLeaseRevoked},
		// signal: the task goes on; the next replacement, after three.
		{name: "signal, later cycle", templates: []map[string]any{tmpl(dbCreds, "signal", false)}, role: world.LeaseRole{Type: "database", MaxTTL: h(1)}, mounts: tune(h(768), h(768)),
			start: now.Add(-210 * time.Minute), want: now.Add(30 * time.Minute), life: time.Hour, from: "max_ttl", kind: KindLease, cycles: 3},
		// A secret block's lease is not renewed: it ends at its TTL.
		{name: "secret block", secrets: []map[string]any{{"Name": "db", "Provider": "vault", "Path": "database/creds/app"}}, role: world.LeaseRole{Type: "database", TTL: 1200, MaxTTL: h(1)}, mounts: tune(h(768), h(768)),
			want: start.Add(20 * time.Minute), life: 20 * time.Minute, from: "default_ttl", kind: KindLeaseRevoked},
		{name: "secret block, mount default", secrets: []map[string]any{{"Name": "db", "Provider": "vault", "Path": "database/creds/app"}}, role: world.LeaseRole{Type: "database", MaxTTL: h(100)}, mounts: tune(h(2), h(768)),
			want: start.Add(2 * time.Hour), life: 2 * time.Hour, from: "the mount's default_lease_ttl", kind: KindLeaseRevoked},
		// A certificate is replaced at 90% of its life.
		{name: "pki ttl", templates: []map[string]any{tmpl(pkiCert, "", false)}, role: world.LeaseRole{Type: "pki", TTL: h(10), MaxTTL: h(100)}, mounts: tune(h(768), h(768)),
			want: start.Add(9 * time.Hour), life: 10 * time.Hour, from: "ttl", kind: KindLease},
		{name: "pki ttl argument", templates: []map[string]any{tmpl(`{{ with secret "team/pki/issue/web" "common_name=web.example" "ttl=2h" }}{{ .Data.certificate }}{{ end }}`, "", false)},
			role: world.LeaseRole{Type: "pki", TTL: h(10), MaxTTL: h(100)}, mounts: tune(h(768), h(768)),
			want: start.Add(108 * time.Minute), life: 2 * time.Hour, from: "the template's ttl", kind: KindLease},
		{name: "pkiCert ttl in seconds", templates: []map[string]any{tmpl(`{{ with pkiCert "team/pki/issue/web" "common_name=web.example" "ttl=3600" }}{{ .Cert }}{{ end }}`, "", false)},
			role: world.LeaseRole{Type: "pki", TTL: h(10), MaxTTL: h(100)}, mounts: tune(h(768), h(768)),
			want: start.Add(54 * time.Minute), life: time.Hour, from: "the template's ttl", kind: KindLease},
		{name: "pki mount default", templates: []map[string]any{tmpl(pkiCert, "", false)}, role: world.LeaseRole{Type: "pki", MaxTTL: h(100)}, mounts: tune(h(5), h(768)),
			want: start.Add(270 * time.Minute), life: 5 * time.Hour, from: "the mount's default_lease_ttl", kind: KindLease},
		// A PKI role's max_ttl replaces the mount's, even above it.
		{name: "pki ttl capped", templates: []map[string]any{tmpl(pkiCert, "", false)}, role: world.LeaseRole{Type: "pki", TTL: h(10), MaxTTL: h(4)}, mounts: tune(h(768), h(1)),
			want: start.Add(216 * time.Minute), life: 4 * time.Hour, from: "max_ttl", kind: KindLease},
		{name: "pki noop", templates: []map[string]any{tmpl(pkiCert, "noop", false)}, role: world.LeaseRole{Type: "pki", TTL: 30, MaxTTL: 30}, mounts: tune(h(768), h(768)),
			want: start.Add(30 * time.Second), life: 30 * time.Second, from: "ttl", kind: KindLeaseRevoked},

		// Not forecast.
		{name: "kv read", templates: []map[string]any{tmpl(`{{ with secret "kv/data/app" }}{{ .Data.data.x }}{{ end }}`, "", false)}, role: world.LeaseRole{Type: "database", MaxTTL: 60}},
		{name: "pki issue without data is a read", templates: []map[string]any{tmpl(`{{ with secret "team/pki/issue/web" }}{{ .Data.certificate }}{{ end }}`, "", false)}, role: world.LeaseRole{Type: "pki", MaxTTL: 60}},
		{name: "dynamic role", templates: []map[string]any{tmpl(`{{ with secret (printf "database/creds/%s" (env "ROLE")) }}{{ .Data.password }}{{ end }}`, "", false)}, role: world.LeaseRole{Type: "database", MaxTTL: 60}},
		{name: "another vault namespace", templates: []map[string]any{tmpl(dbCreds, "", false)}, vault: map[string]any{"Namespace": "team"}, role: world.LeaseRole{Type: "database", MaxTTL: 60}},
		{name: "another vault cluster", templates: []map[string]any{tmpl(dbCreds, "", false)}, vault: map[string]any{"Cluster": "other"}, role: world.LeaseRole{Type: "database", MaxTTL: 60}},
		{name: "role not read", templates: []map[string]any{tmpl(dbCreds, "", false)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := start
			if !c.start.IsZero() {
				st = c.start
			}
			w := leaseWorld(t, now, st, c.templates, c.secrets, c.vault)
			v := w.Live.Vault
			for _, e := range c.engine {
				for i := range v.EngineMounts {
					if v.EngineMounts[i].Path == e.Path {
						v.EngineMounts[i] = e
					}
				}
			}
			if c.role.Type != "" {
				r := c.role
				r.Name = "app"
				r.Mount = "database"
				if r.Type == "pki" {
					r.Name, r.Mount = "web", "team/pki"
				}
				v.LeaseRoles = []world.LeaseRole{r}
			}
			v.LeaseMounts = c.mounts
			ls := Leases(w)
			if c.want.IsZero() {
				if len(ls) != 0 {
					t.Fatalf("forecasts %+v, want none", ls)
				}
				return
			}
			if len(ls) != 1 {
				t.Fatalf("%d forecasts, want 1: %+v", len(ls), ls)
			}
			l := ls[0]
			if !l.At.Equal(c.want) || l.Life != c.life || l.From != c.from || l.Kind != c.kind || l.Cycles != c.cycles {
				t.Errorf("forecast at %s (%s), life %s from %q, kind %s, cycles %d; want %s, %s from %q, %s, %d",
					l.At.Format(time.RFC3339), l.Basis, l.Life, l.From, l.Kind, l.Cycles, c.want.Format(time.RFC3339), c.life, c.from, c.kind, c.cycles)
			}
			if (c.assumed == "") != (l.Assumed == "") || !strings.Contains(l.Assumed, c.assumed) {
				t.Errorf("Assumed = %q, want %q in it", l.Assumed, c.assumed)
			}
			if want := l.Use.Mount + "/" + l.Use.Role; l.Name != want {
				t.Errorf("name %q, want %q", l.Name, want)
			}
			// doctor --watch exports it: kind and name, the role's, are
			// its labels.
			if all := All(w); len(all) != 1 || all[0] != l.Expiry {
				t.Errorf("All = %+v, want the lease's %+v", all, l.Expiry)
			}
		})
	}
}

func TestParseTTL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{{"3600", time.Hour}, {"90m", 90 * time.Minute}, {"2d", 48 * time.Hour}, {" 1h ", time.Hour}} {
		if got, ok := parseTTL(c.in); !ok || got != c.want {
			t.Errorf("parseTTL(%q) = %v, %t; want %v", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"", "soon", "-5", "1.5d"} {
		if _, ok := parseTTL(in); ok {
			t.Errorf("parseTTL(%q) ok", in)
		}
	}
}
