package wire_test

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// FuzzServerFrame sends one arbitrary frame after the connect, then a ping:
// the server answers the frame (or closes the connection) and never
// crashes, and it keeps serving other clients. A request whose header
// decodes and whose body does not (but an auth or SASL packet's) is
// answered MARSHALLINGERROR and the connection stays, as in ZooKeeper
// (marshallingFrame). go test ./internal/wire -run x -fuzz FuzzServerFrame
// -fuzztime 1m
func FuzzServerFrame(f *testing.F) {
	for _, seed := range [][]byte{
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/", Watch: true}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/a", ACL: openACL}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpMulti}, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCheck, Path: "/", Version: -1}}}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: -8, Type: jute.OpSetWatches2}, &jute.SetWatches{V2: true, DataWatches: []string{"/"}}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpAddWatch}, &jute.AddWatchRequest{Path: "/", Mode: 1}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpSASL}, &jute.SASLToken{Token: []byte{}}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, rawBody{0, 0, 1, 0, '/'}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpMulti}, rawBody{0, 0, 0, 1, 0}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreateSession}),
	} {
		f.Add(seed)
	}
	e := startPeer(f, saslConfig())
	addr := e.ClientAddr()
	f.Fuzz(func(t *testing.T, body []byte) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		nc.Write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true}))
		if _, err := jute.ReadFrame(nc, nil, 1<<20); err != nil {
			t.Fatalf("connect: %v", err)
		}
		nc.Write(frame(body))
		nc.Write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing}))
		xid, marshalling := marshallingFrame(body)
		answered := false
		for {
			b, err := jute.ReadFrame(nc, nil, 1<<24)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("the server neither answered the ping nor closed the connection")
				}
				if marshalling {
					t.Fatalf("the server closed the connection on a request whose body does not decode (answered: %v)", answered)
				}
				break // the server closed it: fine
			}
			var h jute.ReplyHeader
			if h.Decode(jute.NewDecoder(b)); h.Xid == jute.XidPing {
				if marshalling && !answered {
					t.Fatal("a request whose body does not decode was not answered")
				}
				break
			}
			if marshalling && h.Xid == xid {
				if h.Err != -5 || len(b) != jute.ReplyHeaderSize {
					t.Fatalf("a request whose body does not decode: error %d, %d bytes; want MARSHALLINGERROR alone", h.Err, len(b))
				}
				answered = true
			}
		}
		if !serving(addr) {
			t.Fatal("the peer stopped answering")
		}
	})
}

