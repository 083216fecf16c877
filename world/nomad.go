package world

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/templates"
)

// Job is a Nomad job, from a jobspec or the jobs API.
type Job struct {
	Meta
	ID        Str // the job's name label, or its ID in JSON
	Namespace Str // "default" when unset
	// Region is the Nomad region the job runs in: its region attribute,
	// or the region a live job was read from.
	Region Str
	Type   Str
	// ParentID is set for dispatched and periodic children.
	ParentID      Str
	Periodic      bool
	Parameterized bool
	// Vault is the job-level vault block, inherited by every task.
	Vault  *VaultBlock
	Groups []*Group
}

// Group is a task group.
type Group struct {
	Name  Str
	Range hcl.Range
	Vault *VaultBlock
	Tasks []*Task
}

// Task is a task and the Vault-related blocks it carries.
type Task struct {
	Name  Str
	Range hcl.Range
	// Vault is the task's own vault block; use Job.EffectiveVault for the
	// block that applies after inheritance.
	Vault      *VaultBlock
	Identities []*Identity
	Templates  []*Template
	// Env are the names the task's env block sets: Nomad interpolates
	// them, like its own variables, into template destinations. Read from
	// HCL jobspecs only: an API job's environment stays out of the model
	// (and of snapshots), as its values may be secrets.
	Env []string
	// Secrets are the secret blocks (Nomad 1.11+) the task fetches: its
	// own and those jobspec2 copies in from the group and job.
	Secrets []*Secret
	// SecretRefs are the ${secret.NAME.KEY} references where Nomad fills
	// them: the task's env values and its templates' source and
	// destination (HCL jobspecs only).
	SecretRefs []SecretRef
}

// Secret is a secret block (Nomad 1.11+). Nomad fetches it before the
// task starts and offers its keys as ${secret.NAME.KEY}.
type Secret struct {
	Range    hcl.Range
	Name     Str
	Provider Str
	Path     Str
	// PathRuntimeVar is the first ${NAME} of a path that is not known
	// because it names a run-time variable: jobspec2 leaves it as text.
	PathRuntimeVar string
	// Engine is config.engine: "kv" (the default) or "kv_v2".
	Engine Str
	// ConfigRange is the config block's header, when there is one.
	ConfigRange hcl.Range
	// Level is where it is written: "job", "group" or "task".
	Level string
}

// Secret providers built into Nomad 1.11
// (client/allocrunner/taskrunner/secrets_hook.go); any other name is a
// custom plugin.
const (
	SecretProviderVault = "vault"
	SecretProviderNomad = "nomad"
)

// IsVault reports whether the block reads Vault.
func (s *Secret) IsVault() bool {
	return s.Provider.IsKnown() && s.Provider.V == SecretProviderVault
}

// KVv2 reports whether the block asks for the KV version 2 shape: Nomad
// 1.11 (secrets/vault_provider.go) compares engine with "kv_v2" and reads
// every other value, and no value, as "kv".
func (s *Secret) KVv2() bool {
	return s.Engine.IsKnown() && s.Engine.V == "kv_v2"
}

// SecretRef is one ${secret.NAME.KEY} in a task.
type SecretRef struct {
	Name, Key string
	Range     hcl.Range
	// In is where it is written: "env NAME", "template destination"...
	In string
}

// VaultBlock is a jobspec vault {} block at job, group or task level.
type VaultBlock struct {
	Range     hcl.Range
	Policies  List // legacy flow only; ignored by Nomad 1.10+
	Role      Str
	Cluster   Str // "default" when unset
	Namespace Str
	// ChangeMode is what Nomad does when it replaces the task's token:
	// "restart" (the default), "signal" or "noop".
	ChangeMode Str
	// AllowTokenExpiration turns Nomad's renewal of the token off.
	AllowTokenExpiration Bool
	// Level is "job", "group" or "task".
	Level string
}

// ChangeModeName returns the block's change_mode, Nomad's default
// "restart" when unset; "" when it is written but not known.
func (v *VaultBlock) ChangeModeName() string {
	return changeMode(v.ChangeMode)
}

