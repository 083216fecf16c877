// Package live fills the world from running Nomad and Vault clusters, so
// every rule that runs on files (nvlint lint) runs on live state too
// (nvlint doctor).
//
// Collect reads and never writes: both API clients go through a transport
// that refuses every method but GET, HEAD and LIST (and POST to Vault's
// sys/capabilities-self, which only answers questions). Every request has
// its own timeout, independent requests run concurrently on a bounded
// pool, and whatever fails becomes a world.Problem instead of an error:
// a half-reachable cluster still yields a full report.
//
// Objects are decoded by the same readers as files (inputs.LiveObject,
// inputs.LivePolicy), so a rule cannot tell where a fact came from. No
// token is stored in the world; every token seen is registered in the
// returned redact.Secrets so reports can mask it.
package live

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/world"
)

// Options says which clusters to read and how.
type Options struct {
	// Vault is the Vault client configuration (address, TLS), built by the
	// caller from the environment and flags; nil: Vault is not checked.
	// It is not modified.
	Vault *vaultapi.Config
	// VaultToken and VaultNamespace are used as given (VAULT_TOKEN and
	// VAULT_NAMESPACE in the environment are not looked at here).
	VaultToken, VaultNamespace string
	// Nomad is the Nomad client configuration (Address, SecretID, Region,
	// Namespace, TLSConfig or HttpClient); nil: Nomad is not checked. It
	// is not modified.
	Nomad *nomadapi.Config
	// Regions narrows the Nomad regions read; empty: every region of the
	// federation (/v1/regions). Each is read through Nomad's address,
	// whose servers forward what is for another region.
	Regions []string
	// Namespaces narrows the Nomad namespaces whose jobs are read; empty:
	// every namespace the token may list ("*"). Nomad.Namespace is not
	// looked at.
	Namespaces []string
	// ServerToken is the Nomad servers' own Vault token (legacy flow), to
	// look up and check as Nomad does; may be empty.
	ServerToken string
	// ServerTokenAt, when set, is where ServerToken is written in an agent
	// config file; it becomes VaultLive.ServerTokenAt.
	ServerTokenAt *hcl.Range
	// JWTMounts are auth mount paths to read as JWT auth methods besides
	// those sys/auth lists with type jwt or oidc.
	JWTMounts []string
	// RequestTimeout bounds each request (default 5s).
	RequestTimeout time.Duration
	// RegionDeadline bounds the reads of each Nomad region, so one slow
	// region cannot use up the whole run's time (0: no bound but the
	// run's).
	RegionDeadline time.Duration
	// VaultRequestTimeout bounds each Vault request instead, when set
	// (VAULT_CLIENT_TIMEOUT).
	VaultRequestTimeout time.Duration
	// NoVaultToken says why VaultToken is empty, for the report ("" for
	// a generic reason). Without a token only sys/health is read.
	NoVaultToken string
	// VaultNamespaces are further Vault namespaces whose policies and JWT
	// auth methods to read (Enterprise), besides VaultNamespace. Those the
	// jobs read from Nomad and their agents name are added.
	VaultNamespaces []string
	// VaultClusters are the Vault clusters to read besides the default
	// one (Nomad Enterprise: agent vault blocks with a name, which jobs
	// pick with vault.cluster). Each is read as the default one is, with
	// the same timeouts; what it holds is tagged with its name.
	VaultClusters []VaultCluster
}

// VaultCluster is a Vault cluster other than the default one.
type VaultCluster struct {
	// Name is the cluster's name in Nomad's vault blocks; not "default".
	Name string
	// Config is its client configuration (address, TLS); it is not
	// modified.
	Config *vaultapi.Config
	// Token is used as given, in the root namespace; NoToken says why it
	// is empty, for the report. Without a token only sys/health is read.
	Token, NoToken string
	// Namespaces are Vault namespaces whose policies and JWT auth methods
	// to read (Enterprise); those the jobs read and their agents name for
	// the cluster are added.
	Namespaces []string
}

// DefaultRequestTimeout is the per-request timeout when Options leaves it
// zero.
const DefaultRequestTimeout = 5 * time.Second

// workers bounds the requests in flight at once, across both clusters.
const workers = 8

