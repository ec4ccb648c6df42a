package tcpserver_test

import (
	"bufio"
	"fmt"
	"net"

	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// An echo server: each line a client sends comes back, all connections on
// one loop.
func ExampleServer() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	srv := &tcpserver.Server{Loop: loop, Handler: func(s *iostream.Stream) {
		var echo iostream.ReadCallback
		echo = func(line []byte, err error) {
			if err != nil {
				s.Close(err)
				return
			}
			s.Write(append([]byte(nil), line...)) // line is only valid during the callback
			s.ReadUntil([]byte("\n"), 1024, echo)
		}
		s.ReadUntil([]byte("\n"), 1024, echo)
	}}
	addrs := make(chan net.Addr, 1)
	loop.AddCallback(func() {
		addr, err := srv.Listen("127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		addrs <- addr
	})
	go func() {
		c, _ := net.Dial("tcp", (<-addrs).String())
		fmt.Fprintf(c, "hello, loop\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Print(line)
		c.Close()
		loop.Stop()
	}()
	loop.Run()
	// Output: hello, loop
}
