package acl

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/hcl/ast"
	hcl1parser "github.com/hashicorp/hcl/hcl/parser"
	hcl1token "github.com/hashicorp/hcl/hcl/token"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Vault parses policies with HCL 1, which accepts what HCL 2 native syntax
// refuses: quoted argument names, commas after arguments, several blocks on
// one line, "${" in a string. A policy HCL 2 cannot parse is read again the
// way Vault reads it, so a policy Vault stores is never a syntax error here.

// parseHCL1 reads the policy with Vault's parser. It reports false, adding
// nothing, when that parser refuses the text too; err is its message.
func (p *parser) parseHCL1(filename string) (ok bool, err error) {
	// The parser turns CRLF into LF before it counts offsets.
	src := bytes.ReplaceAll(p.src, []byte("\r\n"), []byte("\n"))
	file, err := safeHCL1Parse(src)
	if err != nil {
		return false, err
	}
	list, isList := file.Node.(*ast.ObjectList)
	if !isList {
		return false, errors.New("not an HCL body")
	}
	h := &hcl1Reader{p: p, pos: newPosMap(p.src, filename)}
	h.top(list)
	return true, nil
}

// safeHCL1Parse keeps a panic in the HCL 1 parser, which Vault would
// answer with an error, from taking the whole run down.
func safeHCL1Parse(src []byte) (file *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			file, err = nil, fmt.Errorf("the HCL 1 parser failed: %v", r)
		}
	}()
	return hcl1parser.Parse(src)
}

type hcl1Reader struct {
	p   *parser
	pos *posMap
}

func (h *hcl1Reader) top(list *ast.ObjectList) {
	for _, item := range list.Items {
		if len(item.Keys) == 0 {
			continue
		}
		key := keyName(item.Keys[0])
		keyRange := h.tokenRange(item.Keys[0].Token)
		switch {
		case key == "name" && item.Assign.IsValid():
			if s, ok := h.p.stringValue(h.expr(item.Val), "name"); ok {
				h.p.pol.Name = s
			}
		case key == "name":
			h.p.errorf(keyRange, "", "name must be a string attribute")
		case key == "path":
			h.pathItem(item, keyRange)
		default:
			h.p.invalidTopKey(keyRef{key, keyRange})
		}
	}
}

func (h *hcl1Reader) pathItem(item *ast.ObjectItem, keyRange hcl.Range) {
	obj, isObj := item.Val.(*ast.ObjectType)
	if !isObj {
		h.p.errorf(keyRange, `Write path rules as blocks: path "secret/*" { capabilities = ["read"] }.`, "path must be a block")
		return
	}
	r := &PathRule{Block: hcl.RangeBetween(keyRange, h.nodeRange(obj))}
	switch len(item.Keys) {
	case 1:
		// As in HCL 2: Vault stores a rule for the literal path "path".
		r.Path, r.PathRange = "path", keyRange
		h.p.warnf(keyRange, "Vault accepts this and applies the rule to the literal path \"path\"; add the path as a label.",
			"path block has no path label")
	default:
		r.Path, r.PathRange = keyName(item.Keys[1]), h.tokenRange(item.Keys[1].Token)
	}
	for _, k := range item.Keys[min(2, len(item.Keys)):] {
		h.p.warnf(h.tokenRange(k.Token), "Vault uses only the first label as the path and ignores the rest.",
			"path %q: extra label %q is ignored", r.Path, keyName(k))
	}
	attrs := map[string]*hcl.Attribute{}
	var unknown, blocks []keyRef
	for _, it := range obj.List.Items {
		if len(it.Keys) == 0 {
			continue
		}
		name, nameRange := keyName(it.Keys[0]), h.tokenRange(it.Keys[0].Token)
		_, isBlock := it.Val.(*ast.ObjectType)
		isBlock = isBlock && !it.Assign.IsValid()
		switch {
		case !slices.Contains(pathKeys, name):
			unknown = append(unknown, keyRef{name, nameRange})
		case isBlock && !slices.Contains(blockKeys, name):
			h.p.errorf(nameRange, "Only allowed_parameters, denied_parameters and control_group take an object.",
				"path %q: %s must be an attribute, not a block", r.Path, name)
		case isBlock:
			blocks = append(blocks, keyRef{name, nameRange})
		}
		if !isBlock {
			val := h.expr(it.Val)
			attrs[name] = &hcl.Attribute{Name: name, Expr: val, NameRange: nameRange, Range: hcl.RangeBetween(nameRange, val.Range())}
		}
	}
	h.p.pathRule(r, attrs, blocks, unknown)
}

// keyName is a key as HCL 1 reads it: an identifier, or a string unquoted.
func keyName(k *ast.ObjectKey) string {
	if s, ok := tokenValue(k.Token).(string); ok {
		return s
	}
	return k.Token.Text
}

// tokenValue is the token's value, nil where HCL 1 panics on it (a
// malformed number or escape), which Vault refuses.
func tokenValue(t hcl1token.Token) (v any) {
	defer func() {
		if recover() != nil {
			v = nil
		}
	}()
	return t.Value()
}

func (h *hcl1Reader) tokenRange(t hcl1token.Token) hcl.Range {
	return h.pos.rangeOf(t.Pos.Offset, t.Pos.Offset+len(t.Text))
}

func (h *hcl1Reader) nodeRange(n ast.Node) hcl.Range {
	switch n := n.(type) {
	case *ast.LiteralType:
		return h.tokenRange(n.Token)
	case *ast.ListType:
		return h.pos.rangeOf(n.Lbrack.Offset, n.Rbrack.Offset+1)
	case *ast.ObjectType:
		return h.pos.rangeOf(n.Lbrace.Offset, n.Rbrace.Offset+1)
	}
	off := n.Pos().Offset
	return h.pos.rangeOf(off, off)
}

