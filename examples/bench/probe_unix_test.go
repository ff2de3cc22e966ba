//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkProbeFsyncCPU writes 1 KiB and fsyncs, b.N times, as zk's log
// does (logFile: the file zero-filled ahead), and reports the CPU the
// process spent per write+fsync (user and system, getrusage): an fsync
// costs CPU in the kernel, not only a wait.
func BenchmarkProbeFsyncCPU(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "probe"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	lf := newLogFile(f, 1024)
	before := processCPU()
	b.ResetTimer()
	for range b.N {
		if err := lf.writeSync(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((processCPU()-before).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
