package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"
)

// maxReason bounds a problem's reason: a server's error page is evidence,
// not a report.
const maxReason = 300

// statusError is an HTTP answer that was not a success, from any client.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("HTTP %d", e.code)
	}
	return fmt.Sprintf("%d %s", e.code, e.msg)
}

// statusOf returns the HTTP status an error carries, or 0 when the server
// gave no answer (refused, timed out, TLS failure...).
func statusOf(err error) int {
	var se *statusError
	var ve *vaultapi.ResponseError
	var ne nomadapi.UnexpectedResponseError
	var na *notAPIError
	switch {
	case errors.As(err, &na):
		return na.status
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ve):
		return ve.StatusCode
	case errors.As(err, &ne):
		return ne.StatusCode()
	}
	return 0
}

// reason turns an error into the short text a Problem carries: the status
// and the server's own message for HTTP errors, the network cause
// otherwise. It is redacted later, with every secret known by then.
func reason(err error, timeout time.Duration) string {
	var ve *vaultapi.ResponseError
	var ne nomadapi.UnexpectedResponseError
	var se *statusError
	var ue *url.Error
	var syn *json.SyntaxError
	var na *notAPIError
	var s string
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotReadOnly):
		s = err.Error()
	case errors.As(err, &na):
		s = na.Error()
	case errors.As(err, &se):
		s = se.Error()
	case errors.As(err, &ve) && ve.RawError:
		// Vault's client keeps a body it could not decode as JSON whole.
		s = fmt.Sprintf("%d, the answer is not JSON: %s", ve.StatusCode, excerpt([]byte(strings.Join(ve.Errors, " "))))
	case errors.As(err, &ve):
		s = fmt.Sprintf("%d %s", ve.StatusCode, vaultErrors(ve.Errors))
		if len(ve.Errors) == 0 {
			s = fmt.Sprintf("%d (no error message)", ve.StatusCode)
		}
	case errors.As(err, &ne) && strings.HasPrefix(strings.TrimSpace(ne.Body()), "<"):
		s = fmt.Sprintf("%d %s", ne.StatusCode(), excerpt([]byte(ne.Body())))
	case errors.As(err, &ne):
		s = fmt.Sprintf("%d %s", ne.StatusCode(), ne.Body())
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		s = "the answer is not JSON: " + err.Error()
	case isTimeout(err):
		s = fmt.Sprintf("no answer within %s (timeout)", timeout)
	case errors.Is(err, context.Canceled):
		s = "cancelled"
	case errors.As(err, &ue):
		s = ue.Err.Error()
	default:
		s = err.Error()
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxReason {
		s = s[:maxReason] + "..."
	}
	return s
}

// multiError is the heading Vault puts over its error lists
// ("1 error occurred:\n\t* permission denied").
var multiError = regexp.MustCompile(`^\d+ errors? occurred:\s*`)

// vaultErrors joins Vault's error messages without the list heading and
// bullets Vault wraps them in.
func vaultErrors(errs []string) string {
	var out []string
	for _, e := range errs {
		e = multiError.ReplaceAllString(strings.TrimSpace(e), "")
		for _, line := range strings.Split(e, "\n") {
			if line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "* ")); line != "" {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "; ")
}

// isTimeout reports whether err is a request that got no answer in time.
func isTimeout(err error) bool {
	var nerr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()
}

// excerpt is the start of a body, for "not JSON" reasons. Markup (an
// error page) is named, not quoted: its text is noise in a report.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if strings.HasPrefix(s, "<") {
		return fmt.Sprintf("an HTML or XML page (%d bytes)", len(b))
	}
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	if s == "" {
		return "an empty body"
	}
	return fmt.Sprintf("%q", s)
}
