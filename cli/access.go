package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// accessFlags are the flags of nvlint access.
type accessFlags struct {
	job, namespace, group, task, path, op, cfgP string
	// setup is --setup: the setup of .nvlint.hcl the job is looked up in.
	setup string
	names nameFlag
	print printFlags
}

// accessOps are the operations --op takes: a request's operation, as
// Vault's ACL decides it.
var accessOps = []string{"read", "list", "create", "update", "delete", "patch", "recover", "renew", "revoke", "rollback", "help"}

func newAccessCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f accessFlags
	c := &cobra.Command{
		Use:   "access --job JOB [--task TASK] [--path PATH] [--op read] [flags] FILE|DIR...",
		Short: "can a task's Vault token read a path? prints the whole chain",
		Long: `Says whether a task's Vault token may access a path, and why, from the jobspec, agent config,
JWT auth config and roles, token role and policies given.

Exit status: 0 allowed, 1 denied or unknown, 2 usage error, 3 internal error.`,
		RunE: func(c *cobra.Command, paths []string) error {
			if f.job == "" || len(paths) == 0 {
				what := "--job JOB is required"
				if f.job != "" {
					what = "no FILE or DIR given"
				}
				*code = noPaths(env, c, what)
				return nil
			}
			*code = runAccess(paths, &f, env)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.job, "job", "", "job `ID` (required)")
	fs.StringVar(&f.namespace, "namespace", "", "the job's Nomad `NAMESPACE`, when jobs of several namespaces have its ID")
	fs.StringVar(&f.group, "group", "", "task `GROUP`, when the job has several tasks with vault")
	fs.StringVar(&f.task, "task", "", "`TASK`, when the job has several tasks with vault")
	fs.StringVar(&f.path, "path", "", "Vault `PATH` to check; default: every Vault read in the task's templates")
	fs.StringVar(&f.op, "op", "read", "the request's `OPERATION`: "+strings.Join(accessOps, ", "))
	fs.StringVar(&f.cfgP, "config", "", configUsage+" (its names and versions apply)")
	fs.StringVar(&f.setup, "setup", "", "the setup of .nvlint.hcl to look the job up in, when several define it")
	f.names.register(c)
	f.print.register(c, g, "the chain and the answers as data")
	completeValues(c, "op", accessOps...)
	_ = c.MarkFlagFilename("config", "hcl")
	return c
}

