package httpserver

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// scanResult is what one Split call sequence produced, comparable across
// ways of feeding the same bytes.
type scanResult struct {
	advance int
	token   string
	gotTok  bool
	err     string
}

func (r scanResult) String() string {
	return fmt.Sprintf("advance=%d token=%q(%v) err=%q", r.advance, r.token, r.gotTok, r.err)
}

func makeScanResult(adv int, tok []byte, err error) scanResult {
	r := scanResult{advance: adv, token: string(tok), gotTok: tok != nil}
	if err != nil {
		r.err = err.Error()
	}
	return r
}

func done(adv int, tok []byte, err error) bool { return adv != 0 || tok != nil || err != nil }

// splitOneShot gives split all of data at once, then signals EOF.
func splitOneShot(split func([]byte, bool) (int, []byte, error), data []byte) scanResult {
	if adv, tok, err := split(data, false); done(adv, tok, err) {
		return makeScanResult(adv, tok, err)
	}
	return makeScanResult(split(data, true))
}

// splitGrowing feeds data one byte more at a time, as a slow client would.
func splitGrowing(split func([]byte, bool) (int, []byte, error), data []byte) scanResult {
	for n := 0; n <= len(data); n++ {
		if adv, tok, err := split(data[:n], false); done(adv, tok, err) {
			return makeScanResult(adv, tok, err)
		}
	}
	return makeScanResult(split(data, true))
}

// splitTwoPieces feeds data[:k] and then all of data.
func splitTwoPieces(split func([]byte, bool) (int, []byte, error), data []byte, k int) scanResult {
	if adv, tok, err := split(data[:k], false); done(adv, tok, err) {
		return makeScanResult(adv, tok, err)
	}
	return splitOneShot(split, data)
}

func scannerInputs() []parseCase {
	cases := append([]parseCase(nil), parseCases...)
	cases = append(cases, limitCases(smallLimits)...)
	return append(cases,
		parseCase{name: "pipelined requests", raw: "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
		parseCase{name: "head followed by body", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab\r\n"},
		parseCase{name: "incomplete head at EOF", raw: "GET / HTTP/1.1\r\nHost: h\r\n", status: 400},
		parseCase{name: "CR at EOF", raw: "GET / HTTP/1.1\r", status: 400},
		parseCase{name: "request line without CRLF past limit", raw: "GET /" + strings.Repeat("a", 80), status: 414},
		parseCase{name: "header without end past limit", raw: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 200), status: 431},
		parseCase{name: "bare LF in leading empty lines", raw: "\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		parseCase{name: "bare CR after request line", raw: "GET / HTTP/1.1\r\rHost: h\r\n\r\n", status: 400},
	)
}

func TestHeadScannerEveryByteBoundary(t *testing.T) {
	for _, tc := range scannerInputs() {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.raw)
			var s HeadScanner
			s.Limits = smallLimits
			if len(data) > 2000 {
				s.Limits = Limits{}
			}
			want := splitOneShot(s.Split, data)
			s.Reset()
			if got := splitGrowing(s.Split, data); got != want {
				t.Fatalf("byte by byte: %v\none shot:     %v", got, want)
			}
			for k := 0; k <= len(data); k++ {
				s.Reset()
				if got := splitTwoPieces(s.Split, data, k); got != want {
					t.Fatalf("split at %d: %v\none shot:    %v", k, got, want)
				}
			}
		})
	}
}

// TestHeadScannerAgreesWithParser checks that scanning then parsing gives
// the same verdict as parsing the whole head directly.
func TestHeadScannerAgreesWithParser(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			var s HeadScanner
			res := splitOneShot(s.Split, []byte(tc.raw))
			if res.err != "" {
				if tc.status == 0 {
					t.Fatalf("scanner rejected: %s", res.err)
				}
				return
			}
			if res.token == "" {
				t.Fatalf("no token: %v", res)
			}
			r, err := ParseRequestHead([]byte(res.token), Limits{})
			checkParseResult(t, tc, r, err)
		})
	}
}

