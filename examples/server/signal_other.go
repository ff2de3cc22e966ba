//go:build !unix

package main

import "os"

// notifyStatus does nothing where there is no SIGUSR1: the status is
// printed once, when the peer serves.
func notifyStatus(chan<- os.Signal) {}
