package wire_test

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// rawBody is a request body sent as it is, whatever it holds.
type rawBody []byte

// Encode implements jute.Record.
func (b rawBody) Encode(e *jute.Encoder) { e.B = append(e.B, b...) }

// Decode implements jute.Record.
func (b rawBody) Decode(*jute.Decoder) {}

// encoded returns req's encoding.
func encoded(req jute.Record) []byte {
	var e jute.Encoder
	req.Encode(&e)
	return e.B
}

// withInt returns a copy of b with the int at off replaced by v.
func withInt(b []byte, off int, v int32) rawBody {
	out := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(out[off:], uint32(v))
	return out
}

// badBody is a request whose body is malformed, or odd and well formed.
type badBody struct {
	name string
	op   int32
	body rawBody
}

// badBodies draws, for each op with a body, its body cut short, with bytes
// after it, and with its first string's length negative, past the buffer
// and past jute.maxbuffer; and odd vector counts (-2: ZooKeeper reads an
// empty vector; -1: null; past the buffer).
func badBodies() []badBody {
	pathed := []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpCreate, &jute.CreateRequest{Path: "/d/c", ACL: openACL}},
		{jute.OpCreate2, &jute.CreateRequest{Path: "/d/c2", ACL: openACL}},
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/d/cc", ACL: openACL, Flags: 4}},
		{jute.OpCreateTTL, &jute.CreateRequest{Path: "/d/ct", ACL: openACL, Flags: 5, TTL: 3_600_000, HasTTL: true}},
		{jute.OpDelete, &jute.PathVersionRequest{Path: "/d/x", Version: -1}},
		{jute.OpCheck, &jute.PathVersionRequest{Path: "/d", Version: -7}},
		{jute.OpSetData, &jute.SetDataRequest{Path: "/d", Data: []byte("v"), Version: -1}},
		{jute.OpSetACL, &jute.SetACLRequest{Path: "/d", ACL: openACL, Version: -1}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/d"}},
		{jute.OpGetData, &jute.PathWatchRequest{Path: "/d"}},
		{jute.OpGetChildren, &jute.PathWatchRequest{Path: "/d"}},
		{jute.OpGetChildren2, &jute.PathWatchRequest{Path: "/d"}},
		{jute.OpGetACL, &jute.PathRequest{Path: "/d"}},
		{jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: "/d"}},
		{jute.OpGetEphemerals, &jute.PathRequest{Path: "/d"}},
		{jute.OpSync, &jute.PathRequest{Path: "/d"}},
		{jute.OpAddWatch, &jute.AddWatchRequest{Path: "/d", Mode: 0}},
		{jute.OpCheckWatches, &jute.WatchesRequest{Path: "/e", Type: 3}},
		{jute.OpRemoveWatches, &jute.WatchesRequest{Path: "/e", Type: 3}},
	}
	var out []badBody
	add := func(name string, op int32, b []byte) { out = append(out, badBody{name, op, b}) }
	for _, p := range pathed {
		b := encoded(p.req)
		add("empty", p.op, nil)
		add("cut short", p.op, b[:len(b)-1])
		add("trailing bytes", p.op, append(append([]byte(nil), b...), 1, 2, 3))
		add("path length -2", p.op, withInt(b, 0, -2))
		add("path length 1000", p.op, withInt(b, 0, 1000))
		add("path length past jute.maxbuffer", p.op, withInt(b, 0, 0x7fffffff))
	}
	create := encoded(&jute.CreateRequest{Path: "/d/v", ACL: openACL})
	aclAt := 4 + len("/d/v") + 4 // path, then an empty data buffer
	for _, n := range []int32{-2, -1, 1 << 30} {
		add(fmt.Sprintf("ACL count %d", n), jute.OpCreate, withInt(create, aclAt, n))
		add(fmt.Sprintf("ACL count %d", n), jute.OpSetACL, withInt(encoded(&jute.SetACLRequest{Path: "/d", ACL: openACL}), 4+len("/d"), n))
	}
	sw := encoded(&jute.SetWatches{DataWatches: []string{"/d"}})
	for _, n := range []int32{-2, -1, 1 << 30} {
		add(fmt.Sprintf("watch count %d", n), jute.OpSetWatches, withInt(sw, 8, n))
	}
	add("cut short", jute.OpSetWatches, sw[:len(sw)-1])
	sw2 := encoded(&jute.SetWatches{V2: true, DataWatches: []string{"/d"}})
	add("cut short", jute.OpSetWatches2, sw2[:len(sw2)-1])
	add("trailing bytes", jute.OpSetWatches2, append(append([]byte(nil), sw2...), 9))
	multi := encoded(&jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCreate, Path: "/d/m", ACL: openACL}}})
	for _, op := range []int32{jute.OpMulti, jute.OpMultiRead} {
		add("empty", op, nil)
		add("cut short", op, multi[:len(multi)-1])
		add("no end", op, multi[:len(multi)-9])
		add("op type 99", op, withInt(multi, 0, 99))
		add("trailing bytes", op, append(append([]byte(nil), multi...), 1, 2, 3))
	}
	for _, op := range []int32{jute.OpPing, jute.OpWhoAmI} {
		add("a body", op, []byte{1, 2, 3})
	}
	add("empty", -10, nil)
	add("3 bytes", -10, []byte{0, 0, 1})
	auth := encoded(&jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")})
	add("cut short", jute.OpAuth, auth[:len(auth)-1])
	rc := encoded(&jute.ReconfigRequest{CurConfigID: -1})
	add("empty", jute.OpReconfig, nil)
	add("cut short", jute.OpReconfig, rc[:len(rc)-1])
	sw3 := encoded(&jute.SetWatches{V2: true, DataWatches: []string{"/d/x"}, ExistWatches: []string{"/d/y"}, ChildWatches: []string{}})
	add("null persistent list", jute.OpSetWatches2, sw3)
	return out
}

