//go:build !unix

package main

import (
	"errors"
	"syscall"
)

// canDaemon: start cannot put the peer in the background here; run
// start-foreground under the system's own service manager.
const canDaemon = false

func detached() *syscall.SysProcAttr { return nil }

// alive cannot tell here; stop finds no process.
func alive(int) bool { return false }

func terminate(int) error { return errors.New("stop needs a Unix system") }
