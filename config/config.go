// Package config reads .nvlint.hcl: which rules run and at what severity,
// which paths and findings to ignore, the releases the setup targets, and
// the names of objects the files cannot tell.
//
//	nomad_version = "1.10.2"
//	vault_version = "1.16.1"
//	server_policy = "nomad-server"
//	token_role    = "nomad-cluster"
//	jwt_mount     = "jwt-nomad"
//	jwt_accessor  = "auth_jwt_1a2b3c4d"
//	ignore_paths  = ["legacy/**", "*.example.hcl"]
//
//	rule "NV114" { enabled = false }
//	rule "deprecated-vault-key" { severity = "error" }
//
//	forecast {
//	  error_within   = "24h"
//	  warning_within = "7d"
//	}
//
//	ignore {
//	  rule   = "NV113"
//	  path   = "vault/roles/batch-*.json"
//	  reason = "batch tokens are periodic by design"
//	}
//
//	setup "prod"    { paths = ["prod", "shared/policies"] }
//	setup "staging" { paths = ["staging", "shared/policies"] }
//
// Every key is checked: an unknown one is an error at its location.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/agext/levenshtein"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nvlint/nvlint/internal/nativehcl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// FileName is the name nvlint looks for, from the linted paths up.
const FileName = ".nvlint.hcl"

// Config is a parsed .nvlint.hcl. The zero value (no file) changes
// nothing.
type Config struct {
	// Path is the file as found or given; empty when there is none.
	Path string
	// Dir is the absolute directory patterns are relative to.
	Dir      string
	Settings rules.Settings
	Hints    world.Hints
	// IgnorePaths are the ignore_paths patterns as written.
	IgnorePaths []string
	// Setups are the setup blocks, in the order written: independent
	// integrations linted in one run, each its own world.
	Setups []Setup
}

// Setup is a setup block: a name and the paths of its files.
type Setup struct {
	Name string
	// Paths are patterns relative to the config's directory, as
	// ignore_paths, but always anchored there: "prod" is the directory
	// prod next to the config, not any directory named prod.
	Paths []string
	Range hcl.Range
	// Hints are what the block declares in place of the config's own
	// (nomad_version, jwt_mount...): set ones win.
	Hints world.Hints
}

// Find looks for .nvlint.hcl in dir and its parents, up to the root of
// the repository dir is in (the first directory holding .git) or the
// file system's; "" when there is none.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, FileName)
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			return p, nil
		}
		// .git is a directory in a clone and a file in a worktree or a
		// submodule: either way the repository ends here.
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// Found is the config a run uses, and why.
type Found struct {
	// Path is the config file; empty when there is none.
	Path string
	// From is the linted path (or the working directory) the search
	// that found it started from.
	From string
}

// FindFor finds the config of a run over paths, as golangci-lint does:
// upward from each linted path (a directory itself, a file's directory),
// so a .nvlint.hcl applies to the files under it wherever nvlint is
// started. Paths that find none take the one the others found; paths
// that find different ones are an error, as no one config is right for
// all of them. When no path finds one (or there are none: doctor,
// standard input), the search starts from workDir.
func FindFor(paths []string, workDir string) (Found, error) {
	var found Found
	for _, p := range paths {
		if p == "-" {
			continue
		}
		start := p
		if info, err := os.Stat(p); err != nil || !info.IsDir() {
			start = filepath.Dir(p)
		}
		c, err := Find(start)
		if err != nil {
			return Found{}, err
		}
		switch {
		case c == "":
		case found.Path == "":
			found = Found{Path: c, From: p}
		case c != found.Path:
			return Found{}, fmt.Errorf("the linted paths have different config files: %s has %s, %s has %s; lint them in separate runs, or pick one with --config FILE",
				found.From, found.Path, p, c)
		}
	}
	if found.Path != "" {
		return found, nil
	}
	if workDir == "" {
		workDir = "."
	}
	c, err := Find(workDir)
	if err != nil || c == "" {
		return Found{}, err
	}
	return Found{Path: c, From: workDir}, nil
}

