package cli_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Faults a real server cannot easily produce, through the whole doctor
// command: each must end in a clear finding within the deadline.
func TestDoctorFaults(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer hang.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`)) //nolint:errcheck // test server
	}))
	defer tlsSrv.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("\x00\x01 not json")) //nolint:errcheck // test server
	}))
	defer garbage.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedAddr := refused.URL
	refused.Close()

	cases := []struct {
		name, addr, want string
	}{
		{"vault hangs past the timeout", hang.URL, "could not reach vault"},
		{"vault has an untrusted certificate", tlsSrv.URL, "certificate"},
		{"vault answers garbage", garbage.URL, "could not reach vault"},
		{"vault refuses connections", refusedAddr, "connection refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			rep, r := doctor(t, map[string]string{"VAULT_ADDR": tc.addr, "VAULT_TOKEN": "hvs.faulttoken123456"}, "--timeout", "2s", "--deadline", "8s")
			if took := time.Since(start); took > 8*time.Second {
				t.Errorf("doctor took %s, past its deadline", took)
			}
			if r.code != 1 || !rep.has("NV601") {
				t.Fatalf("want exit 1 with NV601, got %d: %s%s", r.code, r.stdout, r.stderr)
			}
			var msg string
			for _, f := range rep.Findings {
				if f.Rule == "NV601" {
					msg = f.Message
				}
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("NV601 message %q lacks %q", msg, tc.want)
			}
			if strings.Contains(r.stdout, "hvs.faulttoken123456") {
				t.Error("the token leaked into the report")
			}
			for _, v := range rep.Verdicts {
				if v.Area == "Nomad" && v.Status != "not checked" {
					t.Errorf("Nomad was not asked for, but its verdict is %q", v.Status)
				}
			}
		})
	}
}
