package acl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entity is the identity a token belongs to, used to fill templated policies.
type Entity struct {
	ID, Name string
	Metadata map[string]string
	Aliases  map[string]Alias // key: auth mount accessor, e.g. "auth_jwt_1a2b3c"
	// GroupNames and GroupIDs list the entity's groups (direct and
	// inherited) pairwise by index. Groups carries the same with metadata;
	// both sources are used for identity.groups.* lookups.
	GroupNames, GroupIDs []string
	Groups               []Group
}

// Alias is an entity alias on one auth mount.
type Alias struct {
	ID, Name                 string
	Metadata, CustomMetadata map[string]string
}

// Group is an identity group the entity belongs to.
type Group struct {
	ID, Name string
	Metadata map[string]string
}

// Error texts are Vault's own (sdk/helper/identitytpl) so reports can be
// matched against server logs.
var (
	errUnbalanced     = errors.New("unbalanced templating characters")
	errNoEntity       = errors.New("string contains entity template directives but no entity was provided")
	errNoGroups       = errors.New("string contains groups template directives but no groups were provided")
	errValueNotFound  = errors.New("no value could be found for one of the template directives")
	errTemplatedGlob  = errors.New("globs and wildcards are not allowed in template result")
	errTemplatedSlash = errors.New("templated policy paths cannot contain '/' when denied via configuration")
	errAliasNotFound  = errors.New("alias not found")
	errAliasSelector  = errors.New("invalid alias selector")
	errGroupsSelector = errors.New("invalid groups selector")
	errGroupsAccessor = errors.New("invalid groups accessor")
	errMissingOperand = errors.New("missing time operand")
	errDurationRange  = errors.New("duration out of range")
)

// Param is one {{...}} directive in a path.
type Param struct {
	Raw        string // directive text between the braces, trimmed as Vault trims it
	Start, End int    // byte offsets of "{{" and just past "}}" within the path
	// Kind is one of: entity-id, entity-name, entity-metadata, entity-groups,
	// alias-id, alias-name, alias-metadata, alias-custom-metadata,
	// group-id, group-name, group-metadata, time-now, unknown.
	Kind     string
	Accessor string // alias-*: the auth mount accessor
	GroupBy  string // group-*: "ids" or "names", the selector used
	Group    string // group-*: the group ID or name
	Key      string // *-metadata: the metadata key
	// Problem is set when Vault can never fill this directive in an ACL
	// path, so the path is dropped for every token.
	Problem string
}

// TemplateParams lists the {{...}} directives in path, in order. It stops at
// the first unbalanced brace, like Vault.
func TemplateParams(path string) []Param {
	var out []Param
	pieces := strings.Split(path, "{{")
	if strings.Contains(pieces[0], "}}") {
		return nil
	}
	off := len(pieces[0])
	for _, piece := range pieces[1:] {
		start := off
		off += 2 + len(piece)
		parts := strings.Split(piece, "}}")
		if len(parts) != 2 {
			return out
		}
		p := classifyParam(strings.TrimSpace(parts[0]))
		p.Start = start
		p.End = start + 2 + len(parts[0]) + 2
		out = append(out, p)
	}
	return out
}

// checkTemplating is Vault's write-time check: braces must pair up. The
// directives themselves are not validated until a token uses the policy.
func checkTemplating(path string) error {
	// The pieces of strings.Split(path, "{{"), without allocating them.
	first, rest, more := strings.Cut(path, "{{")
	if strings.Contains(first, "}}") {
		return errUnbalanced
	}
	for more {
		var piece string
		piece, rest, more = strings.Cut(rest, "{{")
		if strings.Count(piece, "}}") != 1 {
			return errUnbalanced
		}
	}
	return nil
}

