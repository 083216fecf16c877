package inputs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/world"
)

// A data "vault_policy_document" renders its rule blocks as policy text
// (its hcl attribute), the way the Vault provider does:
//
//	# description
//	path "PATH" {
//	  capabilities = ["read"]
//	  required_parameters = [...]
//	  allowed_parameters = {
//	    "key" = [...]
//	  }
//	  denied_parameters = {...}
//	  min_wrapping_ttl = "..."
//	  max_wrapping_ttl = "..."
//	}
//
// with a blank line between rules. Every byte of the rendering maps back
// to the argument it comes from, so findings on the policy point into the
// rule blocks. What the configuration does not settle stays unknown, as
// in a heredoc; a dynamic "rule" block, count or for_each leave the whole
// document to Terraform.

const tfPolicyDoc = "vault_policy_document"

// policyDocRef is the data source a policy = data.vault_policy_document.NAME.hcl names.
func policyDocRef(expr hcl.Expression) (string, bool) {
	t, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) != 4 || t.Traversal.RootName() != "data" {
		return "", false
	}
	var names []string
	for _, step := range t.Traversal[1:] {
		a, ok := step.(hcl.TraverseAttr)
		if !ok {
			return "", false
		}
		names = append(names, a.Name)
	}
	if names[0] != tfPolicyDoc || names[2] != "hcl" {
		return "", false
	}
	return names[1], true
}

// policyDoc renders the policy document data source name of this file;
// ok is false when it is not in the file or only Terraform can render it.
func (l *tfLoader) policyDoc(res *world.Resource, at hcl.Range, name string) (*tfSource, bool) {
	var blk *hclsyntax.Block
	for _, b := range l.blocks {
		if b.Type == "data" && len(b.Labels) == 2 && b.Labels[0] == tfPolicyDoc && b.Labels[1] == name {
			blk = b
		}
	}
	addr := "data." + tfPolicyDoc + "." + name
	if blk == nil {
		l.notef(at, "%s: the policy is %s, which is not in this file; it is not checked", res.Address(), addr)
		return nil, false
	}
	for n := range blk.Body.Attributes {
		if n == "count" || n == "for_each" {
			l.notef(at, "%s: the policy is %s, which uses %s; it is not checked", res.Address(), addr, n)
			return nil, false
		}
	}
	for _, b := range blk.Body.Blocks {
		if b.Type == "dynamic" {
			l.notef(at, "%s: the policy is %s, whose rules are made by a dynamic block only Terraform expands; it is not checked", res.Address(), addr)
			return nil, false
		}
	}
	out := &tfSource{offsetMap: &offsetMap{lines: l.lines, src: l.f.Src, path: l.f.Path}}
	out.first, out.last = blk.Range().Start.Byte, blk.Range().End.Byte
	d := policyDocRender{l: l, out: out}
	first := true
	for _, rule := range blk.Body.Blocks {
		if rule.Type != "rule" {
			continue
		}
		if !first {
			d.lit("\n", rule.TypeRange)
		}
		first = false
		d.rule(rule)
	}
	out.text = out.buf
	return out, true
}

type policyDocRender struct {
	l   *tfLoader
	out *tfSource
}

// lit adds text the provider writes, standing for the source range at.
func (d policyDocRender) lit(s string, at hcl.Range) {
	d.out.addSpan([]byte(s), at.Start.Byte, at.End.Byte)
}

// unknown adds the source of an expression only Terraform can evaluate.
func (d policyDocRender) unknown(expr hclsyntax.Expression, placeholder string) {
	r := expr.Range()
	ref := strings.TrimSpace(string(r.SliceBytes(d.l.f.Src)))
	d.out.unresolved = append(d.out.unresolved, ref)
	d.out.unknown = append(d.out.unknown, [2]int{r.Start.Byte, r.End.Byte})
	d.out.addSpan([]byte(placeholder), r.Start.Byte, r.End.Byte)
}

// str adds a string argument's value as the provider writes it into
// quotes (unescaped); a template maps byte for byte to its source.
func (d policyDocRender) str(expr hclsyntax.Expression) {
	if t, ok := expr.(*hclsyntax.TemplateExpr); ok {
		src := d.l.template(t, true)
		d.out.add(src.buf, src.starts, src.ends)
		d.out.unresolved = append(d.out.unresolved, src.unresolved...)
		d.out.unknown = append(d.out.unknown, src.unknown...)
		return
	}
	if s := strValue(withContext(expr, d.l.ctx)); s.IsKnown() {
		d.lit(s.V, expr.Range())
		return
	}
	d.unknown(expr, "")
}

