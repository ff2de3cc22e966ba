package wire_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// A pipelining client: it encodes many requests, sends them in one write,
// and only then reads the frames that come back.

// batch collects requests to send at once.
type batch struct {
	r    *rawConn
	b    []byte
	xids []int32
	ops  []int32
}

func (r *rawConn) batch() *batch { return &batch{r: r} }

// add encodes one request and returns its xid.
func (bt *batch) add(op int32, req jute.Record) int32 {
	bt.r.xid++
	recs := []jute.Record{&jute.RequestHeader{Xid: bt.r.xid, Type: op}}
	if req != nil {
		recs = append(recs, req)
	}
	bt.b = jute.AppendFrame(bt.b, recs...)
	bt.xids = append(bt.xids, bt.r.xid)
	bt.ops = append(bt.ops, op)
	return bt.r.xid
}

// inFrame is one inFrame read back: a reply or a watch event.
type inFrame struct {
	h    jute.ReplyHeader
	body []byte
	ev   *jute.WatcherEvent
}

func (f inFrame) String() string {
	if f.ev != nil {
		return fmt.Sprintf("event(%d %s)", f.ev.Type, f.ev.Path)
	}
	return fmt.Sprintf("reply(%d err %d)", f.h.Xid, f.h.Err)
}

// send writes the batch (from a goroutine, so that a large batch cannot
// deadlock against replies the test has not read yet) and reads frames
// until every request is answered.
func (bt *batch) send() []inFrame {
	t := bt.r.t
	t.Helper()
	werr := make(chan error, 1)
	go func() {
		_, err := bt.r.nc.Write(bt.b)
		werr <- err
	}()
	var out []inFrame
	for replies := 0; replies < len(bt.xids); {
		b := bt.r.read()
		d := jute.NewDecoder(b)
		var f inFrame
		f.h.Decode(d)
		must(t, d.Err())
		if f.h.Xid == jute.XidNotification {
			f.ev = &jute.WatcherEvent{}
			f.ev.Decode(d)
			must(t, d.Err())
		} else {
			f.body = b[jute.ReplyHeaderSize:]
			replies++
		}
		out = append(out, f)
	}
	must(t, <-werr)
	return out
}

// replies returns the replies of frames (events left out), checking that
// they come in the batch's xid order.
func (bt *batch) replies(frames []inFrame) []inFrame {
	t := bt.r.t
	t.Helper()
	var out []inFrame
	for _, f := range frames {
		if f.ev == nil {
			out = append(out, f)
		}
	}
	for i, f := range out {
		if f.h.Xid != bt.xids[i] {
			t.Fatalf("reply %d has xid %d, want %d (replies out of xid order)", i, f.h.Xid, bt.xids[i])
		}
	}
	return out
}

