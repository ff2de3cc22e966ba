package wire_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
)

// TestExpiredSessionClosesConnection: when the ensemble expires a session,
// its connection closes, and a reconnect is told the session is gone.
func TestExpiredSessionClosesConnection(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	resp := r.connect(jute.ConnectRequest{})
	must(t, e.ExpireSession(testCtx(t), resp.SessionID))
	if !r.closed() {
		t.Fatal("the connection of an expired session stayed open")
	}
	again := rawDial(t, e.ClientAddr())
	if got := again.connect(jute.ConnectRequest{SessionID: resp.SessionID, Passwd: resp.Passwd}); got.SessionID != 0 || got.TimeOut != 0 {
		t.Fatalf("reconnect to an expired session: %+v", got)
	}
}

// TestCloseStopsEverything: Ensemble.Close closes the listener and every
// connection, and returns once every goroutine the client port started is
// gone.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	e, err := wire.NewEnsemble(peerConfig())
	must(t, err)
	must(t, e.WaitServing(testCtx(t)))
	addr := e.ClientAddr()
	var conns []*rawConn
	for i := 0; i < 5; i++ {
		r := rawDial(t, addr)
		r.connect(jute.ConnectRequest{})
		r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/", Watch: true}, nil)
		conns = append(conns, r)
	}
	must(t, e.Close())
	for _, r := range conns {
		if !r.closed() {
			t.Fatal("a connection outlived Close")
		}
		r.nc.Close()
	}
	if nc, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		nc.Close()
		t.Fatal("the client port still accepts after Close")
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}
