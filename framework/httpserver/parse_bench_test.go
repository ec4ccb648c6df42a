package httpserver

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkParseRequestHead parses a typical Chrome navigation request.
func BenchmarkParseRequestHead(b *testing.B) {
	head := []byte(browserRequest)
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequestHead(head, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanAndParseRequestHead is the whole head path: find the end of
// the head in the buffer, then parse it.
func BenchmarkScanAndParseRequestHead(b *testing.B) {
	head := []byte(browserRequest)
	var s HeadScanner
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	for b.Loop() {
		_, tok, err := s.Split(head, false)
		if err != nil || tok == nil {
			b.Fatal(err)
		}
		if _, err := ParseRequestHead(tok, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetHTTPReadRequest is the same request through net/http's
// reader, for comparison in the same process.
func BenchmarkNetHTTPReadRequest(b *testing.B) {
	head := []byte(browserRequest)
	r := bytes.NewReader(head)
	br := bufio.NewReader(r)
	b.SetBytes(int64(len(head)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(head)
		br.Reset(r)
		if _, err := http.ReadRequest(br); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkedDecoder decodes a 64 KiB body sent as 16 chunks of 4 KiB.
func BenchmarkChunkedDecoder(b *testing.B) {
	var sb strings.Builder
	for range 16 {
		sb.WriteString("1000\r\n" + strings.Repeat("x", 4096) + "\r\n")
	}
	sb.WriteString("0\r\n\r\n")
	body := []byte(sb.String())
	var d ChunkedDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		data := body
		for !d.Done() {
			adv, _, err := d.Split(data, false)
			if err != nil {
				b.Fatal(err)
			}
			data = data[adv:]
		}
	}
}