// FuzzPipelinedFrames sends several arbitrary frames in one write after the
// connect (the input is cut into frames at the lengths its first bytes
// give), then a ping: the server answers the frames in the order they were
// sent, as many as it accepts before it closes the connection, and keeps
// serving. go test ./internal/wire -run x -fuzz FuzzPipelinedFrames
func FuzzPipelinedFrames(f *testing.F) {
	req := func(xid, op int32, r jute.Record) []byte {
		return jute.Marshal(nil, &jute.RequestHeader{Xid: xid, Type: op}, r)
	}
	pack := func(frames ...[]byte) []byte {
		var cuts, body []byte
		for _, fr := range frames {
			cuts = append(cuts, byte(len(fr)))
			body = append(body, fr...)
		}
		return append(append([]byte{byte(len(cuts))}, cuts...), body...)
	}
	f.Add(pack(req(1, jute.OpCreate, &jute.CreateRequest{Path: "/f", ACL: openACL}),
		req(2, jute.OpGetData, &jute.PathWatchRequest{Path: "/f", Watch: true}),
		req(3, jute.OpSetData, &jute.SetDataRequest{Path: "/f", Data: []byte("x"), Version: -1}),
		req(4, jute.OpDelete, &jute.PathVersionRequest{Path: "/f", Version: -1})))
	f.Add(pack(req(1, jute.OpExists, &jute.PathWatchRequest{Path: "/g", Watch: true}),
		req(2, jute.OpCreate, &jute.CreateRequest{Path: "/g", ACL: openACL, Flags: 1}),
		req(3, jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpDelete, Path: "/g", Version: -1}}})))
	f.Add(pack(req(1, jute.OpSASL, &jute.SASLToken{Token: []byte{}}),
		req(2, jute.OpSASL, &jute.SASLToken{Token: []byte(`username="bob",nonce="x",nc=00000001,cnonce="c",digest-uri="zookeeper/zk-sasl-md5",response=00`)}),
		req(3, jute.OpGetData, &jute.PathWatchRequest{Path: "/"})))
	e := startPeer(f, saslConfig())
	addr := e.ClientAddr()
	f.Fuzz(func(t *testing.T, in []byte) {
		frames, xids := cutFrames(in)
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		nc.Write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true}))
		if _, err := jute.ReadFrame(nc, nil, 1<<20); err != nil {
			t.Fatalf("connect: %v", err)
		}
		nc.Write(append(frames, jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})...))
		answered := 0
		for {
			b, err := jute.ReadFrame(nc, nil, 1<<24)
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("the server neither answered the ping nor closed the connection (%d replies)", answered)
				}
				break // the server closed it: fine
			}
			var h jute.ReplyHeader
			h.Decode(jute.NewDecoder(b))
			if h.Xid == jute.XidNotification {
				continue
			}
			if answered == len(xids) {
				if h.Xid != jute.XidPing {
					t.Fatalf("reply xid %d after the %d frames' replies, want the ping", h.Xid, len(xids))
				}
				break
			}
			if h.Xid != xids[answered] {
				t.Fatalf("reply %d has xid %d, want %d: replies out of order", answered, h.Xid, xids[answered])
			}
			answered++
		}
		if !serving(addr) {
			t.Fatal("the peer stopped answering")
		}
	})
}

// cutFrames cuts in into frames: in[0] frames whose lengths are the next
// bytes, then the bodies (as far as they go). A frame's xid (its first 4
// bytes) becomes its index + 1, so that a reply is never taken for a
// notification or a ping's answer. It returns the framed bytes and the
// xids of the frames long enough to have one.
func cutFrames(in []byte) ([]byte, []int32) {
	if len(in) == 0 {
		return nil, nil
	}
	n := min(int(in[0]), len(in)-1, 16)
	cuts, body := in[1:1+n], in[1+n:]
	var out []byte
	var xids []int32
	for i, c := range cuts {
		fr := append([]byte(nil), body[:min(int(c), len(body))]...)
		body = body[len(fr):]
		if len(fr) >= 4 {
			binary.BigEndian.PutUint32(fr, uint32(i+1))
		}
		xid := int32(i + 1)
		if len(fr) >= 8 && int32(binary.BigEndian.Uint32(fr[4:])) == jute.OpPing {
			xid = jute.XidPing // a ping is answered with the ping's xid, as ZooKeeper does
		}
		out = append(out, frame(fr)...)
		xids = append(xids, xid)
	}
	return out, xids
}

// marshallingFrame reports whether ZooKeeper answers a request frame sent
// after the connect with MARSHALLINGERROR and keeps the connection, and its
// xid: a header that decodes, of an op whose body ZooKeeper reads in its
// request processors (not auth or SASL, which processPacket reads and
// closes the connection on), with a body that does not decode, or a
// createSession on the open session. Not for the xids of pings and
// notifications, whose replies the fuzz test could not tell apart.
func marshallingFrame(fr []byte) (int32, bool) {
	d := jute.NewDecoder(fr)
	var h jute.RequestHeader
	h.Decode(d)
	switch {
	case d.Err() != nil, h.Xid == jute.XidPing, h.Xid == jute.XidNotification, h.Type == jute.OpAuth, h.Type == jute.OpSASL:
		return 0, false
	case h.Type == jute.OpCreateSession:
		return h.Xid, true
	}
	rec, _ := jute.NewRequest(h.Type)
	if rec == nil {
		return 0, false
	}
	rec.Decode(d)
	return h.Xid, d.Err() != nil
}
