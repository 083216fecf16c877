// Package crash describes a recovered panic for a bug report: where it
// happened and the stack, without the paths of the machine nvlint was
// built on (its work tree, Go root and module cache).
package crash

import (
	"fmt"
	"path"
	"runtime"
	"strings"
)

// Report is a panic as a bug report shows it.
type Report struct {
	// Where is the first frame below the panic: function and file:line.
	Where string
	// Stack is the goroutine's frames from the panic down, one
	// "function\n\tfile:line" per frame.
	Stack string
}

// maxFrames bounds the stack: the frames nearest the panic tell the bug.
const maxFrames = 16

// Capture describes the panic being recovered. Call it in the deferred
// function that recovers, so the panicking frames are still on the stack.
func Capture() Report {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	var all []runtime.Frame
	panicked := -1
	for {
		f, more := frames.Next()
		if panicked < 0 && f.Function == "runtime.gopanic" {
			panicked = len(all)
		}
		all = append(all, f)
		if !more {
			break
		}
	}
	// Frames after the runtime's panic machinery are the ones that
	// panicked; without it (a Goexit, say) keep them all.
	from := 0
	if panicked >= 0 {
		from = panicked + 1
		for from < len(all) && strings.HasPrefix(all[from].Function, "runtime.") {
			from++
		}
	}
	var r Report
	var b strings.Builder
	for i, f := range all[from:] {
		if i == maxFrames {
			b.WriteString("...\n")
			break
		}
		loc := fmt.Sprintf("%s:%d", TrimPath(f.File), f.Line)
		if r.Where == "" {
			r.Where = fmt.Sprintf("%s (%s)", loc, shortFunc(f.Function))
		}
		fmt.Fprintf(&b, "%s\n\t%s\n", f.Function, loc)
	}
	r.Stack = strings.TrimSuffix(b.String(), "\n")
	return r
}

// moduleRoot is the directory of this module's source as compiled in:
// an absolute path, or the module path under -trimpath.
var moduleRoot = func() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return path.Dir(path.Dir(path.Dir(file))) // internal/crash/crash.go
}()

// TrimPath turns a source path as compiled in into one that names no
// directory of the build machine: relative to the module for nvlint's
// own files, module@version/... for dependencies, the package path for
// the standard library, and the bare file name for anything else.
func TrimPath(file string) string {
	file = strings.ReplaceAll(file, "\\", "/")
	if moduleRoot != "" && strings.HasPrefix(file, moduleRoot+"/") {
		return strings.TrimPrefix(file, moduleRoot+"/")
	}
	if i := strings.LastIndex(file, "/pkg/mod/"); i >= 0 {
		return file[i+len("/pkg/mod/"):]
	}
	if i := strings.LastIndex(file, "/src/"); i >= 0 && path.IsAbs(file) {
		// The Go root's standard library: $GOROOT/src/runtime/panic.go.
		return file[i+len("/src/"):]
	}
	if path.IsAbs(file) {
		return path.Base(file)
	}
	return file // already relative: built with -trimpath
}

// shortFunc drops the import path of a function name:
// github.com/x/y/checks/legacy.roleAllowsServerPolicy.Check becomes
// legacy.roleAllowsServerPolicy.Check.
func shortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		return fn[i+1:]
	}
	return fn
}
