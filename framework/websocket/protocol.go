package websocket

import (
	"compress/flate"
	"errors"
	"io"
	"sync"
)

// DefaultMaxMessageSize bounds a message when ReaderConfig.MaxMessageSize
// is zero: 512 KiB after decompression and across fragments. A chat
// message is a few hundred bytes; anything near this is abuse.
const DefaultMaxMessageSize = 512 << 10

// ReaderConfig configures a Reader. The zero value reads a client's view
// of a server (unmasked frames), no compression, DefaultMaxMessageSize.
type ReaderConfig struct {
	// Server: this end is the server, so every incoming frame must be
	// masked; a client requires unmasked frames. Either violation is 1002.
	Server bool
	// MaxMessageSize bounds a data message after decompression and across
	// fragments (1009 beyond it). Zero means DefaultMaxMessageSize.
	MaxMessageSize int
	// Deflate is the negotiated permessage-deflate parameters, nil when
	// none was negotiated (RSV1 is then a protocol error).
	Deflate *DeflateParams
}

// EventKind says what a frame produced.
type EventKind uint8

const (
	// EventNone: the frame was consumed (a non-final fragment); nothing to do.
	EventNone EventKind = iota
	// EventMessage: a complete text or binary message in Data.
	EventMessage
	// EventPing: answer with a pong carrying Data.
	EventPing
	// EventPong: Data is the pong's payload.
	EventPong
	// EventClose: the peer's close frame; CloseCode and CloseReason hold its
	// status (CloseNoStatus when it carried none). Feed it to
	// CloseHandshake.Received; read no further frames.
	EventClose
)

// Event is what ReadFrame delivers. Data aliases the frame or a buffer of
// the Reader: it is valid until the next ReadFrame or Release call and
// until the stream's buffer is reused, so copy what must be kept.
type Event struct {
	Kind        EventKind
	Opcode      Opcode // OpText or OpBinary for EventMessage
	Data        []byte
	CloseCode   int
	CloseReason string
}

// Reader is the receiving half of the protocol, with no I/O: a split
// function that finds one frame in the bytes a stream has buffered, and a
// message assembler fed each frame it returns. It enforces RFC 6455 and
// RFC 7692 and reports every violation as a *CloseError whose Code is the
// status to fail the connection with (1002, 1007 or 1009).
//
// Driving it from an event-loop stream:
//
//	stream.ReadScan(r.Split, func(frame []byte, err error) {
//		if err != nil { /* *CloseError: send its Code, close; else I/O error */ }
//		ev, err := r.ReadFrame(frame) // same error handling
//		switch ev.Kind { ... }         // then re-arm ReadScan
//	})
//
// Checks happen as early as possible: everything that the header decides
// (masking, reserved bits, opcode, control-frame rules, fragmentation
// order, size limits) fails in Split before the payload is buffered, and
// the text of an uncompressed message is validated in Split as its bytes
// arrive, so invalid UTF-8 fails at the first certain byte even inside an
// unfinished frame. Compressed text is validated as it is inflated, and
// for a fragmented compressed message also speculatively as fragments
// arrive (whenever the compressed bytes double, so the work stays linear).
//
// Memory: between messages a Reader holds no buffer, except the 32 KiB
// inflate dictionary when the peer was allowed context takeover. A
// fragmented message holds its bytes until it completes.
//
// A Reader is not safe for concurrent use; it is owned by the loop.
// After an error, or after EventClose, it reads nothing more: every later
// call returns that error, or a 1002 for frames after the close.
type Reader struct {
	server          bool
	maxMessage      int
	deflate         bool
	receiveTakeover bool

	err error // sticky failure

	// The frame Split last found: ReadFrame takes it from here.
	hdr     FrameHeader
	haveHdr bool
	peeked  int // payload bytes of the frame being split already validated

	// The data message in flight.
	inMessage     bool
	msgOp         Opcode
	msgCompressed bool
	msgWire       int    // payload bytes received so far (compressed if so)
	buf           []byte // fragments assembled so far (pooled)
	text          textValidator
	trialAt       int // compressed size at which to next inflate speculatively

	lent   []byte // buffer behind the last Event's Data, pooled on next call
	dict   []byte // last 32 KiB inflated, when the peer uses context takeover
	src    pieceReader
	closed bool
}

