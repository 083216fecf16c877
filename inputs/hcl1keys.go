package inputs

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/internal/nativehcl"
	"github.com/nvlint/nvlint/world"
)

// Nomad reads its agent configs with HCL 1, which takes an argument or
// block name in quotes ("datacenter" = "dc1") where HCL 2 refuses one.
// Such a config works, so it must not read as a syntax error: when HCL 2
// stops at a quoted name, each quoted identifier that starts a line and
// names an argument or a block is read as the bare name, its quotes
// turned into spaces so that every offset, line and value's column
// stays what it is in the file.

// agentHCL1 reparses an agent config HCL 2 refused for quoted names;
// ok is false when the file has none, or is no agent config without
// them either.
func agentHCL1(f *world.File, diags hcl.Diagnostics) (file *hcl.File, body *hclsyntax.Body, out hcl.Diagnostics, ok bool) {
	if !quotedNameRefused(diags) {
		return nil, nil, nil, false
	}
	src, quotes := unquoteKeys(f.Src)
	if quotes == nil {
		return nil, nil, nil, false
	}
	file, out = nativehcl.ParseConfig(src, f.Path, hcl.InitialPos)
	body, _ = file.Body.(*hclsyntax.Body)
	if body == nil || detectHCL(body) != world.KindAgentConfig {
		return nil, nil, nil, false
	}
	// The file's own bytes stay the source shown in reports.
	file.Bytes = f.Src
	f.QuotedNames = quotes
	return file, body, out, true
}

func quotedNameRefused(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Summary == "Invalid argument name" {
			return true
		}
	}
	return false
}

// unquoteKeys blanks the quotes of every quoted identifier that starts a
// line (or follows a '{') and is followed by '=' or '{', and says where
// they were.
func unquoteKeys(src []byte) ([]byte, [][2]int) {
	toks, _ := hclsyntax.LexConfig(src, "", hcl.InitialPos)
	var out []byte
	var quotes [][2]int
	for i := 0; i+3 < len(toks); i++ {
		if toks[i].Type != hclsyntax.TokenOQuote || toks[i+1].Type != hclsyntax.TokenQuotedLit || toks[i+2].Type != hclsyntax.TokenCQuote {
			continue
		}
		if next := toks[i+3].Type; next != hclsyntax.TokenEqual && next != hclsyntax.TokenOBrace {
			continue
		}
		if i > 0 {
			if prev := toks[i-1].Type; prev != hclsyntax.TokenNewline && prev != hclsyntax.TokenOBrace && prev != hclsyntax.TokenComment {
				continue // a block's label: server "x" {
			}
		}
		if !hclsyntax.ValidIdentifier(string(toks[i+1].Bytes)) {
			continue
		}
		if out == nil {
			out = bytes.Clone(src)
		}
		open, end := toks[i].Range.Start.Byte, toks[i+2].Range.Start.Byte
		out[open], out[end] = ' ', ' '
		quotes = append(quotes, [2]int{open, end})
	}
	return out, quotes
}