// runAccess answers "can task T of job J read path P?" from files, and
// prints the whole chain: flow, identity, role, policies, the rule that
// decided. Without --path it answers for every Vault read in the task's
// templates.
func runAccess(paths []string, f *accessFlags, env Env) int {
	job, group, task, path, op := &f.job, &f.group, &f.task, &f.path, &f.op
	asJSON, color, err := f.print.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	if !slices.Contains(accessOps, *op) {
		return usageError(env, fmt.Errorf("--op wants one of %s, got %q", strings.Join(accessOps, ", "), *op))
	}
	cfg, err := loadConfig(env, f.cfgP, paths, checks.All(), false)
	if err != nil {
		return usageError(env, err)
	}
	opts := inputs.Options{Stdin: env.Stdin}
	if opts.Names, err = f.names.parse(); err != nil {
		return usageError(env, err)
	}
	if cfg != nil {
		opts.Ignore = cfg.Ignored
	}
	w, _, err := inputs.Load(paths, opts)
	if err != nil {
		return usageError(env, err)
	}
	if w, err = setupOf(w, cfg, f.setup, *job); err != nil {
		fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
		return ExitUsage
	}
	// Each read asks the same derived facts (KV versions, the servers'
	// identity): work them out once.
	defer w.Memoize()()
	var matches []access.Workload
	for _, wl := range access.Workloads(w) {
		if wl.Job.Ref.Name == *job && (f.namespace == "" || wl.Job.NamespaceName() == f.namespace) &&
			(*group == "" || wl.Group.Name.V == *group) && (*task == "" || wl.Task.Name.V == *task) {
			matches = append(matches, wl)
		}
	}
	switch {
	case len(matches) == 0:
		fmt.Fprintf(env.Stderr, "nvlint: no task with a vault block matches job %q%s in the files given\n", *job, taskSuffix(*group, *task))
		return ExitUsage
	case len(matches) > 1:
		fmt.Fprintf(env.Stderr, "nvlint: several tasks of job %q use Vault; pick one with --task (and --group, --namespace):\n", *job)
		for _, m := range matches {
			fmt.Fprintf(env.Stderr, "  --namespace %s --group %s --task %s\n", m.Job.NamespaceName(), m.Group.Name.V, m.Task.Name.V)
		}
		return ExitUsage
	}
	wl := matches[0]
	tok := access.Resolve(w, wl)
	rep := accessReport{
		Job: wl.Job.Ref.Name, Group: wl.Group.Name.V, Task: wl.Task.Name.V,
		Flow: string(tok.Flow), Steps: tok.Steps, Policies: tok.Policies, Answers: []accessAnswer{},
	}
	if rep.Steps == nil {
		rep.Steps = []string{}
	}
	if rep.Policies == nil {
		rep.Policies = []string{}
	}
	if tok.Refused != "" {
		rep.Refused = &accessRefusal{Message: tok.Refused, At: tok.RefusedAt.String()}
	}
	code := ExitOK
	switch {
	case tok.Refused != "":
		code = ExitFindings
	case *path != "":
		a := answerOf(*path, *op, tok.Can(*path, acl.Operation(*op)))
		v2, why := kvV2Path(w, *path, *op)
		if v2 != "" {
			article := "a"
			if strings.ContainsRune("aeiou", rune((*op)[0])) {
				article = "an"
			}
			a.Hint = fmt.Sprintf("%s: Vault receives %s for %s %s through consul-template or the KV v2 API", why, v2, article, *op)
		}
		rep.Answers = append(rep.Answers, a)
		if a.Verdict != "allowed" {
			code = ExitFindings
		}
		if v2 != "" {
			// The decision for that path, for comparison: the exit status
			// stays the one for the path asked.
			b := answerOf(v2, *op, tok.Can(v2, acl.Operation(*op)))
			b.ReadAs = fmt.Sprintf("the KV version 2 path of %s", *path)
			rep.Answers = append(rep.Answers, b)
		}
	default:
		// Every Vault call of the task's secret blocks and templates,
		// decided as lint and doctor decide them (access.Token.Read).
		for _, tpl := range wl.Task.Templates {
			if _, err := tpl.VaultCalls(); tpl.Data.Known && err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("template at %s does not parse: %v", tpl.Range, err))
			}
		}
		for _, r := range access.TaskReads(wl.Task) {
			call := r.Call
			// A path built at render time is an unknown answer, as lint
			// and doctor leave it undecided.
			rd := tok.Read(w, call)
			a := answerOf(rd.Path, string(rd.Op), rd.Answer)
			if r.Secret != nil {
				a.Source = r.Source()
			}
			if rd.Rewritten() {
				a.ReadAs = fmt.Sprintf("consul-template reads %s as %s (%s)", call.Path, rd.Path, rd.KV.Why)
			}
			rep.Answers = append(rep.Answers, a)
			if a.Verdict != "allowed" {
				code = ExitFindings
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return ExitInternal
		}
		return code
	}
	rep.printText(env.Stdout, color)
	return code
}

