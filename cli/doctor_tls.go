package cli

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/nvlint/nvlint/connection"
)

// tlsFlags are a side's client certificate, its key and the server name
// to verify, over the environment's (empty: the environment's).
type tlsFlags struct{ clientCert, clientKey, serverName string }

func (t *tlsFlags) register(fs *pflag.FlagSet, side, name, certEnv, keyEnv, serverNameEnv string) {
	fs.StringVar(&t.clientCert, side+"-client-cert", "", "client certificate `FILE` for "+name+", for servers that verify clients (default "+certEnv+")")
	fs.StringVar(&t.clientKey, side+"-client-key", "", "`FILE` holding the key of the client certificate for "+name+" (default "+keyEnv+")")
	fs.StringVar(&t.serverName, side+"-tls-server-name", "", "the `HOST` name "+name+"'s certificate must name, when the address does not (default "+serverNameEnv+")")
}

// clusterTLSFlags are the TLS settings of the clusters of --vault, each
// argument NAME=VALUE.
type clusterTLSFlags struct{ caCert, clientCert, clientKey, serverName []string }

// clusterTLSFlag is one flag of clusterTLSFlags: what its value is, and
// where it goes in a cluster's settings.
type clusterTLSFlag struct {
	name, value, what string
	args              func(*clusterTLSFlags) *[]string
	set               func(*connection.Flags, string)
}

var clusterTLSFlagSet = []clusterTLSFlag{
	{"vault-cluster-cacert", "FILE", "its CA certificate", func(c *clusterTLSFlags) *[]string { return &c.caCert },
		func(f *connection.Flags, v string) { f.VaultCACert = v }},
	{"vault-cluster-client-cert", "FILE", "the client certificate doctor presents to it", func(c *clusterTLSFlags) *[]string { return &c.clientCert },
		func(f *connection.Flags, v string) { f.VaultClientCert = v }},
	{"vault-cluster-client-key", "FILE", "the key of that client certificate", func(c *clusterTLSFlags) *[]string { return &c.clientKey },
		func(f *connection.Flags, v string) { f.VaultClientKey = v }},
	{"vault-cluster-tls-server-name", "HOST", "the host name its certificate must name", func(c *clusterTLSFlags) *[]string { return &c.serverName },
		func(f *connection.Flags, v string) { f.VaultTLSServerName = v }},
}

func (c *clusterTLSFlags) register(fs *pflag.FlagSet) {
	for _, fl := range clusterTLSFlagSet {
		fs.StringArrayVar(fl.args(c), fl.name, nil, fmt.Sprintf("give Vault cluster NAME of --vault %s instead of the default cluster's: `NAME=%s` (repeatable)", fl.what, fl.value))
	}
}

// byCluster gives each cluster that has a flag its settings, base with
// its flags over it, and the flags it was given (for messages); an error
// is a usage error.
func (c *clusterTLSFlags) byCluster(base connection.Flags) (map[string]connection.Flags, map[string][]string, error) {
	own, given := map[string]connection.Flags{}, map[string][]string{}
	for _, fl := range clusterTLSFlagSet {
		for _, arg := range *fl.args(c) {
			name, v, ok := namedValue(arg)
			if !ok {
				return nil, nil, fmt.Errorf("--%s %s: want NAME=%s, a cluster of --vault and %s", fl.name, arg, fl.value, fl.what)
			}
			s, seen := own[name]
			if !seen {
				s = base
			}
			fl.set(&s, v)
			own[name] = s
			given[name] = append(given[name], "--"+fl.name+" "+name+"="+v)
		}
	}
	return own, given, nil
}
