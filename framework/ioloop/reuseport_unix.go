//go:build unix

package ioloop

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// setReusePort is a net.ListenConfig.Control function setting SO_REUSEPORT.
func setReusePort(network, address string, rc syscall.RawConn) error {
	var sockErr error
	err := rc.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return sockErr
}