// kvV2Path is the path Vault receives for op on path when path lies on a
// KV version 2 mount but is written without data/ or metadata/ (the
// path kv get and consul-template take), and the evidence for the
// mount's version; "" when the path is already one Vault receives, or
// the mount is not known to be KV version 2.
func kvV2Path(w *world.World, path, op string) (string, string) {
	tplOp := templates.OpRead
	switch op {
	case "list":
		tplOp = templates.OpList
	case "read", "create", "update", "patch", "delete":
	default:
		return "", ""
	}
	kv := access.KVOf(w, path)
	if kv.Version != access.KVV2 {
		return "", ""
	}
	p := strings.Trim(path, "/")
	rest, ok := strings.CutPrefix(p, strings.Trim(kv.Mount, "/")+"/")
	if !ok {
		return "", ""
	}
	for _, keep := range []string{"data/", "metadata/", "subkeys/", "delete/", "undelete/", "destroy/", "config"} {
		if strings.HasPrefix(rest, keep) {
			return "", ""
		}
	}
	v2 := templates.KVv2Path(p, kv.Mount, tplOp)
	if v2 == p {
		return "", ""
	}
	return v2, kv.Why
}

// accessReport is what access prints: the chain from the task to its
// token, and each answer. --format json prints it as is.
type accessReport struct {
	Job      string         `json:"job"`
	Group    string         `json:"group"`
	Task     string         `json:"task"`
	Flow     string         `json:"flow,omitempty"`
	Steps    []string       `json:"steps"`
	Refused  *accessRefusal `json:"refused,omitempty"`
	Policies []string       `json:"policies"`
	// Notes are template reads that could not be checked.
	Notes   []string       `json:"notes,omitempty"`
	Answers []accessAnswer `json:"answers"`
}

// accessRefusal is why no token would be issued, and what causes it.
type accessRefusal struct {
	Message string `json:"message"`
	At      string `json:"at"`
}