// NewReader returns a Reader for one connection.
func NewReader(cfg ReaderConfig) *Reader {
	r := &Reader{server: cfg.Server, maxMessage: cfg.MaxMessageSize}
	if r.maxMessage <= 0 {
		r.maxMessage = DefaultMaxMessageSize
	}
	if cfg.Deflate != nil {
		r.deflate = true
		r.receiveTakeover = cfg.Deflate.receiveTakeover(cfg.Server)
	}
	return r
}

var errFrameAfterClose = &CloseError{Code: CloseProtocolError, Reason: "frame after close frame"}

func (r *Reader) fail(code int, reason string) error {
	r.err = &CloseError{Code: code, Reason: reason}
	r.releaseMessage()
	return r.err
}

// wireLimit bounds the payload bytes of one message on the wire:
// MaxMessageSize, plus deflate's worst-case expansion when compressed.
func (r *Reader) wireLimit(compressed bool) int {
	if compressed {
		return r.maxMessage + r.maxMessage>>4 + 1024
	}
	return r.maxMessage
}

// Split is a bufio.SplitFunc: given everything buffered, it returns
// (0, nil, nil) to ask for more, or one whole frame (header and payload)
// as token and its length as advance, or a *CloseError. It keeps how much
// of the current frame's text it has validated, so it stays linear however
// the bytes arrive. The token must be passed to ReadFrame before Split is
// called again. Split never modifies data.
func (r *Reader) Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if r.err != nil {
		return 0, nil, r.err
	}
	if r.closed {
		return 0, nil, errFrameAfterClose
	}
	h, stage, err := parseFrameHeaderPrefix(data)
	if err == nil && stage > headerNone {
		err = r.checkHeader(&h, stage >= headerLengthKnown)
	}
	if err != nil {
		r.err = err
		r.releaseMessage()
		return 0, nil, err
	}
	if stage != headerComplete {
		if atEOF && len(data) > 0 {
			return 0, nil, errShortFrame
		}
		return 0, nil, nil
	}
	end := h.HeaderLen + h.Length
	avail := min(len(data), end)
	if r.peekText(&h) && avail-h.HeaderLen > r.peeked {
		if err := r.validateMasked(&h, data[h.HeaderLen+r.peeked:avail], r.peeked); err != nil {
			return 0, nil, err
		}
		r.peeked = avail - h.HeaderLen
	}
	if len(data) < end {
		if atEOF {
			return 0, nil, errShortFrame
		}
		return 0, nil, nil
	}
	r.hdr, r.haveHdr, r.peeked = h, true, 0
	return end, data[:end], nil
}

// checkHeader applies the rules a header alone decides, the length rules
// only once the length is known.
func (r *Reader) checkHeader(h *FrameHeader, lengthKnown bool) error {
	switch {
	case h.Masked != r.server:
		if r.server {
			return r.fail(CloseProtocolError, "client frame not masked")
		}
		return r.fail(CloseProtocolError, "server frame masked")
	case h.Rsv2 || h.Rsv3:
		return r.fail(CloseProtocolError, "RSV2 or RSV3 set without a negotiated extension")
	}
	switch h.Opcode {
	case OpClose, OpPing, OpPong:
		switch {
		case h.Rsv1:
			return r.fail(CloseProtocolError, "RSV1 set on a control frame")
		case !h.Fin:
			return r.fail(CloseProtocolError, "fragmented control frame")
		case lengthKnown && h.Length > MaxControlPayload:
			return r.fail(CloseProtocolError, "control frame over 125 bytes")
		}
		return nil
	case OpText, OpBinary:
		switch {
		case r.inMessage:
			return r.fail(CloseProtocolError, "new data frame inside a fragmented message")
		case h.Rsv1 && !r.deflate:
			return r.fail(CloseProtocolError, "RSV1 set without permessage-deflate")
		case lengthKnown && h.Length > r.wireLimit(h.Rsv1):
			return r.fail(CloseMessageTooBig, "message too big")
		}
		return nil
	case OpContinuation:
		switch {
		case !r.inMessage:
			return r.fail(CloseProtocolError, "continuation frame without a message to continue")
		case h.Rsv1:
			return r.fail(CloseProtocolError, "RSV1 set on a continuation frame")
		case lengthKnown && h.Length > r.wireLimit(r.msgCompressed)-r.msgWire:
			return r.fail(CloseMessageTooBig, "message too big")
		}
		return nil
	}
	return r.fail(CloseProtocolError, "reserved opcode")
}

// peekText reports whether the frame's payload is uncompressed text,
// which Split validates as it arrives.
func (r *Reader) peekText(h *FrameHeader) bool {
	switch h.Opcode {
	case OpText:
		return !h.Rsv1
	case OpContinuation:
		return r.msgOp == OpText && !r.msgCompressed
	}
	return false
}

