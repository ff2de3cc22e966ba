package wire

import (
	"fmt"
	"strings"
	"sync"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
)

// watchKey is one entry of ZooKeeper's per-session watch table. Data and
// exist watches share ZooKeeper's data table: an exists on a missing node
// and a getData on the node once it exists are one entry.
type watchKey struct {
	path string
	kind watch.Kind
}

func keyFor(path string, kind watch.Kind) watchKey {
	if kind == watch.KindExist {
		kind = watch.KindData
	}
	return watchKey{path: path, kind: kind}
}

// watchTable is a connection's watches: one registration per path and
// kind. It implements engine.RemoteWatcher.
type watchTable struct {
	c  *conn
	mu sync.Mutex
	m  map[watchKey]*sink

	// One event per change, path and type, as ZooKeeper's watch tables
	// send one per change to each connection: the events of the last change
	// delivered, to drop the duplicates several registrations raise. The
	// changes of one multi share a zxid and each sends its own.
	lastZxid   int64
	lastChange uint64 // the Manager's number of the change (0: not from a trigger)
	lastSent   []watchEventKey
}

type watchEventKey struct {
	path string
	typ  watch.EventType
}

// Watch implements engine.RemoteWatcher: it registers a sink unless the
// table already has the entry. The engine calls it under the apply lock,
// where no sink of this table can fire, so the check and the add do not
// race with a firing.
func (t *watchTable) Watch(path string, kind watch.Kind, add func(watch.Sink) (watch.ID, error)) error {
	t.c.hold() // the read's reply goes before any event of a later change
	key := keyFor(path, kind)
	t.mu.Lock()
	if t.m == nil {
		t.m = map[watchKey]*sink{}
	}
	if _, ok := t.m[key]; ok {
		t.mu.Unlock()
		return nil
	}
	s := &sink{t: t, key: key}
	t.m[key] = s
	t.mu.Unlock()
	id, err := add(s) // outside t.mu: the Manager's lock is taken before t.mu by sinks
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		delete(t.m, key)
		return err
	}
	s.id = id
	return nil
}

// forget removes s's entry (it fired or was removed).
func (t *watchTable) forget(s *sink) {
	t.mu.Lock()
	if t.m[s.key] == s {
		delete(t.m, s.key)
	}
	t.mu.Unlock()
}

// take removes the entries of path that typ selects and returns their
// registrations; with remove false it only reports them.
func (t *watchTable) take(path string, typ watch.WatcherType, remove bool) []watch.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []watch.ID
	for _, kind := range []watch.Kind{watch.KindData, watch.KindChild, watch.KindPersistent, watch.KindPersistentRecursive} {
		key := watchKey{path: path, kind: kind}
		s, ok := t.m[key]
		if !ok || !typ.Matches(kind) {
			continue
		}
		ids = append(ids, s.id)
		if remove {
			delete(t.m, key)
		}
	}
	return ids
}

// drain removes every entry and returns their registrations.
func (t *watchTable) drain() []watch.ID {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]watch.ID, 0, len(t.m))
	for key, s := range t.m {
		ids = append(ids, s.id)
		delete(t.m, key)
	}
	return ids
}

// deliver sends a watch event unless this connection already got the same
// path and type for the same change.
func (t *watchTable) deliver(ev watch.Event, change uint64) {
	t.mu.Lock()
	if ev.Zxid != t.lastZxid || change != t.lastChange {
		t.lastZxid, t.lastChange, t.lastSent = ev.Zxid, change, t.lastSent[:0]
	}
	k := watchEventKey{path: ev.Path, typ: ev.Type}
	for _, seen := range t.lastSent {
		if seen == k {
			t.mu.Unlock()
			return
		}
	}
	t.lastSent = append(t.lastSent, k)
	t.mu.Unlock()
	t.c.notify(ev)
}

// sink receives the events of one registration of a connection's table.
// The Manager calls it with its lock held: it only queues.
type sink struct {
	t   *watchTable
	key watchKey
	id  watch.ID
}

// Deliver forwards change events; removal and not-watching events are the
// client's business (ZooKeeper's client raises them itself), so they are
// dropped.
func (s *sink) Deliver(ev watch.Event) bool { return s.DeliverChange(ev, 0) }

// DeliverChange is Deliver for the events of a triggered change (see
// watch.ChangeSink): the table merges by change.
func (s *sink) DeliverChange(ev watch.Event, change uint64) bool {
	if ev.Type >= watch.EventNodeCreated && ev.Type <= watch.EventNodeChildrenChanged {
		s.t.deliver(ev, change)
	}
	return true
}

// Overflow never happens (Deliver never refuses); it ends the entry.
func (s *sink) Overflow() { s.t.forget(s) }

// Close ends the entry.
func (s *sink) Close() { s.t.forget(s) }

// watcher returns the table if the request asked for a watch.
func (c *conn) watcher(want bool) engine.RemoteWatcher {
	if !want {
		return nil
	}
	return &c.watches
}

