package web

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tornadoVector is what Tornado's xsrf_token renders for token bytes
// 0x00..0x0f, mask de ad be ef, issued at Unix time 1700000000 (computed
// with Tornado's own _websocket_mask and b2a_hex).
const tornadoVector = "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|1700000000"

func sequentialToken() XSRFToken {
	var token XSRFToken
	for i := range token {
		token[i] = byte(i)
	}
	return token
}

func TestDecodeXSRFReadsTornadoTokens(t *testing.T) {
	token, issued, err := DecodeXSRF(tornadoVector)
	if err != nil {
		t.Fatal(err)
	}
	if token != sequentialToken() || !issued.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("got %x at %v", token, issued)
	}
	upper, _, err := DecodeXSRF(strings.ToUpper(tornadoVector))
	if err != nil || upper != token {
		t.Fatalf("upper-case hex (accepted by Python's a2b_hex): %x, %v", upper, err)
	}
}

func TestEncodeXSRFMasksEachRender(t *testing.T) {
	token := NewXSRFToken()
	issued := time.Unix(1700000000, 0)
	format := regexp.MustCompile(`^2\|[0-9a-f]{8}\|[0-9a-f]{32}\|1700000000$`)
	seen := make(map[string]bool)
	for range 20 {
		encoded := EncodeXSRF(token, issued)
		if !format.MatchString(encoded) {
			t.Fatalf("EncodeXSRF = %q, not version|mask|masked|timestamp", encoded)
		}
		if strings.Contains(encoded, hexString(token)) {
			t.Fatalf("EncodeXSRF = %q shows the raw token", encoded)
		}
		seen[encoded] = true
		got, gotIssued, err := DecodeXSRF(encoded)
		if err != nil || got != token || !gotIssued.Equal(issued) {
			t.Fatalf("DecodeXSRF(EncodeXSRF) = %x %v %v", got, gotIssued, err)
		}
	}
	if len(seen) < 19 {
		t.Fatalf("20 renders gave %d distinct values: the mask is not fresh", len(seen))
	}
}

func hexString(token XSRFToken) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range token {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}

func TestDecodeXSRFRejectsMalformed(t *testing.T) {
	tests := []struct{ name, value string }{
		{"empty", ""},
		{"legacy version 1 hex", "000102030405060708090a0b0c0d0e0f"},
		{"unknown version", "3|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|1700000000"},
		{"too few fields", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0"},
		{"too many fields", tornadoVector + "|1"},
		{"short mask", "2|deadbe|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|1700000000"},
		{"non-hex mask", "2|deadbeeg|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|1700000000"},
		{"short token", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0|1700000000"},
		{"long token", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e000|1700000000"},
		{"non-hex token", "2|deadbeef|zzacbcecdaa8b8e8d6a4b4e4d2a0b0e0|1700000000"},
		{"empty timestamp", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|"},
		{"negative timestamp", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|-1"},
		{"signed timestamp", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|+1"},
		{"spaced timestamp", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0| 1"},
		{"overflowing timestamp", "2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|99999999999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := DecodeXSRF(tt.value); !errors.Is(err, ErrXSRFMalformed) {
				t.Fatalf("DecodeXSRF(%q) error = %v, want ErrXSRFMalformed", tt.value, err)
			}
		})
	}
}

func TestCheckXSRF(t *testing.T) {
	token := NewXSRFToken()
	issued := time.Unix(1700000000, 0)
	cookie := EncodeXSRF(token, issued)
	tests := []struct {
		name      string
		cookie    string
		submitted string
		wantErr   error
	}{
		{"same token, fresh mask", cookie, EncodeXSRF(token, issued), nil},
		{"same token, the cookie value itself", cookie, cookie, nil},
		{"same token, other timestamp", cookie, EncodeXSRF(token, time.Unix(5, 0)), nil},
		{"missing argument", cookie, "", ErrXSRFArgumentMissing},
		{"missing cookie", "", EncodeXSRF(token, issued), ErrXSRFCookieMissing},
		{"both missing reports the argument", "", "", ErrXSRFArgumentMissing},
		{"unreadable cookie counts as missing", "garbage", EncodeXSRF(token, issued), ErrXSRFCookieMissing},
		{"malformed argument", cookie, "garbage", ErrXSRFMalformed},
		{"legacy raw-hex argument", cookie, hexString(token), ErrXSRFMalformed},
		{"other token", cookie, EncodeXSRF(NewXSRFToken(), issued), ErrXSRFMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckXSRF(tt.cookie, tt.submitted)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("CheckXSRF error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestXSRFFromCookie(t *testing.T) {
	now := time.Unix(1800000000, 0)
	token, issued, fresh := XSRFFromCookie(tornadoVector, now)
	if fresh || token != sequentialToken() || issued.Unix() != 1700000000 {
		t.Fatalf("a valid cookie's token must be kept: %x %v %v", token, issued, fresh)
	}
	for _, cookie := range []string{"", "garbage"} {
		token, issued, fresh = XSRFFromCookie(cookie, now)
		if !fresh || token == (XSRFToken{}) || !issued.Equal(now) {
			t.Fatalf("cookie %q: want a fresh token issued now, got %x %v %v", cookie, token, issued, fresh)
		}
	}
}

func TestNewXSRFCookieIsReadableByScripts(t *testing.T) {
	got := NewXSRFCookie("v", true).String()
	if want := "_xsrf=v; Path=/; Secure; SameSite=Lax"; got != want {
		t.Fatalf("Set-Cookie %q, want %q", got, want)
	}
}

func TestXSRFCheckRequired(t *testing.T) {
	for method, want := range map[string]bool{
		"GET": false, "HEAD": false, "OPTIONS": false, "TRACE": false,
		"POST": true, "PUT": true, "PATCH": true, "DELETE": true,
		"PROPFIND": true, "get": true, "": true,
	} {
		if got := XSRFCheckRequired(method); got != want {
			t.Errorf("XSRFCheckRequired(%q) = %v, want %v", method, got, want)
		}
	}
}

// FuzzDecodeXSRF checks that decoding never panics, that success always
// comes with a well-formed input, and that re-encoding yields the same
// token and time.
func FuzzDecodeXSRF(f *testing.F) {
	f.Add(tornadoVector)
	f.Add(strings.ToUpper(tornadoVector))
	f.Add("2|||")
	f.Add("2|deadbeef|deacbcecdaa8b8e8d6a4b4e4d2a0b0e0|-1")
	f.Add("000102030405060708090a0b0c0d0e0f")
	f.Fuzz(func(t *testing.T, encoded string) {
		token, issued, err := DecodeXSRF(encoded)
		if err != nil {
			if !errors.Is(err, ErrXSRFMalformed) {
				t.Fatalf("error %v is not ErrXSRFMalformed", err)
			}
			return
		}
		if strings.Count(encoded, "|") != 3 || !strings.HasPrefix(encoded, "2|") {
			t.Fatalf("accepted %q", encoded)
		}
		again, issuedAgain, err := DecodeXSRF(EncodeXSRF(token, issued))
		if err != nil || again != token || !issuedAgain.Equal(issued) {
			t.Fatalf("re-encoding %q: %x %v %v", encoded, again, issuedAgain, err)
		}
		if CheckXSRF(encoded, EncodeXSRF(token, issued)) != nil {
			t.Fatalf("CheckXSRF refuses a re-render of %q", encoded)
		}
	})
}
