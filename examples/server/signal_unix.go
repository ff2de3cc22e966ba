//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyStatus sends SIGUSR1 to c: kill -USR1 prints the peer's status.
func notifyStatus(c chan<- os.Signal) { signal.Notify(c, syscall.SIGUSR1) }
