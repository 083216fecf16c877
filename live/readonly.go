package live

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// capabilitiesSelfPath is the one write-method endpoint doctor calls: Vault
// answers sys/capabilities-self only to POST (or PUT), yet it changes
// nothing.
const capabilitiesSelfPath = "/v1/sys/capabilities-self"

// maxBody bounds every response body read through a guarded client,
// decompressed, so a broken or hostile server cannot exhaust memory; the
// per-request timeout bounds the time.
const maxBody = 64 << 20

// UserAgent is sent with every request doctor makes, so an operator can
// tell its requests apart in Nomad's logs and Vault's audit log.
const UserAgent = "nvlint-doctor (read-only)"

// ErrNotReadOnly is returned (wrapped) for every request the read-only
// guard refuses. The request is never sent.
var ErrNotReadOnly = errors.New("refused: nvlint doctor only reads")

// readOnly is an http.RoundTripper that lets through only requests that
// cannot change anything: GET, HEAD and LIST, plus POST to
// /v1/sys/capabilities-self when allowCapabilities is set (the Vault
// client). Anything else fails before a byte leaves the process.
type readOnly struct {
	next              http.RoundTripper
	allowCapabilities bool
	// api, when set ("Vault", "Nomad"), turns an answer that is not that
	// API's into a notAPIError, so no web page reaches a message.
	api string
}

func (t *readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.allowed(req) {
		// A RoundTripper must close the body, even on error.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s %s", ErrNotReadOnly, req.Method, req.URL.Path)
	}
	// Say who is asking, for the servers' logs and Vault's audit device
	// (a RoundTripper must not change the caller's request).
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", UserAgent)
	resp, err := t.next.RoundTrip(req)
	if err == nil && t.api != "" && !isAPIAnswer(t.api, resp) {
		resp.Body.Close()
		return nil, &notAPIError{api: t.api, status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	}
	if resp != nil && resp.Body != nil {
		gunzip(resp)
		resp.Body = &limitedBody{r: io.LimitReader(resp.Body, maxBody+1), c: resp.Body}
	}
	return resp, err
}

// CloseIdleConnections closes the idle connections of the transport
// underneath, so http.Client.CloseIdleConnections reaches it.
func (t *readOnly) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *readOnly) allowed(req *http.Request) bool {
	switch strings.ToUpper(req.Method) {
	case http.MethodGet, http.MethodHead, "LIST":
		return true
	case http.MethodPost:
		return t.allowCapabilities && req.URL != nil && req.URL.Path == capabilitiesSelfPath
	}
	return false
}

// limitedBody fails a read past maxBody instead of silently truncating.
type limitedBody struct {
	r io.Reader
	c io.Closer
	n int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxBody {
		return n, fmt.Errorf("response larger than %d MiB", maxBody>>20)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

// isAPIAnswer reports whether a response can be the API's: Vault answers
// in JSON, Nomad too, but with plain-text errors. Anything else (an HTML
// page from a proxy or a web server at the address) is not.
func isAPIAnswer(api string, resp *http.Response) bool {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return resp.ContentLength == 0 // no body: nothing to mistake
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return true
	case api == "Nomad" && mt == "text/plain" && resp.StatusCode >= 400:
		return true
	}
	return false
}

// notAPIError is an answer that is not from the API asked: its status
// and content type, never its body.
type notAPIError struct {
	api         string
	status      int
	contentType string
}

func (e *notAPIError) Error() string {
	ct := e.contentType
	if ct == "" {
		ct = "no content type"
	}
	if len(ct) > 60 {
		ct = ct[:60] + "..."
	}
	return fmt.Sprintf("not a %s API answer: HTTP %d, %s", e.api, e.status, ct)
}

// guard returns a copy of c whose transport is wrapped in the read-only
// guard; c itself is not modified. A nil c or transport means the defaults.
func guard(c *http.Client, allowCapabilities bool) *http.Client {
	return guardAPI(c, allowCapabilities, "")
}

// guardAPI is guard that also refuses answers not from api.
func guardAPI(c *http.Client, allowCapabilities bool, api string) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = &readOnly{next: next, allowCapabilities: allowCapabilities, api: api}
	return &out
}