// Load reads and parses the config file at path. Problems in the file
// come back as an *Error listing each with its location.
func Load(path string, catalog []rules.Rule) (*Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, diags := Parse(src, path, catalog)
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	return c, nil
}

// Error is a config file with problems.
type Error struct{ Diags hcl.Diagnostics }

func (e *Error) Error() string {
	var lines []string
	for _, d := range e.Diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		if d.Subject != nil {
			msg = fmt.Sprintf("%s:%d:%d: %s", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, msg)
		}
		lines = append(lines, msg)
	}
	return strings.Join(lines, "\n")
}

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "nomad_version"}, {Name: "vault_version"},
		{Name: "server_policy"}, {Name: "token_role"},
		{Name: "jwt_mount"}, {Name: "jwt_accessor"},
		{Name: "ignore_paths"}, {Name: "names"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "rule", LabelNames: []string{"id"}},
		{Type: "ignore"},
		{Type: "setup", LabelNames: []string{"name"}},
		{Type: "forecast"},
	},
}

var setupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "paths", Required: true},
		// What differs from setup to setup: releases and names.
		{Name: "nomad_version"}, {Name: "vault_version"},
		{Name: "server_policy"}, {Name: "token_role"},
		{Name: "jwt_mount"}, {Name: "jwt_accessor"},
	},
}

var forecastSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "error_within"}, {Name: "warning_within"}},
}

var ruleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "severity"}},
}

var ignoreSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "rule", Required: true}, {Name: "reason", Required: true},
		{Name: "path"}, {Name: "object"},
	},
}

// Parse parses a config file's text. catalog resolves rule IDs and names.
func Parse(src []byte, filename string, catalog []rules.Rule) (*Config, hcl.Diagnostics) {
	file, diags := nativehcl.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, d := file.Body.Content(rootSchema)
	diags = append(diags, d...)
	c := &Config{Path: filename}
	if abs, err := filepath.Abs(filename); err == nil {
		c.Dir = filepath.Dir(abs)
	}

	diags = append(diags, hints(content.Attributes, &c.Hints)...)

	if attr, ok := content.Attributes["ignore_paths"]; ok {
		pats, d := strList(attr)
		diags = append(diags, d...)
		for _, p := range pats {
			if err := checkPattern(p); err != nil {
				diags = append(diags, errAt(attr.Expr.Range(), "Invalid pattern", fmt.Sprintf("%q: %v", p, err)))
			}
		}
		c.IgnorePaths = pats
	}

	if attr, ok := content.Attributes["names"]; ok {
		diags = append(diags, c.names(attr)...)
	}

	seen := map[string]hcl.Range{}
	setups := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		switch b.Type {
		case "rule":
			diags = append(diags, c.ruleBlock(b, catalog, seen)...)
		case "ignore":
			diags = append(diags, c.ignoreBlock(b, catalog)...)
		case "setup":
			diags = append(diags, c.setupBlock(b, setups)...)
		case "forecast":
			diags = append(diags, c.forecastBlock(b)...)
		}
	}
	suggest(diags)
	return c, diags
}

// hints reads the attributes that declare what the files cannot tell,
// at the top of the config or in a setup block.
func hints(attrs hcl.Attributes, h *world.Hints) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, spec := range []struct {
		name    string
		dst     *world.Str
		version bool
	}{
		{"nomad_version", &h.NomadVersion, true},
		{"vault_version", &h.VaultVersion, true},
		{"server_policy", &h.ServerPolicy, false},
		{"token_role", &h.TokenRole, false},
		{"jwt_mount", &h.JWTMount, false},
		{"jwt_accessor", &h.JWTAccessor, false},
	} {
		attr, ok := attrs[spec.name]
		if !ok {
			continue
		}
		s, d := str(attr)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		switch {
		case s == "":
			diags = append(diags, errAt(attr.Expr.Range(), "Empty value", spec.name+" must not be empty; remove it instead"))
			continue
		case spec.version && !world.ValidVersion(s):
			diags = append(diags, errAt(attr.Expr.Range(), "Invalid version", fmt.Sprintf("%s %q is not a release number such as \"1.10\" or \"1.10.2\"", spec.name, s)))
			continue
		}
		if spec.name == "jwt_mount" {
			s = strings.Trim(strings.TrimPrefix(strings.Trim(s, "/"), "auth/"), "/")
		}
		*spec.dst = world.Str{V: s, Set: true, Known: true, Range: attr.Expr.Range()}
	}
	return diags
}