func TestHeadScannerEarlyFailure(t *testing.T) {
	lim := Limits{MaxRequestLineBytes: 16, MaxHeaderBytes: 32, MaxHeaderCount: 2}
	for _, tc := range []struct {
		name    string
		prefix  string // no complete head: the error must come without more data
		status  int
		atEOFOK bool
	}{
		{"request line one over limit", "GET /" + strings.Repeat("a", 12), 414, false},
		{"header bytes one over limit", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 30), 431, false},
		{"header count one over limit", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC", 431, false},
		{"bare LF", "GET / HTTP/1.1\n", 400, false},
		{"bare CR", "GET /\rx", 400, false},
		{"NUL", "GE\x00", 400, false},
		{"too many empty lines", strings.Repeat("\r\n", maxLeadingEmptyLines+1), 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := HeadScanner{Limits: lim}
			_, _, err := s.Split([]byte(tc.prefix), false)
			if StatusOf(err) != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			// One byte shorter must still be undecided.
			s.Reset()
			adv, tok, err := s.Split([]byte(tc.prefix[:len(tc.prefix)-1]), false)
			if done(adv, tok, err) {
				t.Fatalf("decided one byte early: %d %q %v", adv, tok, err)
			}
		})
	}
}

func TestHeadScannerAtLimits(t *testing.T) {
	lim := Limits{MaxRequestLineBytes: 16, MaxHeaderBytes: 32, MaxHeaderCount: 2}
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"request line at limit", "GET /aa HTTP/1.1\r\n\r\n"},
		{"header bytes at limit", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 32-len("X: \r\n")) + "\r\n\r\n"},
		{"header count at limit", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := HeadScanner{Limits: lim}
			adv, tok, err := s.Split([]byte(tc.raw), false)
			if err != nil || adv != len(tc.raw) || string(tok) != tc.raw {
				t.Fatalf("got %d %q %v", adv, tok, err)
			}
		})
	}
}

func TestHeadScannerCleanEOF(t *testing.T) {
	var s HeadScanner
	for _, data := range []string{"", "\r\n", "\r\n\r\n"} {
		adv, tok, err := s.Split([]byte(data), true)
		if adv != len(data) || tok != nil || err != nil {
			t.Errorf("%q: got %d %q %v, want clean EOF", data, adv, tok, err)
		}
	}
}

func TestHeadScannerPipelined(t *testing.T) {
	data := []byte("\r\nGET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3")
	var s HeadScanner
	var heads []string
	for {
		adv, tok, err := s.Split(data, false)
		if err != nil {
			t.Fatal(err)
		}
		if adv == 0 {
			break
		}
		heads = append(heads, string(tok))
		data = data[adv:]
	}
	want := []string{"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n", "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"}
	if fmt.Sprint(heads) != fmt.Sprint(want) || string(data) != "GET /3" {
		t.Fatalf("heads %q rest %q", heads, data)
	}
}

// TestHeadScannerLinear guards against rescanning: a 200 KiB head
// delivered a byte at a time takes about a millisecond when each byte is
// examined once, and tens of seconds if every call rescanned the buffer.
func TestHeadScannerLinear(t *testing.T) {
	head := "GET / HTTP/1.1\r\n" + strings.Repeat("X-Padding: "+strings.Repeat("p", 500)+"\r\n", 400) + "\r\n"
	s := HeadScanner{Limits: Limits{MaxHeaderCount: 1000, MaxHeaderBytes: 1 << 20}}
	data := []byte(head)
	start := time.Now()
	allocs := testing.AllocsPerRun(1, func() {
		s.Reset()
		for n := 1; n <= len(data); n++ {
			adv, _, err := s.Split(data[:n], false)
			if err != nil || adv != 0 && n != len(data) {
				t.Fatalf("early result at %d: %v", n, err)
			}
		}
	})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("byte-by-byte scan of %d bytes took %v: not linear", len(data), elapsed)
	}
	if allocs != 0 {
		t.Errorf("Split allocates: %v", allocs)
	}
}