// TestRawMalformedBodiesAsZooKeeper sends every request of badBodies to a
// real ZooKeeper 3.8 and to zk, on one connection while it stays open
// (a new session when it closes), and compares each reply's error, its
// zxid (as the last zxid before it, or a new one), whether the connection
// stays open (the next request is answered), and /d's Stat after it. A
// write ZooKeeper fails with MARSHALLINGERROR takes a zxid there (an error
// txn) and none in zk (README, deliberate): the test compares it as one
// that took none.
func TestRawMalformedBodiesAsZooKeeper(t *testing.T) {
	real := newBadBodyRun(t, startRealZKsNoTimers(t, 1)[0])
	ours := newBadBodyRun(t, startPeer(t, peerConfig()).ClientAddr())
	for _, c := range badBodies() {
		a, b := real.send(c), ours.send(c)
		if a != b {
			t.Errorf("op %d, body %s (% x):\nzookeeper: %s\nzk:        %s", c.op, c.name, []byte(c.body), a, b)
		}
	}
}

// badBodyRun is one system under TestRawMalformedBodiesAsZooKeeper.
type badBodyRun struct {
	t    *testing.T
	addr string
	r    *rawConn
	zxid int64 // the last zxid a reply carried
}

func newBadBodyRun(t *testing.T, addr string) *badBodyRun {
	x := &badBodyRun{t: t, addr: addr}
	x.open()
	x.r.ok(jute.OpCreate, &jute.CreateRequest{Path: "/d", ACL: openACL}, nil)
	h, _, _ := x.r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/d"})
	x.zxid = h.Zxid
	return x
}

func (x *badBodyRun) open() {
	x.r = rawDial(x.t, x.addr)
	x.r.connect(jute.ConnectRequest{TimeOut: 10000})
}

