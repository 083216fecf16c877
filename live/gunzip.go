package live

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
)

// gzipReaders keeps gzip readers between responses: Nomad's client asks
// for gzip, and a reader (with its 32 KiB window) made anew for each of
// thousands of job reads was a third of a fleet run's allocations.
var gzipReaders sync.Pool

// gunzip makes a gzip-encoded response plain, so the size bound applies
// to what is decoded, not to what was sent: a small compressed answer
// cannot expand without bound. Nomad's client then sees no encoding and
// reads the body as is.
func gunzip(resp *http.Response) {
	if resp.Body == nil || !strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		return
	}
	resp.Body = &gunzipBody{compressed: resp.Body}
	resp.Header.Del("Content-Encoding")
	resp.Header.Del("Content-Length")
	resp.ContentLength = -1
	resp.Uncompressed = true
}

// gunzipBody decompresses on first read with a pooled reader, which
// goes back to the pool on Close.
type gunzipBody struct {
	compressed io.ReadCloser
	zr         *gzip.Reader
	err        error // from reading the gzip header; io.EOF for no body
	closed     bool
}

func (b *gunzipBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.zr == nil && b.err == nil {
		if zr, ok := gzipReaders.Get().(*gzip.Reader); ok {
			b.err = zr.Reset(b.compressed)
			b.zr = zr
		} else {
			b.zr, b.err = gzip.NewReader(b.compressed)
		}
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.zr.Read(p)
}

func (b *gunzipBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	if b.zr != nil { // the next Reset starts it afresh
		gzipReaders.Put(b.zr)
	}
	b.zr = nil
	return b.compressed.Close()
}
