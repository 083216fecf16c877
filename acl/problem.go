package acl

import "github.com/hashicorp/hcl/v2"

// Problem is the Extra of every diagnostic Parse reports about Vault's own
// policy rules, as opposed to HCL or JSON syntax errors (which come from
// the hcl packages and carry no Problem). An error with a Problem is one
// Vault returns at `vault policy write` (its Summary is Vault's message);
// a warning with a Problem marks something Vault stores but never uses.
type Problem struct {
	Code Code
	// Path is the path label of the rule at fault; "" for a top-level
	// problem.
	Path string
	// Value is the offending capability, key, policy value or template
	// directive, when the problem has one.
	Value string
}

// Code classifies a Problem.
type Code string

// Problem codes. A diagnostic Parse has not classified has the code
// ProblemOther.
const (
	ProblemOther              Code = "other"
	ProblemInvalidCapability  Code = "invalid-capability"  // error: path %q: invalid capability %q
	ProblemInvalidPolicy      Code = "invalid-policy"      // error: path %q: invalid policy %q
	ProblemInvalidWildcard    Code = "invalid-wildcard"    // error: path %q: invalid use of wildcards ('+*' is forbidden)
	ProblemInvalidKey         Code = "invalid-key"         // error: [path %q: ]invalid key %q
	ProblemInvalidTemplating  Code = "invalid-templating"  // error: path %q: failed to validate policy templating: ...
	ProblemStructure          Code = "structure"           // error: a key of the wrong shape (path as an attribute, a non-string...)
	ProblemWrappingTTL        Code = "wrapping-ttl"        // error: min/max_wrapping_ttl Vault cannot parse or that contradict
	ProblemNoPathLabel        Code = "no-path-label"       // warning: path block without a label: the rule is for the literal path "path"
	ProblemExtraLabel         Code = "extra-label"         // warning: path block with labels after the path, ignored
	ProblemUnfillableTemplate Code = "unfillable-template" // warning: a directive Vault can never fill, so the path is dropped
)

// ProblemOf returns the Problem of a diagnostic Parse reported, or nil for
// an HCL or JSON syntax diagnostic.
func ProblemOf(d *hcl.Diagnostic) *Problem {
	if d == nil {
		return nil
	}
	p, _ := d.Extra.(*Problem)
	return p
}

// problemFor builds the Problem of a diagnostic from the format and
// arguments of its summary.
func problemFor(format string, args []any) *Problem {
	arg := func(i int) string {
		if i < len(args) {
			if s, ok := args[i].(string); ok {
				return s
			}
		}
		return ""
	}
	switch format {
	case "path %q: invalid capability %q":
		return &Problem{Code: ProblemInvalidCapability, Path: arg(0), Value: arg(1)}
	case "path %q: invalid policy %q":
		return &Problem{Code: ProblemInvalidPolicy, Path: arg(0), Value: arg(1)}
	case "path %q: invalid use of wildcards ('+*' is forbidden)":
		return &Problem{Code: ProblemInvalidWildcard, Path: arg(0)}
	case "path %q: invalid key %q":
		return &Problem{Code: ProblemInvalidKey, Path: arg(0), Value: arg(1)}
	case "invalid key %q":
		return &Problem{Code: ProblemInvalidKey, Value: arg(0)}
	case "path %q: failed to validate policy templating: %v":
		return &Problem{Code: ProblemInvalidTemplating, Path: arg(0)}
	case "path %q: %s must be an attribute, not a block", "path %q: capabilities must be a list of strings":
		return &Problem{Code: ProblemStructure, Path: arg(0)}
	case "path must be a block", "name must be a string attribute", "%s must be a string":
		return &Problem{Code: ProblemStructure}
	case "error parsing %s: %v", "max_wrapping_ttl cannot be less than min_wrapping_ttl":
		return &Problem{Code: ProblemWrappingTTL}
	case "path block has no path label":
		return &Problem{Code: ProblemNoPathLabel, Path: "path"}
	case "path %q: extra label %q is ignored":
		return &Problem{Code: ProblemExtraLabel, Path: arg(0), Value: arg(1)}
	case "path %q: template parameter %q cannot be filled: %s":
		return &Problem{Code: ProblemUnfillableTemplate, Path: arg(0), Value: arg(1)}
	}
	return &Problem{Code: ProblemOther}
}
