package live

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Unreachable: a whole side could not be read.
var Unreachable rules.Rule = unreachable{}

type unreachable struct{}

func (unreachable) Meta() *rules.Meta { return &unreachableMeta }

var unreachableMeta = rules.Meta{
	ID: "NV601", Name: "cluster-unreachable", Severity: rules.Error,
	Live:  true,
	Title: "Vault or Nomad could not be reached",
	Doc: rules.Doc{
		Why:     "If nvlint cannot reach Vault from here, Nomad clients and servers on the same network likely cannot either; every task that needs a token fails. Either way, nothing on that side could be checked.",
		Example: "VAULT_ADDR=https://vault.example:8200 nvlint doctor   # connection refused",
		Fix:     "Check the address, TLS settings and the service's health (`vault status`, `nomad server members`), then run doctor again.",
	},
}

func (unreachable) Check(p *rules.Pass) {
	if p.World.Live == nil {
		return
	}
	for _, pr := range p.World.Live.Problems {
		if !pr.Fatal {
			continue
		}
		var f rules.Finding
		if pr.Cluster != "" {
			addr := strings.TrimSuffix(pr.What, world.ClusterLabel(pr.Cluster))
			f = liveFinding(world.Kind(pr.Area), pr.What, "",
				fmt.Sprintf("could not reach %s cluster %s at %s: %s; nothing of that cluster was checked", pr.Area, pr.Cluster, addr, pr.Reason))
		} else {
			f = liveFinding(world.Kind(pr.Area), pr.What, "",
				fmt.Sprintf("could not reach %s at %s: %s; nothing on that side was checked", pr.Area, pr.What, pr.Reason))
		}
		if fix, ok := tlsFix(pr); ok {
			f.Fixes = append(f.Fixes, fix)
		}
		p.Report(f)
	}
}

// tlsFix says which TLS setting to give doctor when one is what stopped
// it: the CA that signs the server's certificate, the host name the
// certificate names, or a client certificate the server asks for.
func tlsFix(pr world.Problem) (rules.Fix, bool) {
	side, flag, env := "Nomad", "--nomad-", "NOMAD_"
	switch {
	case pr.Area == "vault" && pr.Cluster != "":
		side, flag, env = "Vault cluster "+pr.Cluster, "--vault-cluster-", ""
	case pr.Area == "vault":
		side, flag, env = "Vault", "--vault-", "VAULT_"
	case pr.Area != "nomad":
		return rules.Fix{}, false
	}
	// arg is a flag's argument, NAME=VALUE for a cluster's flags.
	arg := func(v string) string {
		if pr.Cluster != "" {
			return pr.Cluster + "=" + v
		}
		return v
	}
	// orEnv names the variable that does the same, but for a cluster's
	// flags, which have none.
	orEnv := func(vars ...string) string {
		if env == "" {
			return ""
		}
		for i, v := range vars {
			vars[i] = env + v
		}
		return ", or " + strings.Join(vars, " and ")
	}
	var d string
	switch r := pr.Reason; {
	case strings.Contains(r, "x509: certificate signed by unknown authority"):
		d = fmt.Sprintf("Give doctor the CA certificate of %s: %scacert %s%s", side, flag, arg("CA.pem"), orEnv("CACERT"))
	case strings.Contains(r, "x509: certificate is valid for "), strings.Contains(r, "x509: certificate is not valid for any names"),
		strings.Contains(r, "because it doesn't contain any IP SANs"):
		d = fmt.Sprintf("Give doctor a host name the certificate of %s names: %stls-server-name %s%s, or use an address with that name",
			side, flag, arg(certifiedName(r)), orEnv("TLS_SERVER_NAME"))
	case strings.Contains(r, "tls: certificate required"), strings.Contains(r, "tls: bad certificate"),
		strings.Contains(r, "remote error: tls: unknown certificate authority"):
		// The server's alerts: no client certificate, or not one it trusts.
		d = fmt.Sprintf("%s verifies its clients: give doctor a client certificate it trusts, %sclient-cert %s %sclient-key %s%s",
			side, flag, arg("CERT.pem"), flag, arg("KEY.pem"), orEnv("CLIENT_CERT", "CLIENT_KEY"))
	default:
		return rules.Fix{}, false
	}
	return rules.Fix{Description: d}, true
}

