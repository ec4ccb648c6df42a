package httpserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type chunkedResult struct {
	body     string
	consumed int
	done     bool
	err      string
	status   int
}

func (r chunkedResult) String() string {
	return fmt.Sprintf("body=%q consumed=%d done=%v err=%q", r.body, r.consumed, r.done, r.err)
}

// decodeChunked drives d over input the way a stream does: Split sees the
// unconsumed bytes buffered so far; when it asks for more, grow decides how
// many bytes are buffered next; once all of input is buffered, EOF follows.
func decodeChunked(d *ChunkedDecoder, input []byte, first int, grow func(avail int) int) chunkedResult {
	var body []byte
	start, avail := 0, first
	for {
		atEOF := false
		adv, tok, err := d.Split(input[start:avail], false)
		if adv == 0 && tok == nil && err == nil {
			if avail < len(input) {
				avail = min(grow(avail), len(input))
				continue
			}
			atEOF = true
			adv, tok, err = d.Split(input[start:avail], atEOF)
		}
		if err != nil {
			return chunkedResult{body: string(body), consumed: start, err: err.Error(), status: StatusOf(err)}
		}
		body = append(body, tok...)
		start += adv
		if d.Done() {
			return chunkedResult{body: string(body), consumed: start, done: true}
		}
		if atEOF {
			return chunkedResult{body: string(body), consumed: start, err: "no progress at EOF"}
		}
	}
}

type chunkedCase struct {
	name     string
	input    string
	lim      Limits
	body     string // expected decoded body when status == 0
	rest     string // bytes expected to remain unconsumed
	status   int
	trailers Header // expected with KeepTrailers
}

