package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/live"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

// runDoctor collects live state from Nomad and Vault (read-only), runs
// every rule over it and reports, opening with a verdict per area.
func runDoctor(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint doctor", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		vaultAddr      = fs.String("vault-addr", "", "Vault address (default $VAULT_ADDR; Vault is not checked when neither is set)")
		vaultNamespace = fs.String("vault-namespace", "", "Vault namespace (default $VAULT_NAMESPACE)")
		vaultCACert    = fs.String("vault-cacert", "", "CA certificate for Vault (default $VAULT_CACERT)")
		vaultSkip      = fs.Bool("vault-skip-verify", false, "do not verify Vault's TLS certificate")
		nomadAddr      = fs.String("nomad-addr", "", "Nomad address (default $NOMAD_ADDR; Nomad is not checked when neither is set)")
		nomadRegion    = fs.String("nomad-region", "", "Nomad region (default $NOMAD_REGION)")
		nomadNamespace = fs.String("nomad-namespace", "", "Nomad namespace (default $NOMAD_NAMESPACE; * for all)")
		nomadCACert    = fs.String("nomad-cacert", "", "CA certificate for Nomad (default $NOMAD_CACERT)")
		nomadSkip      = fs.Bool("nomad-skip-verify", false, "do not verify Nomad's TLS certificate")
		serverTokenF   = fs.String("nomad-vault-token-file", "", "file holding the Nomad server's own Vault token (legacy flow), checked with lookup-self and capabilities-self")
		timeout        = fs.Duration("timeout", 5*time.Second, "timeout of each request")
		deadline       = fs.Duration("deadline", 60*time.Second, "deadline of the whole collection")
		save           = fs.String("save", "", "write the collected state to FILE as a redacted snapshot")
		from           = fs.String("from", "", "replay a snapshot saved with --save instead of contacting clusters")
		rf             reportFlags
		agentConfigs   multiFlag
	)
	fs.Var(&agentConfigs, "agent-config", "a Nomad agent config file (repeatable: servers' and clients'): its vault block is checked, and a server's token is used as the server token")
	rf.register(fs, "also say which rules could not run and why")
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, `Usage: nvlint doctor [flags]

Reads the live state of Nomad and Vault (never writes), runs every rule over
it and says what is broken. Tokens come from VAULT_TOKEN and NOMAD_TOKEN;
they are never printed or saved.

Flags:
`)
		fs.PrintDefaults()
	}
	if rest, err := parseInterspersed(fs, args); err != nil {
		return usageError(env, err)
	} else if len(rest) > 0 {
		return usageError(env, fmt.Errorf("doctor takes no arguments, got %q", rest))
	}
	rs, err := rf.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	catalog := checks.All()
	cfg, err := loadConfig(env, rf.config, catalog)
	if err != nil {
		return usageError(env, err)
	}

	secrets := &redact.Secrets{}
	secrets.Add(env.Getenv("VAULT_TOKEN"), env.Getenv("NOMAD_TOKEN"))
	var w *world.World
	var notChecked []string
	if *from != "" {
		data, err := os.ReadFile(*from)
		if err != nil {
			return usageError(env, err)
		}
		if w, err = snapshot.Load(data); err != nil {
			return usageError(env, fmt.Errorf("%s: %w", *from, err))
		}
	} else {
		o := live.Options{RequestTimeout: *timeout}
		// doctor reads only the agent it talks to: the configs of the
		// others (clients above all) come from files.
		var agentWorld *world.World
		if len(agentConfigs) > 0 {
			aw, _, err := inputs.Load(agentConfigs, inputs.Options{Kind: world.KindAgentConfig})
			if err != nil {
				return usageError(env, err)
			}
			agentWorld = aw
			// Its token is a secret before anything is saved or printed,
			// whichever token the run then uses.
			for _, f := range aw.Files {
				secrets.Add(fileSecrets(f)...)
			}
			for _, a := range aw.Agents {
				for _, v := range a.Vaults {
					if v.Token.IsKnown() && v.Token.V != "" && o.ServerToken == "" {
						o.ServerToken = v.Token.V
						o.ServerTokenAt = &v.Token.Range
					}
				}
			}
		}
		if *serverTokenF != "" {
			b, err := os.ReadFile(*serverTokenF)
			if err != nil {
				return usageError(env, err)
			}
			o.ServerToken = strings.TrimSpace(string(b))
			o.ServerTokenAt = nil
		}
		secrets.Add(o.ServerToken)

		if addr := firstNonEmpty(*vaultAddr, env.Getenv("VAULT_ADDR")); addr != "" {
			cfg := vaultapi.DefaultConfig()
			cfg.Address = addr
			tls := &vaultapi.TLSConfig{CACert: firstNonEmpty(*vaultCACert, env.Getenv("VAULT_CACERT")), CAPath: env.Getenv("VAULT_CAPATH"),
				ClientCert: env.Getenv("VAULT_CLIENT_CERT"), ClientKey: env.Getenv("VAULT_CLIENT_KEY"),
				Insecure: *vaultSkip || env.Getenv("VAULT_SKIP_VERIFY") != ""}
			if err := cfg.ConfigureTLS(tls); err != nil {
				return usageError(env, fmt.Errorf("vault TLS: %w", err))
			}
			o.Vault = cfg
			o.VaultToken = env.Getenv("VAULT_TOKEN")
			o.VaultNamespace = firstNonEmpty(*vaultNamespace, env.Getenv("VAULT_NAMESPACE"))
		} else {
			notChecked = append(notChecked, "Vault: no address (set VAULT_ADDR or --vault-addr)")
		}
		if addr := firstNonEmpty(*nomadAddr, env.Getenv("NOMAD_ADDR")); addr != "" {
			cfg := nomadapi.DefaultConfig()
			cfg.Address = addr
			cfg.SecretID = env.Getenv("NOMAD_TOKEN")
			cfg.Region = firstNonEmpty(*nomadRegion, env.Getenv("NOMAD_REGION"))
			cfg.Namespace = firstNonEmpty(*nomadNamespace, env.Getenv("NOMAD_NAMESPACE"))
			cfg.TLSConfig = &nomadapi.TLSConfig{CACert: firstNonEmpty(*nomadCACert, env.Getenv("NOMAD_CACERT")), CAPath: env.Getenv("NOMAD_CAPATH"),
				ClientCert: env.Getenv("NOMAD_CLIENT_CERT"), ClientKey: env.Getenv("NOMAD_CLIENT_KEY"),
				Insecure: *nomadSkip || env.Getenv("NOMAD_SKIP_VERIFY") != ""}
			o.Nomad = cfg
		} else {
			notChecked = append(notChecked, "Nomad: no address (set NOMAD_ADDR or --nomad-addr)")
		}
		if o.Vault == nil && o.Nomad == nil {
			return usageError(env, errors.New("nothing to check: set VAULT_ADDR and/or NOMAD_ADDR (or --vault-addr, --nomad-addr), or replay a snapshot with --from"))
		}
		if env.IsTerminal(env.Stderr) {
			fmt.Fprint(env.Stderr, "nvlint doctor: reading Nomad and Vault (read-only)...")
		}
		ctx, cancel := context.WithTimeout(context.Background(), *deadline)
		var collected *redact.Secrets
		w, collected = live.Collect(ctx, o)
		cancel()
		secrets.Merge(collected)
		if env.IsTerminal(env.Stderr) {
			fmt.Fprint(env.Stderr, "\r\033[K")
		}
		if agentWorld != nil {
			w.Agents = append(w.Agents, agentWorld.Agents...)
			w.Files = append(w.Files, agentWorld.Files...)
		}
		if *save != "" {
			snap, err := snapshot.From(w)
			if err == nil {
				var data []byte
				if data, err = snap.Marshal(); err == nil {
					err = os.WriteFile(*save, secrets.Bytes(data), 0o600)
				}
			}
			if err != nil {
				fmt.Fprintf(env.Stderr, "nvlint: saving snapshot: %v\n", err)
				return ExitInternal
			}
		}
	}
	for _, f := range w.Files {
		secrets.Add(fileSecrets(f)...)
	}

	cfg.Apply(w)
	res := rules.RunWith(w, catalog, settings(cfg))
	rep := &reports.Report{
		Findings: res.Findings, Skipped: res.Skipped, Files: w.Files, Catalog: catalog, Ran: res.Ran, Version: Version(),
		Suppressed: len(res.Suppressed),
	}
	baselineCode := rf.baseline.apply(env, w, res, rep)
	if baselineCode == ExitUsage {
		return baselineCode
	}
	rep.Verdicts = reports.Verdicts(w, rep.Findings, notChecked)
	if code := writeReports(env, rs.outs, rep, reports.Options{Color: rs.color, Verbose: rf.verbose}, secrets); code != ExitOK {
		return code
	}
	return rs.exitCode(rep.Findings, baselineCode)
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}
