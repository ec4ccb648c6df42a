package rooms

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"chat/store"
)

// Refusal is a post (or any call) the engine refused before storing
// anything: the protocol's error object, with the HTTP status the API
// answers it with.
type Refusal struct {
	Code       string        // invalid, too_long, rate_limited, slow_mode, muted, banned, locked, archived, not_found, forbidden, busy, unavailable
	Message    string        // for a person to read
	RetryAfter time.Duration // when there is a time to wait; zero otherwise
	Status     int
	// Field names the input a refusal is about ("name", "title", "topic"
	// of a new room), for a form to show the message beside it; empty
	// otherwise. It is not on the wire.
	Field string
}

func (r *Refusal) Error() string { return "rooms: " + r.Code + ": " + r.Message }

// retryAfterSeconds is RetryAfter rounded up to whole seconds (0: none).
func (r *Refusal) retryAfterSeconds() int {
	if r.RetryAfter <= 0 {
		return 0
	}
	return int(math.Ceil(r.RetryAfter.Seconds()))
}

func refuse(status int, code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

func refuseAfter(status int, code string, wait time.Duration, format string, args ...any) *Refusal {
	r := refuse(status, code, format, args...)
	r.RetryAfter = wait
	return r
}

// MaxBodyChars bounds a message, in characters after trimming.
const MaxBodyChars = 4000

// checkBody applies the body rules and returns the trimmed body: valid
// UTF-8, 1 to MaxBodyChars characters after trimming, and no control
// characters but newline and tab. Tornado strips control characters from
// arguments; a chat refuses them, so the sender learns why.
func checkBody(body string) (string, *Refusal) {
	if !utf8.ValidString(body) {
		return "", refuse(http.StatusBadRequest, "invalid", "The message is not valid UTF-8.")
	}
	body = strings.TrimSpace(body)
	n := utf8.RuneCountInString(body)
	switch {
	case n == 0:
		return "", refuse(http.StatusBadRequest, "invalid", "The message is empty.")
	case n > MaxBodyChars:
		return "", refuse(http.StatusBadRequest, "too_long", "The message is %d characters long; the most is %d.", n, MaxBodyChars)
	}
	for _, c := range body {
		if c != '\n' && c != '\t' && unicode.IsControl(c) {
			return "", refuse(http.StatusBadRequest, "invalid", "The message contains a control character (U+%04X).", c)
		}
	}
	return body, nil
}

// checkKey bounds a client key.
func checkKey(key string) *Refusal {
	if len(key) > store.MaxClientKeyLen {
		return refuse(http.StatusBadRequest, "invalid", "The key is longer than %d bytes.", store.MaxClientKeyLen)
	}
	return nil
}

// RateLimit is a token bucket: Burst posts at once, then PerSecond.
type RateLimit struct {
	Burst     float64
	PerSecond float64
}

// DefaultRateLimit is five at once, then one a second.
var DefaultRateLimit = RateLimit{Burst: 5, PerSecond: 1}

// limiter holds one token bucket per user. Loop-owned. Buckets that have
// filled up again are forgotten by sweep, so it holds only users who
// posted recently.
type limiter struct {
	rate    RateLimit
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(rate RateLimit) *limiter {
	return &limiter{rate: rate, buckets: make(map[int64]*bucket)}
}

// take spends one of user's tokens at now, or says how long until one is
// there.
func (l *limiter) take(user int64, now time.Time) (ok bool, wait time.Duration) {
	b := l.buckets[user]
	if b == nil {
		b = &bucket{tokens: l.rate.Burst, at: now}
		l.buckets[user] = b
	}
	b.tokens = min(l.rate.Burst, b.tokens+now.Sub(b.at).Seconds()*l.rate.PerSecond)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
}

// refund gives back a token taken for a write that stored nothing.
func (l *limiter) refund(user int64) {
	if b := l.buckets[user]; b != nil {
		b.tokens = min(l.rate.Burst, b.tokens+1)
	}
}

// sweep forgets the buckets that are full again at now.
func (l *limiter) sweep(now time.Time) {
	for user, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate.PerSecond >= l.rate.Burst {
			delete(l.buckets, user)
		}
	}
}
