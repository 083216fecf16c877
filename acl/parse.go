package acl

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nvlint/nvlint/internal/nativehcl"
)

// Policy is one parsed ACL policy.
type Policy struct {
	Name  string      // set by caller; Parse fills it only from a top-level `name`
	Rules []*PathRule // in source order
}

// PathRule is one `path "..." {}` block.
type PathRule struct {
	Path string // exactly as written; the evaluator strips one leading "/" like Vault
	// Capabilities as Vault normalizes them: the capabilities list, then the
	// legacy `policy` expansion appended; a deny anywhere before an invalid
	// entry collapses the list to ["deny"]. Invalid names are kept (and
	// diagnosed) so CapRanges stays aligned; the evaluator ignores them.
	Capabilities []string
	Policy       string      // legacy `policy = "..."` value, "" if absent
	Block        hcl.Range   // the whole block (DefRange for JSON)
	PathRange    hcl.Range   // the path label
	CapsRange    hcl.Range   // the capabilities attribute, else the policy attribute; zero if neither
	CapRanges    []hcl.Range // one per Capabilities entry (legacy expansions point at the policy value); nil if unknown
	// Conditions lists the other per-path keys present (allowed_parameters,
	// min_wrapping_ttl, control_group, ...): Vault may still refuse a
	// request the capabilities allow, depending on its data or wrapping.
	Conditions []string
}

// Templated reports whether the path contains identity templating.
func (r *PathRule) Templated() bool { return strings.Contains(r.Path, "{{") }

// Templated reports whether any path of the policy is templated.
func (p *Policy) Templated() bool {
	for _, r := range p.Rules {
		if r != nil && r.Templated() {
			return true
		}
	}
	return false
}

// Keys Vault accepts inside a path block (vault/policy.go parsePaths).
// subscribe_event_types is newer than the rest.
var pathKeys = []string{
	"comment", "policy", "capabilities", "allowed_parameters", "denied_parameters",
	"required_parameters", "min_wrapping_ttl", "max_wrapping_ttl", "mfa_methods",
	"control_group", "subscribe_event_types",
}

// Keys whose value is an object, so HCL native syntax may write them as a
// block (`control_group { ... }`), which the HCL 1 decoder Vault uses allows.
var blockKeys = []string{"allowed_parameters", "denied_parameters", "control_group"}

// Parse parses a Vault ACL policy: HCL native syntax, or JSON when the first
// non-space character is '{' (Vault's HCL 1 parser switches the same way).
// Native text HCL 2 refuses is read again with HCL 1, as Vault reads it.
// Errors mark what Vault refuses to store; warnings mark what it accepts but
// can never use. The Policy is returned even with errors, best effort, so
// linters can keep going (Vault would reject it as a whole); it is nil only
// when the text does not parse at all.
func Parse(src []byte, filename string) (*Policy, hcl.Diagnostics) {
	p := &parser{src: src, pol: &Policy{}}
	if looksJSON(src) {
		p.parseJSON(filename)
	} else {
		p.parseNative(filename)
	}
	return p.finish()
}

// ParseFile is Parse for a policy the caller has already parsed, without
// errors, with hclsyntax.ParseConfig or the hcl JSON parser: file is that
// result and src its text. It saves parsing the text twice.
func ParseFile(src []byte, file *hcl.File) (*Policy, hcl.Diagnostics) {
	p := &parser{src: src, pol: &Policy{}}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		p.native(body)
	} else {
		p.json(file)
	}
	return p.finish()
}

// ParseRefused is Parse for native-syntax text hclsyntax.ParseConfig has
// already refused with diags: it saves parsing the text twice.
func ParseRefused(src []byte, filename string, diags hcl.Diagnostics) (*Policy, hcl.Diagnostics) {
	p := &parser{src: src, pol: &Policy{}}
	p.refused(filename, diags)
	return p.finish()
}

// refused reads text HCL 2 refused as Vault reads it, with HCL 1, which
// has the last word on syntax.
func (p *parser) refused(filename string, hcl2 hcl.Diagnostics) {
	if ok, err := p.parseHCL1(filename); !ok {
		p.unparsed = true
		p.diags = append(p.diags, p.syntaxError(filename, hcl2, err)...)
	}
}

func (p *parser) finish() (*Policy, hcl.Diagnostics) {
	// Checks run per key kind; present them in source order.
	slices.SortStableFunc(p.diags, func(a, b *hcl.Diagnostic) int {
		return diagOffset(a) - diagOffset(b)
	})
	if p.unparsed {
		return nil, p.diags
	}
	return p.pol, p.diags
}

