package wire_test

import (
	"net"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// FuzzServerFrame sends one arbitrary frame after the connect, then a ping:
// the server answers the frame (or closes the connection) and never
// crashes, and it keeps serving other clients. go test ./internal/wire -run x
// -fuzz FuzzServerFrame -fuzztime 1m
func FuzzServerFrame(f *testing.F) {
	for _, seed := range [][]byte{
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpGetData}, &jute.PathWatchRequest{Path: "/", Watch: true}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/a", ACL: openACL}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpMulti}, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCheck, Path: "/", Version: -1}}}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: -8, Type: jute.OpSetWatches2}, &jute.SetWatches{V2: true, DataWatches: []string{"/"}}),
		jute.Marshal(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpAddWatch}, &jute.AddWatchRequest{Path: "/", Mode: 1}),
	} {
		f.Add(seed)
	}
	e := startPeer(f, peerConfig())
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
		for {
			b, err := jute.ReadFrame(nc, nil, 1<<24)
			if err != nil {
				break // the server closed it: fine
			}
			var h jute.ReplyHeader
			if h.Decode(jute.NewDecoder(b)); h.Xid == jute.XidPing {
				break
			}
		}
		if !serving(addr) {
			t.Fatal("the peer stopped answering")
		}
	})
}
