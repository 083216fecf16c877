// Package acl parses Vault ACL policies with source ranges and evaluates
// requests against them the way Vault does (vault/policy.go, vault/acl.go,
// sdk/helper/identitytpl), so that linters can explain a permission denied
// before a workload hits it.
//
// Evaluation in short:
//   - Rules with identical path strings of the same kind (exact, prefix
//     glob, "+" segment) merge across policies: capabilities are OR'ed and
//     a deny on either side leaves deny only. Different patterns never
//     combine; one rule decides.
//   - An exact rule wins outright, granting or not. A LIST also tries the
//     exact rule without its trailing "/".
//   - Otherwise the longest prefix glob and every matching "+" rule are
//     ranked: later first wildcard, then non-glob, then fewer "+", then
//     longer, then lexicographically larger.
//   - Templated paths are filled from the token's entity; a path that cannot
//     be filled is silently left out of the ACL. A filled path is then an
//     ordinary path (a trailing "*" makes it a glob).
//
// Behaviour that changed across Vault versions is selected with Options.
package acl
