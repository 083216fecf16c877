package live

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"
)

// gzipped is body compressed.
func gzipped(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGunzipNomadAnswers reads gzip answers through the Nomad client,
// many at once, so pooled readers are reused while others are in use:
// every answer must read back whole and as sent.
func TestGunzipNomadAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("%s: Nomad's client did not ask for gzip", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		id := strings.TrimPrefix(r.URL.Path, "/v1/job/")
		_, _ = w.Write(gzipped(t, []byte(`{"ID":"`+id+`","Meta":{"pad":"`+strings.Repeat(id, 4000)+`"}}`)))
	}))
	defer srv.Close()
	nc, _, err := newNomadClient(&nomadapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			id := strings.Repeat(string(rune('a'+i%26)), 1+i%7)
			var job struct {
				ID   string
				Meta map[string]string
			}
			if _, err := nc.Raw().Query("/v1/job/"+id, &job, nil); err != nil {
				t.Errorf("job %s: %v", id, err)
				return
			}
			if job.ID != id || job.Meta["pad"] != strings.Repeat(id, 4000) {
				t.Errorf("job %s read back as %q with %d bytes of padding", id, job.ID, len(job.Meta["pad"]))
			}
		})
	}
	wg.Wait()
}

// TestGunzipBounded: the size bound holds for what a gzip answer
// decompresses to, not for the few kilobytes sent.
func TestGunzipBounded(t *testing.T) {
	bomb := gzipped(t, bytes.Repeat([]byte{' '}, maxBody+1<<20))
	if len(bomb) > maxBody>>8 {
		t.Fatalf("the test's answer is %d bytes compressed", len(bomb))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip") // as Nomad's client does
	resp, err := guard(srv.Client(), false).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("read %d bytes, err %v; want a size error", n, err)
	}
}

// TestGunzipCorrupt: an answer that says gzip and is not fails to read,
// and closing it is safe.
func TestGunzipCorrupt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = io.WriteString(w, `{"not":"gzip"}`)
	}))
	defer srv.Close()
	nc, _, err := newNomadClient(&nomadapi.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if _, err := nc.Raw().Query("/v1/job/x", &v, nil); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("got %v, err %v; want a gzip error", v, err)
	}
	body := &gunzipBody{compressed: io.NopCloser(strings.NewReader("junk"))}
	if _, err := body.Read(make([]byte, 8)); err == nil {
		t.Error("junk read as gzip")
	}
	if err := body.Close(); err != nil {
		t.Error(err)
	}
	if err := body.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := body.Read(make([]byte, 8)); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Errorf("read after close: %v", err)
	}
}
