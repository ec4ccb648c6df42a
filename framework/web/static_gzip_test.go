package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"chat/framework/web"
)

// bigScript is a large, very compressible static file: compressing it per
// request shows in the bytes allocated per request, serving a stored
// variant does not.
var bigScript = []byte(strings.Repeat("console.log('static files are compressed once, at load');\n", 8<<10))

// TestStaticGzipIsPrecompressed: a client that accepts gzip gets the
// stored gzip variant (Content-Encoding gzip, Vary: Accept-Encoding, its
// own ETag, revalidating to 304), compressed once at load: serving it
// allocates far less per request than the file's size, where compressing
// it again would cost several times the file. A client without
// Accept-Encoding gets the identity bytes.
func TestStaticGzipIsPrecompressed(t *testing.T) {
	app := startApp(t, web.Config{StaticFS: fstest.MapFS{"big.js": {Data: bigScript}}})
	// The client must neither add Accept-Encoding nor decompress behind
	// the test's back.
	transport := &http.Transport{DisableCompression: true}
	t.Cleanup(transport.CloseIdleConnections)
	client := &http.Client{Transport: transport}
	get := func(header ...string) (*http.Response, []byte) {
		t.Helper()
		resp, err := client.Do(mustRequest(t, "GET", app.base+"/static/big.js", header...))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}

	identity, body := get()
	if identity.StatusCode != 200 || identity.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, bigScript) {
		t.Fatalf("without Accept-Encoding: %d, Content-Encoding %q, %d bytes; want 200, identity, the file (%d bytes)",
			identity.StatusCode, identity.Header.Get("Content-Encoding"), len(body), len(bigScript))
	}

	gz, gzBody := get("Accept-Encoding: gzip, deflate")
	if gz.StatusCode != 200 || gz.Header.Get("Content-Encoding") != "gzip" ||
		!strings.Contains(strings.Join(gz.Header.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("with gzip: %d %v", gz.StatusCode, gz.Header)
	}
	if got := gunzip(t, gzBody); !bytes.Equal(got, bigScript) {
		t.Fatalf("gzip variant decompresses to %d bytes; want the file", len(got))
	}
	gzETag, identityETag := gz.Header.Get("Etag"), identity.Header.Get("Etag")
	if gzETag == "" || gzETag == identityETag {
		t.Fatalf("gzip variant ETag %q, identity %q: want two distinct tags", gzETag, identityETag)
	}
	if again, _ := get("Accept-Encoding: gzip", "If-None-Match: "+gzETag); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating the gzip variant: %d; want 304", again.StatusCode)
	}
	if again, _ := get("If-None-Match: " + identityETag); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating the identity variant: %d; want 304", again.StatusCode)
	}

	const requests = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range requests {
		if _, again := get("Accept-Encoding: gzip"); !bytes.Equal(again, gzBody) {
			t.Fatal("the gzip variant changed between requests")
		}
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	t.Logf("file %d bytes, gzip variant %d bytes, %d bytes allocated per request", len(bigScript), len(gzBody), perRequest)
	if limit := uint64(len(bigScript) / 4); perRequest > limit {
		t.Fatalf("%d bytes allocated per gzip request for a %d-byte file (limit %d): it is compressed per request",
			perRequest, len(bigScript), limit)
	}
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}
