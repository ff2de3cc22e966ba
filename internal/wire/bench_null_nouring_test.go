//go:build !linux

package wire_test

import (
	"errors"
	"net"
)

// uringAvailable: io_uring is Linux's.
func uringAvailable() error { return errors.New("io_uring is Linux's") }

// runUringNull: io_uring is Linux's.
func runUringNull(net.Listener) error {
	return errors.New("-wire.nulluring needs Linux's io_uring")
}