// validateMasked feeds payload bytes starting at payload offset pos,
// unmasked on the stack (data belongs to the stream and is not modified),
// to the message's text validator.
func (r *Reader) validateMasked(h *FrameHeader, p []byte, pos int) error {
	if !h.Masked {
		if !r.text.write(p) {
			return r.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
		}
		return nil
	}
	var chunk [512]byte
	for len(p) > 0 {
		n := copy(chunk[:], p)
		pos = xorMask(h.MaskKey, pos, chunk[:n])
		if !r.text.write(chunk[:n]) {
			return r.fail(CloseInvalidPayload, "invalid UTF-8 in text message")
		}
		p = p[n:]
	}
	return nil
}

// ReadFrame consumes the frame Split just returned (it unmasks it in
// place) and returns the event it completes, EventNone for a non-final
// fragment. Errors are *CloseError values as for Split.
func (r *Reader) ReadFrame(frame []byte) (Event, error) {
	if r.err != nil {
		return Event{}, r.err
	}
	if !r.haveHdr || len(frame) != r.hdr.HeaderLen+r.hdr.Length {
		return Event{}, errors.New("websocket: ReadFrame without the token Split returned")
	}
	h := r.hdr
	r.haveHdr = false
	r.recycleLent()
	payload := frame[h.HeaderLen:]
	if h.Masked {
		xorMask(h.MaskKey, 0, payload)
	}
	switch h.Opcode {
	case OpPing:
		return Event{Kind: EventPing, Data: payload}, nil
	case OpPong:
		return Event{Kind: EventPong, Data: payload}, nil
	case OpClose:
		code, reason, err := ParseClosePayload(payload)
		if err != nil {
			r.err = err
			r.releaseMessage()
			return Event{}, err
		}
		r.closed = true
		r.releaseMessage()
		return Event{Kind: EventClose, Data: payload, CloseCode: code, CloseReason: reason}, nil
	}

	starting := h.Opcode != OpContinuation
	if starting {
		r.inMessage, r.msgOp, r.msgCompressed, r.msgWire = true, h.Opcode, h.Rsv1, 0
		r.trialAt = 1
	}
	r.msgWire += len(payload)
	single := starting && h.Fin

	if !r.msgCompressed {
		data := payload
		if !single {
			r.appendFragment(payload)
			data = r.buf
		}
		if !h.Fin {
			return Event{}, nil
		}
		if r.msgOp == OpText && !r.text.complete() {
			return Event{}, r.fail(CloseInvalidPayload, "text message ends inside a UTF-8 sequence")
		}
		return r.finishMessage(data), nil
	}

	src := payload
	if !single {
		r.appendFragment(payload)
		src = r.buf
	}
	if !h.Fin {
		if r.msgOp == OpText && len(r.buf) >= r.trialAt {
			r.trialAt = 2 * len(r.buf)
			if _, err := r.inflate(src, false); err != nil {
				return Event{}, err
			}
		}
		return Event{}, nil
	}
	out, err := r.inflate(src, true)
	if err != nil {
		return Event{}, err
	}
	if r.receiveTakeover {
		r.keepWindow(out)
	}
	r.releaseBuf()
	r.buf = out // so finishMessage lends it
	return r.finishMessage(out), nil
}

// finishMessage ends the message in flight and lends its buffer.
func (r *Reader) finishMessage(data []byte) Event {
	ev := Event{Kind: EventMessage, Opcode: r.msgOp, Data: data}
	r.lent, r.buf = r.buf, nil
	r.inMessage, r.msgWire, r.text = false, 0, textValidator{}
	return ev
}

