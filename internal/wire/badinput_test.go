package wire_test

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/internal/zkerr"
)

// stillServes checks that a new client can still work against e.
func stillServes(t *testing.T, addr string) {
	t.Helper()
	r := rawDial(t, addr)
	r.connect(jute.ConnectRequest{})
	r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/"}, nil)
}

func frame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestBadInputClosesOnlyThatConnection: garbage of every kind closes the
// connection that sent it, and nothing else.
func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	e := saslPeer(t)
	addr := e.ClientAddr()
	good := rawDial(t, addr)
	good.connect(jute.ConnectRequest{})
	createRaw(good, "/keep", 0)
	rng := rand.New(rand.NewPCG(1, 2))
	header := func(xid, op int32) []byte { return jute.Marshal(nil, &jute.RequestHeader{Xid: xid, Type: op}) }
	cases := map[string]func(r *rawConn){
		"random first frame": func(r *rawConn) {
			b := make([]byte, 40)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			r.write(frame(b))
		},
		"length over jute.maxbuffer": func(r *rawConn) { r.write([]byte{0x01, 0, 0, 0, 1, 2, 3}) },
		"negative length":            func(r *rawConn) { r.write([]byte{0xff, 0xff, 0xff, 0xf0}) },
		"request before connect": func(r *rawConn) {
			r.write(frame(jute.Marshal(header(1, jute.OpGetData), &jute.PathWatchRequest{Path: "/keep"})))
		},
		"unknown op code": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.write(frame(header(1, 9999)))
			h := jute.ReplyHeader{}
			must(t, jute.Unmarshal(r.read(), &h))
			// Zxid -1: ZooKeeper's UnimplementedRequestProcessor
			// answers with the request's zxid, which is unset.
			if h.Err != int32(zkerr.CodeUnimplemented) || h.Zxid != -1 {
				t.Errorf("unknown op: error %d zxid %d, want UNIMPLEMENTED with zxid -1", h.Err, h.Zxid)
			}
		},
		"SASL: a random digest-response (AUTHFAILED, as ZooKeeper answers a failed SASL exchange)": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.ok(jute.OpSASL, &jute.SASLToken{Token: []byte{}}, nil)
			b := make([]byte, rng.IntN(200))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			if h, _, _ := r.call(jute.OpSASL, &jute.SASLToken{Token: b}); h.Err != int32(zkerr.CodeAuthFailed) {
				t.Errorf("SASL: error %d, want AUTHFAILED", h.Err)
			}
		},
		"SASL: a token longer than its frame": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.write(frame(append(header(1, jute.OpSASL), 0, 0, 1, 0, 'x')))
		},
		"auth: a string longer than its frame": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.write(frame(append(header(jute.XidAuth, jute.OpAuth), 0, 0, 1, 0, 'x')))
		},
		"a header cut short": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.write(frame([]byte{0, 0, 0, 1, 0, 0}))
		},
		"truncated frame": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			r.write([]byte{0, 0, 0, 50, 0, 0, 0, 1})
			r.nc.(*net.TCPConn).CloseWrite()
		},
		"random frames after connect": func(r *rawConn) {
			r.connect(jute.ConnectRequest{})
			for i := 0; i < 20; i++ {
				b := make([]byte, rng.IntN(64))
				for j := range b {
					b[j] = byte(rng.Uint32())
				}
				if _, err := r.nc.Write(frame(b)); err != nil {
					return
				}
			}
		},
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			r := rawDial(t, addr)
			send(r)
			if !r.closed() {
				t.Fatal("the server did not close the connection")
			}
			stillServes(t, addr)
		})
	}
	good.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/keep"}, nil)
}

