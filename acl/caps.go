package acl

// capBits is a capability bitmap, one bit per Vault capability.
type capBits uint32

const (
	capDeny capBits = 1 << iota
	capCreate
	capRead
	capUpdate
	capDelete
	capList
	capSudo
	capPatch
	capSubscribe
	capRecover
)

var capByName = map[string]capBits{
	"deny":      capDeny,
	"create":    capCreate,
	"read":      capRead,
	"update":    capUpdate,
	"delete":    capDelete,
	"list":      capList,
	"sudo":      capSudo,
	"patch":     capPatch,
	"subscribe": capSubscribe,
	"recover":   capRecover,
}

// capOrder is alphabetical because sys/capabilities(-self) sorts its
// answer (vault/capabilities.go), and that is the form users compare with.
var capOrder = []struct {
	name string
	bit  capBits
}{
	{"create", capCreate},
	{"delete", capDelete},
	{"list", capList},
	{"patch", capPatch},
	{"read", capRead},
	{"recover", capRecover},
	{"subscribe", capSubscribe},
	{"sudo", capSudo},
	{"update", capUpdate},
}

// legacyPolicy maps the pre-0.5 `policy = "..."` values to the capabilities
// Vault appends for them. "deny" is handled separately because it replaces
// the list instead of extending it.
var legacyPolicy = map[string][]string{
	"read":  {"read", "list"},
	"write": {"create", "read", "update", "delete", "list"},
	"sudo":  {"create", "read", "update", "delete", "list", "sudo"},
}

// ValidCapability reports whether Vault accepts c in a capabilities list.
// "subscribe" and "recover" exist only in recent Vault versions.
func ValidCapability(c string) bool {
	_, ok := capByName[c]
	return ok
}

// bitsOf turns a rule's capability list into a bitmap. Unknown names are
// ignored (Parse reports them); any deny collapses the rule to deny only.
func bitsOf(caps []string) capBits {
	var b capBits
	for _, c := range caps {
		bit := capByName[c]
		if bit == capDeny {
			return capDeny
		}
		b |= bit
	}
	return b
}

// capNames renders a bitmap the way sys/capabilities-self does: sorted, and
// deny alone when deny is set or nothing is granted.
func capNames(b capBits) []string {
	if b&capDeny != 0 {
		return []string{"deny"}
	}
	var out []string
	for _, c := range capOrder {
		if b&c.bit != 0 {
			out = append(out, c.name)
		}
	}
	if len(out) == 0 {
		return []string{"deny"}
	}
	return out
}