// Renews reports whether Nomad renews the block's token: unless
// allow_token_expiration is true (or not known).
func (v *VaultBlock) Renews() bool {
	return !v.AllowTokenExpiration.Set || (v.AllowTokenExpiration.Known && !v.AllowTokenExpiration.V)
}

// changeMode reads a change_mode: Nomad's default "restart" when unset,
// "" when not known.
func changeMode(s Str) string {
	switch {
	case !s.Set:
		return "restart"
	case !s.Known:
		return ""
	}
	return strings.ToLower(s.V)
}

// ClusterName returns the Vault cluster the block uses.
func (v *VaultBlock) ClusterName() string {
	if v != nil && v.Cluster.IsKnown() && v.Cluster.V != "" {
		return v.Cluster.V
	}
	return "default"
}

// Identity is a workload identity block. The one Nomad uses for Vault is
// named vault_<cluster>.
type Identity struct {
	Range hcl.Range
	Name  Str
	Aud   List
	TTL   Str
}

// Template is a template block.
type Template struct {
	Range     hcl.Range
	Data      Str // inline template text; Range covers the whole expression
	DataStart hcl.Pos
	// DataFile is the file the text was read from when it is not the
	// jobspec itself (data = file("..."), or a source in the repository).
	DataFile    *File
	Source      Str
	Destination Str
	Env         Bool
	// ChangeMode is what Nomad does when the template renders new
	// content: "restart" (the default), "signal", "script" or "noop".
	ChangeMode Str
	LeftDelim  Str
	RightDelim Str

	// calls are the Vault calls of Data, parsed once (VaultCalls).
	callsOnce sync.Once
	calls     []templates.Access
	callsErr  error
}

// VaultCalls returns the Vault calls in the template's inline text
// (templates.Find with its delimiters), parsed on first use and kept:
// the loader parses every template while it reads the files, in
// parallel, and every rule then shares the answer. The text must not
// change after the first call; the result must not be modified.
func (t *Template) VaultCalls() ([]templates.Access, error) {
	t.callsOnce.Do(func() {
		if !t.Data.Known {
			t.callsErr = errors.New("the template text is not known")
			return
		}
		if !strings.Contains(t.Data.V, "secret") && !strings.Contains(t.Data.V, "pkiCert") {
			// Vault is only reached through secret, secrets and
			// pkiCert, named as such: a text without them calls nothing
			// (its syntax errors, if any, are no rule's business).
			return
		}
		t.calls, t.callsErr = parsedCalls(t.Data.V, t.LeftDelim.V, t.RightDelim.V)
	})
	return t.calls, t.callsErr
}

// parsed keeps templates.Find's answers by text and delimiters. A
// fleet's jobs share their templates (10,000 generated jobs had 73,000
// templates of 24,500 texts; real ones come from a few shared files),
// watch mode reads the same texts again, and parsing was most of
// doctor's rule time. It is dropped whole once its texts pass
// maxParsedText bytes, so memory stays bounded however long a run.
var parsed struct {
	sync.Mutex
	calls map[parseKey]parseAnswer
	text  int
}

const maxParsedText = 64 << 20

type parseKey struct{ text, left, right string }

type parseAnswer struct {
	calls []templates.Access
	err   error
}

// ForgetParsedTemplates drops the kept answers, for benchmarks that
// time a cold run.
func ForgetParsedTemplates() {
	parsed.Lock()
	defer parsed.Unlock()
	parsed.calls, parsed.text = nil, 0
}

func parsedCalls(text, left, right string) ([]templates.Access, error) {
	k := parseKey{text, left, right}
	parsed.Lock()
	a, ok := parsed.calls[k]
	parsed.Unlock()
	if ok {
		return a.calls, a.err
	}
	calls, err := templates.Find(text, left, right)
	a = parseAnswer{slices.Clip(calls), err}
	parsed.Lock()
	defer parsed.Unlock()
	if parsed.calls == nil || parsed.text+len(text) > maxParsedText {
		parsed.calls, parsed.text = map[parseKey]parseAnswer{}, 0
	}
	parsed.calls[k] = a
	parsed.text += len(text)
	return a.calls, a.err
}