// TestMalformedBodyAnswered: a request whose body does not decode (after a
// good header) is answered MARSHALLINGERROR, in its turn among the requests
// before and after it, and the connection stays open, as in ZooKeeper
// (TestRawMalformedBodiesAsZooKeeper compares them); nothing changes.
func TestMalformedBodyAnswered(t *testing.T) {
	_, r, _ := rawSession(t)
	createRaw(r, "/keep", 0)
	bt := r.batch()
	bt.add(jute.OpCreate, &jute.CreateRequest{Path: "/keep/a", ACL: openACL})
	var xids []int32
	for _, op := range []int32{jute.OpGetData, jute.OpCreate, jute.OpSetData, jute.OpMulti, jute.OpSetWatches, jute.OpCreateSession} {
		xids = append(xids, bt.add(op, rawBody{0, 0, 1, 0, '/', 'k'}))
	}
	last := bt.add(jute.OpSetData, &jute.SetDataRequest{Path: "/keep", Data: []byte("x"), Version: -1})
	got := bt.send()
	if len(got) != len(xids)+2 || got[0].h.Err != 0 || got[len(got)-1].h.Err != 0 || got[len(got)-1].h.Xid != last {
		t.Fatalf("replies %+v", got)
	}
	for i, xid := range xids {
		if h := got[i+1].h; h.Xid != xid || h.Err != int32(zkerr.CodeMarshallingError) || len(got[i+1].body) != 0 {
			t.Errorf("reply %d: %+v with %d bytes, want xid %d MARSHALLINGERROR alone", i+1, h, len(got[i+1].body), xid)
		}
	}
	var st jute.StatResponse
	r.ok(jute.OpExists, &jute.PathWatchRequest{Path: "/keep"}, &st)
	if st.Stat.Version != 1 || st.Stat.NumChildren != 1 {
		t.Fatalf("/keep: %+v, want version 1 and one child", st.Stat)
	}
}

// TestMaxBufferClosesConnection: a request over jute.maxbuffer closes the
// connection before its body is read, as ZooKeeper does.
func TestMaxBufferClosesConnection(t *testing.T) {
	cfg := peerConfig()
	cfg.JuteMaxBuffer = 4096
	e := startPeer(t, cfg)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/b", 0)
	r.ok(jute.OpSetData, &jute.SetDataRequest{Path: "/b", Data: make([]byte, 4000), Version: -1}, nil)
	r.write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: 9, Type: jute.OpSetData},
		&jute.SetDataRequest{Path: "/b", Data: make([]byte, 5000), Version: -1}))
	// The server may have closed already: this write may fail.
	r.nc.Write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing}))
	if b, err := jute.ReadFrame(r.nc, nil, 1<<20); err == nil {
		t.Fatalf("a reply (%d bytes) to an oversized request or the ping behind it", len(b))
	}
	stillServes(t, e.ClientAddr())
}

// TestMaxBufferFrameInOneRead: a frame over the smallest jute.maxbuffer
// that arrives whole in one receive (it fits the ring's buffer) closes the
// connection too.
func TestMaxBufferFrameInOneRead(t *testing.T) {
	cfg := peerConfig()
	cfg.JuteMaxBuffer = 1024 // the smallest allowed
	e := startPeer(t, cfg)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/b", 0)
	r.write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: 9, Type: jute.OpSetData},
		&jute.SetDataRequest{Path: "/b", Data: make([]byte, 1500), Version: -1}))
	r.nc.Write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})) // may fail: closed
	// Closed at once: neither the setData nor the ping behind it is answered.
	if b, err := jute.ReadFrame(r.nc, nil, 1<<20); err == nil {
		t.Fatalf("a reply (%d bytes) to an oversized request or the ping behind it", len(b))
	}
	stillServes(t, e.ClientAddr())
}

// TestMaxClientCnxnsPerIP: the connections of one address are limited.
func TestMaxClientCnxnsPerIP(t *testing.T) {
	cfg := peerConfig()
	cfg.MaxClientCnxns = 2
	thirdConnectionRefused(t, cfg)
}

// thirdConnectionRefused checks a peer of cfg, which allows two connections
// from 127.0.0.1: a third is closed as it is accepted, and one closed makes
// room again.
func thirdConnectionRefused(t *testing.T, cfg engine.Config) {
	t.Helper()
	e := startPeer(t, cfg)
	a, b := rawDial(t, e.ClientAddr()), rawDial(t, e.ClientAddr())
	a.connect(jute.ConnectRequest{})
	b.connect(jute.ConnectRequest{})
	if c := rawDial(t, e.ClientAddr()); !c.closed() {
		t.Fatal("a third connection was accepted")
	}
	a.nc.Close()
	waitFor(t, func() bool { return opensSession(e.ClientAddr()) })
}

