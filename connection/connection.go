// Package connection reads how to reach Vault and Nomad exactly as the
// vault and nomad CLIs do: the official API clients' own environment
// readers (vaultapi.DefaultConfig, nomadapi.DefaultConfig) and the vault
// CLI's token helper (~/.vault-token, or the token_helper of ~/.vault),
// with command-line flags on top.
//
// Reading the variables by hand got their spellings wrong
// (VAULT_SKIP_VERIFY=false turned verification off) and missed the rest;
// the official readers are the definition of what they mean.
package connection

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/cliconfig"
	"github.com/hashicorp/vault/api/tokenhelper"
)

// Flags are the command-line settings; a zero value leaves what the
// environment says. A skip-verify flag can only turn verification off.
type Flags struct {
	VaultAddr, VaultNamespace, VaultCACert string
	VaultSkipVerify                        bool
	// VaultClientCert and VaultClientKey are a client certificate and its
	// key; either alone is completed from VAULT_CLIENT_CERT or
	// VAULT_CLIENT_KEY, as the vault CLI's flags are.
	VaultClientCert, VaultClientKey, VaultTLSServerName string
	NomadAddr, NomadRegion, NomadNamespace              string
	NomadCACert                                         string
	NomadSkipVerify                                     bool
	NomadClientCert, NomadClientKey, NomadTLSServerName string
}

// vaultTLS is the TLS configuration the flags set over the environment's.
func (f Flags) vaultTLS() (*vaultapi.TLSConfig, error) {
	t := &vaultapi.TLSConfig{CACert: f.VaultCACert, Insecure: f.VaultSkipVerify, TLSServerName: f.VaultTLSServerName}
	if f.VaultClientCert != "" || f.VaultClientKey != "" {
		// ConfigureTLS wants both; the environment gives the other half.
		t.ClientCert = cmp.Or(f.VaultClientCert, os.Getenv(vaultapi.EnvVaultClientCert))
		t.ClientKey = cmp.Or(f.VaultClientKey, os.Getenv(vaultapi.EnvVaultClientKey))
	}
	return t, clientPair(t.ClientCert, t.ClientKey, vaultapi.EnvVaultClientCert, vaultapi.EnvVaultClientKey)
}

// clientPair says which half of a client certificate is missing, if one
// is: the clients' own message names neither.
func clientPair(cert, key, certEnv, keyEnv string) error {
	switch {
	case cert != "" && key == "":
		return fmt.Errorf("client certificate %s comes without its key (%s, or the client key flag)", cert, keyEnv)
	case key != "" && cert == "":
		return fmt.Errorf("client key %s comes without its certificate (%s, or the client certificate flag)", key, certEnv)
	}
	return nil
}

// Settings are the resolved connection settings. Tokens in them are
// secrets: never print them.
type Settings struct {
	// Vault is nil when neither VAULT_ADDR, VAULT_AGENT_ADDR nor a flag
	// gives an address: Vault was not asked for.
	Vault *vaultapi.Config
	// VaultToken is VAULT_TOKEN, else what the token helper holds.
	VaultToken string
	// VaultTokenSource says where VaultToken came from, or, when it is
	// empty, where none was found: for messages, never the token itself.
	VaultTokenSource string
	// VaultNamespace is the flag, else VAULT_NAMESPACE.
	VaultNamespace string
	// VaultTimeout is VAULT_CLIENT_TIMEOUT, 0 when it is unset.
	VaultTimeout time.Duration

	// Nomad is nil when neither NOMAD_ADDR nor a flag gives an address.
	// Its SecretID is NOMAD_TOKEN; HttpAuth is NOMAD_HTTP_AUTH.
	Nomad *nomadapi.Config

	// envTokens are the tokens in the environment, masked even when
	// their side is not read.
	envTokens []string
}

// Read reads the environment and applies f over it. An error is a
// setting that cannot be used as given (an unparsable variable, a CA file
// that does not load, a token helper that fails).
func Read(f Flags) (*Settings, error) {
	s := &Settings{envTokens: []string{os.Getenv(vaultapi.EnvVaultToken), os.Getenv("NOMAD_TOKEN")}}
	if f.VaultAddr != "" || os.Getenv(vaultapi.EnvVaultAddress) != "" || os.Getenv(vaultapi.EnvVaultAgentAddr) != "" {
		if err := s.readVault(f); err != nil {
			return nil, fmt.Errorf("vault: %w", err)
		}
	}
	if f.NomadAddr != "" || os.Getenv("NOMAD_ADDR") != "" {
		if err := s.readNomad(f); err != nil {
			return nil, fmt.Errorf("nomad: %w", err)
		}
	}
	return s, nil
}

