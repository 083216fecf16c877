package realserver

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"testing"
	"time"
)

// StartFederation starts one dev agent per region, federated: the first
// region is the authoritative one, and every other joins it. extra, if
// not nil, gives each region's agent more config, after o.Extra. It
// returns once the first agent lists every region. ACLs stay off in every
// region: a non-authoritative region's ACLs work only once replication
// has run.
func StartFederation(t testing.TB, regions []string, o NomadOptions, extra func(region string) string) []*Nomad {
	t.Helper()
	if o.ACL {
		t.Fatalf("realserver: StartFederation runs without ACLs")
	}
	var agents []*Nomad
	for i, region := range regions {
		ro := o
		ro.Extra = o.Extra + fmt.Sprintf("\nregion = %q\n", region)
		if i > 0 {
			// A top-level server_join is silently ignored: it must sit
			// inside server.
			ro.Extra += fmt.Sprintf("server {\n  authoritative_region = %q\n  server_join {\n    retry_join = [\"127.0.0.1:%d\"]\n  }\n}\n",
				regions[0], agents[0].SerfPort)
		}
		if extra != nil {
			ro.Extra += extra(region)
		}
		agents = append(agents, StartNomad(t, ro))
	}
	want := slices.Sorted(slices.Values(regions))
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got []string
		_, body, err := agents[0].do(http.MethodGet, "/v1/regions")
		if err == nil {
			err = json.Unmarshal(body, &got)
		}
		if err == nil && slices.Equal(got, want) {
			return agents
		}
		if time.Now().After(deadline) {
			t.Fatalf("realserver: the regions did not federate: %v %v", got, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// SigningKeyPEM is the PEM form of the RSA key the agent's region signs
// workload identities with, as an operator would paste it into a JWT
// mount's jwt_validation_pubkeys.
func (n *Nomad) SigningKeyPEM(t testing.TB) string {
	t.Helper()
	_, body, err := n.do(http.MethodGet, "/.well-known/jwks.json")
	if err != nil {
		t.Fatalf("realserver: keys of %s: %v", n.Addr, err)
	}
	var set struct{ Keys []struct{ Kty, N, E string } }
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Kty != "RSA" {
		t.Fatalf("realserver: keys of %s: %v %s", n.Addr, err, body)
	}
	nb, err := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	if err != nil {
		t.Fatalf("realserver: keys of %s: %v", n.Addr, err)
	}
	eb, err := base64.RawURLEncoding.DecodeString(set.Keys[0].E)
	if err != nil {
		t.Fatalf("realserver: keys of %s: %v", n.Addr, err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())})
	if err != nil {
		t.Fatalf("realserver: keys of %s: %v", n.Addr, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}
