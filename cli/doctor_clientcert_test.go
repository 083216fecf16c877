package cli_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/realserver"
)

// clientCerts is a CA of client certificates, and one it signed.
type clientCerts struct {
	pool      *x509.CertPool
	cert, key string // the client's certificate and key files
}

func newClientCerts(t *testing.T) clientCerts {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "clients"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(t, err)
	ca, err := x509.ParseCertificate(der)
	must(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	der, err = x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "doctor"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, &key.PublicKey, caKey)
	must(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	must(t, err)
	dir := t.TempDir()
	c := clientCerts{pool: x509.NewCertPool(), cert: filepath.Join(dir, "client.pem"), key: filepath.Join(dir, "client-key.pem")}
	c.pool.AddCert(ca)
	must(t, os.WriteFile(c.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(c.key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return c
}

// serverTLS makes a server accept only clients with a certificate of c.
func (c clientCerts) serverTLS() *tls.Config {
	return &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: c.pool}
}

// nv601Fix is the fix of the NV601 finding about side, if any.
func nv601Fix(rep doctorReport, side string) string {
	for _, f := range rep.Findings {
		if f.Rule == "NV601" && f.Object.Kind == side && len(f.Fixes) > 0 {
			return f.Fixes[0].Description
		}
	}
	return ""
}

// TestDoctorClientCertificates: Vault and Nomad servers that verify their
// clients are reached with the client certificate of the environment or
// of the flags, the flags first; without one, NV601 says which flags
// give it.
func TestDoctorClientCertificates(t *testing.T) {
	certs, other := newClientCerts(t), newClientCerts(t)
	v := startTLSFake(t, certs.serverTLS(), fakeVault(0))
	n := startTLSFake(t, certs.serverTLS(), fakeNomad(false))
	vaultCA, nomadCA := caFile(t, v.Server), caFile(t, n.Server)
	env := func(kv ...string) map[string]string {
		e := map[string]string{
			"VAULT_ADDR": v.URL, "VAULT_TOKEN": "hvs.mtls-test-token", "VAULT_CACERT": vaultCA,
			"NOMAD_ADDR": n.URL, "NOMAD_TOKEN": "mtls-test-token", "NOMAD_CACERT": nomadCA,
		}
		for i := 0; i+1 < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	for _, side := range []struct{ name, env, flag string }{
		{"vault", "VAULT_", "--vault-"},
		{"nomad", "NOMAD_", "--nomad-"},
	} {
		t.Run(side.name, func(t *testing.T) {
			rep, r := doctor(t, env())
			if ok, _ := reached(rep, side.name); ok {
				t.Fatalf("reached %s without a client certificate\n%s", side.name, r.stderr)
			}
			want := side.flag + "client-cert CERT.pem " + side.flag + "client-key KEY.pem, or " + side.env + "CLIENT_CERT and " + side.env + "CLIENT_KEY"
			if fix := nv601Fix(rep, side.name); !strings.Contains(fix, want) {
				t.Errorf("NV601's fix %q does not say %q", fix, want)
			}
			for _, c := range []struct {
				name  string
				env   map[string]string
				flags []string
			}{
				{"environment", env(side.env+"CLIENT_CERT", certs.cert, side.env+"CLIENT_KEY", certs.key), nil},
				{"flags", env(), []string{side.flag + "client-cert", certs.cert, side.flag + "client-key", certs.key}},
				{"flags over the environment's", env(side.env+"CLIENT_CERT", other.cert, side.env+"CLIENT_KEY", other.key),
					[]string{side.flag + "client-cert", certs.cert, side.flag + "client-key", certs.key}},
			} {
				rep, r := doctor(t, c.env, c.flags...)
				if ok, msg := reached(rep, side.name); !ok {
					t.Errorf("%s: not reached with the client certificate: %s\n%s", c.name, msg, r.stderr)
				}
			}
			r = nvlint(t, "", env(), "doctor", side.flag+"client-cert", certs.cert)
			if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "comes without its key ("+side.env+"CLIENT_KEY") {
				t.Errorf("a certificate without its key: exit %d, %s", r.code, r.stderr)
			}
		})
	}
}

// TestDoctorVaultClusterTLS reads cluster payments, a real Vault dev
// server behind TLS that verifies its clients, at an address its
// certificate does not name. Each of its TLS flags is needed in turn,
// and NV601 names the next one.
func TestDoctorVaultClusterTLS(t *testing.T) {
	pay := startClusterVault(t, testPublicKey(t))
	backend, err := url.Parse(pay.vault.Addr)
	must(t, err)
	certs := newClientCerts(t)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(backend))
	front.TLS = certs.serverTLS()
	front.Config.ErrorLog = quietLog
	front.StartTLS()
	defer front.Close()
	// The test server's certificate names example.com and 127.0.0.1.
	addr := strings.Replace(front.URL, "127.0.0.1", "localhost", 1)

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "payments.token")
	must(t, os.WriteFile(tokenFile, []byte(pay.vault.RootToken+"\n"), 0o600))
	args := []string{"--vault", "payments=" + addr, "--vault-token-file", "payments=" + tokenFile,
		"--vault-cluster-cacert", "payments=" + caFile(t, front)}
	readAt := "cluster payments: Vault " + realserver.VaultVersion + " at " + addr
	for _, step := range []struct {
		flags []string
		fix   string // NV601's fix; "": the cluster is read
	}{
		{nil, "--vault-cluster-tls-server-name payments=example.com"},
		{[]string{"--vault-cluster-tls-server-name", "payments=example.com"}, "--vault-cluster-client-cert payments=CERT.pem --vault-cluster-client-key payments=KEY.pem"},
		{[]string{"--vault-cluster-tls-server-name", "payments=example.com",
			"--vault-cluster-client-cert", "payments=" + certs.cert, "--vault-cluster-client-key", "payments=" + certs.key}, ""},
	} {
		args = append(args, step.flags...)
		rep, r := doctor(t, map[string]string{}, args...)
		noCrash(t, rep)
		var read bool
		for _, v := range rep.Verdicts {
			read = read || v.Area == "Vault" && strings.Contains(v.Detail, readAt)
		}
		fix := nv601Fix(rep, "vault")
		switch {
		case step.fix == "" && (!read || fix != ""):
			t.Errorf("%q: cluster payments not read: %+v\n%s", step.flags, rep.Verdicts, r.stderr)
		case step.fix != "" && (read || !strings.Contains(fix, step.fix)):
			t.Errorf("%q: want payments unread and NV601 saying %q, got read %v, fix %q", step.flags, step.fix, read, fix)
		}
	}
	r := nvlint(t, "", map[string]string{}, "doctor", "--vault", "payments="+addr, "--vault-cluster-client-cert", "payments="+certs.cert)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--vault-cluster-client-cert payments=") || !strings.Contains(r.stderr, "comes without its key") {
		t.Errorf("a cluster's certificate without its key: exit %d, %s", r.code, r.stderr)
	}
	r = nvlint(t, "", map[string]string{}, "doctor", "--vault-cluster-tls-server-name", "payments=example.com")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "no --vault payments=URL gives the cluster's address") {
		t.Errorf("a cluster flag without --vault: exit %d, %s", r.code, r.stderr)
	}
}