func classifyParam(raw string) Param {
	p := Param{Raw: raw, Kind: "unknown"}
	switch {
	case strings.HasPrefix(raw, "identity.entity."):
		rest := strings.TrimPrefix(raw, "identity.entity.")
		switch {
		case rest == "id":
			p.Kind = "entity-id"
		case rest == "name":
			p.Kind = "entity-name"
		case rest == "metadata":
			p.Kind = "entity-metadata"
			p.Problem = "identity.entity.metadata needs a key (identity.entity.metadata.<key>)"
		case strings.HasPrefix(rest, "metadata."):
			p.Kind, p.Key = "entity-metadata", strings.TrimPrefix(rest, "metadata.")
		case rest == "groups.names" || rest == "groups.ids":
			p.Kind = "entity-groups"
			p.Problem = raw + " is a list, which ACL path templating cannot render"
		case strings.HasPrefix(rest, "aliases."):
			sel := strings.SplitN(strings.TrimPrefix(rest, "aliases."), ".", 2)
			if len(sel) != 2 {
				p.Problem = errAliasSelector.Error()
				return p
			}
			p.Accessor = sel[0]
			switch f := sel[1]; {
			case f == "id":
				p.Kind = "alias-id"
			case f == "name":
				p.Kind = "alias-name"
			case f == "metadata":
				p.Kind = "alias-metadata"
				p.Problem = "alias metadata needs a key (metadata.<key>)"
			case strings.HasPrefix(f, "metadata."):
				p.Kind, p.Key = "alias-metadata", strings.TrimPrefix(f, "metadata.")
			case f == "custom_metadata":
				p.Kind = "alias-custom-metadata"
				p.Problem = "alias custom_metadata needs a key (custom_metadata.<key>)"
			case strings.HasPrefix(f, "custom_metadata."):
				p.Kind, p.Key = "alias-custom-metadata", strings.TrimPrefix(f, "custom_metadata.")
			default:
				p.Problem = fmt.Sprintf("unknown alias field %q", f)
			}
		default:
			p.Problem = "unknown template parameter"
		}
	case strings.HasPrefix(raw, "identity.groups."):
		sel := strings.SplitN(strings.TrimPrefix(raw, "identity.groups."), ".", 2)
		if len(sel) != 2 || (sel[0] != "ids" && sel[0] != "names") {
			p.Problem = errGroupsSelector.Error()
			return p
		}
		acc := strings.SplitN(sel[1], ".", 2)
		if len(acc) != 2 {
			p.Problem = errGroupsAccessor.Error()
			return p
		}
		p.GroupBy, p.Group = sel[0], acc[0]
		switch f := acc[1]; {
		case f == "id":
			p.Kind = "group-id"
		case f == "name":
			p.Kind = "group-name"
		case strings.HasPrefix(f, "metadata."):
			p.Kind, p.Key = "group-metadata", strings.TrimPrefix(f, "metadata.")
		default:
			p.Problem = fmt.Sprintf("unknown group field %q", f)
		}
	case strings.HasPrefix(raw, "time."):
		if _, err := timeValue(strings.TrimPrefix(raw, "time."), time.Unix(0, 0)); err != nil {
			p.Problem = err.Error()
			return p
		}
		p.Kind = "time-now"
	default:
		p.Problem = "unknown template parameter"
	}
	return p
}

// Fill fills a templated path for ent with the default Options.
func Fill(path string, ent *Entity) (filled string, ok bool, reason string) {
	return Options{}.Fill(path, ent)
}

// Fill renders path the way Vault's ACL templating does. When it fails,
// Vault silently drops the path from the token's ACL; reason carries
// Vault's error text prefixed by the directive that failed.
func (o Options) Fill(path string, ent *Entity) (filled string, ok bool, reason string) {
	// The pieces of strings.Split(path, "{{"), without allocating them.
	first, rest, more := strings.Cut(path, "{{")
	if strings.Contains(first, "}}") {
		return "", false, errUnbalanced.Error()
	}
	if !more {
		return path, true, ""
	}
	groups := ent.allGroups()
	var b strings.Builder
	// Values are mostly shorter than the directives they replace: one
	// allocation, where growing as it goes would take several.
	b.Grow(len(path))
	b.WriteString(first)
	for more {
		var piece string
		piece, rest, more = strings.Cut(rest, "{{")
		// A piece holds exactly one "}}": the directive, then text.
		inner, after, ok := strings.Cut(piece, "}}")
		if !ok || strings.Contains(after, "}}") {
			return "", false, errUnbalanced.Error()
		}
		parts := [2]string{inner, after}
		raw := strings.TrimSpace(parts[0])
		v, err := o.directive(raw, ent, groups)
		if err == nil && !o.TemplatedWildcards && strings.ContainsAny(v, "*+") {
			err = errTemplatedGlob
		}
		if err == nil && o.DenySlashInTemplatedPaths && strings.Contains(v, "/") {
			err = errTemplatedSlash
		}
		if err != nil {
			return "", false, fmt.Sprintf("{{%s}}: %v", raw, err)
		}
		b.WriteString(v)
		b.WriteString(parts[1])
	}
	return b.String(), true, ""
}