// inflate decompresses a message's payload, validating text as it goes.
// final == false is a speculative pass over the fragments so far: it
// only validates and counts (truncated input is expected there).
func (r *Reader) inflate(src []byte, final bool) ([]byte, error) {
	fr := pooledFlateReaders.Get().(io.ReadCloser)
	defer pooledFlateReaders.Put(fr)
	r.src = pieceReader{pieces: [2][]byte{src, nil}}
	if final {
		r.src.pieces[1] = deflateFinalTail[:]
	}
	if err := fr.(flate.Resetter).Reset(&r.src, r.dict); err != nil {
		return nil, r.fail(CloseInternalError, "inflate reset failed")
	}
	defer func() { r.src = pieceReader{} }()
	text := r.msgOp == OpText
	var v textValidator
	if !final {
		var scratch [2048]byte
		total := 0
		for {
			n, err := fr.Read(scratch[:])
			if text && !v.write(scratch[:n]) {
				return nil, r.fail(CloseInvalidPayload, "invalid UTF-8 in compressed text message")
			}
			if total += n; total > r.maxMessage {
				return nil, r.fail(CloseMessageTooBig, "message too big after decompression")
			}
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				return nil, nil
			case err != nil:
				return nil, r.fail(CloseInvalidPayload, "invalid compressed data")
			}
		}
	}
	out := getMessageBuf(min(r.maxMessage+1, 2*len(src)+64))
	for {
		if len(out) == cap(out) {
			if len(out) > r.maxMessage {
				putMessageBuf(out)
				return nil, r.fail(CloseMessageTooBig, "message too big after decompression")
			}
			grown := make([]byte, len(out), min(r.maxMessage+1, 2*cap(out)+512))
			copy(grown, out)
			putMessageBuf(out)
			out = grown
		}
		n, err := fr.Read(out[len(out):cap(out)])
		if text && !v.write(out[len(out):len(out)+n]) {
			putMessageBuf(out)
			return nil, r.fail(CloseInvalidPayload, "invalid UTF-8 in compressed text message")
		}
		out = out[:len(out)+n]
		if len(out) > r.maxMessage {
			putMessageBuf(out)
			return nil, r.fail(CloseMessageTooBig, "message too big after decompression")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			putMessageBuf(out)
			return nil, r.fail(CloseInvalidPayload, "invalid compressed data")
		}
	}
	if text && !v.complete() {
		putMessageBuf(out)
		return nil, r.fail(CloseInvalidPayload, "compressed text message ends inside a UTF-8 sequence")
	}
	return out, nil
}

// keepWindow appends a message's output to the inflate dictionary,
// keeping its last 32 KiB for the peer's back-references.
func (r *Reader) keepWindow(out []byte) {
	if len(out) >= deflateWindow {
		r.dict = append(r.dict[:0], out[len(out)-deflateWindow:]...)
		return
	}
	if r.dict == nil {
		r.dict = make([]byte, 0, deflateWindow)
	}
	if over := len(r.dict) + len(out) - deflateWindow; over > 0 {
		r.dict = r.dict[:copy(r.dict, r.dict[over:])]
	}
	r.dict = append(r.dict, out...)
}

// Release returns the Reader's buffers (the last Event's Data among them)
// to the pool; the connection calls it after handling an event, and when
// it ends. The Reader stays usable.
func (r *Reader) Release() {
	r.recycleLent()
	if r.err != nil || r.closed {
		r.releaseMessage()
		r.dict = nil
	}
}

// InMessage reports whether a fragmented message is being assembled.
func (r *Reader) InMessage() bool { return r.inMessage }

func (r *Reader) recycleLent() {
	if r.lent != nil {
		putMessageBuf(r.lent)
		r.lent = nil
	}
}

func (r *Reader) releaseBuf() {
	if r.buf != nil {
		putMessageBuf(r.buf)
		r.buf = nil
	}
}

func (r *Reader) releaseMessage() {
	r.releaseBuf()
	r.inMessage = false
}

// appendFragment adds a fragment to the message being assembled, growing
// the buffer at most to the message's wire limit (Split has already
// checked that the fragment fits), never beyond.
func (r *Reader) appendFragment(p []byte) {
	if r.buf == nil {
		r.buf = getMessageBuf(len(p))
	}
	if need := len(r.buf) + len(p); need > cap(r.buf) {
		grown := make([]byte, len(r.buf), min(max(need, 2*cap(r.buf)), r.wireLimit(r.msgCompressed)))
		copy(grown, r.buf)
		putMessageBuf(r.buf)
		r.buf = grown
	}
	r.buf = append(r.buf, p...)
}

// Message buffers are pooled up to maxPooledBuf; larger ones go to the GC
// so one huge message does not pin memory in the pool.
const maxPooledBuf = 64 << 10

var messageBufs = sync.Pool{}

func getMessageBuf(n int) []byte {
	if n <= maxPooledBuf {
		if p, _ := messageBufs.Get().(*[]byte); p != nil {
			if cap(*p) >= n {
				return (*p)[:0]
			}
		}
		if n < 512 {
			n = 512
		}
	}
	return make([]byte, 0, n)
}

func putMessageBuf(b []byte) {
	if c := cap(b); c >= 512 && c <= maxPooledBuf {
		b = b[:0]
		messageBufs.Put(&b)
	}
}
