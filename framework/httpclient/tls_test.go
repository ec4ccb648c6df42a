package httpclient_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"chat/framework/httpclient"
)

// TestTLS fetches from httptest's TLS server, trusting its certificate
// through Options.TLSConfig, and checks keep-alive holds over TLS too.
func TestTLS(t *testing.T) {
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			for i := range 3 {
				fmt.Fprintf(w, "%d-", i)
				w.(http.Flusher).Flush()
			}
			return
		}
		if r.URL.Path == "/big" {
			io.WriteString(w, strings.Repeat("s", 1<<20))
			return
		}
		fmt.Fprintf(w, "tls %s %s", r.Proto, r.Method)
	}), true)
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	loop, c := newClient(t, httpclient.Options{TLSConfig: &tls.Config{RootCAs: roots}})
	for _, tc := range []struct{ path, method, want string }{
		{"/", "GET", "tls HTTP/1.1 GET"},
		{"/chunked", "GET", "0-1-2-"},
		{"/", "POST", "tls HTTP/1.1 POST"},
		{"/big", "GET", strings.Repeat("s", 1<<20)},
	} {
		resp, err := fetch(t, loop, c, &httpclient.Request{Method: tc.method, URL: srv.URL + tc.path})
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != tc.want {
			t.Fatalf("%s: got %.60q", tc.path, resp.Body)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("server saw %d TLS connections, want 1", n)
	}

	t.Run("untrusted certificate", func(t *testing.T) {
		loop, c := newClient(t, httpclient.Options{})
		_, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL})
		var unknown *tls.CertificateVerificationError
		if !errors.Is(err, httpclient.ErrConnect) || !errors.As(err, &unknown) {
			t.Fatalf("got %v, want ErrConnect with a certificate error", err)
		}
	})
	t.Run("per-request TLSConfig", func(t *testing.T) {
		loop, c := newClient(t, httpclient.Options{})
		resp, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL, TLSConfig: &tls.Config{RootCAs: roots}})
		if err != nil || resp.Code != 200 {
			t.Fatalf("%v %v", resp, err)
		}
	})
}