func diagOffset(d *hcl.Diagnostic) int {
	if d.Subject == nil {
		return -1
	}
	return d.Subject.Start.Byte
}

func looksJSON(src []byte) bool {
	for len(src) > 0 {
		r, w := utf8.DecodeRune(src)
		if !unicode.IsSpace(r) {
			return r == '{'
		}
		src = src[w:]
	}
	return false
}

type parser struct {
	src   []byte
	pol   *Policy
	diags hcl.Diagnostics
	// unparsed is set when the text is not a policy at all: Vault stores
	// nothing, so there is no Policy to return.
	unparsed bool
}

// keyRef is a key Vault would reject, with where it was written.
type keyRef struct {
	name string
	rng  hcl.Range
}

func (p *parser) errorf(rng hcl.Range, detail, format string, args ...any) {
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf(format, args...),
		Detail:   detail,
		Subject:  rng.Ptr(),
		Extra:    problemFor(format, args),
	})
}

func (p *parser) warnf(rng hcl.Range, detail, format string, args ...any) {
	p.diags = append(p.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  fmt.Sprintf(format, args...),
		Detail:   detail,
		Subject:  rng.Ptr(),
		Extra:    problemFor(format, args),
	})
}

func sortedAttrs(m hclsyntax.Attributes) []*hclsyntax.Attribute {
	out := make([]*hclsyntax.Attribute, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
	return out
}

func (p *parser) parseNative(filename string) {
	file, diags := nativehcl.ParseConfig(p.src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		p.refused(filename, diags)
		return
	}
	p.diags = append(p.diags, diags...)
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		p.native(body)
	}
}

func (p *parser) native(body *hclsyntax.Body) {
	for _, a := range sortedAttrs(body.Attributes) {
		switch a.Name {
		case "name":
			if s, ok := p.stringValue(a.Expr, "name"); ok {
				p.pol.Name = s
			}
		case "path":
			p.errorf(a.NameRange, `Write path rules as blocks: path "secret/*" { capabilities = ["read"] }.`,
				"path must be a block")
		default:
			p.invalidTopKey(keyRef{a.Name, a.NameRange})
		}
	}
	for _, blk := range body.Blocks {
		switch blk.Type {
		case "path":
		case "name":
			p.errorf(blk.TypeRange, "", "name must be a string attribute")
			continue
		default:
			p.invalidTopKey(keyRef{blk.Type, blk.TypeRange})
			continue
		}
		r := &PathRule{Block: blk.Range()}
		switch len(blk.Labels) {
		case 0:
			// HCL 1 keys a label-less block by its type, so Vault stores a
			// rule for the literal path "path".
			r.Path, r.PathRange = "path", blk.TypeRange
			p.warnf(blk.TypeRange, "Vault accepts this and applies the rule to the literal path \"path\"; add the path as a label.",
				"path block has no path label")
		default:
			r.Path, r.PathRange = blk.Labels[0], blk.LabelRanges[0]
		}
		for i := 1; i < len(blk.Labels); i++ {
			// Vault keys the rule by the first label and never looks at the rest.
			p.warnf(blk.LabelRanges[i], "Vault uses only the first label as the path and ignores the rest.",
				"path %q: extra label %q is ignored", r.Path, blk.Labels[i])
		}
		var unknown []keyRef
		attrs := make(map[string]*hcl.Attribute, len(blk.Body.Attributes))
		for _, a := range sortedAttrs(blk.Body.Attributes) {
			attrs[a.Name] = a.AsHCLAttribute()
			if !slices.Contains(pathKeys, a.Name) {
				unknown = append(unknown, keyRef{a.Name, a.NameRange})
			}
		}
		var blocks []keyRef
		for _, b := range blk.Body.Blocks {
			switch {
			case !slices.Contains(pathKeys, b.Type):
				unknown = append(unknown, keyRef{b.Type, b.TypeRange})
			case !slices.Contains(blockKeys, b.Type):
				p.errorf(b.TypeRange, "Only allowed_parameters, denied_parameters and control_group take an object.",
					"path %q: %s must be an attribute, not a block", r.Path, b.Type)
			default:
				blocks = append(blocks, keyRef{b.Type, b.TypeRange})
			}
		}
		p.pathRule(r, attrs, blocks, unknown)
	}
}

func (p *parser) parseJSON(filename string) {
	file, diags := hcljson.Parse(p.src, filename)
	p.diags = append(p.diags, diags...)
	if file == nil || file.Body == nil || diags.HasErrors() {
		p.unparsed = true
		return
	}
	p.json(file)
}

