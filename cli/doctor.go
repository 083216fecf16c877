package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/connection"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/live"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

// doctorFlags are the flags of nvlint doctor.
type doctorFlags struct {
	vaultAddr, vaultNamespace, vaultCACert string
	vaultSkip                              bool
	// vaultTLS and nomadTLS are the client certificate, key and server
	// name flags of each side.
	vaultTLS, nomadTLS tlsFlags
	// vaults are --vault NAME=ADDR and vaultTokenFiles --vault-token-file
	// NAME=FILE: the Vault clusters to read besides the default one;
	// clusterTLS their own TLS settings.
	vaults, vaultTokenFiles                []string
	clusterTLS                             clusterTLSFlags
	nomadAddr, nomadRegion, nomadNamespace string
	nomadCACert                            string
	nomadSkip                              bool
	regions, namespaces                    []string
	serverTokenF                           string
	timeout, deadline, regionDeadline      time.Duration
	save, from                             string
	rf                                     reportFlags
	agentConfigs                           []string
	allowPartial, printPolicy              bool
	// watch: run every interval and serve metrics on listen.
	watch             bool
	interval          time.Duration
	listen, logFormat string
	// timeoutSet: --timeout was given, so it bounds Vault's requests too
	// (else VAULT_CLIENT_TIMEOUT does, as for the vault CLI).
	timeoutSet bool
}

func newDoctorCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f doctorFlags
	c := &cobra.Command{
		Use:   "doctor [flags]",
		Short: "diagnose live Nomad and Vault clusters (read-only)",
		Long: `Reads the live state of Nomad and Vault (never writes), runs every rule over
it and says what is broken. Addresses, TLS settings and tokens are read as
the vault and nomad CLIs read them (VAULT_*, NOMAD_*, ~/.vault-token);
tokens are never printed or saved. An area whose reads failed is "not
checked" and fails the run unless --allow-partial.

--vault NAME=URL reads another Vault cluster (Nomad Enterprise's vault {
name = NAME }, which jobs pick with vault { cluster = NAME }) as the
default one is read, with the token in --vault-token-file NAME=FILE and,
where it needs its own, the CA, client certificate and server name of the
--vault-cluster-* flags.

--print-policy prints the Vault and Nomad ACL policies of a read-only doctor
token; --print-policy vault (or nomad) prints one.

--watch runs doctor every --interval until stopped and serves the latest run
as Prometheus metrics on --listen (/metrics; /healthz is 200 once the first
run finished), logging one line per run to stderr.

Exit status: 0 every area asked for was checked and nothing is at or above
--fail-on, 1 findings at or above --fail-on or an area not checked, 2 usage
error (nothing to check, an unreadable or unwritable file), 3 internal error.`,
		ValidArgsFunction: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.printPolicy && len(args) <= 1 {
				c, err := printPolicy(env, strings.Join(args, ""), f.rf.formats)
				if err != nil {
					return flagErrorOf{err, cmd}
				}
				*code = c
				return nil
			}
			if len(args) > 0 {
				return fmt.Errorf("doctor takes no arguments, got %q", args)
			}
			f.timeoutSet = cmd.Flags().Changed("timeout")
			*code = runDoctor(&f, env)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.vaultAddr, "vault-addr", "", "Vault's `URL` (default $VAULT_ADDR; Vault is not checked when neither is set)")
	fs.StringVar(&f.vaultNamespace, "vault-namespace", "", "Vault `NAMESPACE` (default $VAULT_NAMESPACE)")
	fs.StringVar(&f.vaultCACert, "vault-cacert", "", "CA certificate `FILE` for Vault (default $VAULT_CACERT)")
	fs.BoolVar(&f.vaultSkip, "vault-skip-verify", false, "do not verify Vault's TLS certificate")
	f.vaultTLS.register(fs, "vault", "Vault", "$VAULT_CLIENT_CERT", "$VAULT_CLIENT_KEY", "$VAULT_TLS_SERVER_NAME")
	fs.StringArrayVar(&f.vaults, "vault", nil, "also read Vault cluster NAME (as agent vault blocks name it and jobs pick it with vault.cluster) at URL: `NAME=URL` (repeatable; with the default cluster's TLS settings but those of --vault-cluster-*)")
	fs.StringArrayVar(&f.vaultTokenFiles, "vault-token-file", nil, "read Vault cluster NAME of --vault with the token in FILE: `NAME=FILE` (repeatable)")
	f.clusterTLS.register(fs)
	fs.StringVar(&f.nomadAddr, "nomad-addr", "", "Nomad's `URL` (default $NOMAD_ADDR; Nomad is not checked when neither is set)")
	fs.StringArrayVar(&f.regions, "region", nil, "read only this Nomad `REGION` (repeatable; default: every region of the federation)")
	fs.StringArrayVar(&f.namespaces, "namespace", nil, "read only the jobs of this Nomad `NAMESPACE` (repeatable; default: every namespace the token may list)")
	fs.StringVar(&f.nomadRegion, "nomad-region", "", "same as --region")
	fs.StringVar(&f.nomadNamespace, "nomad-namespace", "", "same as --namespace")
	_ = fs.MarkHidden("nomad-region")
	_ = fs.MarkHidden("nomad-namespace")
	fs.StringVar(&f.nomadCACert, "nomad-cacert", "", "CA certificate `FILE` for Nomad (default $NOMAD_CACERT)")
	fs.BoolVar(&f.nomadSkip, "nomad-skip-verify", false, "do not verify Nomad's TLS certificate")
	f.nomadTLS.register(fs, "nomad", "Nomad", "$NOMAD_CLIENT_CERT", "$NOMAD_CLIENT_KEY", "$NOMAD_TLS_SERVER_NAME")
	fs.StringVar(&f.serverTokenF, "nomad-vault-token-file", "", "`FILE` holding the Nomad server's own Vault token (legacy flow), checked with lookup-self and capabilities-self")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Second, "timeout of each request (a `DURATION` such as 5s; Vault's: default $VAULT_CLIENT_TIMEOUT, else 5s)")
	fs.DurationVar(&f.deadline, "deadline", 60*time.Second, "deadline of the whole collection (a `DURATION`)")
	fs.DurationVar(&f.regionDeadline, "region-deadline", 45*time.Second, "deadline of each Nomad region's reads, so one slow region cannot hide the others (a `DURATION`; 0: none)")
	fs.StringVar(&f.save, "save", "", "write the collected state to `FILE` as a redacted snapshot")
	fs.StringVar(&f.from, "from", "", "replay the snapshot `FILE` saved with --save instead of contacting clusters")
	fs.StringArrayVar(&f.agentConfigs, "agent-config", nil, "a Nomad agent config `FILE` (repeatable: servers' and clients'): its vault block is checked, and a server's token is used as the server token")
	fs.BoolVar(&f.allowPartial, "allow-partial", false, "exit 0 even when an area asked for could not be checked (its reads failed)")
	fs.BoolVar(&f.printPolicy, "print-policy", false, "print the Vault and Nomad ACL policies of a read-only doctor token and exit; --print-policy vault (or nomad) prints one")
	fs.BoolVar(&f.watch, "watch", false, "run every --interval and serve Prometheus metrics on --listen (/metrics, /healthz) until stopped")
	fs.DurationVar(&f.interval, "interval", 60*time.Second, "with --watch: time between the starts of runs (a `DURATION`)")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9464", "with --watch: the `ADDRESS` to serve metrics on")
	fs.StringVar(&f.logFormat, "log-format", "text", "with --watch: the `FORMAT` of the line logged per run to stderr: text or json")
	completeValues(c, "log-format", "text", "json")
	f.rf.register(c, g, "also say which rules could not run and why, and which config applied")
	_ = c.MarkFlagFilename("from", "json")
	_ = c.MarkFlagFilename("save", "json")
	_ = c.MarkFlagFilename("agent-config", "hcl", "json")
	return c
}

