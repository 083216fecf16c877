// Package nativehcl parses HCL native syntax as hclsyntax does, with the
// ranges of what its error recovery leaves behind made whole.
package nativehcl

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// ParseConfig is hclsyntax.ParseConfig. A function call the parser gave
// up on (an unterminated string among its arguments, say) comes back
// without a closing parenthesis, and its range ends at the zero
// position, before it starts; it is made to end where its last argument
// does, or at its opening parenthesis. Only a file with errors is
// walked.
func ParseConfig(src []byte, filename string, start hcl.Pos) (*hcl.File, hcl.Diagnostics) {
	file, diags := hclsyntax.ParseConfig(src, filename, start)
	if !diags.HasErrors() || file == nil {
		return file, diags
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.CloseParenRange.End.Byte < call.NameRange.Start.Byte {
				end := call.OpenParenRange
				if len(call.Args) > 0 {
					if last := call.Args[len(call.Args)-1].Range(); last.End.Byte >= end.End.Byte {
						end = last
					}
				}
				call.CloseParenRange = hcl.Range{Filename: end.Filename, Start: end.End, End: end.End}
			}
			return nil
		})
	}
	return file, diags
}
