package rooms

import (
	"testing"
)

// A message sent on the WebSocket is acked after its commit and reaches
// every door with the same id: another WebSocket, a long poll, a stream.
func TestMessageReachesEveryDoor(t *testing.T) {
	tc := startChat(t, nil)
	ada, bob := tc.guest("ada"), tc.guest("bob")
	aws := ada.ws("lobby", -1)
	hello := readFrame(t, aws)
	if hello.Type != "hello" || hello.LastID != 0 {
		t.Fatalf("hello: %+v", hello)
	}
	bws := bob.ws("lobby", -1)
	readUntil(t, bws, "hello")
	sse := bob.stream("lobby", -1, "")
	if _, f := sse.next(t); f.Type != "hello" {
		t.Fatalf("stream's first event: %+v", f)
	}
	polled := make(chan frame, 1)
	go func() { polled <- bob.poll("lobby", 0) }()
	tc.WaitFor(func() bool { return tc.engine.Stats().Waiters == 1 }, "the long poll parked")

	aws.Send(`{"type":"send","body":"  hello, all  ","key":"k1"}`)
	ack := readUntil(t, aws, "ack")
	if ack.Key != "k1" || ack.ID == 0 || ack.Msg == 0 {
		t.Fatalf("ack: %+v", ack)
	}
	msg := readUntil(t, bws, "message")
	if msg.ID != ack.ID || msg.Body != "hello, all" || msg.userName() != "ada" || msg.Key != "k1" {
		t.Fatalf("bob's WebSocket got %+v; ack %+v", msg, ack)
	}
	ev, f := sse.next(t)
	for f.Type != "message" {
		ev, f = sse.next(t)
	}
	if ev.id != itoa(ack.ID) || f.ID != ack.ID {
		t.Fatalf("stream: id %q %+v; ack %+v", ev.id, f, ack)
	}
	p := <-polled
	if p.Type != "events" || len(p.Events) != 1 || p.Events[0].ID != ack.ID || p.LastID != ack.ID {
		t.Fatalf("long poll: %+v", p)
	}
}
