package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop/looptest"
)

// pythonEchoClient drives the /ws echo with python3-websockets (Debian's
// package), a third, independent implementation: text, binary, a large
// compressed message, a ping, and a clean close.
const pythonEchoClient = `
import asyncio, sys, websockets
async def main(url):
    async with websockets.connect(url, compression="deflate", max_size=2**24) as ws:
        for msg in ["hello", b"\x00\x01\xff" * 1000, "chat text " * 5000, ""]:
            await ws.send(msg)
            echo = await ws.recv()
            assert echo == msg, (len(echo), len(msg))
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
        headers = ws.response_headers if hasattr(ws, "response_headers") else ws.response.headers
        extensions = headers.get("Sec-WebSocket-Extensions", "")
    assert ws.close_code == 1000, ws.close_code
    print("ok", extensions)
asyncio.run(main(sys.argv[1]))
`

func TestPythonWebsocketsClient(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import websockets").Run(); err != nil {
		t.Skip("python3-websockets is not installed (apt-get install python3-websockets); CI installs it")
	}
	loop := looptest.Start(t)
	var addr string
	looptest.Do(t, loop, func() {
		_, bound, err := listen(loop, "127.0.0.1:0", nil)
		if err != nil {
			t.Fatal(err)
		}
		addr = bound.String()
	})
	cmd := exec.Command(python, "-c", pythonEchoClient, "ws://"+addr+"/ws")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(looptest.Watchdog):
		cmd.Process.Kill()
		t.Fatal("python client did not finish")
	}
	if err != nil || !strings.HasPrefix(string(out), "ok permessage-deflate") {
		t.Fatalf("python3-websockets client: %v\n%s", err, out)
	}
}