// send sends c and renders what came of it.
func (x *badBodyRun) send(c badBody) string {
	x.r.nc.SetDeadline(time.Now().Add(20 * time.Second))
	before := x.zxid
	h, body, evs, err := x.r.tryCall(c.op, c.body)
	var out []string
	if err != nil {
		out = append(out, "no reply")
	} else {
		zx := "same zxid"
		switch {
		case h.Zxid == before+1 && (h.Err == -5 || h.Err == -8) && isRawWrite(c.op):
			zx = "same zxid" // ZooKeeper's error txn (see the test, and refusedEarly)
			x.zxid = h.Zxid
		case h.Zxid > before:
			zx = fmt.Sprintf("zxid +%d", h.Zxid-before)
			x.zxid = h.Zxid
		case h.Zxid != before:
			zx = fmt.Sprintf("zxid %d", h.Zxid)
		}
		if c.op == jute.OpMultiRead && h.Err != 0 {
			body = nil // ZooKeeper sends an empty result list after the error (see rawSys.call)
		}
		out = append(out, fmt.Sprintf("err=%d %s body=%d events=%v", h.Err, zx, len(body), evs))
	}
	h, body, _, err = x.r.tryCall(jute.OpExists, &jute.PathWatchRequest{Path: "/d"})
	if err != nil {
		out = append(out, "closed")
		x.open()
		h, body, _ = x.r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/d"})
	}
	var st jute.StatResponse
	if h.Err != 0 || jute.Unmarshal(body, &st) != nil {
		x.t.Fatalf("exists /d after op %d (%s): error %d", c.op, c.name, h.Err)
	}
	if h.Zxid > x.zxid {
		x.zxid = h.Zxid
	}
	out = append(out, fmt.Sprintf("/d v%d cv%d kids%d len%d", st.Stat.Version, st.Stat.Cversion, st.Stat.NumChildren, st.Stat.DataLength))
	return strings.Join(out, "; ")
}

// isRawWrite reports whether ZooKeeper logs a txn for op.
func isRawWrite(op int32) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete,
		jute.OpSetData, jute.OpSetACL, jute.OpCheck, jute.OpMulti, -10:
		return true
	}
	return false
}

// TestRawSequentialContainerAsZooKeeper: a createContainer request with a
// sequential flag makes a sequential container in ZooKeeper 3.8
// (PrepRequestProcessor names the node by CreateMode.fromFlag, and logs a
// CreateContainerTxn for the op); a multi's createContainer op with one is
// a plain sequential create there (Op.create picks the op by the flag).
// Compared with a real ZooKeeper: replies, Stats and the nodes' children
// (a client sees a container's owner field as 0: createMode's test and the
// engine's TestSequentialContainerReaped check that the node is a
// container).
func TestRawSequentialContainerAsZooKeeper(t *testing.T) {
	real := newRawSys(t, "zookeeper", startRealZKsNoTimers(t, 1)...)
	ours := newRawSys(t, "zk", startPeer(t, peerConfig()).ClientAddr())
	steps := []struct {
		op  int32
		req jute.Record
	}{
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/d/sc-", ACL: openACL, Flags: 2}},
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/d/ec-", ACL: openACL, Flags: 3}},
		{jute.OpMulti, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpCreateContainer, Path: "/d/mc-", ACL: openACL, Flags: 2}}}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/d/sc-0000000000"}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/d/ec-0000000001"}},
		{jute.OpExists, &jute.PathWatchRequest{Path: "/d/mc-0000000002"}},
		{jute.OpCreateContainer, &jute.CreateRequest{Path: "/d/sc-0000000000/k-", ACL: openACL, Flags: 2}},
		{jute.OpGetChildren, &jute.PathWatchRequest{Path: "/d"}},
	}
	rawBase(real, ours)
	for i, st := range steps {
		_, _, a := real.call(real.sess[0], st.op, st.req)
		_, _, b := ours.call(ours.sess[0], st.op, st.req)
		if a != b {
			t.Errorf("step %d (op %d):\nzookeeper: %s\nzk:        %s", i, st.op, a, b)
		}
	}
}
