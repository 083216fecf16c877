package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

func verdict(rep doctorReport, area string) (status, detail string) {
	for _, v := range rep.Verdicts {
		if v.Area == area {
			return v.Status, v.Detail
		}
	}
	return "", ""
}

// TestDoctorPartialExit: a run with an area not checked fails, even under
// --fail-on error, unless --allow-partial; a saved snapshot replays the
// same verdicts, and one taken without Nomad does not replay as Nomad ok.
func TestDoctorPartialExit(t *testing.T) {
	v := tlsVault(t, 0)
	env := map[string]string{"VAULT_ADDR": v.URL, "VAULT_SKIP_VERIFY": "true"} // and no token anywhere
	snap := filepath.Join(t.TempDir(), "snap.json")

	rep, r := doctor(t, env, "--fail-on", "error", "--save", snap)
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "not checked: ") || !strings.Contains(r.stderr, "--allow-partial") {
		t.Errorf("partial run under --fail-on error: exit %d, stderr %q", r.code, r.stderr)
	}
	if s, d := verdict(rep, "Policies"); s != "not checked" || !strings.Contains(d, "no token") {
		t.Errorf("Policies: %s %q", s, d)
	}
	if _, r := doctor(t, env, "--fail-on", "error", "--allow-partial"); r.code != cli.ExitOK {
		t.Errorf("--allow-partial: exit %d\n%s", r.code, r.stderr)
	}

	replay := nvlint(t, "", nil, "doctor", "--format", "json", "--fail-on", "error", "--from", snap)
	var got doctorReport
	must(t, json.Unmarshal([]byte(replay.stdout), &got))
	if replay.code != cli.ExitFindings {
		t.Errorf("replay exit %d, want 1", replay.code)
	}
	for _, area := range []string{"Vault", "Nomad", "Policies", "Workload identity", "Legacy token flow", "Jobs"} {
		s1, d1 := verdict(rep, area)
		s2, d2 := verdict(got, area)
		if s1 != s2 || d1 != d2 {
			t.Errorf("%s: live %s %q, replayed %s %q", area, s1, d1, s2, d2)
		}
	}
	if s, _ := verdict(got, "Nomad"); s != "not checked" {
		t.Errorf("a snapshot without Nomad replays Nomad as %q", s)
	}
}

// TestDoctorOldSnapshot: a snapshot saved before problems named their
// areas still replays them as not checked.
func TestDoctorOldSnapshot(t *testing.T) {
	rep, r := doctor(t, nil, "--from", "../fixtures/cases/NV602-could-not-check/bad-policy-forbidden/snapshot.json", "--allow-partial")
	if s, d := verdict(rep, "Policies"); s != "not checked" || !strings.Contains(d, "sys/policies/acl/") {
		t.Errorf("Policies: %s %q\n%s", s, d, r.stderr)
	}
}

// TestDoctorNotAnAPI: a web server answering 404 with an HTML page is
// not Vault; its page is never pasted into a message.
func TestDoctorNotAnAPI(t *testing.T) {
	const page = "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(page))
	}))
	defer web.Close()
	for _, env := range []map[string]string{
		{"VAULT_ADDR": web.URL, "VAULT_TOKEN": "hvs.not-an-api"},
		{"NOMAD_ADDR": web.URL, "NOMAD_TOKEN": "not-an-api"},
	} {
		for _, format := range []string{"json", "text"} {
			r := nvlint(t, "", env, "doctor", "--format", format, "--verbose", "--timeout", "2s")
			if r.code != cli.ExitFindings {
				t.Errorf("exit %d", r.code)
			}
			out := r.stdout + r.stderr
			if strings.Contains(out, "DOCTYPE") || strings.Contains(out, "<h1>") || strings.Contains(out, "requested URL") {
				t.Errorf("the HTML page is in the output:\n%s", out)
			}
			if !strings.Contains(out, "API answer: HTTP 404, text/html") {
				t.Errorf("the output does not say it is not the API (status and content type):\n%s", out)
			}
		}
	}
}

func TestDoctorPrintPolicy(t *testing.T) {
	r := nvlint(t, "", nil, "doctor", "--print-policy")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, `path "sys/auth"`) || !strings.Contains(r.stdout, `namespace "*"`) {
		t.Errorf("--print-policy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "doctor", "--print-policy", "nomad")
	if r.code != cli.ExitOK || strings.Contains(r.stdout, "path ") || !strings.Contains(r.stdout, "agent {") {
		t.Errorf("--print-policy nomad: exit %d\n%s", r.code, r.stdout)
	}
	if r = nvlint(t, "", nil, "doctor", "--print-policy", "consul"); r.code != cli.ExitUsage {
		t.Errorf("--print-policy consul: exit %d", r.code)
	}

	// --format json: the same texts, as JSON strings.
	text := map[string]string{}
	for _, side := range []string{"vault", "nomad"} {
		text[side+"_policy"] = nvlint(t, "", nil, "doctor", "--print-policy", side).stdout
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"doctor", "--print-policy", "--format", "json"}, []string{"vault_policy", "nomad_policy"}},
		{[]string{"doctor", "--print-policy", "vault", "--format", "json"}, []string{"vault_policy"}},
		{[]string{"doctor", "--print-policy", "nomad", "--format=json", "--color", "always"}, []string{"nomad_policy"}},
	} {
		r := nvlint(t, "", nil, c.args...)
		var got map[string]string
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != cli.ExitOK || len(got) != len(c.want) {
			t.Errorf("%q: exit %d, %v\n%s%s", c.args, r.code, err, r.stdout, r.stderr)
			continue
		}
		for _, k := range c.want {
			if got[k] != text[k] {
				t.Errorf("%q: %s is %q, want the text --print-policy prints, %q", c.args, k, got[k], text[k])
			}
		}
	}
	// What it cannot print is refused, naming the flag, and nothing is
	// printed.
	for _, args := range [][]string{
		{"doctor", "--print-policy", "--format", "sarif"},
		{"doctor", "--print-policy", "--format", "json=" + filepath.Join(t.TempDir(), "p.json")},
		{"doctor", "--print-policy", "--format", "text", "--format", "json=p.json"},
	} {
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, "--format") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want a usage error naming --format", args, r.code, r.stdout, r.stderr)
		}
	}
}
