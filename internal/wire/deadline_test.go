package wire_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// The deadlines of a connection, in both I/O layers (-wire.io): a client
// that sends nothing for its session timeout, a send stalled for as long,
// and a client that keeps its socket open after closing its session.

// listed reports whether cons lists a connection of session id.
func listed(t *testing.T, addr string, id int64) bool {
	return strings.Contains(fourLetter(t, addr, "cons"), fmt.Sprintf("sid=0x%x,", id))
}

// TestSilentClientClosed: a client that sends nothing, not even a ping, for
// its session timeout loses its connection (not before), as ZooKeeper
// closes it.
func TestSilentClientClosed(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	resp := r.connect(jute.ConnectRequest{TimeOut: 1000})
	start := time.Now()
	if !r.closed() {
		t.Fatal("a silent connection stayed open")
	}
	if d, timeout := time.Since(start), time.Duration(resp.TimeOut)*time.Millisecond; d < timeout/2 {
		t.Fatalf("closed after %v, before its session timeout %v", d, timeout)
	}
	stillServes(t, e.ClientAddr())
}

// TestSilentSessionExpires: a client port session is kept alive by what
// its client sends, as ZooKeeper's server touches a session on each of its
// client's packets. One whose client falls silent expires one session
// timeout after its last packet although its connection is still open (the
// peer's clock runs by hand here, faster than the connection's own
// deadline); one whose client pings lives on. (Before, the peer kept every
// attached session alive until its connection closed: a silent client lost
// its session only a second timeout later.)
func TestSilentSessionExpires(t *testing.T) {
	cfg := peerConfig()
	e := startPeer(t, cfg)
	ctx := testCtx(t)
	silent, pinger := rawDial(t, e.ClientAddr()), rawDial(t, e.ClientAddr())
	resp := silent.connect(jute.ConnectRequest{TimeOut: 4000})
	pinger.connect(jute.ConnectRequest{TimeOut: 4000})
	createRaw(silent, "/silent", 1) // ephemeral: its last packet
	createRaw(pinger, "/pinger", 1)
	exists := func(path string) bool {
		h, _, _ := pinger.call(jute.OpExists, &jute.PathWatchRequest{Path: path})
		return h.Err == 0
	}
	timeout := int(time.Duration(resp.TimeOut) * time.Millisecond / cfg.TickTime) // in TickTimes
	tick := func(tickTimes int) {
		for i := 0; i < tickTimes*engine.TicksPerTickTime; i++ {
			must(t, e.Tick(ctx))
			if i%engine.TicksPerTickTime == 0 {
				pinger.ok(jute.OpPing, nil, nil)
			}
		}
	}
	tick(timeout - 1)
	if !exists("/silent") {
		t.Fatalf("the silent session expired before its timeout of %d TickTimes", timeout)
	}
	tick(3)
	waitFor(t, func() bool { return !exists("/silent") })
	tick(2 * timeout)
	if !exists("/pinger") {
		t.Fatal("the session of a client that pings expired")
	}
}

// TestStalledSendClosed: a client that stops reading while its replies fit
// under MaxQueuedBytes is closed once a send has waited for its session
// timeout; the others go on.
func TestStalledSendClosed(t *testing.T) {
	e := startPeer(t, peerConfig())
	good := rawDial(t, e.ClientAddr())
	good.connect(jute.ConnectRequest{})
	good.ok(jute.OpCreate, &jute.CreateRequest{Path: "/big", Data: make([]byte, 900<<10), ACL: openACL}, nil)
	lazy := rawDial(t, e.ClientAddr())
	lazy.nc.(*net.TCPConn).SetReadBuffer(4096)
	resp := lazy.connect(jute.ConnectRequest{TimeOut: 1000})
	req := jute.AppendFrame(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/big"})
	for i := 0; i < 6; i++ { // 5.4 MB of replies: more than the sockets buffer, less than MaxQueuedBytes
		lazy.write(req)
	}
	// It pings all along, so only the stalled send can end it.
	ping := jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})
	waitFor(t, func() bool {
		lazy.nc.Write(ping) // fails once the server closed it
		return !listed(t, e.ClientAddr(), resp.SessionID)
	})
	good.ok(jute.OpSetData, &jute.SetDataRequest{Path: "/big", Data: []byte("x"), Version: -1}, nil)
}

// TestLingerAfterCloseSession: after a closeSession's reply the server
// waits for the client to close its end, but not for ever.
func TestLingerAfterCloseSession(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	resp := r.connect(jute.ConnectRequest{})
	if h, _, _ := r.call(jute.OpCloseSession, nil); h.Err != 0 {
		t.Fatalf("closeSession: %+v", h)
	}
	if !r.closed() {
		t.Fatal("the server kept a closed session's connection")
	}
	// The client may see the close before the server forgets the connection.
	waitFor(t, func() bool { return !listed(t, e.ClientAddr(), resp.SessionID) })
}