func (p *parser) json(file *hcl.File) {
	schema := &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "name"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "path", LabelNames: []string{"path"}}},
	}
	content, rest, diags := file.Body.PartialContent(schema)
	p.diags = append(p.diags, diags...)
	if extra, _ := rest.JustAttributes(); len(extra) > 0 {
		for _, a := range sortedHCLAttrs(extra) {
			p.invalidTopKey(keyRef{a.Name, a.NameRange})
		}
	}
	if a := content.Attributes["name"]; a != nil {
		if s, ok := p.stringValue(a.Expr, "name"); ok {
			p.pol.Name = s
		}
	}
	for _, blk := range content.Blocks {
		if len(blk.Labels) == 0 || len(blk.LabelRanges) == 0 {
			continue
		}
		r := &PathRule{Path: blk.Labels[0], PathRange: blk.LabelRanges[0], Block: blk.DefRange}
		attrs, diags := blk.Body.JustAttributes()
		p.diags = append(p.diags, diags...)
		var unknown []keyRef
		for _, a := range sortedHCLAttrs(attrs) {
			if !slices.Contains(pathKeys, a.Name) {
				unknown = append(unknown, keyRef{a.Name, a.NameRange})
			}
		}
		p.pathRule(r, attrs, nil, unknown)
	}
}

func sortedHCLAttrs(m hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(m))
	for _, a := range m {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *hcl.Attribute) int { return a.Range.Start.Byte - b.Range.Start.Byte })
	return out
}

func (p *parser) invalidTopKey(k keyRef) {
	p.errorf(k.rng, "A Vault policy may only contain `name` and `path` blocks.", "invalid key %q", k.name)
}

// pathRule checks one path block in the order Vault's parsePaths does and
// appends the rule. Vault stops at the first error; we report them all.
func (p *parser) pathRule(r *PathRule, attrs map[string]*hcl.Attribute, blocks, unknown []keyRef) {
	p.pol.Rules = append(p.pol.Rules, r)

	tmplErr := checkTemplating(r.Path)
	if tmplErr != nil {
		p.errorf(r.PathRange, "Every \"{{\" in a templated path needs a matching \"}}\".",
			"path %q: failed to validate policy templating: %v", r.Path, tmplErr)
	}
	for _, k := range unknown {
		p.errorf(k.rng, "Allowed keys: "+strings.Join(pathKeys, ", ")+".",
			"path %q: invalid key %q", r.Path, k.name)
	}

	var caps []string
	var ranges []hcl.Range
	if a := attrs["capabilities"]; a != nil {
		r.CapsRange = a.Range
		caps, ranges = p.stringList(a.Expr, r.Path)
	}
	var policyRange hcl.Range
	if a := attrs["policy"]; a != nil {
		if r.CapsRange == (hcl.Range{}) {
			r.CapsRange = a.Range
		}
		policyRange = a.Expr.Range()
		r.Policy, _ = p.stringValue(a.Expr, "policy")
	}

	// Vault strips one leading "/" before the wildcard check.
	stored := strings.TrimPrefix(r.Path, "/")
	if strings.Contains(stored, "+*") {
		p.errorf(r.PathRange, "\"+\" matches exactly one whole segment and cannot be combined with a trailing \"*\".",
			"path %q: invalid use of wildcards ('+*' is forbidden)", stored)
	}

	switch r.Policy {
	case "":
	case "deny":
		caps, ranges = []string{"deny"}, []hcl.Range{policyRange}
	default:
		exp, ok := legacyPolicy[r.Policy]
		if !ok {
			p.errorf(policyRange, "Legacy policy values are deny, read, write and sudo.",
				"path %q: invalid policy %q", r.Path, r.Policy)
			break
		}
		for _, c := range exp {
			caps = append(caps, c)
			ranges = append(ranges, policyRange)
		}
	}
	if len(ranges) != len(caps) || len(caps) == 0 {
		ranges = nil
	}

	denied := false
	for i, c := range caps {
		if c == "deny" {
			// Vault stops checking at the first deny, so later typos pass.
			caps = []string{"deny"}
			if ranges != nil {
				ranges = []hcl.Range{ranges[i]}
			}
			denied = true
			break
		}
		if !ValidCapability(c) {
			rng := r.CapsRange
			if ranges != nil {
				rng = ranges[i]
			}
			p.errorf(rng, "Valid capabilities: create, read, update, patch, delete, list, sudo, deny (subscribe and recover on recent Vault).",
				"path %q: invalid capability %q", r.Path, c)
		}
	}
	r.Capabilities, r.CapRanges = caps, ranges

	for _, k := range pathKeys[3:] {
		if attrs[k] != nil || slices.ContainsFunc(blocks, func(b keyRef) bool { return b.name == k }) {
			r.Conditions = append(r.Conditions, k)
		}
	}
	if !denied {
		p.wrappingTTLs(attrs)
	}
	if tmplErr == nil {
		p.templateWarnings(r)
	}
}