func (s *Settings) readVault(f Flags) error {
	cfg := vaultapi.DefaultConfig() // runs ReadEnvironment
	if cfg.Error != nil {
		return cfg.Error
	}
	if f.VaultAddr != "" {
		cfg.Address = f.VaultAddr
		cfg.AgentAddress = "" // an explicit address wins, as -address does
	}
	// ConfigureTLS changes only what it is given: the flags go over the
	// environment's TLS settings.
	t, err := f.vaultTLS()
	if err != nil {
		return err
	}
	if err := cfg.ConfigureTLS(t); err != nil {
		return err
	}
	if os.Getenv(vaultapi.EnvVaultClientTimeout) != "" {
		s.VaultTimeout = cfg.Timeout // parsed by ReadEnvironment
	}
	// NewClient reads VAULT_TOKEN and VAULT_NAMESPACE; it sends nothing.
	cl, err := vaultapi.NewClient(cfg)
	if err != nil {
		return err
	}
	s.Vault = cfg
	s.VaultNamespace = cl.Namespace()
	if f.VaultNamespace != "" {
		s.VaultNamespace = f.VaultNamespace
	}
	if s.VaultToken = cl.Token(); s.VaultToken != "" {
		s.VaultTokenSource = vaultapi.EnvVaultToken
		return nil
	}
	// As the vault CLI: no VAULT_TOKEN, then the token helper.
	helper, err := cliconfig.DefaultTokenHelper()
	if err != nil {
		return fmt.Errorf("token helper: %w", err)
	}
	tok, err := helper.Get()
	where := "the token helper"
	switch h := helper.(type) {
	case *tokenhelper.InternalTokenHelper:
		where = "the token helper file " + h.Path() // set by Get
	case *tokenhelper.ExternalTokenHelper:
		where = "the token helper " + h.BinaryPath
	}
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	s.VaultToken, s.VaultTokenSource = tok, where
	if tok == "" {
		s.VaultTokenSource = "VAULT_TOKEN is unset and " + where + " holds none"
		if h, ok := helper.(*tokenhelper.InternalTokenHelper); ok {
			if _, err := os.Stat(h.Path()); err != nil {
				s.VaultTokenSource = "VAULT_TOKEN is unset and there is no token helper file " + h.Path()
			}
		}
	}
	return nil
}

func (s *Settings) readNomad(f Flags) error {
	cfg := nomadapi.DefaultConfig()
	if cfg.TLSConfig == nil {
		return errors.New("no TLS settings") // DefaultConfig always sets them
	}
	if f.NomadAddr != "" {
		cfg.Address = f.NomadAddr
	}
	if f.NomadRegion != "" {
		cfg.Region = f.NomadRegion
	}
	if f.NomadNamespace != "" {
		cfg.Namespace = f.NomadNamespace
	}
	if f.NomadCACert != "" {
		cfg.TLSConfig.CACert = f.NomadCACert
	}
	if f.NomadSkipVerify {
		cfg.TLSConfig.Insecure = true
	}
	cfg.TLSConfig.ClientCert = cmp.Or(f.NomadClientCert, cfg.TLSConfig.ClientCert)
	cfg.TLSConfig.ClientKey = cmp.Or(f.NomadClientKey, cfg.TLSConfig.ClientKey)
	cfg.TLSConfig.TLSServerName = cmp.Or(f.NomadTLSServerName, cfg.TLSConfig.TLSServerName)
	if err := clientPair(cfg.TLSConfig.ClientCert, cfg.TLSConfig.ClientKey, "NOMAD_CLIENT_CERT", "NOMAD_CLIENT_KEY"); err != nil {
		return err
	}
	// As for Vault, a certificate that does not load is a setting that
	// cannot be used: try it on a client of its own.
	if err := nomadapi.ConfigureTLS(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}, cfg.TLSConfig); err != nil {
		return err
	}
	s.Nomad = cfg
	return nil
}

// VaultCluster is the client configuration of a Vault cluster other than
// the default one, at addr: the TLS settings and timeout of the
// environment (VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_TLS_SERVER_NAME,
// VAULT_CLIENT_TIMEOUT...) and of the flags, as for the default cluster,
// with its own address. VAULT_AGENT_ADDR is not used for it.
func VaultCluster(addr string, f Flags) (*vaultapi.Config, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", addr)
	}
	cfg := vaultapi.DefaultConfig() // runs ReadEnvironment
	if cfg.Error != nil {
		return nil, cfg.Error
	}
	cfg.Address, cfg.AgentAddress = addr, ""
	t, err := f.vaultTLS()
	if err != nil {
		return nil, err
	}
	if err := cfg.ConfigureTLS(t); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Secrets are the tokens and passwords of the settings, to mask in
// anything printed or saved.
func (s *Settings) Secrets() []string {
	out := append([]string{s.VaultToken}, s.envTokens...)
	if s.Nomad != nil {
		out = append(out, s.Nomad.SecretID)
		if s.Nomad.HttpAuth != nil {
			out = append(out, s.Nomad.HttpAuth.Password)
		}
	}
	return out
}
