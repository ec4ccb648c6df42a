package websocket

// PreparedMessage is a message framed once and written to many
// connections, for broadcast: the server's frames are unmasked, so the
// same bytes go to every peer, and with permessage-deflate negotiated
// without context takeover (as this package always does) a compressed
// frame is shared too. Loop-owned; the frames are built lazily on first
// use and never modified afterwards, so connections may keep references
// to them in their write queues.
type PreparedMessage struct {
	op            Opcode
	data          []byte
	plainFrame    []byte
	deflatedFrame []byte
}

// NewPreparedMessage prepares a text or binary message for broadcast. data
// must not be modified afterwards.
func NewPreparedMessage(op Opcode, data []byte) *PreparedMessage {
	return &PreparedMessage{op: op, data: data}
}

// frame returns the frame bytes for a server connection, compressed when
// the connection negotiated deflate and the message is long enough. The
// encoding, done once per message, is kept out of this per-receiver path.
func (pm *PreparedMessage) frame(deflate bool, threshold int) []byte {
	if deflate && len(pm.data) >= threshold {
		if pm.deflatedFrame == nil {
			pm.deflatedFrame = pm.encode(true)
		}
		return pm.deflatedFrame
	}
	if pm.plainFrame == nil {
		pm.plainFrame = pm.encode(false)
	}
	return pm.plainFrame
}

// encode frames the message, compressing its payload if asked.
func (pm *PreparedMessage) encode(compressed bool) []byte {
	payload := pm.data
	if compressed {
		payload = compress(payload)
	}
	frame := appendFrameHeader(make([]byte, 0, maxHeaderSize+len(payload)), pm.op, true, compressed, len(payload), nil)
	return append(frame, payload...)
}

// WritePrepared sends a prepared message: on a server connection the
// shared frame bytes are queued as they are (one write system call when
// the socket has room, no copy, no per-connection encoding); a client
// connection must mask, so it encodes its own frame.
func (c *Conn) WritePrepared(pm *PreparedMessage) error {
	if c.state != stateOpen {
		return ErrClosed
	}
	if !c.server {
		return c.WriteMessage(pm.op, pm.data)
	}
	return c.send(pm.frame(c.deflate, c.opts.CompressionThreshold))
}
