package templates

import (
	"net/url"
	"path"
	"strings"
)

// KVv2Path returns the path Vault actually receives when consul-template
// performs op ("read", "list" or "write") on path, given that path lies on a
// KV version 2 mount at mount (e.g. "kv/" or "secret"). With mount == "" or a
// path outside mount only consul-template's normalisation applies. The rule
// is that of consul-template's dependency package (read from
// hashicorp/consul-template at 1deacb7d):
//
//   - Every query first trims spaces and then leading/trailing "/"
//     (NewVaultReadQuery, NewVaultListQuery, NewVaultWriteQuery). A read also
//     goes through url.Parse and uses only its (unescaped) Path, so a
//     "?version=N" query is not part of the path (vault_read.go).
//   - read and write, shimKVv2Path in vault_read.go (used by vault_write.go
//     too): the mount itself becomes "<mount>/data"; otherwise, unless the
//     part after the mount starts with "data/", "metadata/" or "subkeys/",
//     the result is path.Join(mount, "data", rest) (which also cleans "//"
//     and ".."). A path already in one of those forms is returned unchanged.
//     Note that "kv/data" (no trailing part) becomes "kv/data/data".
//   - list, shimKvV2ListPath in vault_list.go: a path starting with
//     "<mount>/metadata" (no slash required after it) is unchanged; the mount
//     itself becomes "<mount>/metadata"; anything else becomes
//     path.Join(mount, "metadata", rest). "data/" is not special here:
//     listing "kv/data/x" lists "kv/metadata/data/x".
//
// consul-template learns the mount and its version from Vault
// (sys/internal/ui/mounts/<path>, isKVv2 in vault_common.go); the caller
// supplies it here. Vault Enterprise namespaces are not modelled: mount is
// relative to the token's namespace. pkiCert never goes through the KV shim
// but is URL-parsed like a read: KVv2Path(p, "", OpRead) gives its path.
func KVv2Path(p, mount, op string) string {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if op == OpRead && !plainPath(p) {
		if u, err := url.Parse(p); err == nil {
			p = u.Path
		}
	}
	m := strings.Trim(strings.TrimSpace(mount), "/")
	if m == "" || (p != m && !strings.HasPrefix(p, m+"/")) {
		return p
	}
	switch op {
	case OpRead, OpWrite:
		if p == m {
			return m + "/data"
		}
		rest := strings.TrimPrefix(p, m+"/")
		for _, keep := range []string{"data/", "metadata/", "subkeys/"} {
			if strings.HasPrefix(rest, keep) {
				return p
			}
		}
		return path.Join(m, "data", rest)
	case OpList:
		if strings.HasPrefix(p, path.Join(m, "metadata")) {
			return p
		}
		if p == m {
			return m + "/metadata"
		}
		return path.Join(m, "metadata", strings.TrimPrefix(p, m))
	}
	return p
}

// plainPath reports whether url.Parse would give p back as its path: no
// scheme, query, fragment, escape or authority can hide in these bytes
// (p has no leading "/"), so most paths skip the parse.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '/' || c == '.' || c == '_' || c == '-':
		default:
			return false
		}
	}
	return true
}