// watchOp runs addWatch, checkWatches and removeWatches.
func (c *conn) watchOp(op int32, rec jute.Record) (jute.Record, error) {
	if op == jute.OpAddWatch {
		r := rec.(*jute.AddWatchRequest)
		if r.Mode != jute.AddWatchPersistent && r.Mode != jute.AddWatchPersistentRecursive {
			// ZooKeeper's AddWatchMode.fromZooDef throws, and
			// FinalRequestProcessor answers MARSHALLINGERROR.
			return nil, fmt.Errorf("%w: addWatch mode %d", zkerr.ErrMarshalling, r.Mode)
		}
		err := c.sess.AddWatchRemote(c.ctx, r.Path, r.Mode == jute.AddWatchPersistentRecursive, &c.watches)
		return &jute.ErrorResponse{}, err
	}
	r := rec.(*jute.WatchesRequest)
	typ := watch.WatcherType(r.Type)
	if typ < watch.WatcherChildren || typ > watch.WatcherPersistentRecursive {
		// As ZooKeeper's WatcherType.fromInt throws: MARSHALLINGERROR.
		return nil, fmt.Errorf("%w: watcher type %d", zkerr.ErrMarshalling, r.Type)
	}
	ids := c.watches.take(r.Path, typ, op == jute.OpRemoveWatches)
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: %s (type %s)", zkerr.ErrNoWatcher, r.Path, typ)
	}
	if op == jute.OpRemoveWatches {
		return nil, c.sess.RemoveWatchIDs(c.ctx, ids)
	}
	return nil, nil
}

// setWatches re-registers a reconnecting client's watches; the events it
// missed are queued before the reply (xid -8).
func (c *conn) setWatches(xid int32, r *jute.SetWatches) bool {
	lists, null := nullWatchList(r)
	missed, err := c.sess.SetWatchesRemote(c.ctx, r.RelativeZxid, lists[0], lists[1], lists[2], lists[3], lists[4], &c.watches)
	if err == nil && null >= 0 {
		err = fmt.Errorf("%w: setWatches with a null list (list %d)", zkerr.ErrMarshalling, null)
	}
	code, act := wireError(err)
	if act == closeConn {
		return false
	}
	c.queueFrames(missed, &jute.ReplyHeader{Xid: xid, Zxid: c.s.e.AppliedZxid(), Err: code}, nil, c.s.e.TreeZxid(), false)
	return act == reply
}

// auth adds an identity; the reply echoes the request's xid (the Java
// client uses -4, go-zookeeper an ordinary one) with zxid 0, as ZooKeeper
// answers it. ZooKeeper's schemes: digest
// ("user:password"), ip, whose identity is the connection's address
// whatever the packet says, and x509, which succeeds on a connection with
// a verified client certificate (its identity is already there). A failure is answered with AUTHFAILED and the
// connection closes, as in ZooKeeper.
func (c *conn) auth(xid int32, r *jute.AuthPacket) bool {
	var err error
	switch r.Scheme {
	case "digest":
		err = c.sess.AddAuth(c.ctx, "digest", r.Auth)
	case "ip":
		err = c.sess.AddAuth(c.ctx, "ip", []byte(c.ip))
	case "x509":
		// As ZooKeeper's X509AuthenticationProvider: the packet's data is
		// ignored and the connection's verified certificate decides; its
		// identity came with the connect.
		if c.x509Subject() == "" {
			err = fmt.Errorf("%w: x509: no verified client certificate on this connection", zkerr.ErrAuthFailed)
		}
	default:
		err = fmt.Errorf("%w: unknown scheme %q", zkerr.ErrAuthFailed, r.Scheme)
	}
	code, act := wireError(err)
	if act == closeConn {
		return false
	}
	c.queueReply(&jute.ReplyHeader{Xid: xid, Err: code}, nil, noPos, false)
	return code == 0
}

// whoAmI lists the session's identities (Session.Identities) as ZooKeeper
// reports them: the digest user's name (before the colon), the ip address,
// and "super" with no user for the super user.
func (c *conn) whoAmI() jute.Record {
	ids := c.sess.Identities()
	out := &jute.WhoAmIResponse{ClientInfo: make([]jute.ClientInfo, 0, len(ids))}
	for _, id := range ids {
		user := id.ID
		if id.Scheme == "digest" {
			user, _, _ = strings.Cut(id.ID, ":")
		}
		out.ClientInfo = append(out.ClientInfo, jute.ClientInfo{AuthScheme: id.Scheme, User: user})
	}
	return out
}

// nullWatchList returns a setWatches' five lists up to its first null one,
// and that one's index (-1 if none is null): ZooKeeper's DataTree.setWatches
// sets the watches of each list in turn, and fails (MARSHALLINGERROR) on a
// null one, so the lists after it are left out. A setWatches (not
// setWatches2) has no persistent lists.
func nullWatchList(r *jute.SetWatches) ([5][]string, int) {
	lists := [5][]string{r.DataWatches, r.ExistWatches, r.ChildWatches, r.PersistentWatches, r.PersistentRecursive}
	n := len(lists)
	if !r.V2 {
		n = 3
	}
	for i := range n {
		if lists[i] == nil {
			var kept [5][]string
			copy(kept[:i], lists[:i])
			return kept, i
		}
	}
	return lists, -1
}
