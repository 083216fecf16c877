package inputs

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/world"
)

// TestLoadRecovered: a reader that panics leaves an error on its file,
// naming the panic and where it happened, and an empty world, instead
// of ending the run.
func TestLoadRecovered(t *testing.T) {
	f := &world.File{Path: "deploy/vault.tf"}
	w := loadRecovered(f, Options{}, func(*world.File, Options) *world.World {
		var s []int
		_ = s[3] // a reader's bug
		return nil
	})
	if w == nil {
		t.Fatal("no world after the panic")
	}
	if !hasDiag(f, ReadCrashed) {
		t.Fatalf("no %q diagnostic: %v", ReadCrashed, f.Diags)
	}
	d := f.Diags[len(f.Diags)-1]
	if !strings.Contains(d.Detail, "index out of range") || !strings.Contains(d.Detail, "TestLoadRecovered") || !strings.Contains(d.Detail, "bug in nvlint") {
		t.Errorf("detail %q does not say what panicked and where", d.Detail)
	}
	if d.Subject == nil || d.Subject.Filename != f.Path {
		t.Errorf("the diagnostic is not on the file: %v", d.Subject)
	}
	if f.Kind != world.KindTerraform {
		t.Errorf("kind %q, want the one its name gives", f.Kind)
	}
}