// allGroups merges Groups with the GroupIDs/GroupNames pairs. Vault only
// looks groups up when the token has an entity.
func (e *Entity) allGroups() []Group {
	if e == nil {
		return nil
	}
	out := append([]Group(nil), e.Groups...)
	n := max(len(e.GroupIDs), len(e.GroupNames))
	for i := range n {
		var g Group
		if i < len(e.GroupIDs) {
			g.ID = e.GroupIDs[i]
		}
		if i < len(e.GroupNames) {
			g.Name = e.GroupNames[i]
		}
		dup := false
		for _, h := range out {
			if (g.ID != "" && h.ID == g.ID) || (g.ID == "" && h.Name == g.Name) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

func (o Options) directive(raw string, ent *Entity, groups []Group) (string, error) {
	switch {
	case strings.HasPrefix(raw, "identity.entity."):
		if ent == nil {
			return "", errNoEntity
		}
		return entityValue(strings.TrimPrefix(raw, "identity.entity."), ent)
	case strings.HasPrefix(raw, "identity.groups."):
		if len(groups) == 0 {
			return "", errNoGroups
		}
		return groupValue(strings.TrimPrefix(raw, "identity.groups."), groups)
	case strings.HasPrefix(raw, "time."):
		now := o.Now
		if now.IsZero() {
			now = time.Now()
		}
		return timeValue(strings.TrimPrefix(raw, "time."), now)
	}
	return "", errValueNotFound
}

// nonEmpty mirrors Vault's string handler: an empty string is "not found".
func nonEmpty(s string) (string, error) {
	if s == "" {
		return "", errValueNotFound
	}
	return s, nil
}

// metaValue mirrors Vault's map handler: a present key fills even when its
// value is empty; a missing key (or no key at all) is "not found".
func metaValue(m map[string]string, key string, hasKey bool) (string, error) {
	if hasKey {
		if v, ok := m[key]; ok {
			return v, nil
		}
	}
	return "", errValueNotFound
}

func entityValue(sel string, ent *Entity) (string, error) {
	switch {
	case sel == "id":
		return nonEmpty(ent.ID)
	case sel == "name":
		return nonEmpty(ent.Name)
	case sel == "metadata":
		return metaValue(ent.Metadata, "", false)
	case strings.HasPrefix(sel, "metadata."):
		return metaValue(ent.Metadata, strings.TrimPrefix(sel, "metadata."), true)
	case sel == "groups.names", sel == "groups.ids":
		// Vault renders lists only in JSON templating; in ACL paths they
		// are always "not found".
		return "", errValueNotFound
	case strings.HasPrefix(sel, "aliases."):
		mount, field, ok := strings.Cut(strings.TrimPrefix(sel, "aliases."), ".")
		if !ok {
			return "", errAliasSelector
		}
		al, ok := ent.Aliases[mount]
		if !ok {
			return "", errAliasNotFound
		}
		return aliasValue(field, al)
	}
	return "", errValueNotFound
}

func aliasValue(sel string, al Alias) (string, error) {
	switch {
	case sel == "id":
		return nonEmpty(al.ID)
	case sel == "name":
		return nonEmpty(al.Name)
	case sel == "metadata":
		return metaValue(al.Metadata, "", false)
	case strings.HasPrefix(sel, "metadata."):
		return metaValue(al.Metadata, strings.TrimPrefix(sel, "metadata."), true)
	case sel == "custom_metadata":
		return metaValue(al.CustomMetadata, "", false)
	case strings.HasPrefix(sel, "custom_metadata."):
		return metaValue(al.CustomMetadata, strings.TrimPrefix(sel, "custom_metadata."), true)
	}
	return "", errValueNotFound
}

func groupValue(sel string, groups []Group) (string, error) {
	parts := strings.SplitN(sel, ".", 2)
	if len(parts) != 2 || (parts[0] != "ids" && parts[0] != "names") {
		return "", errGroupsSelector
	}
	byID := parts[0] == "ids"
	acc := strings.SplitN(parts[1], ".", 2)
	if len(acc) != 2 {
		return "", errGroupsAccessor
	}
	var found *Group
	for i := range groups {
		cmp := groups[i].Name
		if byID {
			cmp = groups[i].ID
		}
		if cmp == acc[0] {
			found = &groups[i]
			break
		}
	}
	if found == nil {
		return "", fmt.Errorf("entity is not a member of group %q", acc[0])
	}
	switch f := acc[1]; {
	case f == "id":
		// Vault returns the group ID without the empty check.
		return found.ID, nil
	case f == "name":
		return nonEmpty(found.Name)
	case strings.HasPrefix(f, "metadata."):
		return metaValue(found.Metadata, strings.TrimPrefix(f, "metadata."), true)
	}
	return "", errValueNotFound
}

// timeValue handles time.now[.plus|minus.<duration>], rendered as Unix seconds.
func timeValue(sel string, now time.Time) (string, error) {
	ops := strings.SplitN(sel, ".", 3)
	if ops[0] != "now" {
		return "", fmt.Errorf("invalid time selector %q", ops[0])
	}
	switch len(ops) {
	case 2:
		return "", errMissingOperand
	case 3:
		d, err := parseDurationSecond(ops[2])
		if err != nil {
			return "", fmt.Errorf("invalid duration: %w", err)
		}
		switch ops[1] {
		case "plus":
			now = now.Add(d)
		case "minus":
			now = now.Add(-d)
		default:
			return "", fmt.Errorf("invalid time operator %q", ops[1])
		}
	}
	return strconv.FormatInt(now.Unix(), 10), nil
}

// parseDurationSecond accepts what Vault's duration fields accept: bare
// integers are seconds, "<n>d" is days, anything else goes to
// time.ParseDuration.
func parseDurationSecond(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return mulDuration(n, time.Second)
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, err
		}
		return mulDuration(v, 24*time.Hour)
	}
	return time.ParseDuration(s)
}

func mulDuration(n int64, unit time.Duration) (time.Duration, error) {
	if n != 0 && (n > int64(1<<63-1)/int64(unit) || n < -int64(1<<63-1)/int64(unit)) {
		return 0, errDurationRange
	}
	return time.Duration(n) * unit, nil
}
