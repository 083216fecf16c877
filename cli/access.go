package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
)

// runAccess answers "can task T of job J read path P?" from files, and
// prints the whole chain: flow, identity, role, policies, the rule that
// decided. Without --path it answers for every Vault read in the task's
// templates.
func runAccess(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint access", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		job   = fs.String("job", "", "job ID (required)")
		group = fs.String("group", "", "task group, when the job has several tasks with vault")
		task  = fs.String("task", "", "task, when the job has several tasks with vault")
		path  = fs.String("path", "", "Vault path to check; default: every Vault read in the task's templates")
		op    = fs.String("op", "read", "operation: read, list, create, update, delete or patch")
		cfgP  = fs.String("config", "", "read this config file instead of the .nvlint.hcl found from the working directory up (its names and versions apply)")
	)
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, "Usage: nvlint access --job JOB [--task TASK] [--path PATH] [--op read] FILE|DIR...\n\n"+
			"Says whether a task's Vault token may access a path, and why, from the jobspec, agent config,\n"+
			"JWT auth config and roles, token role and policies given. Exit 0 allowed, 1 denied or unknown.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if *job == "" || len(paths) == 0 {
		fs.Usage()
		return ExitUsage
	}
	cfg, err := loadConfig(env, *cfgP, checks.All())
	if err != nil {
		return usageError(env, err)
	}
	opts := inputs.Options{Stdin: env.Stdin}
	if cfg != nil {
		opts.Ignore = cfg.Ignored
	}
	w, _, err := inputs.Load(paths, opts)
	if err != nil {
		return usageError(env, err)
	}
	cfg.Apply(w)
	var matches []access.Workload
	for _, wl := range access.Workloads(w) {
		if wl.Job.Ref.Name == *job && (*group == "" || wl.Group.Name.V == *group) && (*task == "" || wl.Task.Name.V == *task) {
			matches = append(matches, wl)
		}
	}
	switch {
	case len(matches) == 0:
		fmt.Fprintf(env.Stderr, "nvlint: no task with a vault block matches job %q%s in the files given\n", *job, taskSuffix(*group, *task))
		return ExitUsage
	case len(matches) > 1:
		fmt.Fprintf(env.Stderr, "nvlint: several tasks of job %q use Vault; pick one with --task (and --group):\n", *job)
		for _, m := range matches {
			fmt.Fprintf(env.Stderr, "  --group %s --task %s\n", m.Group.Name.V, m.Task.Name.V)
		}
		return ExitUsage
	}
	wl := matches[0]
	tok := access.Resolve(w, wl)
	out := env.Stdout
	fmt.Fprintf(out, "%s\n", wl)
	for _, s := range tok.Steps {
		fmt.Fprintf(out, "  %s\n", s)
	}
	if tok.Refused != "" {
		fmt.Fprintf(out, "  login refused: %s (%s)\n", tok.Refused, tok.RefusedAt)
		return ExitFindings
	}
	code := ExitOK
	if *path != "" {
		ans := tok.Can(*path, acl.Operation(*op))
		printAnswer(out, *path, *op, ans)
		if !ans.Allowed {
			code = ExitFindings
		}
		return code
	}
	// Every Vault call of the task's templates, decided as lint decides
	// them (access.Token.Read).
	var reads int
	for _, tpl := range wl.Task.Templates {
		if !tpl.Data.Known {
			continue
		}
		accs, err := tpl.VaultCalls()
		if err != nil {
			fmt.Fprintf(out, "  template at %s does not parse: %v\n", tpl.Range, err)
			continue
		}
		for _, a := range accs {
			reads++
			rd := tok.Read(w, a)
			printAnswer(out, rd.Path, string(rd.Op), rd.Answer)
			if rd.Rewritten() {
				fmt.Fprintf(out, "  consul-template reads %s as %s (%s)\n", a.Path, rd.Path, rd.KV.Why)
			}
			if !rd.Allowed {
				code = ExitFindings
			}
		}
	}
	if reads == 0 {
		fmt.Fprintln(out, "  the task's templates read nothing from Vault; pass --path")
	}
	return code
}

func taskSuffix(group, task string) string {
	var parts []string
	if group != "" {
		parts = append(parts, "group "+group)
	}
	if task != "" {
		parts = append(parts, "task "+task)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func printAnswer(out io.Writer, path, op string, ans access.Answer) {
	verdict := "DENIED"
	switch {
	case !ans.Known:
		verdict = "UNKNOWN"
	case ans.Allowed:
		verdict = "ALLOWED"
	}
	fmt.Fprintf(out, "\n%s %s %s\n", verdict, op, path)
	if ans.Why != "" {
		fmt.Fprintf(out, "  %s\n", ans.Why)
	}
	for _, d := range ans.Dropped {
		// Only dropped paths that could have led here explain anything.
		prefix, _, _ := strings.Cut(strings.TrimPrefix(d.Rule.Path, "/"), "{{")
		if strings.HasPrefix(path, prefix) {
			fmt.Fprintf(out, "  dropped: policy %s path %q: %s\n", d.Policy, d.Rule.Path, d.Reason)
		}
	}
	if ans.Winner == nil {
		if ans.Known && !ans.Allowed {
			fmt.Fprintln(out, "  no path rule of the token's policies matches")
		}
		return
	}
	for _, c := range ans.Candidates {
		mark := "  "
		if c == ans.Winner {
			mark = "=>"
		}
		var srcs []string
		for _, s := range c.Sources {
			srcs = append(srcs, s.Policy)
		}
		fmt.Fprintf(out, "  %s %q (%s) in %s", mark, c.Path, c.Kind, strings.Join(srcs, ", "))
		if c.Why != "" {
			fmt.Fprintf(out, ": %s", c.Why)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "  capabilities: %v\n", ans.Capabilities)
}
