package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
)

// Errors returned by CookieCodec. Decode failures wrap exactly one of
// ErrCookieMissing, ErrCookieInvalid, ErrCookieExpired and ErrCookieWrongKey,
// so the handler layer can tell "not logged in" from "someone is forging
// cookies" with errors.Is.
var (
	// ErrCookieMissing reports that the request carried no value to decode.
	ErrCookieMissing = errors.New("web: cookie missing")
	// ErrCookieInvalid reports a value that no configured key authenticates:
	// tampered with, truncated, forged, issued under another cookie name, or
	// signed with a key since removed from the key set. A MAC cannot tell
	// these apart, by design, so neither can we.
	ErrCookieInvalid = errors.New("web: cookie invalid")
	// ErrCookieExpired reports an authentic value older than the codec's
	// MaxAge, by the timestamp securecookie signs into every value.
	ErrCookieExpired = errors.New("web: cookie expired")
	// ErrCookieWrongKey reports an authentic value whose payload the paired
	// block key does not decrypt to something this codec wrote: a key pair
	// put together wrongly (a block key replaced without its hash key), or a
	// value written by another program sharing the hash key.
	ErrCookieWrongKey = errors.New("web: cookie authenticated but not decryptable with its key pair")
	// ErrBadKeys reports a CookieConfig whose keys NewCookieCodec refuses.
	ErrBadKeys = errors.New("web: bad cookie keys")
)

// Key sizes accepted by NewCookieCodec. The hash key authenticates with
// HMAC-SHA-256, for which 32 bytes is the full strength and 64 the block
// size; the block key selects AES-256, and nothing weaker is accepted.
const (
	HashKeySize      = 64
	shortHashKeySize = 32
	BlockKeySize     = 32
)

// DefaultCookieMaxAge is the MaxAge a zero CookieConfig uses: securecookie's
// own default, long enough for "remember me", short enough that a leaked
// cookie does not stay valid forever.
const DefaultCookieMaxAge = 30 * 24 * time.Hour

// defaultCookieMaxLength is securecookie's default limit on an encoded
// value: browsers drop cookies longer than about 4 KiB.
const defaultCookieMaxLength = 4096

// KeyPair is one generation of cookie keys. Values are signed (HMAC-SHA-256
// with HashKey) and encrypted (AES-256-CTR with BlockKey), encrypt-then-MAC,
// as securecookie does.
//
// A key pair is rotated as a whole. CTR mode has no integrity of its own: a
// value authenticated by a hash key but decrypted with the wrong block key
// yields garbage rather than an error. NewCookieCodec therefore refuses key
// sets where one hash key appears twice, and Decode checks a format byte
// inside the ciphertext to catch the rest (ErrCookieWrongKey).
type KeyPair struct {
	HashKey  []byte // 32 or 64 bytes
	BlockKey []byte // 32 bytes
}

// GenerateKeys returns a fresh key pair from crypto/rand, for first-time
// setup and rotation. Persist it: cookies encoded under a pair die with it.
func GenerateKeys() KeyPair {
	pair := KeyPair{HashKey: make([]byte, HashKeySize), BlockKey: make([]byte, BlockKeySize)}
	// crypto/rand.Read never returns an error: it crashes the program
	// rather than hand out predictable bytes.
	rand.Read(pair.HashKey)
	rand.Read(pair.BlockKey)
	return pair
}

// CookieConfig configures a CookieCodec. Only Keys is required; every other
// zero value means the default stated on the field.
type CookieConfig struct {
	// Keys are the accepted key pairs, newest first. The first encodes;
	// all of them decode, so a new pair can be put in front while cookies
	// issued under the old ones still work until the old pair is dropped.
	Keys []KeyPair
	// MaxAge bounds how old a value may be when decoded, and is the
	// Max-Age of cookies built by NewCookie. Zero means
	// DefaultCookieMaxAge. It is enforced with whole seconds.
	MaxAge time.Duration
	// MaxLength bounds an encoded value in bytes, both ways. Zero means
	// 4096.
	MaxLength int
	// Path is the cookies' Path attribute. Empty means "/".
	Path string
	// Domain is the cookies' Domain attribute. Empty means host-only.
	Domain string
	// SameSite is the cookies' SameSite attribute. Zero means
	// http.SameSiteLaxMode: sent on top-level navigation, not on
	// cross-site subrequests, which blunts CSRF without breaking links.
	SameSite http.SameSite
}

