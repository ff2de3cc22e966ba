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
	// Both ends live in this process: the client side holds a net.Conn and
	// its buffers per connection too, so this is an upper bound.
	t.Logf("%d idle sessions: %.0f bytes per connection (server and client sides, heap+stacks)",
		len(conns), float64(after-before)/float64(len(conns)))
	stillServes(t, addr)
	if st := e.Status(); st.Sessions < len(conns) {
		t.Fatalf("%d sessions attached, want at least %d", st.Sessions, len(conns))
	}
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
