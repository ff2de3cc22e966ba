//go:build unix

package znode

import "syscall"

// processCPU returns the CPU time the process has used, in ns (user and
// system, all threads, so Pebble's background work counts too).
func processCPU() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