// printPolicy prints the doctor token's policies (side "" both, or
// "vault" or "nomad"): as text, ready for the CLIs, or with --format json
// as {"vault_policy": "...", "nomad_policy": "..."}, the texts as strings.
// An error is one of the flags.
func printPolicy(env Env, side string, formats []string) (int, error) {
	outs, err := reports.ParseOutputs(formats, reports.FormatText, reports.FormatJSON)
	if err != nil {
		return ExitUsage, fmt.Errorf("--print-policy: %w", flagErr("--format", err))
	}
	if len(outs) != 1 || outs[0].Path != "" {
		return ExitUsage, errors.New("--print-policy prints one policy document to standard output: --format text or --format json")
	}
	text, err := live.Policies(side)
	if err != nil {
		return ExitUsage, fmt.Errorf("--print-policy: %w", err)
	}
	if outs[0].Format == reports.FormatText {
		fmt.Fprint(env.Stdout, text)
		return ExitOK, nil
	}
	var out struct {
		Vault string `json:"vault_policy,omitempty"`
		Nomad string `json:"nomad_policy,omitempty"`
	}
	if side != "nomad" {
		out.Vault = live.VaultPolicy()
	}
	if side != "vault" {
		out.Nomad = live.NomadPolicy()
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return ExitInternal, err
	}
	return ExitOK, nil
}

// runDoctor collects live state from Nomad and Vault (read-only), runs
// every rule over it and reports, opening with a verdict per area.
func runDoctor(f *doctorFlags, env Env) int {
	rf := &f.rf
	if f.watch {
		return runWatch(f, env)
	}
	rs, err := rf.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	catalog := checks.All()
	cfg, err := loadConfig(env, rf.config, nil, catalog, rf.verbose)
	if err != nil {
		return usageError(env, err)
	}

	secrets := &redact.Secrets{}
	var w *world.World
	saveCode := ExitOK
	if f.from != "" {
		data, err := os.ReadFile(f.from)
		if err != nil {
			return usageError(env, fmt.Errorf("--from %s: %w", f.from, unwrapPath(err)))
		}
		if w, err = snapshot.Load(data); err != nil {
			return usageError(env, fmt.Errorf("--from %s: %w", f.from, err))
		}
	} else {
		src, err := liveSource(f)
		if err != nil {
			return usageError(env, err)
		}
		if env.IsTerminal(env.Stderr) {
			fmt.Fprint(env.Stderr, "nvlint doctor: reading Nomad and Vault (read-only)...")
		}
		w, secrets = src.collect(context.Background())
		if env.IsTerminal(env.Stderr) {
			fmt.Fprint(env.Stderr, "\r\033[K")
		}
		if f.save != "" {
			snap, err := snapshot.From(w)
			if err == nil {
				var data []byte
				if data, err = snap.Marshal(); err == nil {
					err = reports.WriteFile(f.save, secrets.Bytes(data), 0o600)
				}
			}
			if err != nil {
				// The user's path: a usage error, and the report, which
				// the failed save takes nothing from, still prints.
				var pe *fs.PathError
				if !errors.As(err, &pe) {
					fmt.Fprintf(env.Stderr, "nvlint: saving snapshot: %v\n", err)
					return ExitInternal
				}
				fmt.Fprintf(env.Stderr, "nvlint: %v\n", reports.FileFlagError("--save", f.save, err))
				saveCode = ExitUsage
			}
		}
	}
	for _, f := range w.Files {
		secrets.Add(fileSecrets(f)...)
	}

	cfg.Apply(w)
	defer boundHeap()()
	res := rules.RunWith(w, catalog, settings(cfg))
	rep := &reports.Report{
		Findings: res.Findings, Skipped: res.Skipped, Files: w.Files, Catalog: catalog, Ran: res.Ran, Version: Version(),
		Suppressed: len(res.Suppressed),
	}
	if code := rf.baseline.apply(env, w, res, rep); code != ExitOK {
		return code
	}
	rep.Verdicts = reports.Verdicts(w, rep.Findings)
	if code := writeReports(env, rs.outs, rep, reports.Options{Color: rs.color, Verbose: rf.verbose}, secrets); code != ExitOK {
		return code
	}
	if !hasStdout(rs.outs) {
		printSummary(env, rep, rs.outs, "the live clusters")
	}
	baselineCode := rf.baseline.finish(env)
	if baselineCode == ExitUsage || saveCode == ExitUsage {
		return ExitUsage
	}
	code := rs.exitCode(rep.Findings, baselineCode)
	if unchecked := reports.Unchecked(rep.Verdicts); len(unchecked) > 0 && !f.allowPartial {
		// Fail closed: a gate must not pass on what was not read.
		fmt.Fprintf(env.Stderr, "nvlint: not checked: %s (--allow-partial accepts a partial run)\n", strings.Join(unchecked, ", "))
		if code == ExitOK {
			code = ExitFindings
		}
	}
	return code
}

