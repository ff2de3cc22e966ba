package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"
)

// Probes of the machine that PROFILE.md's findings rest on, runnable with
//
//	go test ./examples/bench -run x -bench Probe
//
// BenchmarkProbeRoundTrip: 1 KiB round trips over loopback to an echo
// server in this process or in another one, with the answering side busy
// (back to back) or idle for 500 µs before each; it reports the median.
// BenchmarkProbeFsyncCPU (probe_unix_test.go): the CPU one write+fsync
// costs the process.

// echoEnv makes the test binary a child echo server (see TestMain).
const echoEnv = "ZK_BENCH_ECHO_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(echoEnv) != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		os.Stdout.WriteString(ln.Addr().String() + "\n")
		serveEcho(ln)
		return
	}
	os.Exit(m.Run())
}

func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go io.Copy(c, c)
	}
}

func BenchmarkProbeRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go serveEcho(ln)
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), echoEnv+"=1")
	out, err := child.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := child.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	childAddr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	for _, where := range []struct{ name, addr string }{{"in-process", ln.Addr().String()}, {"other-process", childAddr[:len(childAddr)-1]}} {
		for _, idle := range []time.Duration{0, 500 * time.Microsecond} {
			b.Run(where.name+"/idle="+idle.String(), func(b *testing.B) { roundTrips(b, where.addr, idle) })
		}
	}
}

// roundTrips measures b.N round trips of 1 KiB to the echo server at addr,
// idle before each, and reports their median.
func roundTrips(b *testing.B, addr string, idle time.Duration) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1024)
	rtts := make([]time.Duration, 0, b.N)
	for range b.N {
		if idle > 0 {
			time.Sleep(idle)
		}
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	sort.Slice(rtts, func(i, j int) bool { return rtts[i] < rtts[j] })
	b.ReportMetric(float64(rtts[len(rtts)/2].Nanoseconds())/1e3, "p50-µs")
}

// TestQuorumChainCommits checks that the chained-commit probe commits (a
// writer that waited for the wrong record would stall it at zero) and
// leaves no file behind.
func TestQuorumChainCommits(t *testing.T) {
	dir := t.TempDir()
	for _, need := range []int{1, 2, 3} {
		rate, err := quorumChainRate(dir, 200*time.Millisecond, 3, need)
		if err != nil {
			t.Fatal(err)
		}
		if rate <= 0 {
			t.Fatalf("need %d of 3: %v commits/s", need, rate)
		}
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("probe files left: %v", left)
	}
}
