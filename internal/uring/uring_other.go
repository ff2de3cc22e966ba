//go:build !linux

package uring

import "errors"

// errUnsupported is Available's answer where io_uring does not exist.
var errUnsupported = errors.New("io_uring exists only on Linux")

// Available reports why this system has no io_uring: always.
func Available() error { return errUnsupported }
