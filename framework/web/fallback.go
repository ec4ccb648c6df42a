package web

import (
	"bytes"
	"net/http"
)

// MaxFallbackBodyBytes bounds the response a wrapped net/http handler may
// produce: it is held in memory whole before it is sent, so a handler
// writing more is answered 500 rather than let it grow without limit.
const MaxFallbackBodyBytes = 32 << 20

// WrapHTTP returns a Spec.New that serves every method with a standard
// net/http handler, Tornado's FallbackHandler over a WSGIContainer: so
// net/http/pprof, expvar and the like mount without rewriting.
//
// The request is converted with Request.ToHTTP and h runs on the
// application's executor (by default the loop's default executor), never
// on the loop, since net/http handlers may block. Its response is recorded
// and then written back on the loop: status, headers and body, which may
// not exceed MaxFallbackBodyBytes. Streaming (http.Flusher) is accepted
// but only takes effect at the end. A full executor queue is answered 503.
// h's context is never cancelled, even if the client leaves. Routes that
// take state-changing methods from other programs need
// RouteSettings.DisableXSRF.
func WrapHTTP(h http.Handler) func() Handler {
	return Func(func(c *Context) {
		req, err := c.request.ToHTTP()
		if err != nil {
			c.Fail(&HTTPError{Status: http.StatusBadRequest, Err: err})
			return
		}
		RunInExecutor(c, func() (*recorder, error) {
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			h.ServeHTTP(rec, req)
			return rec, nil
		}).OnResult(func(rec *recorder, err error) {
			switch {
			case err != nil:
				c.Fail(err)
			case rec.overflow:
				c.Fail(errorf("wrapped handler wrote more than %d bytes", MaxFallbackBodyBytes))
			default:
				rec.writeTo(c)
			}
		})
	})
}

// recorder is the http.ResponseWriter a wrapped handler writes to, on its
// executor goroutine; the loop reads it only after the handler returned.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
	overflow    bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.wroteHeader || status < 100 || status > 999 {
		return
	}
	r.wroteHeader, r.status = true, status
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	if r.overflow || r.body.Len()+len(p) > MaxFallbackBodyBytes {
		r.overflow = true
		return 0, errorf("response exceeds %d bytes", MaxFallbackBodyBytes)
	}
	return r.body.Write(p)
}

// Flush satisfies http.Flusher; the body is sent when the handler returns.
func (r *recorder) Flush() {}

// writeTo copies the recorded response to c and finishes. Framing fields
// are the server's to set.
func (r *recorder) writeTo(c *Context) {
	h := c.response.Header()
	for k, vs := range r.header {
		switch k {
		case "Content-Length", "Transfer-Encoding", "Connection", "Trailer":
			continue
		}
		h[k] = append([]string(nil), vs...)
	}
	if h.Get("Content-Type") == "" && r.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(r.body.Bytes())) // as net/http does
	}
	if r.status < 200 {
		// An informational status cannot end a response.
		r.status = http.StatusOK
	}
	c.SetStatus(r.status)
	c.Write(r.body.Bytes())
	c.Finish()
}