// certifiedName is the first name of an x509 "certificate is valid for
// NAME, ..., not HOST" error, or HOST when there is none to use.
func certifiedName(reason string) string {
	_, names, ok := strings.Cut(reason, "x509: certificate is valid for ")
	name, _, _ := strings.Cut(names, ",")
	if !ok || name == "" || strings.ContainsAny(name, "* ") {
		return "HOST"
	}
	return name
}

// CouldNotCheck: one read failed; the rest of the run went on.
var CouldNotCheck rules.Rule = couldNotCheck{}

type couldNotCheck struct{}

func (couldNotCheck) Meta() *rules.Meta { return &couldNotCheckMeta }

var couldNotCheckMeta = rules.Meta{
	ID: "NV602", Name: "could-not-check", Severity: rules.Warning,
	Live:  true,
	Title: "part of the live state could not be read",
	Doc: rules.Doc{
		Why:     "doctor reads each object on its own, with a timeout; one that fails (403, timeout, garbage) is reported here and the rest is still checked. A 403 usually means the token doctor runs with lacks a read grant, so the rules that need that object stayed silent.",
		Example: "could not check vault sys/policies/acl/nomad-server: 403 permission denied",
		Fix:     "Give the token doctor uses read access to the path (a read-only operator policy), or accept that this part is unchecked.",
	},
}

func (couldNotCheck) Check(p *rules.Pass) {
	if p.World.Live == nil {
		return
	}
	for _, pr := range p.World.Live.Problems {
		if pr.Fatal {
			continue
		}
		p.Report(liveFinding(world.Kind(pr.Area), pr.What, "", fmt.Sprintf("could not check %s %s: %s", pr.Area, pr.What, pr.Reason)))
	}
}

// VaultSealed: a sealed or uninitialised Vault serves nothing.
var VaultSealed rules.Rule = vaultSealed{}

type vaultSealed struct{}

func (vaultSealed) Meta() *rules.Meta { return &vaultSealedMeta }

var vaultSealedMeta = rules.Meta{
	ID: "NV611", Name: "vault-sealed", Severity: rules.Error,
	Live:  true,
	Title: "Vault is sealed or not initialised",
	Doc: rules.Doc{
		Why: "A sealed Vault answers every request with `503 Vault is sealed`. Nomad's fingerprint reads only the unauthenticated seal status, so nodes " +
			"still show Vault as available and jobs are placed, then each task dies with `Vault: failed to derive vault token ... 503 Vault is sealed`.",
		Example: "vault status   # Sealed: true",
		Fix:     "Unseal Vault (`vault operator unseal`, or fix the auto-unseal KMS), then restart failed allocations.",
	},
}

func (vaultSealed) Check(p *rules.Pass) {
	for _, v := range p.World.Live.Vaults() {
		h := v.Health
		if h == nil {
			continue
		}
		at := "Vault at " + v.Addr + v.Label()
		switch {
		case !h.Initialized:
			p.Report(liveFinding("vault", v.Addr, "sys/health", at+" is not initialised: run vault operator init", "sys/health: initialized=false"))
		case h.Sealed:
			f := liveFinding("vault", v.Addr, "sys/health", at+" is sealed: every token request fails with 503 Vault is sealed; unseal it", "sys/health: sealed=true, version "+h.Version)
			f.Fixes = []rules.Fix{{Description: "Unseal Vault", Commands: []rules.Command{rules.Cmd("vault", "operator", "unseal")}}}
			f.Cluster = v.Cluster
			p.Report(f)
		}
	}
}