// EffectiveVault returns the vault block that applies to task t of group g:
// the most specific level wins.
func (j *Job) EffectiveVault(g *Group, t *Task) *VaultBlock {
	switch {
	case t.Vault != nil:
		return t.Vault
	case g.Vault != nil:
		return g.Vault
	default:
		return j.Vault
	}
}

// VaultIdentity returns the task's identity for the given Vault cluster
// (named vault_<cluster>), or nil.
func (t *Task) VaultIdentity(cluster string) *Identity {
	for _, id := range t.Identities {
		if id.Name.V == "vault_"+cluster {
			return id
		}
	}
	return nil
}

// WorkloadID returns the value of the nomad_job_id claim: the parent job
// for dispatched and periodic children (Nomad 1.8.4+).
func (j *Job) WorkloadID() string {
	if j.ParentID.IsKnown() && j.ParentID.V != "" {
		return j.ParentID.V
	}
	return j.ID.V
}

// NamespaceName returns the job's namespace.
func (j *Job) NamespaceName() string {
	if j.Namespace.IsKnown() && j.Namespace.V != "" {
		return j.Namespace.V
	}
	return "default"
}

// AgentConfig is a Nomad agent configuration (file or agent/self).
type AgentConfig struct {
	Meta
	// Region is the agent's region (Nomad's default is "global"): its
	// clients log in with the region's workload identities.
	Region Str
	Server Bool // server { enabled }
	// RootKeyRotation is server { root_key_rotation_threshold }: how old
	// the active key grows before Nomad signs with a new one. Unset on a
	// server means Nomad's default.
	RootKeyRotation Seconds
	Client          Bool // client { enabled }
	Vaults          []*VaultConfig
	// VaultRetry is client { template { vault_retry } }: how long the
	// clients' template runners keep retrying Vault before they give up.
	VaultRetry *RetryConfig
}

// RetryConfig is a client template retry block. Unset values take
// Nomad's defaults (client/config DefaultTemplateConfig).
type RetryConfig struct {
	Range      hcl.Range
	Attempts   Value[int64] // 0 retries for ever
	Backoff    Str          // a Go duration
	MaxBackoff Str          // a Go duration; "0" leaves the backoff unbounded
}

// VaultConfig is one agent vault {} block.
type VaultConfig struct {
	Range                hcl.Range
	Name                 Str // "default" when unset
	Enabled              Bool
	Address              Str
	Token                Str // never printed
	CreateFromRole       Str
	AllowUnauthenticated Bool // legacy; Nomad's default is true
	TaskTokenTTL         Str
	JWTAuthBackendPath   Str // default "jwt-nomad"
	Namespace            Str
	DefaultIdentity      *DefaultIdentity
	// Attrs are every key written in the block, for unknown-key checks.
	Attrs  []Attr
	Blocks []Attr
}

// ClusterName returns the cluster name of the block.
func (v *VaultConfig) ClusterName() string {
	if v.Name.IsKnown() && v.Name.V != "" {
		return v.Name.V
	}
	return "default"
}

// AllowsUnauthenticated reports Nomad's effective allow_unauthenticated.
func (v *VaultConfig) AllowsUnauthenticated() bool {
	if v.AllowUnauthenticated.IsKnown() {
		return v.AllowUnauthenticated.V
	}
	return true
}

// DefaultIdentity is the server's vault.default_identity block.
type DefaultIdentity struct {
	Range hcl.Range
	Aud   List
	TTL   Str
	// ExtraClaims (Nomad 1.8.3+) are added, interpolated, under the
	// extra_claims object of every Vault identity the servers sign
	// (nomad/structs/workload_id.go), whether the task declares its
	// identity or takes this default. Values keep Nomad's ${...}
	// placeholders as written.
	ExtraClaims Map
	Attrs       []Attr
}