// TestPipelinedOrder sends hundreds of writes and reads in one batch: the
// replies come in xid order, every read sees exactly the writes sent before
// it (none after), sequential names follow the order of the creates, and a
// failing write fails in its place without disturbing the others.
func TestPipelinedOrder(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	bt := r.batch()
	bt.add(jute.OpCreate, &jute.CreateRequest{Path: "/p", Data: []byte("0"), ACL: openACL})
	const n = 300
	for i := 1; i <= n; i++ {
		bt.add(jute.OpGetData, &jute.PathWatchRequest{Path: "/p"}) // sees i-1, not i
		bt.add(jute.OpSetData, &jute.SetDataRequest{Path: "/p", Data: []byte(strconv.Itoa(i)), Version: -1})
		bt.add(jute.OpCreate, &jute.CreateRequest{Path: "/p/s-", ACL: openACL, Flags: 2})
		if i%50 == 0 {
			bt.add(jute.OpDelete, &jute.PathVersionRequest{Path: "/p/none", Version: -1})
			bt.add(jute.OpExists, &jute.PathWatchRequest{Path: "/p"})
		}
	}
	bt.add(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/p"})
	replies := bt.replies(bt.send())
	seq := -1
	for i, f := range replies {
		switch op := bt.ops[i]; op {
		case jute.OpGetData:
			var g jute.GetDataResponse
			must(t, jute.Unmarshal(f.body, &g))
			want := strconv.Itoa(int(g.Stat.Version))
			if f.h.Err != 0 || string(g.Data) != want || int(g.Stat.Version) != setsBefore(bt.ops[:i]) {
				t.Fatalf("getData (xid %d) read %q version %d after %d sets", f.h.Xid, g.Data, g.Stat.Version, setsBefore(bt.ops[:i]))
			}
		case jute.OpCreate:
			var p jute.PathRequest
			must(t, jute.Unmarshal(f.body, &p))
			if i == 0 {
				continue
			}
			got, err := strconv.Atoi(strings.TrimPrefix(p.Path, "/p/s-"))
			if f.h.Err != 0 || err != nil || got != seq+1 {
				t.Fatalf("create (xid %d): %q err %d after sequence %d", f.h.Xid, p.Path, f.h.Err, seq)
			}
			seq = got
		case jute.OpDelete:
			if f.h.Err != int32(zkerr.CodeNoNode) {
				t.Fatalf("delete of a missing node (xid %d): error %d", f.h.Xid, f.h.Err)
			}
		case jute.OpExists:
			var st jute.StatResponse
			must(t, jute.Unmarshal(f.body, &st))
			if int(st.Stat.Version) != setsBefore(bt.ops[:i]) || int(st.Stat.Cversion) != createsBefore(bt.ops[:i])-1 {
				t.Fatalf("exists (xid %d): version %d cversion %d", f.h.Xid, st.Stat.Version, st.Stat.Cversion)
			}
		case jute.OpGetChildren:
			var ch jute.StringsResponse
			must(t, jute.Unmarshal(f.body, &ch))
			if len(ch.Strings) != n {
				t.Fatalf("getChildren: %d children, want %d", len(ch.Strings), n)
			}
		}
	}
}

func setsBefore(ops []int32) int    { return count(ops, jute.OpSetData) }
func createsBefore(ops []int32) int { return count(ops, jute.OpCreate) }

func count(ops []int32, op int32) int {
	n := 0
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

// TestPipelinedWatchOrder: with requests pipelined, a watch event leaves
// after the reply of the read that set the watch and before the reply of
// the write that fired it, as ZooKeeper sends them.
func TestPipelinedWatchOrder(t *testing.T) {
	e := startPeer(t, peerConfig())
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/w", 0)
	bt := r.batch()
	bt.add(jute.OpGetData, &jute.PathWatchRequest{Path: "/w", Watch: true})                  // 1
	bt.add(jute.OpSetData, &jute.SetDataRequest{Path: "/w", Data: []byte("x"), Version: -1}) // 2: fires
	bt.add(jute.OpGetData, &jute.PathWatchRequest{Path: "/w"})                               // 3
	bt.add(jute.OpExists, &jute.PathWatchRequest{Path: "/w", Watch: true})                   // 4
	bt.add(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/w", Watch: true})              // 5
	bt.add(jute.OpCreate, &jute.CreateRequest{Path: "/w/c", ACL: openACL})                   // 6: fires child
	bt.add(jute.OpDelete, &jute.PathVersionRequest{Path: "/w/c", Version: -1})               // 7
	bt.add(jute.OpDelete, &jute.PathVersionRequest{Path: "/w", Version: -1})                 // 8: fires deleted
	bt.add(jute.OpExists, &jute.PathWatchRequest{Path: "/w", Watch: true})                   // 9
	bt.add(jute.OpCreate, &jute.CreateRequest{Path: "/w", ACL: openACL})                     // 10: fires created
	frames := bt.send()
	bt.replies(frames)
	x := bt.xids
	want := []string{
		reply(x[0]), event(gozk.EventNodeDataChanged, "/w"), reply(x[1]), reply(x[2]), reply(x[3]), reply(x[4]),
		event(gozk.EventNodeChildrenChanged, "/w"), reply(x[5]), reply(x[6]),
		event(gozk.EventNodeDeleted, "/w"), reply(x[7]), fmt.Sprintf("reply(%d err %d)", x[8], zkerr.CodeNoNode),
		event(gozk.EventNodeCreated, "/w"), reply(x[9]),
	}
	var got []string
	for _, f := range frames {
		got = append(got, f.String())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("frames\n got %v\nwant %v", got, want)
	}
	var g jute.GetDataResponse
	must(t, jute.Unmarshal(frames[3].body, &g))
	if string(g.Data) != "x" {
		t.Fatalf("the read after the set saw %q", g.Data)
	}
}

func reply(xid int32) string { return fmt.Sprintf("reply(%d err 0)", xid) }
func event(typ gozk.EventType, path string) string {
	return fmt.Sprintf("event(%d %s)", int32(typ), path)
}

// TestPipelinedGoZookeeper: many goroutines share one go-zookeeper
// connection (it pipelines their requests); every call succeeds and each
// goroutine's own calls keep their order.
func TestPipelinedGoZookeeper(t *testing.T) {
	e := startPeer(t, peerConfig())
	c, _ := dial(t, e.ClientAddr())
	_, err := c.Create("/g", nil, 0, open)
	must(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := fmt.Sprintf("/g/n%d", g)
			if _, err := c.Create(path, []byte("0"), 0, open); err != nil {
				errs <- err
				return
			}
			for i := 1; i <= 20; i++ {
				if _, err := c.Set(path, []byte(strconv.Itoa(i)), int32(i-1)); err != nil {
					errs <- fmt.Errorf("set %s #%d: %w", path, i, err)
					return
				}
				b, st, err := c.Get(path)
				if err != nil || string(b) != strconv.Itoa(i) || st.Version != int32(i) {
					errs <- fmt.Errorf("get %s after set #%d: %q version %d, %v", path, i, b, st.Version, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