// names reads names = { FILE = NAME }: the object each file holds. FILE
// with a slash is a path relative to the config file's directory, else a
// base name matched in any directory.
func (c *Config) names(attr *hcl.Attribute) hcl.Diagnostics {
	v, diags := literal(attr, cty.Map(cty.String))
	if diags.HasErrors() {
		return diags
	}
	c.Hints.Names = map[string]world.Str{}
	for it := v.ElementIterator(); it.Next(); {
		k, n := it.Element()
		file, name := k.AsString(), strings.TrimSpace(n.AsString())
		if file == "" || name == "" {
			diags = append(diags, errAt(attr.Expr.Range(), "Empty name", "names maps a file to the name of its object; neither may be empty"))
			continue
		}
		if strings.ContainsAny(file, `/\`) && c.Dir != "" {
			file = filepath.Join(c.Dir, filepath.FromSlash(file))
		}
		c.Hints.Names[file] = world.Str{V: name, Set: true, Known: true, Range: attr.Expr.Range()}
	}
	return diags
}

// forecastBlock reads forecast { error_within = "24h" warning_within =
// "7d" }: how close a forecast expiry makes an error or a warning.
func (c *Config) forecastBlock(b *hcl.Block) hcl.Diagnostics {
	content, diags := b.Body.Content(forecastSchema)
	for _, w := range []struct {
		name string
		dst  *time.Duration
	}{{"error_within", &c.Hints.ForecastError}, {"warning_within", &c.Hints.ForecastWarning}} {
		name, dst := w.name, w.dst
		attr, ok := content.Attributes[name]
		if !ok {
			continue
		}
		s, d := str(attr)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		v, err := parseWithin(s)
		if err != nil {
			diags = append(diags, errAt(attr.Expr.Range(), "Invalid duration", fmt.Sprintf("%s %q: %v", name, s, err)))
			continue
		}
		*dst = v
	}
	if e, w := c.Hints.ForecastError, c.Hints.ForecastWarning; e > 0 && w > 0 && e > w {
		diags = append(diags, errAt(b.DefRange, "Invalid forecast windows", "error_within must not be longer than warning_within"))
	}
	return diags
}

// parseWithin reads a Go duration ("36h", "90m") or a number of days
// ("7d").
func parseWithin(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if days, err = strconv.Atoi(n); err == nil {
			d = time.Duration(days) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil {
		return 0, errors.New("not a duration such as \"24h\" or \"7d\"")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return d, nil
}

var unsupported = regexp.MustCompile(`(?:argument|block type) named "([^"]+)"`)

// suggest adds "did you mean" to unknown keys that are a typo of a known
// one.
func suggest(diags hcl.Diagnostics) {
	var known []string
	for _, s := range []*hcl.BodySchema{rootSchema, ruleSchema, ignoreSchema, setupSchema, forecastSchema} {
		for _, a := range s.Attributes {
			known = append(known, a.Name)
		}
		for _, b := range s.Blocks {
			known = append(known, b.Type)
		}
	}
	for _, d := range diags {
		m := unsupported.FindStringSubmatch(d.Detail)
		if m == nil || strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		best, bestD := "", 3
		for _, k := range known {
			if dist := levenshtein.Distance(m[1], k, nil); dist < bestD {
				best, bestD = k, dist
			}
		}
		if best != "" {
			d.Detail += fmt.Sprintf(" Did you mean %q?", best)
		}
	}
}

func (c *Config) ruleBlock(b *hcl.Block, catalog []rules.Rule, seen map[string]hcl.Range) hcl.Diagnostics {
	content, diags := b.Body.Content(ruleSchema)
	r := rules.Lookup(catalog, b.Labels[0])
	if r == nil {
		return append(diags, errAt(b.LabelRanges[0], "Unknown rule", fmt.Sprintf("no rule has ID or name %q%s (nvlint rules lists them)", b.Labels[0], rules.DidYouMean(b.Labels[0], catalog))))
	}
	id := r.Meta().ID
	if prev, dup := seen[id]; dup {
		return append(diags, errAt(b.LabelRanges[0], "Duplicate rule block", fmt.Sprintf("%s is already configured at %s:%d", id, prev.Filename, prev.Start.Line)))
	}
	seen[id] = b.DefRange
	if attr, ok := content.Attributes["enabled"]; ok {
		on, d := boolean(attr)
		diags = append(diags, d...)
		if !d.HasErrors() && !on {
			if c.Settings.Disabled == nil {
				c.Settings.Disabled = map[string]bool{}
			}
			c.Settings.Disabled[id] = true
		}
	}
	if attr, ok := content.Attributes["severity"]; ok {
		s, d := str(attr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			sev, err := rules.ParseSeverity(s)
			if err != nil {
				diags = append(diags, errAt(attr.Expr.Range(), "Invalid severity", err.Error()))
			} else {
				if c.Settings.Severity == nil {
					c.Settings.Severity = map[string]rules.Severity{}
				}
				c.Settings.Severity[id] = sev
			}
		}
	}
	return diags
}

func (c *Config) ignoreBlock(b *hcl.Block, catalog []rules.Rule) hcl.Diagnostics {
	content, diags := b.Body.Content(ignoreSchema)
	if diags.HasErrors() {
		return diags
	}
	ig := rules.Ignore{Range: b.DefRange}
	name, d := str(content.Attributes["rule"])
	diags = append(diags, d...)
	if !d.HasErrors() {
		if r := rules.Lookup(catalog, name); r != nil {
			ig.Rule = r.Meta().ID
		} else {
			diags = append(diags, errAt(content.Attributes["rule"].Expr.Range(), "Unknown rule", fmt.Sprintf("no rule has ID or name %q%s (nvlint rules lists them)", name, rules.DidYouMean(name, catalog))))
		}
	}
	reason, d := str(content.Attributes["reason"])
	diags = append(diags, d...)
	if !d.HasErrors() && strings.TrimSpace(reason) == "" {
		diags = append(diags, errAt(content.Attributes["reason"].Expr.Range(), "Empty reason", "say why the finding is accepted"))
	}
	ig.Reason = strings.TrimSpace(reason)
	if attr, ok := content.Attributes["path"]; ok {
		p, d := str(attr)
		diags = append(diags, d...)
		if err := checkPattern(p); err != nil && !d.HasErrors() {
			diags = append(diags, errAt(attr.Expr.Range(), "Invalid pattern", fmt.Sprintf("%q: %v", p, err)))
		}
		ig.Pattern = p
		ig.Path = func(file string) bool { return c.match(p, file) }
	}
	if attr, ok := content.Attributes["object"]; ok {
		o, d := str(attr)
		diags = append(diags, d...)
		ig.Object = o
	}
	if ig.Path == nil && ig.Object == "" {
		diags = append(diags, errAt(b.DefRange, "Ignore without a place", "an ignore block needs path (a glob of files) or object (a glob of object names), or both"))
	}
	c.Settings.Ignores = append(c.Settings.Ignores, ig)
	return diags
}

func (c *Config) setupBlock(b *hcl.Block, seen map[string]hcl.Range) hcl.Diagnostics {
	content, diags := b.Body.Content(setupSchema)
	name := b.Labels[0]
	if err := CheckSetupName(name); err != nil {
		return append(diags, errAt(b.LabelRanges[0], "Invalid setup name", err.Error()))
	}
	if prev, dup := seen[name]; dup {
		return append(diags, errAt(b.LabelRanges[0], "Duplicate setup block", fmt.Sprintf("setup %q is already declared at %s:%d", name, prev.Filename, prev.Start.Line)))
	}
	seen[name] = b.DefRange
	if diags.HasErrors() {
		return diags
	}
	attr := content.Attributes["paths"]
	pats, d := strList(attr)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	if len(pats) == 0 {
		return append(diags, errAt(attr.Expr.Range(), "No paths", fmt.Sprintf("setup %q needs the paths of its files", name)))
	}
	for _, p := range pats {
		if err := checkPattern(p); err != nil {
			diags = append(diags, errAt(attr.Expr.Range(), "Invalid pattern", fmt.Sprintf("%q: %v", p, err)))
		}
		if p == ".." || strings.HasPrefix(p, "../") {
			diags = append(diags, errAt(attr.Expr.Range(), "Invalid pattern", fmt.Sprintf("%q: setup paths are under the config's directory", p)))
		}
	}
	st := Setup{Name: name, Paths: pats, Range: b.DefRange}
	diags = append(diags, hints(content.Attributes, &st.Hints)...)
	c.Setups = append(c.Setups, st)
	return diags
}

// CheckSetupName reports a name a setup cannot have: names go into
// reports and baselines, so they are short and plain.
func CheckSetupName(name string) error {
	if name == "" {
		return errors.New("a setup needs a name")
	}
	for _, r := range name {
		plain := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)
		if !plain {
			return fmt.Errorf("setup name %q: use letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// InSetup reports whether file (as given on the command line or found
// while walking) is one of the setup's.
func (c *Config) InSetup(s Setup, file string) bool {
	for _, p := range s.Paths {
		if c.match("/"+strings.TrimPrefix(p, "./"), file) {
			return true
		}
	}
	return false
}

// SetupSpecs are the setup blocks as the engine takes them; none without
// a config.
func (c *Config) SetupSpecs() []rules.SetupSpec {
	if c == nil {
		return nil
	}
	var out []rules.SetupSpec
	for _, s := range c.Setups {
		out = append(out, rules.SetupSpec{
			Name: s.Name,
			Has:  func(f *world.File) bool { return f.Path != "-" && c.InSetup(s, f.Path) },
			Prepare: func(w *world.World) {
				w.Hints = c.Hints.Over(s.Hints)
				w.ApplyHints()
			},
		})
	}
	return out
}

// Ignored reports whether ignore_paths excludes path (as given on the
// command line or found while walking).
func (c *Config) Ignored(path string) bool {
	if c == nil {
		return false
	}
	for _, p := range c.IgnorePaths {
		if c.match(p, path) {
			return true
		}
	}
	return false
}

// match matches a file against a pattern relative to the config's
// directory.
func (c *Config) match(pattern, file string) bool {
	abs, err := filepath.Abs(file)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(c.Dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	return Match(pattern, filepath.ToSlash(rel))
}

// Apply gives the world what the config declares. Call it once the
// world is complete (after a snapshot overlay).
func (c *Config) Apply(w *world.World) {
	if c == nil {
		return
	}
	w.Hints = c.Hints
	w.ApplyHints()
}

// str, strList and boolean read literal values: a config file has no
// variables or functions.
func str(attr *hcl.Attribute) (string, hcl.Diagnostics) {
	v, diags := literal(attr, cty.String)
	if diags.HasErrors() {
		return "", diags
	}
	return v.AsString(), nil
}

func strList(attr *hcl.Attribute) ([]string, hcl.Diagnostics) {
	v, diags := literal(attr, cty.List(cty.String))
	if diags.HasErrors() {
		return nil, diags
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out, nil
}

func boolean(attr *hcl.Attribute) (bool, hcl.Diagnostics) {
	v, diags := literal(attr, cty.Bool)
	if diags.HasErrors() {
		return false, diags
	}
	return v.True(), nil
}

func literal(attr *hcl.Attribute, want cty.Type) (cty.Value, hcl.Diagnostics) {
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	c, err := convert.Convert(v, want)
	if err != nil || !c.IsWhollyKnown() || c.IsNull() || (want.IsListType() && containsNull(c)) {
		return cty.NilVal, hcl.Diagnostics{errAt(attr.Expr.Range(), "Incorrect value type", fmt.Sprintf("%s must be %s", attr.Name, want.FriendlyName()))}
	}
	return c, nil
}

func containsNull(v cty.Value) bool {
	for it := v.ElementIterator(); it.Next(); {
		if _, e := it.Element(); e.IsNull() {
			return true
		}
	}
	return false
}

func errAt(r hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}
}