// RegionName returns the agent's region, "global" when unset.
func (a *AgentConfig) RegionName() string {
	if a.Region.IsKnown() && a.Region.V != "" {
		return a.Region.V
	}
	return "global"
}

// RegionName returns the job's region, "global" when unset.
func (j *Job) RegionName() string {
	if j.Region.IsKnown() && j.Region.V != "" {
		return j.Region.V
	}
	return "global"
}

// AuthPath is the auth mount the agent's clients log tasks in at, for
// this vault block: jwt_auth_backend_path, else Nomad's default.
func (v *VaultConfig) AuthPath() string {
	if v.JWTAuthBackendPath.IsKnown() && v.JWTAuthBackendPath.V != "" {
		return v.JWTAuthBackendPath.V
	}
	return "jwt-nomad"
}

// DefaultVault returns the agent's vault block for cluster "default".
func (a *AgentConfig) DefaultVault() *VaultConfig {
	return a.Vault("default")
}

// Vault returns the agent's vault block for a cluster, or nil.
func (a *AgentConfig) Vault(cluster string) *VaultConfig {
	for _, v := range a.Vaults {
		if v.ClusterName() == cluster {
			return v
		}
	}
	return nil
}

// ChangeModeName returns the template's change_mode, Nomad's default
// "restart" when unset; "" when it is written but not known.
func (t *Template) ChangeModeName() string {
	return changeMode(t.ChangeMode)
}

// TextRange maps a span of the template's text (1-based line and column,
// byte offset and length within Data) to its range in the file. Heredoc
// indentation stripping and escapes can shift columns, so the result is
// checked against the source and falls back to the template block.
func (t *Template) TextRange(f *File, line, col, offset, length int) hcl.Range {
	if t.DataFile != nil {
		f = t.DataFile
	}
	if f == nil || !t.Data.Known || offset < 0 || offset+length > len(t.Data.V) {
		return t.Range
	}
	want := t.Data.V[offset : offset+length]
	start := t.DataStart
	if b := start.Byte + offset; b >= 0 && b+length <= len(f.Src) && string(f.Src[b:b+length]) == want {
		// The text is verbatim in the file: count lines from the start.
		return f.rangeOf(b, b+length)
	}
	// Otherwise find the text on the line it should be on.
	lineNo := start.Line + line - 1
	lineStart := f.lineOffset(lineNo)
	if lineStart < 0 {
		return t.Range
	}
	end := len(f.Src)
	if i := bytes.IndexByte(f.Src[lineStart:], '\n'); i >= 0 {
		end = lineStart + i
	}
	if i := strings.Index(string(f.Src[lineStart:end]), want); i >= 0 {
		return f.rangeOf(lineStart+i, lineStart+i+length)
	}
	return t.Range
}

// rangeOf is the range of bytes a to b of the file.
func (f *File) rangeOf(a, b int) hcl.Range {
	return hcl.Range{Filename: f.Path, Start: f.posOf(a), End: f.posOf(b)}
}

// posOf is the position of byte off: lines end at '\n', columns count
// runes. A template with many Vault calls asks for one per call, so the
// line starts are found once per file.
func (f *File) posOf(off int) hcl.Pos {
	starts := f.lineStarts()
	i, _ := slices.BinarySearch(starts, off+1) // the lines starting at or before off
	line := max(i, 1)
	from := starts[line-1]
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(f.Src[from:off]), Byte: off}
}

// lineOffset is the byte offset of line n (1-based), -1 past the end.
func (f *File) lineOffset(n int) int {
	starts := f.lineStarts()
	if n < 1 || n > len(starts) {
		return -1
	}
	return starts[n-1]
}

func (f *File) lineStarts() []int {
	if p := f.lines.Load(); p != nil {
		return *p
	}
	starts := []int{0}
	for i, c := range f.Src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	f.lines.Store(&starts)
	return starts
}