// list adds a list of strings as the provider renders it.
func (d policyDocRender) list(expr hclsyntax.Expression) {
	v := listValue(withContext(expr, d.l.ctx))
	if !v.Known {
		d.unknown(expr, "[]")
		return
	}
	if len(v.Items) == 0 {
		d.lit("[]", expr.Range())
		return
	}
	// Each element with its quotes stands for the element's source.
	d.lit("[", expr.Range())
	for i, it := range v.Items {
		if i > 0 {
			d.lit(", ", expr.Range())
		}
		d.lit(`"`+it.V+`"`, it.Range)
	}
	d.lit("]", expr.Range())
}

func (d policyDocRender) rule(b *hclsyntax.Block) {
	attrs := b.Body.Attributes
	if a, ok := attrs["description"]; ok {
		if s := strValue(withContext(a.Expr, d.l.ctx)); s.IsKnown() && s.V != "" {
			d.lit("# "+s.V+"\n", a.SrcRange)
		}
	}
	if a, ok := attrs["path"]; ok {
		// The quotes stand for the string's own, so that the path label
		// maps byte for byte onto the argument's value.
		r := a.Expr.Range()
		open, closing := r, r
		if src := d.l.f.Src; r.End.Byte-r.Start.Byte >= 2 && src[r.Start.Byte] == '"' && src[r.End.Byte-1] == '"' {
			open.End, closing.Start = hcl.Pos{Byte: r.Start.Byte + 1}, hcl.Pos{Byte: r.End.Byte - 1}
		}
		d.lit("path ", a.NameRange)
		d.lit(`"`, open)
		d.str(a.Expr)
		d.lit(`"`, closing)
		d.lit(" {\n", a.SrcRange)
	} else {
		d.lit(`path "" {`+"\n", b.TypeRange)
	}
	d.lit("  capabilities = ", b.TypeRange)
	if a, ok := attrs["capabilities"]; ok {
		d.list(a.Expr)
	} else {
		d.lit("[]", b.TypeRange)
	}
	d.lit("\n", b.TypeRange)
	if a, ok := attrs["required_parameters"]; ok {
		d.lit("  required_parameters = ", a.SrcRange)
		d.list(a.Expr)
		d.lit("\n", a.SrcRange)
	}
	for _, kind := range []string{"allowed", "denied"} {
		d.params(b, kind)
	}
	for _, n := range []string{"min_wrapping_ttl", "max_wrapping_ttl"} {
		if a, ok := attrs[n]; ok {
			d.lit("  "+n+` = "`, a.SrcRange)
			d.str(a.Expr)
			d.lit(`"`+"\n", a.SrcRange)
		}
	}
	d.lit("}\n", b.CloseBraceRange)
}

// params renders the allowed_parameter or denied_parameter blocks of a
// rule as one map, sorted by key, as the provider does.
func (d policyDocRender) params(rule *hclsyntax.Block, kind string) {
	type param struct {
		key string
		b   *hclsyntax.Block
	}
	var ps []param
	for _, b := range rule.Body.Blocks {
		if b.Type != kind+"_parameter" {
			continue
		}
		key := ""
		if a, ok := b.Body.Attributes["key"]; ok {
			s := strValue(withContext(a.Expr, d.l.ctx))
			if !s.IsKnown() {
				d.unknown(a.Expr, "")
				continue
			}
			key = s.V
		}
		ps = append(ps, param{key, b})
	}
	if len(ps) == 0 {
		return
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].key < ps[j].key })
	d.lit(fmt.Sprintf("  %s_parameters = {\n", kind), ps[0].b.TypeRange)
	for _, p := range ps {
		at := p.b.TypeRange
		if a, ok := p.b.Body.Attributes["key"]; ok {
			at = a.Expr.Range()
		}
		d.lit(fmt.Sprintf("    %q = ", p.key), at)
		if a, ok := p.b.Body.Attributes["value"]; ok {
			d.list(a.Expr)
		} else {
			d.lit("[]", p.b.TypeRange)
		}
		d.lit("\n", p.b.TypeRange)
	}
	d.lit("  }\n", ps[len(ps)-1].b.CloseBraceRange)
}
