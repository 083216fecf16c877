package rules

import (
	"os/exec"
	"strings"
	"testing"
)

func TestCommandString(t *testing.T) {
	for _, c := range []struct {
		cmd  Command
		want string
	}{
		{Cmd("vault", "policy", "write", "nomad-server", "nomad-server.hcl"), "vault policy write nomad-server nomad-server.hcl"},
		{Cmd("vault", "policy", "write", "my policy $(id)", "my policy $(id).hcl"), "vault policy write 'my policy $(id)' 'my policy $(id).hcl'"},
		{Cmd("vault", "write", "auth/token/roles/r", "disallowed_policies=a b", "@x y.json"), "vault write auth/token/roles/r disallowed_policies='a b' '@x y.json'"},
		{Cmd(append([]string{"vault", "policy", "write"}, Args("-x", "-")...)...), "vault policy write -- -x -"},
		{Cmd("vault", "policy", "read", "p").Pipe("sed", "s/a/b/g").Pipe("vault", "policy", "write", "p", "-"), "vault policy read p | sed s/a/b/g | vault policy write p -"},
		{Seq(Argv{"vault", "policy", "read", "p"}, Argv{"printf", `\n%s\n`, `path "x" {}`}).Pipe("vault", "policy", "write", "p", "-"),
			`{ vault policy read p && printf '\n%s\n' 'path "x" {}'; } | vault policy write p -`},
		{Cmd("sed", "-i", "s/a/b/", "f").And("vault", "policy", "write", "p", "f"), "sed -i s/a/b/ f && vault policy write p f"},
		{Template("vault write %s key=<fill in>", "auth/my mount/config"), "vault write 'auth/my mount/config' key=<fill in>"},
		{Cmd("vault", "policy", "read", "a!b", "it's!", "it's"), `vault policy read 'a!b' 'it'\''s!' "it's"`},
	} {
		if got := c.cmd.String(); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
	if Template("x <y>").Runnable() || !Cmd("vault").Runnable() || Cmd("vault", "a\x00b").Runnable() {
		t.Error("Runnable")
	}
}

// TestQuoteRoundTrip: the shell reads every quoted word back as the word.
func TestQuoteRoundTrip(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	words := []string{"plain", "", "with space", "it's", `"dq"`, "$(id)", "`id`", "a\nb", "tab\tx", "back\\slash", "-rf", "~user", "#c", "a=b c", "*?[x]", "é ü", "\x01\x7f", "!x", "it's!"}
	var script strings.Builder
	for _, w := range words {
		script.WriteString("printf '%s\\0' " + Quote(w) + "\n")
	}
	out, err := exec.Command(sh, "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(words) {
		t.Fatalf("got %q", got)
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("%q came back as %q (quoted %s)", words[i], got[i], Quote(words[i]))
		}
	}
}