// CookieCodec encodes and decodes signed, encrypted cookie values
// (Tornado's set_secure_cookie / get_secure_cookie) and builds the cookies
// that carry them. Values are opaque bytes, possibly empty; the cookie name
// is bound into the signature, so a value cannot be moved from one cookie
// to another.
//
// A CookieCodec is immutable after NewCookieCodec and safe for concurrent
// use, for example from executor goroutines.
type CookieCodec struct {
	codecs    []securecookie.Codec
	maxAge    time.Duration
	maxLength int
	path      string
	domain    string
	sameSite  http.SameSite
}

// NewCookieCodec checks the keys and builds a CookieCodec.
func NewCookieCodec(cfg CookieConfig) (*CookieCodec, error) {
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("new cookie codec: no key pairs: %w", ErrBadKeys)
	}
	c := &CookieCodec{
		maxAge:    valueOr(cfg.MaxAge, DefaultCookieMaxAge),
		maxLength: valueOr(cfg.MaxLength, defaultCookieMaxLength),
		path:      valueOr(cfg.Path, "/"),
		domain:    cfg.Domain,
		sameSite:  valueOr(cfg.SameSite, http.SameSiteLaxMode),
	}
	if c.maxAge < time.Second {
		return nil, fmt.Errorf("new cookie codec: MaxAge %v is under a second", cfg.MaxAge)
	}
	pairs := make([][]byte, 0, 2*len(cfg.Keys))
	for i, pair := range cfg.Keys {
		if n := len(pair.HashKey); n != HashKeySize && n != shortHashKeySize {
			return nil, fmt.Errorf("new cookie codec: key pair %d: hash key is %d bytes, want 32 or 64: %w", i, n, ErrBadKeys)
		}
		if n := len(pair.BlockKey); n != BlockKeySize {
			return nil, fmt.Errorf("new cookie codec: key pair %d: block key is %d bytes, want 32: %w", i, n, ErrBadKeys)
		}
		for j := range i {
			if bytes.Equal(cfg.Keys[j].HashKey, pair.HashKey) {
				return nil, fmt.Errorf("new cookie codec: key pairs %d and %d share a hash key: %w", j, i, ErrBadKeys)
			}
		}
		// Copy the keys so a caller reusing its slices cannot change a
		// codec that is meant to be immutable.
		pairs = append(pairs, bytes.Clone(pair.HashKey), bytes.Clone(pair.BlockKey))
	}
	c.codecs = securecookie.CodecsFromPairs(pairs...)
	for _, codec := range c.codecs {
		// Configured here, before the codec is shared: securecookie's
		// setters are not safe to call concurrently with Encode.
		codec.(*securecookie.SecureCookie).
			MaxAge(int(c.maxAge / time.Second)).
			MaxLength(c.maxLength).
			SetSerializer(securecookie.NopEncoder{})
	}
	return c, nil
}

// valueOr returns v, or def if v is its type's zero value.
func valueOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// MaxAge returns the longest a value stays decodable.
func (c *CookieCodec) MaxAge() time.Duration { return c.maxAge }

// cookieFormatVersion is the first byte of every plaintext this codec
// encrypts. It lets an empty value survive securecookie, which cannot
// decrypt a ciphertext holding nothing but its IV, and it makes a value
// decrypted with the wrong block key detectable (255 times in 256) instead
// of silently garbage. A later format would take the next number.
const cookieFormatVersion = 1

