package world

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Hints are facts the files cannot tell, declared by the user in
// .nvlint.hcl: the releases the setup targets and the names of objects
// nothing in the files identifies. Each value keeps its range in the
// config file, so a finding can point at the declaration it rests on.
// Files win where they do say: an agent config's create_from_role names
// the token role whatever token_role says.
type Hints struct {
	// NomadVersion and VaultVersion are the releases the setup runs or
	// is about to run ("1.10", "1.10.2").
	NomadVersion Str
	VaultVersion Str
	// ServerPolicy is the Nomad server's own Vault policy (legacy flow).
	ServerPolicy Str
	// TokenRole is the token role Nomad creates task tokens from (legacy
	// flow).
	TokenRole Str
	// JWTMount is the path of the JWT auth method Nomad logs in with,
	// without "auth/"; JWTAccessor is that mount's accessor.
	JWTMount    Str
	JWTAccessor Str
	// ForecastError and ForecastWarning are how close a forecast expiry
	// must be to make an error or a warning (forecast { error_within,
	// warning_within }); zero: the defaults, 24h and 7 days.
	ForecastError, ForecastWarning time.Duration
	// Names are the names of the objects of files, as names = { FILE =
	// NAME } declares them: keyed by absolute path, or by base name.
	Names map[string]Str
}

// Over is h with the values o sets in their place: a setup's own
// declarations over the config's.
func (h Hints) Over(o Hints) Hints {
	for _, p := range []struct{ dst, src *Str }{
		{&h.NomadVersion, &o.NomadVersion}, {&h.VaultVersion, &o.VaultVersion},
		{&h.ServerPolicy, &o.ServerPolicy}, {&h.TokenRole, &o.TokenRole},
		{&h.JWTMount, &o.JWTMount}, {&h.JWTAccessor, &o.JWTAccessor},
	} {
		if p.src.Set {
			*p.dst = *p.src
		}
	}
	return h
}

// declaredName is the name .nvlint.hcl gives the object of the file at
// path, if any.
func (h Hints) declaredName(path string) (Str, bool) {
	if len(h.Names) == 0 || path == "" {
		return Str{}, false
	}
	if abs, err := filepath.Abs(path); err == nil {
		if n, ok := h.Names[abs]; ok {
			return n, true
		}
	}
	n, ok := h.Names[filepath.Base(path)]
	return n, ok
}

// applyNames names the objects of files as .nvlint.hcl declares; --name
// on the command line and a Terraform resource's own attributes win.
func (w *World) applyNames() {
	rename := func(m *Meta) bool {
		if m.File == nil || m.Resource != nil || m.Ref.NameSource == NameFromFlag || m.Ref.NameSource == NameFromField {
			return false
		}
		n, ok := w.Hints.declaredName(m.File.Path)
		if !ok {
			return false
		}
		m.Ref.Name, m.Ref.NameSource = n.V, NameFromConfig
		return true
	}
	for _, p := range w.Policies {
		if rename(&p.Meta) && p.ACL != nil {
			p.ACL.Name = p.Ref.Name
		}
	}
	for _, r := range w.TokenRoles {
		rename(&r.Meta)
	}
	for _, r := range w.JWTRoles {
		rename(&r.Meta)
	}
	for _, c := range w.JWTConfigs {
		if rename(&c.Meta) {
			c.Mount = strings.Trim(strings.TrimPrefix(strings.Trim(c.Ref.Name, "/"), "auth/"), "/")
			c.Ref.Name = c.Mount
		}
	}
}

// NomadVersion is the Nomad release to judge against: the one declared
// in the config, else the live servers' (doctor), else "".
func (w *World) NomadVersion() string {
	if w.Hints.NomadVersion.IsKnown() {
		return w.Hints.NomadVersion.V
	}
	if w.Live != nil && w.Live.Nomad != nil {
		return w.Live.Nomad.Version
	}
	return ""
}

// VaultVersion is the Vault release: the live one when doctor read it
// (what runs beats what was declared), else the declared one, else "".
func (w *World) VaultVersion() string {
	if w.Live != nil && w.Live.Vault != nil && w.Live.Vault.Health != nil && w.Live.Vault.Health.Version != "" {
		return w.Live.Vault.Health.Version
	}
	if w.Hints.VaultVersion.IsKnown() {
		return w.Hints.VaultVersion.V
	}
	return ""
}