// Collect reads the clusters o names into a world with World.Live set.
// It never fails: what could not be read is a Problem in World.Live. The
// secrets are every token given or seen; mask them in anything printed.
func Collect(ctx context.Context, o Options) (*world.World, *redact.Secrets) {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.VaultRequestTimeout <= 0 {
		o.VaultRequestTimeout = o.RequestTimeout
	}
	c := &collector{
		o:       o,
		ctx:     ctx,
		sem:     make(chan struct{}, workers),
		secrets: &redact.Secrets{},
		w:       &world.World{},
		live:    &world.Live{CollectedAt: time.Now().UTC()},
	}
	c.secrets.Add(o.VaultToken, o.ServerToken)
	if o.Vault != nil {
		c.secrets.Add(urlPassword(o.Vault.Address))
	}
	for _, vc := range o.VaultClusters {
		c.secrets.Add(vc.Token)
		if vc.Config != nil {
			c.secrets.Add(urlPassword(vc.Config.Address))
		}
	}
	if o.Nomad != nil {
		c.secrets.Add(o.Nomad.SecretID, urlPassword(o.Nomad.Address))
		if o.Nomad.HttpAuth != nil {
			c.secrets.Add(o.Nomad.HttpAuth.Password)
		}
	}
	c.w.Live = c.live

	// Phase 1: is each side there at all? A side that cannot be reached
	// yields one fatal problem and nothing else.
	var nomadUp bool
	if o.Vault != nil {
		c.live.Vault = &world.VaultLive{Addr: o.Vault.Address, Namespace: strings.Trim(o.VaultNamespace, "/")}
		c.vaults = append(c.vaults, &vaultCluster{
			name: world.DefaultCluster, cfg: o.Vault, token: o.VaultToken, namespace: o.VaultNamespace, noToken: o.NoVaultToken,
			namespaces: o.VaultNamespaces, serverToken: o.ServerToken, timeout: o.VaultRequestTimeout, live: c.live.Vault,
			side: &breaker{area: "vault", name: "Vault", addr: o.Vault.Address, timeout: o.VaultRequestTimeout},
		})
	}
	for _, x := range o.VaultClusters {
		if x.Config == nil {
			continue
		}
		l := &world.VaultLive{Cluster: x.Name, Addr: x.Config.Address}
		c.live.VaultClusters = append(c.live.VaultClusters, l)
		c.vaults = append(c.vaults, &vaultCluster{
			name: x.Name, cfg: x.Config, token: x.Token, noToken: x.NoToken, namespaces: x.Namespaces,
			timeout: o.VaultRequestTimeout, live: l,
			side: &breaker{area: "vault", name: "Vault cluster " + x.Name, addr: x.Config.Address, label: world.ClusterLabel(x.Name), timeout: o.VaultRequestTimeout},
		})
	}
	if len(c.vaults) > 0 {
		c.fetch = jwksClient(&tls.Config{MinVersion: tls.VersionTLS12})
		c.own(c.fetch)
	}
	up := make([]bool, len(c.vaults))
	for i, vc := range c.vaults {
		c.spawn("vault", vc.at("setup"), func() { up[i] = c.vaultSetup(vc) })
	}
	if o.Nomad != nil {
		c.live.Nomad = &world.NomadLive{Addr: nomadAddress(o.Nomad), LegacyTokens: -1}
		c.nomadSide = &breaker{area: "nomad", name: "Nomad", addr: nomadAddress(o.Nomad), timeout: o.RequestTimeout}
		c.spawn("nomad", "setup", func() { nomadUp = c.nomadSetup() })
	}
	c.wg.Wait()

	// Phase 2: everything else, concurrently: every Vault cluster and
	// Nomad.
	for i, vc := range c.vaults {
		if up[i] {
			c.vaultCollect(vc)
		}
	}
	if nomadUp {
		c.nomadCollect()
	}
	c.wg.Wait()

	// Phase 3: what the jobs, running tasks and mount table just read
	// name: the Vault namespaces of the jobs, each of which keeps its own
	// auth mounts, roles and policies, in each cluster; and the database
	// and PKI roles the running tasks' templates read there.
	c.mu.Lock()
	uses := forecast.LeaseUses(c.w)
	c.mu.Unlock()
	for i, vc := range c.vaults {
		if !up[i] || vc.token == "" {
			continue
		}
		if vc.enterprise {
			if extra := c.vaultNamespaces(vc); len(extra) > 0 {
				c.vaultCollectNamespaces(vc, extra)
			}
		}
		c.vaultLeaseRoles(vc.base(), uses)
	}
	c.wg.Wait()

	for _, cancel := range c.cancels {
		cancel()
	}
	c.finish()
	// The connections of the clients Collect made are of no further use:
	// a caller collecting again would otherwise pile them up (Nomad
	// resets clients with over 100 connections).
	for _, hc := range c.owned {
		hc.CloseIdleConnections()
	}
	return c.w, c.secrets
}