// Encode signs and encrypts value for the cookie called name with the
// newest key pair. The result is URL-safe base64, ready for a cookie.
func (c *CookieCodec) Encode(name string, value []byte) (string, error) {
	plaintext := make([]byte, 1+len(value))
	plaintext[0] = cookieFormatVersion
	copy(plaintext[1:], value)
	encoded, err := securecookie.EncodeMulti(name, plaintext, c.codecs[:1]...)
	if err != nil {
		return "", fmt.Errorf("encode cookie %q: %w", name, err)
	}
	return encoded, nil
}

// Decode authenticates, checks the age of and decrypts an encoded value of
// the cookie called name, trying every key pair. An empty value is
// ErrCookieMissing. Errors wrap one of the ErrCookie sentinels.
func (c *CookieCodec) Decode(name, encoded string) ([]byte, error) {
	if encoded == "" {
		return nil, fmt.Errorf("decode cookie %q: %w", name, ErrCookieMissing)
	}
	var plaintext []byte
	err := securecookie.DecodeMulti(name, encoded, &plaintext, c.codecs...)
	if err != nil {
		return nil, fmt.Errorf("decode cookie %q: %w", name, classifyCookieError(err))
	}
	if len(plaintext) == 0 || plaintext[0] != cookieFormatVersion {
		return nil, fmt.Errorf("decode cookie %q: unknown format: %w", name, ErrCookieWrongKey)
	}
	return plaintext[1:], nil
}

// classifyCookieError maps securecookie's errors onto our sentinels. An
// error other than a MAC failure from some key pair means that pair
// authenticated the value, so that pair's verdict (expired or not
// decryptable) is the one that matters.
//
// securecookie exports only ErrMacInvalid, so its other errors are
// recognised by message; TestCookieCodecDecodeErrors pins those messages,
// and a securecookie upgrade that changes them fails the test rather than
// silently reporting expired cookies as invalid.
func classifyCookieError(err error) error {
	var errs securecookie.MultiError
	if !errors.As(err, &errs) {
		errs = securecookie.MultiError{err}
	}
	for _, e := range errs {
		switch msg := e.Error(); {
		case strings.HasSuffix(msg, "expired timestamp"):
			return fmt.Errorf("%w (%v)", ErrCookieExpired, e)
		case strings.HasSuffix(msg, "could not be decrypted"):
			return fmt.Errorf("%w (%v)", ErrCookieWrongKey, e)
		}
	}
	return fmt.Errorf("%w (%v)", ErrCookieInvalid, err)
}

// EncodeString is Encode for a string value.
func (c *CookieCodec) EncodeString(name, value string) (string, error) {
	return c.Encode(name, []byte(value))
}

// DecodeString is Decode for a string value.
func (c *CookieCodec) DecodeString(name, encoded string) (string, error) {
	value, err := c.Decode(name, encoded)
	return string(value), err
}

// NewCookie encodes value and returns the cookie to set: HttpOnly, so page
// scripts cannot read it, with the codec's Path, Domain, SameSite and a
// Max-Age equal to its MaxAge. Secure is set when tls is true, that is when
// the request came over TLS (directly or per a trusted proxy), so the cookie
// is never later sent in clear.
func (c *CookieCodec) NewCookie(name string, value []byte, tls bool) (*http.Cookie, error) {
	encoded, err := c.Encode(name, value)
	if err != nil {
		return nil, err
	}
	cookie := c.cookie(name, encoded, tls)
	cookie.MaxAge = int(c.maxAge / time.Second)
	return cookie, nil
}

// ClearCookie returns the cookie that deletes the cookie called name:
// same attributes, empty value, Max-Age 0 (sent as "Max-Age=0").
func (c *CookieCodec) ClearCookie(name string, tls bool) *http.Cookie {
	cookie := c.cookie(name, "", tls)
	cookie.MaxAge = -1 // net/http writes a negative MaxAge as Max-Age=0.
	return cookie
}

func (c *CookieCodec) cookie(name, value string, tls bool) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     c.path,
		Domain:   c.domain,
		HttpOnly: true,
		Secure:   tls,
		SameSite: c.sameSite,
	}
}
