package websocket_test

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// fullListener returns a listener on 127.0.0.1 whose accept queue is full
// (backlog 0 and one connection waiting, the second return value): Linux
// drops further SYNs, so a connect to it stays under way until the queue
// has room and the client retransmits.
func fullListener(t *testing.T) (net.Listener, net.Conn) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "full listener")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	blocker, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blocker.Close() })
	return ln, blocker
}