// source is how each collection of one doctor invocation reads the
// clusters: the options, the agent config files, and the secrets known
// before anything is read.
type source struct {
	o          live.Options
	deadline   time.Duration
	agentWorld *world.World
	// known are the secrets known before a run (tokens given, those in
	// agent config files); each run adds those it sees to a copy, so a
	// long watch does not accumulate them.
	known []string
}

// liveSource reads the flags, the environment and the agent config files
// into a source; an error is a usage error.
func liveSource(f *doctorFlags) (*source, error) {
	src := &source{o: live.Options{RequestTimeout: f.timeout, RegionDeadline: f.regionDeadline, Regions: f.regions, Namespaces: f.namespaces}, deadline: f.deadline}
	o := &src.o
	if f.nomadRegion != "" {
		o.Regions = append(o.Regions, f.nomadRegion)
	}
	if f.nomadNamespace != "" {
		o.Namespaces = append(o.Namespaces, f.nomadNamespace)
	}
	if slices.Contains(o.Namespaces, "*") {
		o.Namespaces = nil
	}
	// doctor reads only the agent it talks to: the configs of the
	// others (clients above all) come from files.
	if len(f.agentConfigs) > 0 {
		aw, _, err := inputs.Load(f.agentConfigs, inputs.Options{Kind: world.KindAgentConfig})
		if err != nil {
			return nil, err
		}
		src.agentWorld = aw
		// Its token is a secret before anything is saved or printed,
		// whichever token the run then uses.
		for _, f := range aw.Files {
			src.known = append(src.known, fileSecrets(f)...)
		}
		for _, a := range aw.Agents {
			// The legacy flow is the default cluster's alone.
			if v := a.DefaultVault(); v != nil && v.Token.IsKnown() && v.Token.V != "" && o.ServerToken == "" {
				o.ServerToken = v.Token.V
				o.ServerTokenAt = &v.Token.Range
			}
			// The Vault namespace the cluster's jobs log in to, unless
			// their own vault block says another.
			if v := a.DefaultVault(); v != nil && v.Namespace.IsKnown() {
				o.VaultNamespaces = append(o.VaultNamespaces, v.Namespace.V)
			}
		}
	}
	if f.serverTokenF != "" {
		b, err := os.ReadFile(f.serverTokenF)
		if err != nil {
			return nil, fmt.Errorf("--nomad-vault-token-file %s: %w", f.serverTokenF, unwrapPath(err))
		}
		o.ServerToken = strings.TrimSpace(string(b))
		o.ServerTokenAt = nil
	}
	src.known = append(src.known, o.ServerToken)

	conn, err := connection.Read(connection.Flags{
		VaultAddr: f.vaultAddr, VaultNamespace: f.vaultNamespace, VaultCACert: f.vaultCACert, VaultSkipVerify: f.vaultSkip,
		VaultClientCert: f.vaultTLS.clientCert, VaultClientKey: f.vaultTLS.clientKey, VaultTLSServerName: f.vaultTLS.serverName,
		NomadAddr: f.nomadAddr, NomadCACert: f.nomadCACert, NomadSkipVerify: f.nomadSkip,
		NomadClientCert: f.nomadTLS.clientCert, NomadClientKey: f.nomadTLS.clientKey, NomadTLSServerName: f.nomadTLS.serverName,
	})
	if err != nil {
		return nil, err
	}
	o.Vault, o.VaultToken, o.VaultNamespace, o.Nomad = conn.Vault, conn.VaultToken, conn.VaultNamespace, conn.Nomad
	if o.VaultToken == "" {
		o.NoVaultToken = conn.VaultTokenSource
	}
	if !f.timeoutSet {
		o.VaultRequestTimeout = conn.VaultTimeout
	}
	src.known = append(src.known, conn.Secrets()...)
	if o.VaultClusters, err = vaultClusters(f, src.agentWorld); err != nil {
		return nil, err
	}
	for _, vc := range o.VaultClusters {
		src.known = append(src.known, vc.Token)
	}
	if o.Vault == nil && o.Nomad == nil && len(o.VaultClusters) == 0 {
		return nil, errors.New("nothing to check: set VAULT_ADDR and/or NOMAD_ADDR (or --vault-addr, --nomad-addr), or replay a snapshot with --from")
	}
	return src, nil
}

