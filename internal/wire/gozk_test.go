package wire_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

var open = gozk.WorldACL(gozk.PermAll)

// TestGoZKData drives the data requests go-zookeeper sends: create in every
// mode, exists, getData, setData, getChildren2, delete, sync, with their
// errors.
func TestGoZKData(t *testing.T) {
	e := startPeer(t, peerConfig())
	c, _ := dial(t, e.ClientAddr())
	p, err := c.Create("/a", []byte("one"), 0, open)
	must(t, err)
	if p != "/a" {
		t.Fatalf("create returned %q", p)
	}
	_, err = c.Create("/a", nil, 0, open)
	wantErr(t, err, gozk.ErrNodeExists)
	_, err = c.Create("/missing/x", nil, 0, open)
	wantErr(t, err, gozk.ErrNoNode)
	seq, err := c.Create("/a/s-", []byte("s"), gozk.FlagSequence, open)
	must(t, err)
	if seq != "/a/s-0000000000" {
		t.Fatalf("sequential create returned %q", seq)
	}
	eph, err := c.Create("/a/e", nil, gozk.FlagEphemeral, open)
	must(t, err)
	_, err = c.CreateContainer("/box", nil, gozk.FlagContainer, open)
	must(t, err)
	_, err = c.CreateTTL("/ttl", nil, gozk.FlagTTL, open, time.Minute)
	must(t, err)

	data, st, err := c.Get("/a")
	must(t, err)
	if string(data) != "one" || st.Version != 0 || st.NumChildren != 2 || st.DataLength != 3 {
		t.Fatalf("get: %q %+v", data, st)
	}
	st2, err := c.Set("/a", []byte("two"), 0)
	must(t, err)
	if st2.Version != 1 || st2.Mzxid <= st.Mzxid {
		t.Fatalf("set: %+v", st2)
	}
	_, err = c.Set("/a", []byte("x"), 0)
	wantErr(t, err, gozk.ErrBadVersion)
	ok, est, err := c.Exists(eph)
	must(t, err)
	if !ok || est.EphemeralOwner != c.SessionID() {
		t.Fatalf("exists %s: %v %+v (session %#x)", eph, ok, est, c.SessionID())
	}
	ok, _, err = c.Exists("/nope")
	must(t, err)
	if ok {
		t.Fatal("exists on a missing node")
	}
	kids, _, err := c.Children("/a")
	must(t, err)
	if !slices.Equal(kids, []string{"e", "s-0000000000"}) {
		sorted := slices.Sorted(slices.Values(kids))
		if !slices.Equal(sorted, []string{"e", "s-0000000000"}) {
			t.Fatalf("children %v", kids)
		}
	}
	_, err = c.Sync("/a")
	must(t, err)
	wantErr(t, c.Delete("/a", -1), gozk.ErrNotEmpty)
	must(t, c.Delete(seq, -1))
	wantErr(t, c.Delete(seq, -1), gozk.ErrNoNode)
	_, err = c.Create("bad", nil, 0, open)
	wantErr(t, err, gozk.ErrInvalidPath) // go-zookeeper checks paths itself
}

// TestGoZKWatches: one-shot watches of every kind fire once, before the
// reply that follows them.
func TestGoZKWatches(t *testing.T) {
	e := startPeer(t, peerConfig())
	c, _ := dial(t, e.ClientAddr())
	_, err := c.Create("/w", []byte("v"), 0, open)
	must(t, err)
	_, _, dataW, err := c.GetW("/w")
	must(t, err)
	_, _, existW, err := c.ExistsW("/w/new")
	must(t, err)
	_, _, childW, err := c.ChildrenW("/w")
	must(t, err)
	_, err = c.Create("/w/new", nil, 0, open)
	must(t, err)
	// The events were queued before the create's reply: they are there now.
	for _, ch := range []<-chan gozk.Event{existW, childW} {
		select {
		case ev := <-ch:
			if ev.Type != gozk.EventNodeCreated && ev.Type != gozk.EventNodeChildrenChanged {
				t.Fatalf("event %+v", ev)
			}
		default:
			t.Fatal("a watch event did not arrive before the reply that followed it")
		}
	}
	_, err = c.Set("/w", []byte("v2"), -1)
	must(t, err)
	if ev := nextEvent(t, dataW); ev.Type != gozk.EventNodeDataChanged || ev.Path != "/w" {
		t.Fatalf("data watch: %+v", ev)
	}
	_, _, delW, err := c.GetW("/w/new")
	must(t, err)
	must(t, c.Delete("/w/new", -1))
	if ev := nextEvent(t, delW); ev.Type != gozk.EventNodeDeleted {
		t.Fatalf("delete watch: %+v", ev)
	}
}