type accessAnswer struct {
	Path string `json:"path"`
	Op   string `json:"op"`
	// Verdict is allowed, denied or unknown.
	Verdict string `json:"verdict"`
	// Source names the secret block that makes the read; unset for a
	// template's.
	Source string `json:"source,omitempty"`
	// ReadAs says how consul-template rewrote the template's path (KV
	// version 2: under data/ or metadata/).
	ReadAs string `json:"read_as,omitempty"`
	// Hint says, for a --path on a KV version 2 mount written without
	// data/ or metadata/, the path Vault receives: the next answer is its.
	Hint         string            `json:"hint,omitempty"`
	Why          string            `json:"why,omitempty"`
	Dropped      []accessDropped   `json:"dropped,omitempty"`
	Candidates   []accessCandidate `json:"candidates,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	// noRule: denied because no path rule matches.
	noRule bool
}

type accessDropped struct {
	Policy string `json:"policy"`
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

type accessCandidate struct {
	Path     string   `json:"path"`
	Kind     string   `json:"kind"`
	Policies []string `json:"policies"`
	Winner   bool     `json:"winner,omitempty"`
	Why      string   `json:"why,omitempty"`
}

func answerOf(path, op string, ans access.Answer) accessAnswer {
	a := accessAnswer{Path: path, Op: op, Verdict: "denied", Why: ans.Why}
	switch {
	case !ans.Known:
		a.Verdict = "unknown"
	case ans.Allowed:
		a.Verdict = "allowed"
	}
	for _, d := range ans.Dropped {
		// Only dropped paths that could have led here explain anything.
		prefix, _, _ := strings.Cut(strings.TrimPrefix(d.Rule.Path, "/"), "{{")
		if strings.HasPrefix(path, prefix) {
			a.Dropped = append(a.Dropped, accessDropped{Policy: d.Policy, Path: d.Rule.Path, Reason: d.Reason})
		}
	}
	if ans.Winner == nil {
		a.noRule = ans.Known && !ans.Allowed
		return a
	}
	for _, c := range ans.Candidates {
		var srcs []string
		for _, s := range c.Sources {
			srcs = append(srcs, s.Policy)
		}
		a.Candidates = append(a.Candidates, accessCandidate{Path: c.Path, Kind: c.Kind, Policies: srcs, Winner: c == ans.Winner, Why: c.Why})
	}
	a.Capabilities = ans.Capabilities
	return a
}

func (r accessReport) printText(out io.Writer, color bool) {
	fmt.Fprintf(out, "task %s of job %s\n", r.Task, r.Job)
	for _, s := range r.Steps {
		fmt.Fprintf(out, "  %s\n", s)
	}
	if r.Refused != nil {
		fmt.Fprintf(out, "  login refused: %s (%s)\n", r.Refused.Message, r.Refused.At)
		return
	}
	for _, n := range r.Notes {
		fmt.Fprintf(out, "  %s\n", n)
	}
	if len(r.Answers) == 0 {
		fmt.Fprintln(out, "  the task's templates and secret blocks read nothing from Vault; pass --path")
		return
	}
	st := lipgloss.NewRenderer(out)
	if color {
		st.SetColorProfile(termenv.ANSI)
	} else {
		st.SetColorProfile(termenv.Ascii)
	}
	verdicts := map[string]lipgloss.Style{
		"allowed": st.NewStyle().Bold(true).Foreground(lipgloss.Color("2")),
		"denied":  st.NewStyle().Bold(true).Foreground(lipgloss.Color("1")),
		"unknown": st.NewStyle().Bold(true).Foreground(lipgloss.Color("3")),
	}
	for _, a := range r.Answers {
		printAnswer(out, a, verdicts[a.Verdict].Render(strings.ToUpper(a.Verdict)))
	}
}

func printAnswer(out io.Writer, a accessAnswer, verdict string) {
	fmt.Fprintf(out, "\n%s %s %s\n", verdict, a.Op, a.Path)
	if a.Source != "" {
		fmt.Fprintf(out, "  read by %s (Nomad renders it as a template)\n", a.Source)
	}
	if a.ReadAs != "" {
		fmt.Fprintf(out, "  %s\n", a.ReadAs)
	}
	if a.Why != "" {
		fmt.Fprintf(out, "  %s\n", a.Why)
	}
	for _, d := range a.Dropped {
		fmt.Fprintf(out, "  dropped: policy %s path %q: %s\n", d.Policy, d.Path, d.Reason)
	}
	defer func() {
		if a.Hint != "" {
			fmt.Fprintf(out, "  hint: %s\n", a.Hint)
		}
	}()
	if len(a.Candidates) == 0 {
		if a.noRule {
			fmt.Fprintln(out, "  no path rule of the token's policies matches")
		}
		return
	}
	for _, c := range a.Candidates {
		mark := "  "
		if c.Winner {
			mark = "=>"
		}
		fmt.Fprintf(out, "  %s %q (%s) in %s", mark, c.Path, c.Kind, strings.Join(c.Policies, ", "))
		if c.Why != "" {
			fmt.Fprintf(out, ": %s", c.Why)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "  capabilities: %v\n", a.Capabilities)
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

// setupOf is the world a job of access is judged in: with setups in the
// config, the world of the one setup that has the job (--setup picks
// among several), else all the files, with the config's hints applied.
func setupOf(w *world.World, cfg *config.Config, setup, job string) (*world.World, error) {
	specs := cfg.SetupSpecs()
	if len(specs) == 0 {
		if setup != "" {
			return nil, fmt.Errorf("--setup %s: the config declares no setups", setup)
		}
		cfg.Apply(w)
		return w, nil
	}
	var names []string
	var found []rules.Setup
	for _, s := range rules.SplitSetups(w, specs, cfg.Apply) {
		names = append(names, s.Name)
		has := slices.ContainsFunc(s.World.Jobs, func(j *world.Job) bool { return j.Ref.Name == job })
		if s.Name == setup || (setup == "" && has) {
			found = append(found, s)
		}
	}
	switch {
	case setup != "" && len(found) == 0:
		return nil, fmt.Errorf("--setup %s: no such setup among the files given (%s)", setup, strings.Join(names, ", "))
	case len(found) == 0:
		return w, nil // no setup has the job: the caller says so
	case len(found) > 1:
		var in []string
		for _, s := range found {
			in = append(in, s.Name)
		}
		return nil, fmt.Errorf("job %q is in setups %s; pick one with --setup", job, strings.Join(in, ", "))
	}
	return found[0].World, nil
}