// expr wraps an HCL 1 value as an HCL 2 expression, for the checks the
// native and JSON forms share.
func (h *hcl1Reader) expr(n ast.Node) hcl1Expr {
	return hcl1Expr{node: n, h: h}
}

type hcl1Expr struct {
	node ast.Node
	h    *hcl1Reader
}

func (e hcl1Expr) Value(*hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return hcl1Value(e.node), nil
}

func (e hcl1Expr) Variables() []hcl.Traversal { return nil }
func (e hcl1Expr) Range() hcl.Range           { return e.h.nodeRange(e.node) }
func (e hcl1Expr) StartRange() hcl.Range      { return e.h.nodeRange(e.node) }

// ExprList makes hcl.ExprList see a list's elements, with their ranges.
func (e hcl1Expr) ExprList() []hcl.Expression {
	l, ok := e.node.(*ast.ListType)
	if !ok {
		return nil
	}
	out := make([]hcl.Expression, len(l.List))
	for i, n := range l.List {
		out[i] = e.h.expr(n)
	}
	return out
}

// hcl1Value converts a literal, list or object; anything else is null,
// which the checks report as the wrong type.
func hcl1Value(n ast.Node) cty.Value {
	switch n := n.(type) {
	case *ast.LiteralType:
		switch v := tokenValue(n.Token).(type) {
		case string:
			return cty.StringVal(v)
		case bool:
			return cty.BoolVal(v)
		case int64:
			return cty.NumberIntVal(v)
		case float64:
			return cty.NumberVal(new(big.Float).SetFloat64(v))
		}
	case *ast.ListType:
		if len(n.List) == 0 {
			return cty.EmptyTupleVal
		}
		vals := make([]cty.Value, len(n.List))
		for i, e := range n.List {
			vals[i] = hcl1Value(e)
		}
		return cty.TupleVal(vals)
	case *ast.ObjectType:
		attrs := map[string]cty.Value{}
		for _, it := range n.List.Items {
			if len(it.Keys) == 0 {
				continue
			}
			v := hcl1Value(it.Val)
			for i := len(it.Keys) - 1; i > 0; i-- {
				v = cty.ObjectVal(map[string]cty.Value{keyName(it.Keys[i]): v})
			}
			attrs[keyName(it.Keys[0])] = v
		}
		return cty.ObjectVal(attrs)
	}
	return cty.NullVal(cty.DynamicPseudoType)
}

// posMap turns byte offsets of the CRLF-normalised text HCL 1 parsed into
// positions in the original text.
type posMap struct {
	filename   string
	src        []byte
	lineStarts []int // offsets in src
	crs        []int // offsets in src of each '\r' the parser dropped
}

func newPosMap(src []byte, filename string) *posMap {
	m := &posMap{filename: filename, src: src, lineStarts: []int{0}}
	for i, b := range src {
		switch {
		case b == '\n':
			m.lineStarts = append(m.lineStarts, i+1)
		case b == '\r' && i+1 < len(src) && src[i+1] == '\n':
			m.crs = append(m.crs, i)
		}
	}
	return m
}

func (m *posMap) rangeOf(start, end int) hcl.Range {
	return hcl.Range{Filename: m.filename, Start: m.pos(start), End: m.pos(end)}
}

func (m *posMap) pos(normalized int) hcl.Pos {
	// Each dropped '\r' before the offset shifts it by one; the i-th sat
	// at crs[i]-i in the normalised text.
	off := normalized + sort.Search(len(m.crs), func(i int) bool { return m.crs[i]-i > normalized })
	off = max(0, min(off, len(m.src)))
	line := sort.Search(len(m.lineStarts), func(i int) bool { return m.lineStarts[i] > off }) - 1
	col := 1 + len([]rune(string(m.src[m.lineStarts[line]:off])))
	return hcl.Pos{Line: line + 1, Column: col, Byte: off}
}

// syntaxError is the one diagnostic for text neither parser reads, at the
// place Vault's parser stopped: HCL 2's explanation of that line when it has
// one, with Vault's own message, which is what `vault policy write` prints.
// The parser's "At line:col" is left out: the finding has the place, and
// inside a Terraform heredoc the parser would count from the heredoc.
func (p *parser) syntaxError(filename string, hcl2 hcl.Diagnostics, err error) hcl.Diagnostics {
	const refuses = "Vault refuses it: failed to parse policy: "
	var pe *hcl1parser.PosError
	if !errors.As(err, &pe) {
		// No position (a duplicate key, say): HCL 2's diagnostics place it.
		for _, h := range hcl2 {
			if h.Severity == hcl.DiagError {
				h.Detail = strings.TrimSpace(h.Detail + "\n" + refuses + err.Error())
				break
			}
		}
		return hcl2
	}
	vault := refuses + pe.Err.Error()
	for _, h := range hcl2 {
		if h.Severity == hcl.DiagError && h.Subject != nil && h.Subject.Start.Line == pe.Pos.Line {
			h.Detail = strings.TrimSpace(h.Detail + "\n" + vault)
			return hcl.Diagnostics{h}
		}
	}
	// Point at the character, as HCL 2 does.
	at := newPosMap(p.src, filename).rangeOf(pe.Pos.Offset, min(pe.Pos.Offset+1, len(p.src)))
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "syntax error: " + pe.Err.Error(), Detail: vault, Subject: &at}}
}