// collector is one Collect run.
type collector struct {
	o       Options
	ctx     context.Context
	sem     chan struct{}
	secrets *redact.Secrets
	wg      sync.WaitGroup

	// vaults are the Vault clusters to read, the default one first;
	// their clients are set in phase 1.
	vaults []*vaultCluster
	nomad  *nomadapi.Client
	// nomadHC is the read-only HTTP client of nomad, shared with the
	// clients for other agents.
	nomadHC *http.Client
	fetch   *http.Client // JWKS URLs
	// owned are the HTTP clients Collect made (not the caller's), whose
	// idle connections it closes when done; set in phase 1.
	owned []*http.Client

	nomadSide *breaker

	// createFromRole is the Nomad agents' create_from_role, read in
	// phase 1 for the server token's capability check.
	createFromRole string

	// regionSides are the breakers of the Nomad regions, each with the
	// region's deadline; cancels release their contexts. Guarded by mu.
	regionSides map[string]*breaker
	cancels     []context.CancelFunc
	// overdue are the regions whose deadline was reported. Guarded by mu.
	overdue map[string]bool

	// home is the region of the agent doctor talks to, set in phase 1;
	// multi is set once the regions are listed, before any read for
	// one: with more than one, reads and problems name their region.
	home  string
	multi bool

	mu   sync.Mutex // guards w and live from phase 2 on
	w    *world.World
	live *world.Live
}

// spawn runs f on its own goroutine, turning a panic into a Problem.
func (c *collector) spawn(area, what string, f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				c.problem(area, what, fmt.Sprintf("internal error: %v (please report it: %s)", r, firstFrames(debug.Stack())))
			}
		}()
		f()
	}()
}

// urlPassword is the password of an address with user info, if any.
func urlPassword(addr string) string {
	u, err := url.Parse(addr)
	if err != nil || u.User == nil {
		return ""
	}
	p, _ := u.User.Password()
	return p
}

// firstFrames keeps the panicking function's frame, for a bug report.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+3 < len(lines) {
			return strings.TrimSpace(lines[i+2]) + " " + strings.TrimSpace(lines[i+3])
		}
	}
	return "no stack"
}

// request runs f with a slot of the worker pool and a context bounded by
// the request timeout. side (nil for URLs outside the clusters) stops
// sending to a cluster that has stopped answering.
func (c *collector) request(side *breaker, f func(ctx context.Context) error) error {
	if side.open() {
		return errSkipped
	}
	parent := c.ctx
	if side != nil && side.ctx != nil {
		parent = side.ctx // a region's deadline
	}
	select {
	case c.sem <- struct{}{}:
	case <-parent.Done():
		return parent.Err()
	}
	defer func() { <-c.sem }()
	if side.open() { // tripped while this request waited for a slot
		return errSkipped
	}
	ctx, cancel := context.WithTimeout(parent, c.timeout(side))
	defer cancel()
	err := f(ctx)
	// A server that sheds load (429) or is briefly unavailable (503)
	// asks to be asked later: back off and try again within the
	// request's own timeout, holding the slot so the pool slows down.
	for delay := backoffStart; err != nil && retryable(statusOf(err)); delay *= 2 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return err
		}
		err = f(ctx)
	}
	if timeouts, tripped := side.record(err, parent); tripped {
		c.problem(side.area, side.addr+side.label, fmt.Sprintf("%s stopped answering: %d requests got no answer within %s; the rest of it was not read",
			side.name, timeouts, side.timeout))
	}
	return err
}

// backoffStart is the first wait before asking again a server that
// answered 429 or 503; each retry waits twice as long, until the
// request's timeout.
const backoffStart = 100 * time.Millisecond

// retryable reports whether an HTTP status asks the client to come back
// later.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// timeout is the request timeout of a side (nil: URLs outside the
// clusters).
func (c *collector) timeout(side *breaker) time.Duration {
	if side == nil {
		return c.o.RequestTimeout
	}
	return side.timeout
}

