package main

import (
	"errors"
	"fmt"
)

// errNoClientProtocol answers -server (and connect host:port) until zk
// speaks ZooKeeper's client protocol (internal/jute and internal/wire, in
// progress). The Backend and Conn interfaces are what a client on that
// protocol will implement: each Conn method is one ZooKeeper request.
var errNoClientProtocol = errors.New("zk does not speak ZooKeeper's client protocol yet, so it cannot connect to a server; " +
	"run without -server to use the embedded peer (with -data DIR to keep its data)")

// dialRemote opens the Backend for a ZooKeeper server at addr.
func dialRemote(addr string) (Backend, error) {
	return nil, fmt.Errorf("connecting to %s: %w", addr, errNoClientProtocol)
}
