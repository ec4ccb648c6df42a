package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Names under which Tornado, and so this package, exchanges XSRF tokens.
const (
	// XSRFCookieName is the cookie holding the browser's token.
	XSRFCookieName = "_xsrf"
	// XSRFFormField is the form field a rendered form submits the token in.
	XSRFFormField = "_xsrf"
	// XSRFHeader and XSRFHeaderAlt are the request headers script clients
	// send the token in, checked when the form field is absent.
	XSRFHeader    = "X-XSRFToken"
	XSRFHeaderAlt = "X-CSRFToken"
)

// Errors returned by CheckXSRF and DecodeXSRF. Each becomes a 403; the
// messages are written to be shown as they are.
var (
	ErrXSRFCookieMissing   = errors.New("web: '_xsrf' cookie missing")
	ErrXSRFArgumentMissing = errors.New("web: '_xsrf' argument missing from POST")
	ErrXSRFMalformed       = errors.New("web: '_xsrf' argument has invalid format")
	ErrXSRFMismatch        = errors.New("web: XSRF cookie does not match POST argument")
)

// xsrfTokenVersion is the token format Tornado calls version 2, the only one
// accepted here: this project never issued version 1 (bare hex) tokens.
const xsrfTokenVersion = "2"

// xsrfMaskSize is the size of the per-render mask, as in Tornado.
const xsrfMaskSize = 4

// XSRFToken is the secret a browser holds in its XSRF cookie: 16 random
// bytes. It is a plain value, safe to copy and share.
type XSRFToken [16]byte

// NewXSRFToken returns a fresh random token from crypto/rand.
func NewXSRFToken() XSRFToken {
	var token XSRFToken
	rand.Read(token[:]) // crypto/rand.Read never fails; it crashes instead.
	return token
}

// EncodeXSRF renders token in Tornado's version 2 format,
//
//	2|<mask hex>|<token XOR mask, hex>|<issued, Unix seconds>
//
// with a fresh random 4-byte mask each call, repeated over the token. The
// same token thus looks different in every page, so a compressed response
// does not leak it byte by byte (BREACH). issued is when the token was
// first made (times before 1970 are written as 0); pass the one DecodeXSRF
// returned from the cookie to keep it.
// The result is also the value of the XSRF cookie itself.
func EncodeXSRF(token XSRFToken, issued time.Time) string {
	var mask [xsrfMaskSize]byte
	rand.Read(mask[:])
	masked := token
	maskXSRF(&masked, mask)
	var b strings.Builder
	b.Grow(len(xsrfTokenVersion) + 3 + 2*xsrfMaskSize + 2*len(token) + 20)
	b.WriteString(xsrfTokenVersion)
	b.WriteByte('|')
	b.WriteString(hex.EncodeToString(mask[:]))
	b.WriteByte('|')
	b.WriteString(hex.EncodeToString(masked[:]))
	b.WriteByte('|')
	b.WriteString(strconv.FormatInt(max(issued.Unix(), 0), 10))
	return b.String()
}

// maskXSRF XORs token in place with mask repeated, Tornado's
// _websocket_mask; applying it twice restores the token.
func maskXSRF(token *XSRFToken, mask [xsrfMaskSize]byte) {
	for i := range token {
		token[i] ^= mask[i%xsrfMaskSize]
	}
}

// DecodeXSRF parses a version 2 token, from the cookie or from a submitted
// form field or header, and returns the unmasked token and when it was
// issued. Anything else, including Tornado's legacy version 1 format, is
// ErrXSRFMalformed.
func DecodeXSRF(encoded string) (XSRFToken, time.Time, error) {
	var token XSRFToken
	fail := func(why string) (XSRFToken, time.Time, error) {
		return XSRFToken{}, time.Time{}, fmt.Errorf("%w: %s", ErrXSRFMalformed, why)
	}
	version, rest, _ := strings.Cut(encoded, "|")
	if version != xsrfTokenVersion {
		return fail("unknown version")
	}
	maskHex, rest, _ := strings.Cut(rest, "|")
	maskedHex, issuedText, ok := strings.Cut(rest, "|")
	if !ok {
		return fail("want four |-separated fields")
	}
	var mask [xsrfMaskSize]byte
	if len(maskHex) != 2*len(mask) || decodeHexInto(mask[:], maskHex) != nil {
		return fail("bad mask")
	}
	if len(maskedHex) != 2*len(token) || decodeHexInto(token[:], maskedHex) != nil {
		return fail("bad token")
	}
	issued, err := parseUnixSeconds(issuedText)
	if err != nil {
		return fail("bad timestamp")
	}
	maskXSRF(&token, mask)
	return token, issued, nil
}

func decodeHexInto(dst []byte, src string) error {
	_, err := hex.Decode(dst, []byte(src))
	return err
}

// parseUnixSeconds parses plain decimal digits (no sign, no spaces) as a
// Unix time.
func parseUnixSeconds(s string) (time.Time, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, strconv.ErrSyntax
	}
	seconds, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(seconds, 0), nil
}

// XSRFFromCookie returns the token to render into a page and to keep in
// the cookie, Tornado's xsrf_token: the cookie's token and issue time when
// cookieValue decodes, otherwise a new token issued now, with fresh true
// meaning the handler must set the cookie (see NewXSRFCookie).
func XSRFFromCookie(cookieValue string, now time.Time) (token XSRFToken, issued time.Time, fresh bool) {
	if token, issued, err := DecodeXSRF(cookieValue); err == nil {
		return token, issued, false
	}
	return NewXSRFToken(), now, true
}

// NewXSRFCookie returns the cookie carrying value (an EncodeXSRF result).
// Unlike session cookies it is not HttpOnly: scripts read it to send the
// X-XSRFToken header, which is safe because the token only proves that the
// request comes from a page of our origin; reading it needs exactly that.
// It is a session cookie (no Max-Age), Path "/", SameSite Lax, and Secure
// when tls is true.
func NewXSRFCookie(value string, tls bool) *http.Cookie {
	return &http.Cookie{
		Name:     XSRFCookieName,
		Value:    value,
		Path:     "/",
		Secure:   tls,
		SameSite: http.SameSiteLaxMode,
	}
}

// CheckXSRF is Tornado's check_xsrf_cookie: it verifies that the token a
// request submitted (form field _xsrf, else header X-XSRFToken, else
// X-CSRFToken; the caller picks the first non-empty) matches the token in
// its XSRF cookie. A cross-site attacker can make a browser send the cookie
// but cannot read it, so cannot submit its token. The comparison is in
// constant time. A nil error means the request may proceed.
func CheckXSRF(cookieValue, submitted string) error {
	if submitted == "" {
		return ErrXSRFArgumentMissing
	}
	if cookieValue == "" {
		return ErrXSRFCookieMissing
	}
	got, _, err := DecodeXSRF(submitted)
	if err != nil {
		return fmt.Errorf("check xsrf: argument: %w", err)
	}
	want, _, err := DecodeXSRF(cookieValue)
	if err != nil {
		// A cookie we cannot read is as good as none: the handler will
		// issue a new one on the next page.
		return fmt.Errorf("check xsrf: cookie: %w", ErrXSRFCookieMissing)
	}
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return ErrXSRFMismatch
	}
	return nil
}

// XSRFCheckRequired reports whether a request with this method must pass
// CheckXSRF. As in Tornado, every method but the safe ones (GET, HEAD,
// OPTIONS, and TRACE) is checked: POST, PUT, PATCH and DELETE, and also any
// method we do not know, since an unknown method cannot be assumed safe.
// Methods are case-sensitive (RFC 9110), so "get" is checked too.
func XSRFCheckRequired(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
