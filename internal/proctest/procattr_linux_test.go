//go:build linux

package proctest

import "syscall"

// childAttr makes the kernel SIGKILL a peer process when the test process
// dies (even SIGSTOPped, it could not notice its stdin ending). Pdeathsig
// fires when the thread that forked the child exits; Go only ends threads
// whose goroutine locked them and exited, which these tests never do.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
