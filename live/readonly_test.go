package live

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"
)

// recorder is a server that records every request it receives.
type recorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"data":{}}`)
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// closeTracker records whether a request body was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestReadOnlyTransport(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	cases := []struct {
		method, path string
		caps         bool // the Vault guard
		allowed      bool
	}{
		{"GET", "/v1/sys/health", true, true},
		{"HEAD", "/v1/sys/health", true, true},
		{"LIST", "/v1/auth/token/roles", true, true},
		{"get", "/v1/sys/auth", true, true},
		{"POST", "/v1/sys/capabilities-self", true, true},
		{"POST", "/v1/sys/capabilities-self", false, false}, // not on the Nomad client
		{"POST", "/v1/sys/capabilities-self/", true, false},
		{"POST", "/v1/sys/capabilities", true, false},
		{"POST", "/v1/sys/capabilities-accessor", true, false},
		{"PUT", "/v1/sys/capabilities-self", true, false},
		{"POST", "/v1/auth/token/create", true, false},
		{"PUT", "/v1/sys/policies/acl/x", true, false},
		{"DELETE", "/v1/sys/policies/acl/x", true, false},
		{"PATCH", "/v1/secret/data/x", true, false},
		{"POST", "/v1/jobs", false, false},
		{"PUT", "/v1/job/x", false, false},
		{"DELETE", "/v1/job/x", false, false},
		{"OPTIONS", "/v1/jobs", false, false},
		{"CONNECT", "/", false, false},
	}
	for _, tc := range cases {
		hc := guard(srv.Client(), tc.caps)
		body := &closeTracker{Reader: strings.NewReader(`{"x":1}`)}
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, body)
		if err != nil {
			t.Fatal(err)
		}
		before := len(rec.requests())
		resp, err := hc.Do(req)
		if resp != nil {
			resp.Body.Close()
		}
		sent := len(rec.requests()) > before
		switch {
		case tc.allowed && (err != nil || !sent):
			t.Errorf("%s %s (caps=%v): refused or not sent: %v", tc.method, tc.path, tc.caps, err)
		case !tc.allowed && (err == nil || !errors.Is(err, ErrNotReadOnly)):
			t.Errorf("%s %s (caps=%v): got %v, want ErrNotReadOnly", tc.method, tc.path, tc.caps, err)
		case !tc.allowed && sent:
			t.Errorf("%s %s (caps=%v): refused but the server received it", tc.method, tc.path, tc.caps)
		case !tc.allowed && !body.closed:
			t.Errorf("%s %s: refused request body not closed", tc.method, tc.path)
		}
	}
}

// TestReadOnlyClients checks the guard through the real API clients as
// Collect builds them: every write method is refused before it is sent.
func TestReadOnlyClients(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()

	vcfg := vaultapi.DefaultConfig()
	vcfg.Address = srv.URL
	vc, err := newVaultClient(vcfg, guard(vcfg.HttpClient, true), "s.tok", "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("sys/policies/acl/evil", map[string]any{"policy": ""}); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("vault Write: %v, want ErrNotReadOnly", err)
	}
	if _, err := vc.Logical().Delete("sys/policies/acl/evil"); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("vault Delete: %v, want ErrNotReadOnly", err)
	}
	if _, err := vc.Auth().Token().Create(&vaultapi.TokenCreateRequest{}); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("vault token create: %v, want ErrNotReadOnly", err)
	}
	if err := vc.Sys().Seal(); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("vault seal: %v, want ErrNotReadOnly", err)
	}
	if _, err := vc.Logical().Read("sys/auth"); err != nil {
		t.Errorf("vault read: %v", err)
	}
	if _, err := vc.Sys().CapabilitiesSelf("auth/token/lookup-self"); err != nil {
		t.Errorf("vault capabilities-self: %v", err)
	}

	nc, _, err := newNomadClient(&nomadapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	id, name := "evil", "evil"
	if _, _, err := nc.Jobs().Register(&nomadapi.Job{ID: &id, Name: &name}, nil); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("nomad job register: %v, want ErrNotReadOnly", err)
	}
	if _, _, err := nc.Jobs().Deregister("evil", true, nil); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("nomad job stop: %v, want ErrNotReadOnly", err)
	}
	if _, err := nc.Raw().Write("/v1/sys/capabilities-self", nil, nil, nil); !errors.Is(err, ErrNotReadOnly) {
		t.Errorf("nomad PUT: %v, want ErrNotReadOnly", err)
	}

	for _, r := range rec.requests() {
		if !strings.HasPrefix(r, "GET ") && r != "POST /v1/sys/capabilities-self" {
			t.Errorf("server received %s", r)
		}
	}
	if got := rec.requests(); len(got) != 2 {
		t.Errorf("server received %v, want the read and the capabilities-self", got)
	}
}

func TestLimitedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("x", 1<<20)
		for i := 0; i < maxBody>>20+2; i++ {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	resp, err := guard(srv.Client(), false).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("read %d bytes, err %v; want a size error", n, err)
	}
}
