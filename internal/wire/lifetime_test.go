package wire_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"syscall"
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
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress = -1, "127.0.0.1"
	e, err := wire.NewEnsemble(cfg)
	must(t, err)
	must(t, e.WaitServing(testCtx(t)))
	addr := e.ClientAddr()
	// The AdminServer: a kept-alive connection and one halfway through
	// its request.
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://" + e.AdminAddr() + "/commands/ruok")
	must(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	half, err := net.Dial("tcp", e.AdminAddr())
	must(t, err)
	defer half.Close()
	half.Write([]byte("GET /commands/ru"))
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
	for _, a := range []string{addr, e.AdminAddr()} {
		if nc, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			nc.Close()
			t.Fatalf("%s still accepts after Close", a)
		}
	}
	half.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadAll(half); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the AdminServer's half-read connection: %v", err)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}