var chunkedCases = []chunkedCase{
	{name: "single chunk", input: "5\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "empty body", input: "0\r\n\r\n", body: ""},
	{name: "several chunks mixed-case hex", input: "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n1\r\n!\r\n0\r\n\r\n", body: "0123456789abcdefghijk!"},
	{name: "leading zeros", input: "0005\r\nhello\r\n000\r\n\r\n", body: "hello"},
	{name: "sixteen digits", input: "0000000000000005\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "chunk containing CRLF", input: "4\r\n\r\n\r\n\r\n0\r\n\r\n", body: "\r\n\r\n"},
	{name: "extension name", input: "5;foo\r\nhello\r\n0;bar\r\n\r\n", body: "hello"},
	{name: "extension token value", input: "5;foo=bar;baz=1\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "extension quoted value with BWS", input: "5 ; foo = \"a \\\"b\\\" ;c\" ; x\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "trailers kept and filtered", input: "5\r\nhello\r\n0\r\nX-Checksum: abc\r\ncontent-length: 99\r\nTransfer-Encoding: gzip\r\nHost: evil\r\nX-Checksum: def\r\n\r\n",
		body: "hello", trailers: Header{"X-Checksum": {"abc", "def"}}},
	{name: "bytes after body left alone", input: "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n", body: "a", rest: "GET / HTTP/1.1\r\n"},
	{name: "body at limit", input: "64\r\n" + strings.Repeat("x", 100) + "\r\n0\r\n\r\n", lim: smallLimits, body: strings.Repeat("x", 100)},
	{name: "extensions at limit", input: "1;" + strings.Repeat("a", 10) + "\r\nx\r\n0;" + strings.Repeat("b", 4) + "\r\n\r\n", lim: smallLimits, body: "x"},
	{name: "trailer at byte limit", input: "0\r\nX: " + strings.Repeat("t", 32-5) + "\r\n\r\n", lim: smallLimits},
	{name: "trailer at count limit", input: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", lim: smallLimits},

	{name: "bare LF after size", input: "5\nhello\r\n0\r\n\r\n", status: 400},
	{name: "bare CR after size", input: "5\rhello\r\n0\r\n\r\n", status: 400},
	{name: "bare LF after data", input: "5\r\nhello\n0\r\n\r\n", status: 400},
	{name: "data longer than size", input: "5\r\nhello!\r\n0\r\n\r\n", status: 400},
	{name: "data shorter than size", input: "5\r\nhell\r\n0\r\n\r\n", status: 400},
	{name: "missing size", input: "\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension without size", input: ";x\r\n0\r\n\r\n", status: 400},
	{name: "hex prefix", input: "0x5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "negative size", input: "-5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "plus sign", input: "+5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "leading space", input: " 5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "trailing space without extension", input: "5 \r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "seventeen digits", input: "00000000000000005\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "size overflows int64", input: "8000000000000000\r\n", lim: Limits{MaxBodyBytes: 1 << 62}, status: 400},
	{name: "size above body limit", input: "65\r\n", lim: smallLimits, status: 413},
	{name: "sum of sizes above body limit", input: "32\r\n" + strings.Repeat("x", 50) + "\r\n33\r\n", lim: smallLimits, status: 413},
	{name: "empty extension name", input: "5;\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension missing name", input: "5;=v\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension empty value", input: "5;n=\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension value with space inside", input: "5;n=a b\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension unterminated quote", input: "5;n=\"abc\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension NUL", input: "5;n\x00\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension bare LF", input: "5;n\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extensions one over limit", input: "1;" + strings.Repeat("a", 10) + "\r\nx\r\n0;" + strings.Repeat("b", 5) + "\r\n\r\n", lim: smallLimits, status: 400},
	{name: "trailer obs-fold", input: "0\r\nX: a\r\n b\r\n\r\n", status: 400},
	{name: "trailer bare LF", input: "0\r\nX: a\n\r\n", status: 400},
	{name: "trailer bare CR", input: "0\r\nX: a\rb\r\n\r\n", status: 400},
	{name: "trailer NUL", input: "0\r\nX: a\x00\r\n\r\n", status: 400},
	{name: "trailer space before colon", input: "0\r\nX : a\r\n\r\n", status: 400},
	{name: "trailer without colon", input: "0\r\nX\r\n\r\n", status: 400},
	{name: "trailer one over byte limit", input: "0\r\nX: " + strings.Repeat("t", 32-4) + "\r\n\r\n", lim: smallLimits, status: 431},
	{name: "trailer one over count limit", input: "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n", lim: smallLimits, status: 431},
	{name: "EOF in chunk data", input: "5\r\nhel", status: 400},
	{name: "EOF after last chunk", input: "5\r\nhello\r\n0\r\n", status: 400},
	{name: "EOF in trailer", input: "0\r\nX: y\r\n", status: 400},
	{name: "EOF after CR", input: "0\r\n\r", status: 400},
}

func TestChunkedDecoder(t *testing.T) {
	for _, tc := range chunkedCases {
		t.Run(tc.name, func(t *testing.T) {
			d := ChunkedDecoder{Limits: tc.lim, KeepTrailers: true}
			input := []byte(tc.input)
			got := decodeChunked(&d, input, len(input), nil)
			if tc.status != 0 {
				if got.status != tc.status {
					t.Fatalf("got %v (status %d), want status %d", got, got.status, tc.status)
				}
				return
			}
			if got.err != "" || !got.done || got.body != tc.body || tc.input[got.consumed:] != tc.rest {
				t.Fatalf("got %v, want body %q rest %q", got, tc.body, tc.rest)
			}
			if tc.trailers != nil && !reflect.DeepEqual(d.Trailer(), tc.trailers) {
				t.Errorf("trailers %q, want %q", d.Trailer(), tc.trailers)
			}
			if d.Decoded() != int64(len(tc.body)) {
				t.Errorf("Decoded = %d, want %d", d.Decoded(), len(tc.body))
			}
		})
	}
}

func TestChunkedEveryByteBoundary(t *testing.T) {
	for _, tc := range chunkedCases {
		t.Run(tc.name, func(t *testing.T) {
			input := []byte(tc.input)
			d := ChunkedDecoder{Limits: tc.lim, KeepTrailers: true}
			want := decodeChunked(&d, input, len(input), nil)
			wantTrailer := d.Trailer()

			d.Reset()
			got := decodeChunked(&d, input, 0, func(n int) int { return n + 1 })
			if got != want || !reflect.DeepEqual(d.Trailer(), wantTrailer) {
				t.Fatalf("byte by byte: %v\none shot:     %v", got, want)
			}
			for k := 0; k <= len(input); k++ {
				d.Reset()
				got := decodeChunked(&d, input, k, func(int) int { return len(input) })
				if got != want {
					t.Fatalf("split at %d: %v\none shot:    %v", k, got, want)
				}
			}
		})
	}
}

func TestChunkedDefaultDiscardsTrailers(t *testing.T) {
	var d ChunkedDecoder
	input := []byte("1\r\na\r\n0\r\nX-A: b\r\n\r\n")
	if got := decodeChunked(&d, input, len(input), nil); !got.done || d.Trailer() != nil {
		t.Fatalf("got %v trailer %v", got, d.Trailer())
	}
}

func TestChunkedErrorKinds(t *testing.T) {
	d := ChunkedDecoder{Limits: Limits{MaxBodyBytes: 3}}
	_, _, err := d.Split([]byte("4\r\n"), false)
	if !errors.Is(err, ErrBodyTooLarge) || StatusOf(err) != 413 {
		t.Errorf("over limit: %v", err)
	}
	d.Reset()
	_, _, err = d.Split([]byte("1\r\na"), true)
	if err != nil {
		t.Fatalf("data available at EOF must still be delivered first: %v", err)
	}
}

// TestChunkedWithBufioScanner shows the decoder works as a plain
// bufio.SplitFunc: tokens are body pieces, the empty final token ends it.
func TestChunkedWithBufioScanner(t *testing.T) {
	var d ChunkedDecoder
	sc := bufio.NewScanner(strings.NewReader("3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"))
	sc.Buffer(make([]byte, 4), 64)
	sc.Split(d.Split)
	var body bytes.Buffer
	for sc.Scan() {
		body.Write(sc.Bytes())
	}
	if sc.Err() != nil || body.String() != "abcde" || !d.Done() {
		t.Fatalf("body %q err %v done %v", body.String(), sc.Err(), d.Done())
	}
}

// TestChunkedLinear: a large trailer section and long extensions arriving a
// byte at a time must not be rescanned.
func TestChunkedLinear(t *testing.T) {
	input := []byte("1;" + strings.Repeat("e", 3000) + "\r\nx\r\n0\r\n" + strings.Repeat("X-T: "+strings.Repeat("t", 200)+"\r\n", 90) + "\r\n")
	d := ChunkedDecoder{Limits: Limits{MaxTrailerBytes: 1 << 20}}
	got := decodeChunked(&d, input, 0, func(n int) int { return n + 1 })
	if !got.done || got.body != "x" {
		t.Fatalf("got %v", got)
	}
}
