package wire_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

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
