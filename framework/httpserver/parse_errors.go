package httpserver

import (
	"errors"
	"strconv"
)

// Sentinel errors that callers branch on with errors.Is. Every error returned
// by the parsers in this package is a *ParseError wrapping exactly one of
// these, so a caller can either branch on the sentinel or simply answer with
// ParseError.Status and close the connection.
var (
	// ErrBadRequest is the generic "malformed message" kind (400).
	ErrBadRequest = errors.New("httpserver: bad request")
	// ErrAmbiguousFraming marks a request whose body length cannot be
	// determined safely (request smuggling shapes such as Transfer-Encoding
	// with Content-Length, or conflicting Content-Length values); 400.
	ErrAmbiguousFraming = errors.New("httpserver: ambiguous message framing")
	// ErrRequestLineTooLong: the request line exceeds Limits.MaxRequestLineBytes (414).
	ErrRequestLineTooLong = errors.New("httpserver: request line too long")
	// ErrHeaderTooLarge: the header section (or trailer section) exceeds its
	// byte or line limit (431).
	ErrHeaderTooLarge = errors.New("httpserver: header section too large")
	// ErrBodyTooLarge: a declared or decoded body exceeds Limits.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("httpserver: body too large")
	// ErrUnsupportedVersion: a well-formed HTTP-version other than 1.0 or 1.1 (505).
	ErrUnsupportedVersion = errors.New("httpserver: HTTP version not supported")
	// ErrUnsupportedTransferCoding: a transfer coding this server does not
	// implement, applied before a final chunked (501).
	ErrUnsupportedTransferCoding = errors.New("httpserver: unsupported transfer coding")
	// ErrExpectationFailed: an Expect value other than 100-continue (417).
	ErrExpectationFailed = errors.New("httpserver: expectation failed")
	// ErrIncomplete: the peer closed the connection in the middle of a
	// message head or chunked body (no response can usefully be sent).
	ErrIncomplete = errors.New("httpserver: connection closed mid-message")
)

// ParseError is the error type returned by every parser in this package.
// Status is the HTTP status code the server should answer with before
// closing the connection; Reason is a short, fixed, human-readable cause
// (safe to log, never contains request bytes); Kind is the sentinel the
// error unwraps to.
type ParseError struct {
	Status int
	Reason string
	Kind   error
}

func (e *ParseError) Error() string {
	return "httpserver: " + strconv.Itoa(e.Status) + " " + e.Reason
}

// Unwrap returns the sentinel, so errors.Is(err, ErrBodyTooLarge) works.
func (e *ParseError) Unwrap() error { return e.Kind }

// StatusOf returns the HTTP status carried by err when it is (or wraps) a
// *ParseError, and 400 for any other non-nil error, 0 for nil.
func StatusOf(err error) int {
	if err == nil {
		return 0
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Status
	}
	return 400
}

func badRequest(reason string) *ParseError {
	return &ParseError{Status: 400, Reason: reason, Kind: ErrBadRequest}
}

func ambiguous(reason string) *ParseError {
	return &ParseError{Status: 400, Reason: reason, Kind: ErrAmbiguousFraming}
}

func headerTooLarge(reason string) *ParseError {
	return &ParseError{Status: 431, Reason: reason, Kind: ErrHeaderTooLarge}
}

func incomplete(reason string) *ParseError {
	return &ParseError{Status: 400, Reason: reason, Kind: ErrIncomplete}
}