// errSkipped is a request not sent because its cluster stopped answering;
// the one problem saying so was recorded when that was noticed.
var errSkipped = errors.New("skipped: the cluster stopped answering")

// tripAfter is how many timeouts, outnumbering the answers, make a side
// stop sending: a cluster that answered the first request and then hangs
// would otherwise cost one timeout per object.
const tripAfter = 3

// breaker counts a cluster's timeouts and answers.
type breaker struct {
	area, name, addr string
	// label follows addr in a problem: the Vault cluster, when not the
	// default one.
	label   string
	timeout time.Duration
	// ctx, when set, bounds the side's reads (a region's deadline).
	ctx context.Context

	mu                  sync.Mutex
	timeouts, successes int
	tripped             bool
}

func (b *breaker) open() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tripped
}

// record counts the outcome of a request and reports whether it tripped
// the breaker, with the timeout count at that moment (read under the lock:
// other requests keep counting).
func (b *breaker) record(err error, parent context.Context) (timeouts int, tripped bool) {
	if b == nil || parent.Err() != nil {
		return 0, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case err == nil || statusOf(err) != 0:
		b.successes++ // an HTTP answer, even an error, is an answer
	case isTimeout(err):
		b.timeouts++
		if !b.tripped && b.timeouts >= tripAfter && b.timeouts > b.successes {
			b.tripped = true
			return b.timeouts, true
		}
	}
	return b.timeouts, false
}

// nomadFail records a failed read of Nomad, unless it was skipped.
func (c *collector) nomadFail(what string, err error) {
	if errors.Is(err, errSkipped) {
		return
	}
	r := reason(err, c.timeout(c.nomadSide))
	if statusOf(err) == http.StatusForbidden && c.o.Nomad.SecretID == "" {
		r += " (no token: NOMAD_TOKEN is unset)"
	}
	c.problem("nomad", what, r)
}

// problem records what could not be collected, with the areas that
// cannot be called ok without it; finish redacts it.
func (c *collector) problem(area, what, reason string) {
	c.record(world.Problem{Area: area, What: what, Reason: reason, Areas: AreasOf(area, what)})
}

// sideProblem records that nothing more of a side is read, though it
// answered: every area resting on its reads is unchecked.
func (c *collector) sideProblem(area, what, reason string) {
	c.record(world.Problem{Area: area, What: what, Reason: reason, Areas: SideAreas(area)})
}

// fatal records that a whole side could not be reached.
func (c *collector) fatal(area, what, reason string) {
	c.record(world.Problem{Area: area, What: what, Reason: reason, Fatal: true, Areas: SideAreas(area)})
}

func (c *collector) record(p world.Problem) {
	if p.Cluster == "" {
		p.Cluster = clusterOfWhat(p.What)
	}
	if p.Cluster != "" {
		// Nomad's legacy token flow is the default cluster's alone.
		p.Areas = slices.DeleteFunc(slices.Clone(p.Areas), func(a string) bool { return a == world.AreaLegacy })
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live.Problems = append(c.live.Problems, p)
}

// clusterOfWhat is the Vault cluster a problem's What names after its
// path ("sys/auth (vault cluster payments, Vault namespace team-a)"), ""
// for the default one.
func clusterOfWhat(what string) string {
	_, rest, ok := strings.Cut(what, "(vault cluster ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ")")
	name, _, _ = strings.Cut(name, ",")
	return name
}

// merge adds the objects of part (read through inputs) to the world.
func (c *collector) merge(part *world.World) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Jobs = append(c.w.Jobs, part.Jobs...)
	c.w.Agents = append(c.w.Agents, part.Agents...)
	c.w.Policies = append(c.w.Policies, part.Policies...)
	c.w.TokenRoles = append(c.w.TokenRoles, part.TokenRoles...)
	c.w.JWTConfigs = append(c.w.JWTConfigs, part.JWTConfigs...)
	c.w.JWTRoles = append(c.w.JWTRoles, part.JWTRoles...)
}

// own records an HTTP client Collect made, to close its idle
// connections when done.
func (c *collector) own(hc *http.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.owned = append(c.owned, hc)
}

// update runs f with the live state locked.
func (c *collector) update(f func(l *world.Live)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.live)
}

