package httpserver

import (
	"slices"
	"strconv"
)

// AppendResponseHead appends an HTTP/major.minor status line, the fields of
// header in sorted key order (deterministic output, one line per value) and
// the final empty line to dst, and returns the extended slice.
//
// Response splitting is impossible by construction: a field whose name is
// not a token is skipped, and CR, LF and other control bytes (except HTAB)
// in a value are written as spaces, as net/http does. Framing fields
// (Content-Length, Transfer-Encoding, Connection) and Date are the caller's
// to set; see DateCache.
//
// status must be a three-digit code (100-999); anything else is a
// programming error and panics, as in net/http. It does not allocate when
// dst has room and header has at most 32 keys.
func AppendResponseHead(dst []byte, major, minor, status int, header Header) []byte {
	if status < 100 || status > 999 {
		panic("httpserver: invalid response status code " + strconv.Itoa(status))
	}
	dst = append(dst, "HTTP/"...)
	dst = strconv.AppendInt(dst, int64(major), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(minor), 10)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	dst = append(dst, "\r\n"...)

	keys := make([]string, 0, 32)
	for k := range header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !validFieldName(k) {
			continue
		}
		for _, v := range header[k] {
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			for i := 0; i < len(v); i++ {
				c := v[i]
				if c < 0x20 && c != '\t' || c == 0x7f {
					c = ' '
				}
				dst = append(dst, c)
			}
			dst = append(dst, "\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar[name[i]] {
			return false
		}
	}
	return true
}

// StatusText returns the RFC 9110 §15 reason phrase for a status code (so
// 413 is "Content Too Large", where net/http still says "Request Entity Too
// Large"),
// or "" for an unknown code: the reason phrase may be empty
// ("HTTP/1.1 599 \r\n" is valid) and clients must not depend on it.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 103:
		return "Early Hints"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 203:
		return "Non-Authoritative Information"
	case 204:
		return "No Content"
	case 205:
		return "Reset Content"
	case 206:
		return "Partial Content"
	case 300:
		return "Multiple Choices"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 412:
		return "Precondition Failed"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 421:
		return "Misdirected Request"
	case 422:
		return "Unprocessable Content"
	case 426:
		return "Upgrade Required"
	case 428:
		return "Precondition Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}
