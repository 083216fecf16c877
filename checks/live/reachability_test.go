package live

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/world"
)

// TestTLSFix: each TLS refusal Go's client reports gets the setting that
// answers it, for the side and cluster it came from; other failures get
// none.
func TestTLSFix(t *testing.T) {
	const refused = "tls: failed to verify certificate: "
	for _, c := range []struct {
		area, cluster, reason string
		want                  string // "": no fix
	}{
		{"vault", "", refused + "x509: certificate signed by unknown authority", "--vault-cacert CA.pem, or VAULT_CACERT"},
		{"nomad", "", refused + "x509: certificate is valid for server.global.nomad, localhost, not nomad.internal", "--nomad-tls-server-name server.global.nomad, or NOMAD_TLS_SERVER_NAME"},
		{"vault", "payments", refused + "x509: certificate is valid for *.example.com, not vault", "--vault-cluster-tls-server-name payments=HOST, or use"},
		{"vault", "", refused + "x509: certificate is valid for 150 names, but none matched vault", "--vault-tls-server-name HOST, or VAULT_TLS_SERVER_NAME"},
		{"vault", "", refused + "x509: cannot validate certificate for 10.0.4.2 because it doesn't contain any IP SANs", "--vault-tls-server-name HOST"},
		{"vault", "", refused + "x509: certificate is not valid for any names, but wanted to match vault", "--vault-tls-server-name HOST"},
		{"nomad", "", "remote error: tls: certificate required", "--nomad-client-cert CERT.pem --nomad-client-key KEY.pem, or NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY"},
		{"vault", "payments", "remote error: tls: bad certificate", "--vault-cluster-client-cert payments=CERT.pem --vault-cluster-client-key payments=KEY.pem"},
		{"vault", "", "remote error: tls: unknown certificate authority", "--vault-client-cert CERT.pem"},
		{"vault", "", "dial tcp 127.0.0.1:8200: connect: connection refused", ""},
		{"consul", "", refused + "x509: certificate signed by unknown authority", ""},
	} {
		fix, ok := tlsFix(world.Problem{Area: c.area, Cluster: c.cluster, Reason: c.reason})
		switch {
		case c.want == "" && ok:
			t.Errorf("%s %q: want no fix, got %q", c.area, c.reason, fix.Description)
		case c.want != "" && !strings.Contains(fix.Description, c.want):
			t.Errorf("%s %q: fix %q does not say %q", c.area, c.reason, fix.Description, c.want)
		case strings.Contains(fix.Description, "VAULT_") && c.cluster != "":
			t.Errorf("a cluster's fix names a variable only the default cluster reads: %q", fix.Description)
		}
	}
}