// NomadJWTMount is the JWT auth mount Nomad logs in with: the declared
// one, else Nomad's default jwt-nomad.
func (w *World) NomadJWTMount() string {
	if w.Hints.JWTMount.IsKnown() && w.Hints.JWTMount.V != "" {
		return strings.Trim(w.Hints.JWTMount.V, "/")
	}
	return "jwt-nomad"
}

// ApplyHints writes the declared names into the objects files could not
// name: the JWT mount of the JWT auth config and roles read from files,
// and the mount's accessor. Call it once the world is complete.
func (w *World) ApplyHints() {
	h := w.Hints
	w.applyNames()
	w.NameMounts()
	if h.JWTMount.IsKnown() && h.JWTMount.V != "" {
		mount := strings.Trim(h.JWTMount.V, "/")
		var fromFiles []*JWTAuthConfig
		for _, c := range w.JWTConfigs {
			// A Terraform resource says its mount (path).
			if c.File != nil && c.Resource == nil {
				fromFiles = append(fromFiles, c)
			}
		}
		// A file only says which mount it configures through its name;
		// with one config file the declaration settles it, unless the
		// file's name was given.
		if len(fromFiles) == 1 && !w.hasLiveJWTConfig(mount) && (fromFiles[0].Ref.Guessed() || fromFiles[0].Ref.NameSource == NameFromSetupVault) {
			fromFiles[0].Mount = mount
			fromFiles[0].Ref.Name = mount
			fromFiles[0].Ref.NameSource = NameFromConfig
		}
		for _, r := range w.JWTRoles {
			if r.Mount == "" {
				r.Mount = mount
			}
		}
	}
	if h.JWTAccessor.IsKnown() && h.JWTAccessor.V != "" {
		for _, c := range w.JWTConfigs {
			if c.Accessor == "" && (c.Mount == w.NomadJWTMount() || len(w.JWTConfigs) == 1) {
				c.Accessor = h.JWTAccessor.V
			}
		}
	}
}

func (w *World) hasLiveJWTConfig(mount string) bool {
	for _, c := range w.JWTConfigs {
		if c.File == nil && c.Mount == mount {
			return true
		}
	}
	return false
}

// CompareVersions compares dotted release numbers numerically ("1.10" >
// "1.9.7"); missing parts count as 0 and pre-release or build suffixes
// are ignored.
func CompareVersions(a, b string) int {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// VersionAtLeast reports whether v is known and at least min.
func VersionAtLeast(v, min string) bool {
	return v != "" && CompareVersions(v, min) >= 0
}

// ValidVersion reports whether s reads as a release number: "1.10",
// "1.10.2", "v1.16.1+ent".
func ValidVersion(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	s, _, _ = strings.Cut(s, "+")
	s, _, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

func versionParts(v string) [3]int {
	var out [3]int
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "-")
	v, _, _ = strings.Cut(v, "+")
	for i, part := range strings.SplitN(v, ".", 3) {
		n := 0
		for _, c := range part {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		out[i] = n
	}
	return out
}

// NameMounts names the mount of each JWT auth config read from a file
// whose name names none (MountUnnamed): the clients'
// jwt_auth_backend_path when the agent configs give exactly one, else
// jwt-nomad, Nomad's default and where nomad setup vault mounts the
// method. The name stays a guess, and says what it rests on.
func (w *World) NameMounts() {
	var paths []string
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if p := strings.Trim(v.JWTAuthBackendPath.V, "/"); v.JWTAuthBackendPath.IsKnown() && p != "" && !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
	}
	for _, c := range w.JWTConfigs {
		if !c.MountUnnamed || !c.Ref.Guessed() || c.File == nil {
			continue
		}
		file := filepath.Base(c.File.Path)
		mount := "jwt-nomad"
		why := fmt.Sprintf("%s names no mount; jwt-nomad is Nomad's default jwt_auth_backend_path and nomad setup vault's mount", file)
		switch {
		case len(paths) == 1:
			mount = paths[0]
			why = fmt.Sprintf("%s names no mount; %s is the clients' jwt_auth_backend_path", file, mount)
		case len(paths) > 1:
			why = fmt.Sprintf("%s names no mount, and the clients' jwt_auth_backend_path names several (%s); jwt-nomad is Nomad's default", file, strings.Join(paths, ", "))
		}
		c.Mount, c.Ref.Name, c.NameGuess = mount, mount, why
	}
}
