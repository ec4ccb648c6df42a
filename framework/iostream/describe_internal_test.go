package iostream

import (
	"bufio"
	"net"
	"testing"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// member stands for a protocol connection that reads with a method value.
type member struct{}

func (*member) onFrame([]byte, error) {}

// frameScanner stands for a connection that is its own Scanner.
type frameScanner struct{}

func (*frameScanner) Split([]byte, bool) (int, []byte, error) { return 0, nil, nil }
func (*frameScanner) OnRead([]byte, error)                    {}

func onLine([]byte, error) {}

// TestDescribeHandlerNamesThePendingRead: the loop names a slow or
// panicking connection handler with DescribeHandler, which must name the
// user's read callback, not the stream's own event handler type.
func TestDescribeHandlerNamesThePendingRead(t *testing.T) {
	tests := []struct {
		name  string
		start func(s *Stream)
		want  string
	}{
		{"a method value", func(s *Stream) { s.ReadUntil([]byte("\n"), 0, (&member{}).onFrame) },
			"iostream read callback chat/framework/iostream.(*member).onFrame"},
		{"a function", func(s *Stream) { s.ReadBytes(4, onLine) },
			"iostream read callback chat/framework/iostream.onLine"},
		{"ReadScan's callback", func(s *Stream) { s.ReadScan(bufio.ScanLines, (&member{}).onFrame) },
			"iostream read callback chat/framework/iostream.(*member).onFrame"},
		{"a Scanner", func(s *Stream) { s.ReadScanner(&frameScanner{}) },
			"iostream read scanner *iostream.frameScanner"},
		{"no read", func(s *Stream) {}, "iostream stream, no read pending"},
		{"closed", func(s *Stream) { s.Close(nil) }, "iostream stream, closed"},
	}
	l := looptest.Start(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestStream(t, l)
			looptest.Do(t, l, func() {
				tc.start(s)
				d, ok := any((*streamEvents)(s)).(interface{ DescribeHandler() string })
				if !ok {
					t.Errorf("%T has no DescribeHandler method: the loop can only name it by its type", (*streamEvents)(s))
					return
				}
				if got := d.DescribeHandler(); got != tc.want {
					t.Errorf("DescribeHandler() = %q, want %q", got, tc.want)
				}
			})
		})
	}
}

// newTestStream returns the server side of a fresh loopback connection.
func newTestStream(t *testing.T, l *ioloop.Loop) *Stream {
	t.Helper()
	streams := make(chan *Stream, 1)
	var ln *ioloop.Listener
	looptest.Do(t, l, func() {
		var err error
		if ln, err = l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{}); err != nil {
			t.Fatal(err)
		}
		ln.SetAcceptHandler(func(c *ioloop.Conn) { streams <- New(l, c, Options{}) })
	})
	t.Cleanup(func() { l.AddCallback(func() { ln.Close() }) })
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	s := looptest.Wait(t, streams, "stream")
	t.Cleanup(func() { l.AddCallback(func() { s.Close(nil) }) })
	return s
}