// TestGoZKACLAndAuth: digest auth, setACL/getACL, NoAuth for others.
func TestGoZKACLAndAuth(t *testing.T) {
	e := startPeer(t, peerConfig())
	owner, _ := dial(t, e.ClientAddr())
	other, _ := dial(t, e.ClientAddr())
	must(t, owner.AddAuth("digest", []byte("alice:secret")))
	_, err := owner.Create("/private", []byte("p"), 0, gozk.DigestACL(gozk.PermAll, "alice", "secret"))
	must(t, err)
	_, _, err = other.Get("/private")
	wantErr(t, err, gozk.ErrNoAuth)
	acl, _, err := other.GetACL("/private")
	wantErr(t, err, gozk.ErrNoAuth)
	acl, st, err := owner.GetACL("/private")
	must(t, err)
	if len(acl) != 1 || acl[0].Scheme != "digest" || !strings.HasPrefix(acl[0].ID, "alice:") {
		t.Fatalf("acl %+v", acl)
	}
	_, err = owner.SetACL("/private", open, st.Aversion)
	must(t, err)
	data, _, err := other.Get("/private")
	must(t, err)
	if !bytes.Equal(data, []byte("p")) {
		t.Fatalf("data %q", data)
	}
	wantErr(t, other.AddAuth("nosuch", []byte("x")), gozk.ErrAuthFailed)
}

// TestGoZKMulti: a multi commits all its ops or none, and a failed one
// reports each op's error as ZooKeeper does.
func TestGoZKMulti(t *testing.T) {
	e := startPeer(t, peerConfig())
	c, _ := dial(t, e.ClientAddr())
	res, err := c.Multi(&gozk.CreateRequest{Path: "/m", Data: []byte("m"), Acl: open},
		&gozk.SetDataRequest{Path: "/m", Data: []byte("m2"), Version: -1},
		&gozk.CheckVersionRequest{Path: "/m", Version: 1},
		&gozk.CreateRequest{Path: "/m/kid", Acl: open})
	must(t, err)
	if len(res) != 4 || res[0].String != "/m" || res[1].Stat == nil || res[1].Stat.Version != 1 {
		t.Fatalf("multi results %+v", res)
	}
	res, err = c.Multi(&gozk.CreateRequest{Path: "/m2", Acl: open},
		&gozk.CheckVersionRequest{Path: "/m", Version: 7},
		&gozk.DeleteRequest{Path: "/m", Version: -1})
	wantErr(t, err, gozk.ErrBadVersion)
	if len(res) != 3 || res[0].Error != nil || res[1].Error != gozk.ErrBadVersion || res[2].Error != gozk.ErrAPIError && res[2].Error == nil {
		t.Fatalf("failed multi results %+v", res)
	}
	ok, _, err := c.Exists("/m2")
	must(t, err)
	if ok {
		t.Fatal("a failed multi created a node")
	}
}

// TestGoZKCloseDeletesEphemerals: closing the session over the wire ends
// it at once; a dropped connection leaves it to its timeout.
func TestGoZKCloseDeletesEphemerals(t *testing.T) {
	e := startPeer(t, peerConfig())
	c, _ := dial(t, e.ClientAddr())
	watcher, _ := dial(t, e.ClientAddr())
	_, err := c.Create("/eph", nil, gozk.FlagEphemeral, open)
	must(t, err)
	_, _, ch, err := watcher.ExistsW("/eph")
	must(t, err)
	c.Close()
	if ev := nextEvent(t, ch); ev.Type != gozk.EventNodeDeleted {
		t.Fatalf("event %+v", ev)
	}
}
