package wire_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/internal/zkerr"
)

// TestTooManyWatchesOverTheWire: a read that would set one watch past the
// peer's per-session limit fails with QUOTAEXCEEDED (ZooKeeper's code for a
// refused resource limit, not SYSTEMERROR) and registers nothing; the
// session goes on.
func TestTooManyWatchesOverTheWire(t *testing.T) {
	cfg := peerConfig()
	cfg.MaxWatchesPerSession = 2
	e := startPeer(t, cfg)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/a", 0)
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil)
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil)
	if h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/b", Watch: true}); h.Err != int32(zkerr.CodeQuotaExceeded) {
		t.Fatalf("a third watch: error %d, want QUOTAEXCEEDED (%d)", h.Err, zkerr.CodeQuotaExceeded)
	}
	// Nothing was registered for /b: creating it fires no event.
	createRaw(r, "/b", 0)
	if h, _, evs := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/a"}); h.Err != 0 || len(evs) != 0 {
		t.Fatalf("after creating /b: %+v, events %+v", h, evs)
	}
}

// TestReplyLargerThanQueueBound: one reply larger than MaxQueuedBytes (a
// getChildren of thousands of long names, about 9 MB) reaches a client that
// reads it, as ZooKeeper sends it, and the connection goes on; the bound
// closes only a connection given more while its queue is over it
// (TestEventFloodBound).
func TestReplyLargerThanQueueBound(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/big", 0)
	long := strings.Repeat("c", 2500)
	const children = 3600 // 3,600 names of 2,504 bytes: 9.0 MB, over 8 MiB
	for i := 0; i < children; i += 300 {
		var ops []jute.MultiOp
		for k := i; k < i+300; k++ {
			ops = append(ops, jute.MultiOp{Type: jute.OpCreate, Path: fmt.Sprintf("/big/%s%04d", long, k), ACL: openACL})
		}
		r.ok(jute.OpMulti, &jute.MultiRequest{Ops: ops}, nil)
	}
	var got jute.StringsResponse
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/big"}, &got)
	size := 0
	for _, c := range got.Strings {
		size += 4 + len(c)
	}
	if len(got.Strings) != children || size <= wire.MaxQueuedBytes {
		t.Fatalf("getChildren: %d children of %d bytes, want %d over %d bytes", len(got.Strings), size, children, wire.MaxQueuedBytes)
	}
	var c2 jute.GetChildren2Response
	r.ok(jute.OpGetChildren2, &jute.PathWatchRequest{Path: "/big"}, &c2)
	if len(c2.Children) != children || c2.Stat.NumChildren != children {
		t.Fatalf("getChildren2: %d children, stat %+v", len(c2.Children), c2.Stat)
	}
	// Pipelined, in one write: the large reply, then what is queued before
	// the writer takes it (small replies here).
	var batch []byte
	for xid, op := range []int32{jute.OpGetChildren, jute.OpExists, jute.OpExists} {
		batch = jute.AppendFrame(batch, &jute.RequestHeader{Xid: int32(100 + xid), Type: op}, &jute.PathWatchRequest{Path: "/big"})
	}
	r.write(batch)
	for xid := int32(100); xid < 103; xid++ {
		var h jute.ReplyHeader
		d := jute.NewDecoder(r.read())
		h.Decode(d)
		if h.Xid != xid || h.Err != 0 {
			t.Fatalf("pipelined reply %+v, want xid %d and no error", h, xid)
		}
	}
	createRaw(r, "/after", 0) // the connection goes on
}
