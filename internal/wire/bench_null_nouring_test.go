//go:build !linux

package wire_test

import (
	"errors"
	"net"
)

// runUringNull: io_uring is Linux's.
func runUringNull(net.Listener) error {
	return errors.New("-wire.nulluring needs Linux's io_uring")
}