// clusterOrder orders objects by Vault cluster, the default one first.
func clusterOrder(a, b *world.Meta) int {
	x, y := a.Cluster.V, b.Cluster.V
	return cmp.Or(cmp.Compare(bool2int(x != world.DefaultCluster), bool2int(y != world.DefaultCluster)), cmp.Compare(x, y))
}

func bool2int(b bool) int {
	if b {
		return 1
	}
	return 0
}

// finish sorts everything into a stable order and redacts what came from
// the wire.
func (c *collector) finish() {
	w, l := c.w, c.live
	// The namespace doctor's token reads in sorts before the others (it
	// is "" or their parent): a job that names no namespace finds its
	// objects first.
	// The default cluster's objects sort before those of the others.
	slices.SortFunc(w.Policies, func(a, b *world.Policy) int {
		return cmp.Or(clusterOrder(&a.Meta, &b.Meta), cmp.Compare(a.Namespace.V, b.Namespace.V), cmp.Compare(a.Ref.Name, b.Ref.Name))
	})
	slices.SortFunc(w.TokenRoles, func(a, b *world.TokenRole) int {
		return cmp.Or(clusterOrder(&a.Meta, &b.Meta), cmp.Compare(a.Ref.Name, b.Ref.Name))
	})
	slices.SortFunc(w.JWTConfigs, func(a, b *world.JWTAuthConfig) int {
		return cmp.Or(clusterOrder(&a.Meta, &b.Meta), cmp.Compare(a.Namespace.V, b.Namespace.V), cmp.Compare(a.Mount, b.Mount))
	})
	slices.SortFunc(w.JWTRoles, func(a, b *world.JWTRole) int {
		return cmp.Or(clusterOrder(&a.Meta, &b.Meta), cmp.Compare(a.Namespace.V, b.Namespace.V), cmp.Compare(a.Mount, b.Mount), cmp.Compare(a.Ref.Name, b.Ref.Name))
	})
	slices.SortFunc(w.Jobs, func(a, b *world.Job) int {
		return cmp.Or(cmp.Compare(a.NamespaceName(), b.NamespaceName()), cmp.Compare(a.ID.V, b.ID.V))
	})
	slices.SortFunc(w.Agents, func(a, b *world.AgentConfig) int { return cmp.Compare(a.Ref.Name, b.Ref.Name) })
	slices.SortFunc(l.Problems, func(a, b world.Problem) int {
		return cmp.Or(cmp.Compare(a.Area, b.Area), cmp.Compare(a.What, b.What), cmp.Compare(a.Reason, b.Reason))
	})
	for i := range l.Problems {
		p := &l.Problems[i]
		p.What, p.Reason = c.secrets.String(p.What), c.secrets.String(p.Reason)
	}
	slices.SortFunc(l.VaultClusters, func(a, b *world.VaultLive) int { return cmp.Compare(a.Cluster, b.Cluster) })
	for _, v := range l.Vaults() {
		slices.SortFunc(v.AuthMounts, func(a, b world.AuthMount) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Path, b.Path))
		})
		slices.SortFunc(v.EngineMounts, func(a, b world.EngineMount) int { return cmp.Compare(a.Path, b.Path) })
		v.TokenMountTuneError = c.secrets.String(v.TokenMountTuneError)
		c.sortLeases(v)
		for _, j := range v.JWKS {
			j.URL, j.Error = c.secrets.String(j.URL), c.secrets.String(j.Error)
		}
	}
	if n := l.Nomad; n != nil {
		n.KeyringError = c.secrets.String(n.KeyringError)
		slices.SortFunc(n.Members, func(a, b world.NomadMember) int { return cmp.Compare(a.Name, b.Name) })
		slices.SortFunc(n.Nodes, func(a, b world.NomadNode) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
		slices.SortFunc(n.FailingAllocs, func(a, b world.NomadAlloc) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.JobID, b.JobID), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Task, b.Task))
		})
		slices.SortFunc(n.RunningTasks, func(a, b world.NomadTask) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.JobID, b.JobID), cmp.Compare(a.AllocID, b.AllocID), cmp.Compare(a.Task, b.Task))
		})
		for i := range n.FailingAllocs {
			for j := range n.FailingAllocs[i].Events {
				e := &n.FailingAllocs[i].Events[j]
				e.Message = c.secrets.String(e.Message)
			}
		}
		if n.JWKS != nil {
			n.JWKS.Error = c.secrets.String(n.JWKS.Error)
		}
	}
}