// opensSession reports whether a new connection to addr gets an answer to
// its connect request.
func opensSession(addr string) bool {
	d, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	defer d.Close()
	d.Write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}))
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = jute.ReadFrame(d, nil, 1<<20)
	return err == nil
}

// waitFor polls cond (a condition on another goroutine's progress).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestClientThatNeverReads: a client that floods requests and never reads
// its replies stalls only its own connection, which is closed; the apply
// loop and the other clients go on.
func TestClientThatNeverReads(t *testing.T) {
	e := startPeer(t, peerConfig())
	good := rawDial(t, e.ClientAddr())
	good.connect(jute.ConnectRequest{})
	good.ok(jute.OpCreate, &jute.CreateRequest{Path: "/big", Data: make([]byte, 200000), ACL: openACL}, nil)
	createRaw(good, "/other", 0)
	good.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/other", Watch: true}, nil)
	lazy := rawDial(t, e.ClientAddr())
	lazy.connect(jute.ConnectRequest{})
	lazy.nc.(*net.TCPConn).SetReadBuffer(4096)
	req := jute.AppendFrame(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/big"})
	lazy.nc.SetWriteDeadline(time.Now().Add(time.Second))
	for i := 0; i < 200; i++ {
		if _, err := lazy.nc.Write(req); err != nil {
			break // the server stopped reading, or closed it
		}
	}
	// The other client still writes, and sees its event before the reply.
	_, _, evs := good.call(jute.OpSetData, &jute.SetDataRequest{Path: "/other", Data: []byte("x"), Version: -1})
	if len(evs) != 1 {
		t.Fatalf("events %+v", evs)
	}
	// Without reading, wait for the server to drop the connection: writes
	// then fail.
	ping := jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})
	lazy.nc.SetWriteDeadline(time.Time{})
	waitFor(t, func() bool {
		_, err := lazy.nc.Write(ping)
		return err != nil
	})
}

// TestEventFloodBound: a client that never reads while its watches fire
// (the apply loop queues its events) is disconnected once its queue passes
// MaxQueuedBytes; the writes that raise the events are not held up.
func TestEventFloodBound(t *testing.T) {
	cfg := peerConfig()
	logs := &wire.LogBuffer{}
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg.MaxSessionTimeout = 10 * time.Minute // a stalled write alone would take that long to close it
	e := startPeer(t, cfg)
	good := rawDial(t, e.ClientAddr())
	good.connect(jute.ConnectRequest{})
	createRaw(good, "/flood", 0)
	good.nc.SetDeadline(time.Now().Add(5 * time.Minute))
	long := strings.Repeat("n", 2500)
	var ops []jute.MultiOp
	for i := 0; i < 300; i++ {
		p := fmt.Sprintf("/flood/%s%d", long, i)
		createRaw(good, p, 0)
		ops = append(ops, jute.MultiOp{Type: jute.OpSetData, Path: p, Version: -1})
	}
	lazy := rawDial(t, e.ClientAddr())
	lazy.connect(jute.ConnectRequest{TimeOut: int32(cfg.MaxSessionTimeout.Milliseconds())})
	lazy.ok(jute.OpAddWatch, &jute.AddWatchRequest{Path: "/flood", Mode: jute.AddWatchPersistentRecursive}, nil)
	lazy.nc.(*net.TCPConn).SetReadBuffer(4096)
	for i := 0; i < 30 && !strings.Contains(logs.String(), "does not read"); i++ {
		good.ok(jute.OpMulti, &jute.MultiRequest{Ops: ops}, nil) // about 0.75 MB of events each
	}
	if !strings.Contains(logs.String(), "does not read its replies") {
		t.Fatalf("the flooded connection was not closed for its queue; logs:\n%s", logs.String())
	}
	stillServes(t, e.ClientAddr())
}