// wrappingTTLs applies Vault's write-time duration checks; a deny rule skips
// them, as in Vault.
func (p *parser) wrappingTTLs(attrs map[string]*hcl.Attribute) {
	var ttl [2]int64
	for i, k := range []string{"min_wrapping_ttl", "max_wrapping_ttl"} {
		a := attrs[k]
		if a == nil {
			continue
		}
		s, ok := p.stringValue(a.Expr, k)
		if !ok {
			continue
		}
		d, err := parseDurationSecond(s)
		if err != nil {
			p.errorf(a.Expr.Range(), "Use a number of seconds or a duration such as \"5m\".", "error parsing %s: %v", k, err)
			continue
		}
		ttl[i] = int64(d)
	}
	if ttl[0] != 0 && ttl[1] != 0 && ttl[1] < ttl[0] {
		p.errorf(attrs["max_wrapping_ttl"].Expr.Range(), "", "max_wrapping_ttl cannot be less than min_wrapping_ttl")
	}
}

// templateWarnings flags directives Vault accepts at write time but can
// never fill, which silently drops the path for every token.
func (p *parser) templateWarnings(r *PathRule) {
	for _, prm := range TemplateParams(r.Path) {
		if prm.Problem == "" {
			continue
		}
		p.warnf(p.subRange(r.PathRange, r.Path, prm.Start, prm.End),
			"Vault stores the policy but drops this path from every token's ACL, because the directive cannot be filled.",
			"path %q: template parameter %q cannot be filled: %s", r.Path, prm.Raw, prm.Problem)
	}
}

// subRange narrows a label range to bytes [start,end) of its string, when
// the source spells the label without escapes; otherwise the whole label.
func (p *parser) subRange(label hcl.Range, s string, start, end int) hcl.Range {
	if label.Start.Byte < 0 || label.End.Byte > len(p.src) || label.Start.Byte > label.End.Byte ||
		start < 0 || end > len(s) || start > end || label.Start.Line != label.End.Line {
		return label
	}
	text := string(p.src[label.Start.Byte:label.End.Byte])
	skip := 0
	switch text {
	case `"` + s + `"`:
		skip = 1
	case s:
	default:
		return label
	}
	pos := func(off int) hcl.Pos {
		return hcl.Pos{
			Line:   label.Start.Line,
			Column: label.Start.Column + skip + utf8.RuneCountInString(s[:off]),
			Byte:   label.Start.Byte + skip + off,
		}
	}
	return hcl.Range{Filename: label.Filename, Start: pos(start), End: pos(end)}
}

// stringValue evaluates a literal and converts it to a string the way HCL 1
// decoding does for numbers and bools.
func (p *parser) stringValue(expr hcl.Expression, what string) (string, bool) {
	v, diags := expr.Value(nil)
	p.diags = append(p.diags, diags...)
	if diags.HasErrors() {
		return "", false
	}
	s, ok := asString(v)
	if !ok {
		p.errorf(expr.Range(), "", "%s must be a string", what)
	}
	return s, ok
}

func asString(v cty.Value) (string, bool) {
	if v.IsNull() || !v.IsWhollyKnown() || !v.Type().IsPrimitiveType() {
		return "", false
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.IsNull() {
		return "", false
	}
	return s.AsString(), true
}

// stringList reads a literal list of strings with per-element ranges.
func (p *parser) stringList(expr hcl.Expression, path string) ([]string, []hcl.Range) {
	elems, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		p.errorf(expr.Range(), `Write capabilities as a list: capabilities = ["read", "list"].`,
			"path %q: capabilities must be a list of strings", path)
		return nil, nil
	}
	caps := make([]string, 0, len(elems))
	ranges := make([]hcl.Range, 0, len(elems))
	for _, e := range elems {
		s, ok := p.stringValue(e, "capability")
		if !ok {
			return nil, nil
		}
		caps = append(caps, s)
		ranges = append(ranges, e.Range())
	}
	return caps, ranges
}
