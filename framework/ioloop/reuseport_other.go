//go:build !unix

package ioloop

import (
	"errors"
	"syscall"
)

func setReusePort(network, address string, rc syscall.RawConn) error {
	return errors.New("ioloop: SO_REUSEPORT is not available on this system")
}