// vaultClusters reads --vault NAME=ADDR and --vault-token-file NAME=FILE
// into the Vault clusters to read besides the default one, with the
// namespaces the agent config files give each; an error is a usage
// error. The TLS settings are the default cluster's, but for those a
// --vault-cluster-* flag gives the cluster.
func vaultClusters(f *doctorFlags, agents *world.World) ([]live.VaultCluster, error) {
	var out []live.VaultCluster
	index := map[string]int{}
	base := connection.Flags{
		VaultCACert: f.vaultCACert, VaultSkipVerify: f.vaultSkip,
		VaultClientCert: f.vaultTLS.clientCert, VaultClientKey: f.vaultTLS.clientKey, VaultTLSServerName: f.vaultTLS.serverName,
	}
	own, given, err := f.clusterTLS.byCluster(base)
	if err != nil {
		return nil, err
	}
	for _, arg := range f.vaults {
		name, addr, ok := namedValue(arg)
		switch {
		case !ok:
			return nil, fmt.Errorf("--vault %s: want NAME=URL, the cluster's name in the agents' vault blocks and its address", arg)
		case name == world.DefaultCluster:
			return nil, fmt.Errorf("--vault %s: the default cluster is read from VAULT_ADDR (or --vault-addr) with VAULT_TOKEN", arg)
		case strings.ContainsAny(name, " \t/"):
			return nil, fmt.Errorf("--vault %s: %q is not a cluster name", arg, name)
		}
		if _, dup := index[name]; dup {
			return nil, fmt.Errorf("--vault %s: cluster %s is given twice", arg, name)
		}
		tls, flags := base, "--vault "+name
		if c, ok := own[name]; ok {
			tls, flags = c, strings.Join(given[name], " ")
		}
		cfg, err := connection.VaultCluster(addr, tls)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flags, err)
		}
		index[name] = len(out)
		out = append(out, live.VaultCluster{Name: name, Config: cfg, NoToken: "no --vault-token-file " + name + "=FILE given"})
	}
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if _, known := index[name]; !known {
			return nil, fmt.Errorf("%s: no --vault %s=URL gives the cluster's address", given[name][0], name)
		}
	}
	for _, arg := range f.vaultTokenFiles {
		name, file, ok := namedValue(arg)
		if !ok {
			return nil, fmt.Errorf("--vault-token-file %s: want NAME=FILE, a cluster of --vault and the file holding its token", arg)
		}
		i, known := index[name]
		if !known {
			return nil, fmt.Errorf("--vault-token-file %s: no --vault %s=URL gives the cluster's address", arg, name)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--vault-token-file %s: %w", arg, unwrapPath(err))
		}
		if out[i].Token = strings.TrimSpace(string(b)); out[i].Token == "" {
			return nil, fmt.Errorf("--vault-token-file %s: %s holds no token", name, file)
		}
		out[i].NoToken = ""
	}
	if agents != nil {
		for i := range out {
			for _, a := range agents.Agents {
				if v := a.Vault(out[i].Name); v != nil && v.Namespace.IsKnown() {
					out[i].Namespaces = append(out[i].Namespaces, v.Namespace.V)
				}
			}
		}
	}
	return out, nil
}

// namedValue splits a NAME=VALUE flag argument, both trimmed; ok is
// false unless both are there.
func namedValue(arg string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(arg, "=")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	return name, value, ok && name != "" && value != ""
}

// collect reads the clusters once, within the deadline, into a world with
// the agent config files added; the secrets are every token known or
// seen.
func (src *source) collect(parent context.Context) (*world.World, *redact.Secrets) {
	secrets := &redact.Secrets{}
	secrets.Add(src.known...)
	ctx, cancel := context.WithTimeout(parent, src.deadline)
	w, collected := live.Collect(ctx, src.o)
	cancel()
	secrets.Merge(collected)
	if aw := src.agentWorld; aw != nil {
		w.Agents = append(w.Agents, aw.Agents...)
		w.Files = append(w.Files, aw.Files...)
	}
	live.NoteUnreadClusters(w)
	for _, f := range w.Files {
		secrets.Add(fileSecrets(f)...)
	}
	return w, secrets
}
