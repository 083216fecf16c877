package access

import (
	"strings"

	"github.com/nvlint/nvlint/world"
)

// pkiPublic are the paths of a PKI mount that Vault serves without a
// token (the Unauthenticated special paths of builtin/logical/pki's
// backend): CA certificates and chains, certificates by serial, CRLs,
// issuers' public material, OCSP. "+" is one path element, a trailing
// "*" any rest. What they return is public by design; no ACL decides
// them.
var pkiPublic = []string{
	"cert/*", "ca/pem", "ca_chain", "ca",
	"crl", "crl/pem", "crl/delta", "crl/delta/pem",
	"unified-crl", "unified-crl/pem", "unified-crl/delta", "unified-crl/delta/pem",
	"issuer/+/crl", "issuer/+/crl/der", "issuer/+/crl/pem",
	"issuer/+/crl/delta", "issuer/+/crl/delta/der", "issuer/+/crl/delta/pem",
	"issuer/+/unified-crl", "issuer/+/unified-crl/der", "issuer/+/unified-crl/pem",
	"issuer/+/unified-crl/delta", "issuer/+/unified-crl/delta/der", "issuer/+/unified-crl/delta/pem",
	"issuer/+/pem", "issuer/+/der", "issuer/+/json",
	"ocsp", "ocsp/*", "unified-ocsp", "unified-ocsp/*",
}

// pkiPublicElems are pkiPublic split into path elements.
var pkiPublicElems = func() [][]string {
	out := make([][]string, len(pkiPublic))
	for i, pat := range pkiPublic {
		out[i] = strings.Split(pat, "/")
	}
	return out
}()

// PublicPath reports whether a read of path reaches an endpoint Vault
// serves to anyone, without a token: a public endpoint of a PKI mount.
// The mount must be recognisably PKI, by a name containing "pki" (pki,
// pki_int, pki-root...) or by a policy granting issue/ or sign/ below
// it: "ca" or "cert/x" below a KV mount is an ordinary secret. It
// returns the mount and the public pattern that matched.
func PublicPath(w *world.World, path string) (mount, pattern string, ok bool) {
	p := strings.Trim(path, "/")
	if !mayBePublic(p) {
		return "", "", false
	}
	elems := strings.Split(p, "/")
	// Mounts may be nested (team/pki): try every split, shortest first;
	// the mount is the path up to the i-th "/".
	end := -1
	for i := 1; i < len(elems); i++ {
		end += 1 + len(elems[i-1])
		m := p[:end]
		rest := elems[i:]
		for j, pat := range pkiPublicElems {
			if matchPattern(pat, rest) && isPKIMount(w, m) {
				return m, pkiPublic[j], true
			}
		}
	}
	return "", "", false
}

// publicFirst are the first elements of pkiPublic.
var publicFirst = func() map[string]bool {
	out := map[string]bool{}
	for _, pat := range pkiPublicElems {
		out[pat[0]] = true
	}
	return out
}()

// mayBePublic reports whether an element after the first of path starts
// a public pattern: every template read asks, and most name none.
func mayBePublic(p string) bool {
	_, rest, _ := strings.Cut(p, "/")
	for rest != "" {
		var elem string
		elem, rest, _ = strings.Cut(rest, "/")
		if publicFirst[elem] {
			return true
		}
	}
	return false
}

func matchPattern(pat, elems []string) bool {
	for i, p := range pat {
		if p == "*" {
			return i < len(elems)
		}
		if i >= len(elems) || (p != "+" && p != elems[i]) {
			return false
		}
	}
	return len(pat) == len(elems)
}

// isPKIMount reports whether mount is evidently a PKI secrets engine.
func isPKIMount(w *world.World, mount string) bool {
	last := mount[strings.LastIndex(mount, "/")+1:]
	if strings.Contains(strings.ToLower(last), "pki") {
		return true
	}
	if w == nil {
		return false
	}
	return world.Derived(w, pkiMountsKey, pkiMounts)[mount]
}

var pkiMountsKey = world.NewDerivedKey("the mounts policies grant issue/ or sign/ below")

// pkiMounts are the mounts some policy grants issue/ or sign/ below:
// every prefix of a rule's path that "/issue/" or "/sign/" follows.
func pkiMounts(w *world.World) map[string]bool {
	out := map[string]bool{}
	for _, pol := range w.Policies {
		if pol.ACL == nil {
			continue
		}
		for _, r := range pol.ACL.Rules {
			p := strings.TrimPrefix(r.Path, "/")
			for _, sep := range []string{"/issue/", "/sign/"} {
				for off := 0; ; {
					i := strings.Index(p[off:], sep)
					if i < 0 {
						break
					}
					out[p[:off+i]] = true
					off += i + 1
				}
			}
		}
	}
	return out
}
