package iostream

import (
	"net"
	"testing"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// An idle stream must hold no read buffer: buffers come from the pool while
// bytes are in flight and go back as soon as they are consumed.
func TestIdleStreamHoldsNoBuffer(t *testing.T) {
	l := looptest.Start(t)
	streams := make(chan *Stream, 1)
	var ln *ioloop.Listener
	looptest.Do(t, l, func() {
		var err error
		if ln, err = l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{}); err != nil {
			t.Fatal(err)
		}
		ln.SetAcceptHandler(func(c *ioloop.Conn) { streams <- New(l, c, Options{}) })
	})
	defer l.AddCallback(func() { ln.Close() })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := looptest.Wait(t, streams, "stream")
	got := make(chan string, 1)
	looptest.Do(t, l, func() {
		s.ReadUntil([]byte("\n"), 0, func(data []byte, err error) { got <- string(data) })
	})
	client.Write([]byte("hello\n"))
	if line := looptest.Wait(t, got, "line"); line != "hello\n" {
		t.Fatalf("got %q", line)
	}
	looptest.Do(t, l, func() {
		if s.rb != nil {
			t.Fatalf("idle stream still holds a %d-byte buffer", len(s.rb.data))
		}
	})
}
