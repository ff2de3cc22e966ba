package wire_test

import (
	"flag"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

var idleConns = flag.Int("wire.idle", 1000, "idle connections TestManyIdleConnections opens")

// TestManyIdleConnections opens many idle sessions: the peer keeps serving,
// and the memory they hold is reported (the figure is measured, not
// asserted: go test ./internal/wire -run ManyIdle -v -wire.idle=10000).
func TestManyIdleConnections(t *testing.T) {
	e := startPeer(t, peerConfig())
	addr := e.ClientAddr()
	before := heap()
	conns := make([]net.Conn, 0, *idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	req := jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 10000, Passwd: make([]byte, 16), HasReadOnly: true})
	for i := 0; i < *idleConns; i++ {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, nc)
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		_, err = nc.Write(req)
		must(t, err)
		_, err = jute.ReadFrame(nc, nil, 1<<20)
		must(t, err)
	}
	after := heap()
	per := float64(after-before) / float64(len(conns))
	// Both ends live in this process: subtract what a bare pair of loopback
	// sockets costs (both ends held, no goroutines), measured alike.
	bare := barePairCost(t, min(len(conns), 500)) // linear in the pairs: a sample leaves descriptors to the test
	t.Logf("%d idle sessions: %.0f bytes per connection with both ends; a bare socket pair costs %.0f; the zk side about %.0f bytes",
		len(conns), per, bare, per-bare/2)
	stillServes(t, addr)
	if st := e.Status(); st.Sessions < len(conns) {
		t.Fatalf("%d sessions attached, want at least %d", st.Sessions, len(conns))
	}
}

// barePairCost measures the memory of n idle loopback socket pairs.
func barePairCost(t *testing.T, n int) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	before := heap()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		must(t, err)
		s, err := ln.Accept()
		must(t, err)
		held = append(held, c, s)
	}
	return float64(heap()-before) / float64(n)
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
