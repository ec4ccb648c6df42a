package httpserver

import "time"

// TimeFormat is the IMF-fixdate layout of the Date header (RFC 9110
// §5.6.7), the same as net/http.TimeFormat.
const TimeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

// DateCache holds the formatted value of the Date response header and
// reformats it at most once per second: every response needs it, and the
// value only changes once a second.
//
// A DateCache is owned by one server and used only on its loop goroutine;
// it has no locking. The zero value is ready to use.
type DateCache struct {
	unixSecond int64
	value      string
	buf        [len(TimeFormat)]byte
}

// Value returns now formatted as an HTTP date, reusing the cached string
// while now is in the same second as the previous call. The string stays
// valid forever (strings are immutable); only one allocation is made per
// second.
func (c *DateCache) Value(now time.Time) string {
	sec := now.Unix()
	if c.value == "" || sec != c.unixSecond {
		c.unixSecond = sec
		c.value = string(now.UTC().AppendFormat(c.buf[:0], TimeFormat))
	}
	return c.value
}
