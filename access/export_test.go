package access

import (
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// PanicInResolve makes working out a token panic with v, as a bug in
// resolve would, until restore is called.
func PanicInResolve(v any) (restore func()) {
	old := resolveOne
	resolveOne = func(*world.World, Workload) Token { panic(v) }
	return func() { resolveOne = old }
}

// Allowed is Token.allowed, for tests.
func (t Token) Allowed(w *world.World, a templates.Access) bool { return t.allowed(w, a) }
