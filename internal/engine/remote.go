package engine

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/watch"
	"github.com/embedzk/zk/znode"
)

// This file is what the client protocol server (internal/wire) needs from
// the engine beyond the public Session API: a remote session is an engine
// Session, and these methods let the wire layer keep ZooKeeper's per-session
// watch table (one registration per session, path and kind, its own sink),
// detach a session whose connection dropped, and run its listener as a
// goroutine the Ensemble owns (the session's identities, for whoAmI, are
// Session.Identities). They hang on the
// Remote and RemoteSession views, not on Ensemble and Session, so that they
// stay out of the public API (the root re-exports Ensemble and Session).

// Remote is the client protocol's view of an Ensemble.
type Remote struct{ e *Ensemble }

// RemoteOf returns the client protocol's view of e.
func RemoteOf(e *Ensemble) Remote { return Remote{e: e} }

// RemoteSession is a Session as the client protocol uses it: every Session
// method, and the ones below.
type RemoteSession struct {
	*Session
	noWait bool
}

// NoWait returns s whose Start methods never wait to hand their write to
// the peer loop: when the loop's queue is full (or another goroutine is
// handing over a write of this session), the Pending fails with
// ErrWouldBlock and nothing was issued. A caller that serves many
// connections from one goroutine starts writes so, and retries elsewhere.
func (s RemoteSession) NoWait() RemoteSession {
	s.noWait = true
	return s
}

// ErrWouldBlock is the failure of a NoWait start that would have waited.
var ErrWouldBlock = errors.New("zk: the peer loop's queue is full")

// remoteState is the Ensemble's part of the client protocol.
type remoteState struct {
	clientAddr, secureAddr, adminAddr atomic.Pointer[string]
	lastSnap                          atomic.Pointer[snapStamp] // the last snapshot this process wrote
}

// snapStamp is a snapshot written: its zxid and when.
type snapStamp struct {
	zxid int64
	at   time.Time
}

// Own runs run on a goroutine the Ensemble owns: Close closes stop, then
// waits for run to return. Call it only before the Ensemble is shared (right
// after NewEnsemble): it must not race with Close.
func (r Remote) Own(run func(stop <-chan struct{})) error {
	e := r.e
	if e.closed.Load() {
		return zkerr.ErrClosed
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		run(e.stopC)
	}()
	return nil
}

// SetClientAddr records the address the client port listens on.
func (r Remote) SetClientAddr(addr string) { r.e.remote.clientAddr.Store(&addr) }

// SetSecureClientAddr records the address the secure client port listens on.
func (r Remote) SetSecureClientAddr(addr string) { r.e.remote.secureAddr.Store(&addr) }

// ClientAddr returns the address ZooKeeper clients connect to (the client
// port's listener), or "" when Config.ClientPort is not set.
func (e *Ensemble) ClientAddr() string {
	if p := e.remote.clientAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// LastSnapshot returns the newest snapshot on disk: its zxid and when it
// was written (zero when the file system keeps no time, as Pebble's
// in-memory one for directories); ok is false when there is none, or it was
// just purged.
func (r Remote) LastSnapshot() (zxid int64, at time.Time, ok bool) {
	snaps := r.e.wal.Snapshots()
	if len(snaps) == 0 {
		return 0, time.Time{}, false
	}
	zxid = slices.Max(snaps)
	if w := r.e.remote.lastSnap.Load(); w != nil && w.zxid == zxid {
		return zxid, w.at, true
	}
	at, err := r.e.wal.SnapshotTime(zxid)
	return zxid, at, err == nil
}

// SetAdminAddr records the address the AdminServer listens on.
func (r Remote) SetAdminAddr(addr string) { r.e.remote.adminAddr.Store(&addr) }

// AdminAddr returns the address of the AdminServer's HTTP port
// (Config.AdminServerPort), or "" when it is off or could not be bound.
func (e *Ensemble) AdminAddr() string {
	if p := e.remote.adminAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// SecureClientAddr returns the address ZooKeeper clients connect to over
// TLS (the secure client port's listener), or "" when
// Config.SecureClientPort is not set.
func (e *Ensemble) SecureClientAddr() string {
	if p := e.remote.secureAddr.Load(); p != nil {
		return *p
	}
	return ""
}

// Config returns the peer's configuration, defaults applied.
func (r Remote) Config() Config { return r.e.cfg }

// AppliedZxid returns the last zxid this peer applied to its tree.
func (r Remote) AppliedZxid() int64 { return r.e.applied.load() }

// SyncApplied returns once this peer has applied everything the ensemble
// had committed when the call began (a Sync round through the leader).
func (r Remote) SyncApplied(ctx context.Context) error { return r.e.syncBarrier(ctx) }

// WatchTables counts this peer's watches as ZooKeeper's watch tables hold
// them (wchs, mntr's zk_watch_count).
func (r Remote) WatchTables() watch.Tables { return r.e.watches.Tables() }

// DataWatches returns the (session, path) pairs of ZooKeeper's data watch
// table on this peer, sorted by session, then path (wchc, wchp).
func (r Remote) DataWatches() []watch.Pair { return r.e.watches.DataPairs() }

// NewSession opens a session as Ensemble.NewSession does, for a connection
// the client port admitted: MaxClientCnxns was applied to the connection,
// so the session does not count under its address again (slots.go).
func (r Remote) NewSession(ctx context.Context, opts ...SessionOption) (RemoteSession, error) {
	s, err := r.e.NewSession(ctx, append(opts, connCounted)...)
	return RemoteSession{Session: s}, err
}

// Reattach re-attaches a session as Ensemble.Reattach does, for a
// connection the client port admitted (see NewSession). The session keeps
// only the new connection's ip identity, even where this peer still had it
// attached: ZooKeeper keeps authentication per connection, and its clients
// send their credentials again after a reconnect.
func (r Remote) Reattach(ctx context.Context, id int64, password []byte, opts ...SessionOption) (RemoteSession, error) {
	s, err := r.e.Reattach(ctx, id, password, append(opts, connCounted)...)
	return RemoteSession{Session: s}, err
}

// AddSASL gives the session the identity {"sasl", user} of a client that
// completed a SASL exchange on its connection (and the super identity if
// user is Config.SASLSuperUser). As the other identities of a connection,
// it is gone when the session re-attaches.
func (s RemoteSession) AddSASL(ctx context.Context, user string) error {
	su := s.e.cfg.SASLSuperUser
	return s.addIdentity(ctx, znode.Identity{Scheme: znode.SchemeSASL, ID: user}, su != "" && user == su)
}

// AddX509 gives the session the identity {"x509", dn} of a client whose
// certificate the secure client port verified (and the super identity if
// dn is Config.X509SuperUser), for this connection.
func (s RemoteSession) AddX509(ctx context.Context, dn string) error {
	su := s.e.cfg.X509SuperUser
	return s.addIdentity(ctx, znode.Identity{Scheme: znode.SchemeX509, ID: dn}, su != "" && dn == su)
}

// connCounted marks a session of the client port, whose connection was
// counted for MaxClientCnxns when it was accepted.
func connCounted(o *sessionOpts) { o.connCounted = true }

// Status returns the peer's status.
func (r Remote) Status() Status { return r.e.Status() }

// MetricValues calls sink with each value of the peer's metrics (none
// without Config.Registerer), named as ZooKeeper's mntr names them under its
// Prometheus provider, without the "zk_" prefix: name{label="v"}.
func (r Remote) MetricValues(sink func(name string, value float64)) error {
	return r.e.metricValues(sink)
}

// GlobalSessions returns the number of sessions the ensemble holds (mntr's
// zk_global_sessions).
func (r Remote) GlobalSessions() (int, error) { return r.e.globalSessions() }

// ProposalSizes returns the sizes in bytes of the last, smallest and
// largest proposals this peer made as leader (-1 before any): srvr's
// "Proposal sizes last/min/max" on a leader.
func (r Remote) ProposalSizes() (last, min, max int64) { return r.e.obs.props.Read() }

// ResetProposalSizes forgets them (srst).
func (r Remote) ResetProposalSizes() { r.e.obs.props.Reset() }

// NodeCount returns the number of nodes in the tree as ZooKeeper's srvr and
// mntr count them: one more than there are, since ZooKeeper's table holds
// the root twice (under "" and "/").
func (r Remote) NodeCount() (int64, error) {
	e := r.e
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	if e.closed.Load() {
		return 0, zkerr.ErrClosed
	}
	n, err := e.tree.AllChildrenNumber("/")
	return n + 2, err
}

// DirSizes returns the bytes of the files under the data directory (the
// tree and the snapshots; the log's directory left out when it is inside)
// and under the log's directory: what ZooKeeper's dirs reports as
// datadir_size and logdir_size.
func (r Remote) DirSizes() (data, log int64) {
	cfg := r.e.cfg
	_, log = dirUsage(cfg, cfg.DataLogDir)
	_, data = dirUsage(cfg, cfg.DataDir)
	if rel, err := filepath.Rel(cfg.DataDir, cfg.DataLogDir); err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		data -= log
	}
	return data, log
}

// Detach forgets the session on this peer without closing it: the peer no
// longer keeps it alive, so it expires after its timeout unless a client
// re-attaches it (here or elsewhere). A wire session detaches when its
// connection drops, as a ZooKeeper server stops touching a session whose
// connection is gone. Its watch registrations must be removed first.
func (s RemoteSession) Detach() {
	s.e.sessMu.Lock()
	if s.e.sessions[s.id] == s.Session {
		s.e.forgetLocked(s.Session)
	}
	s.e.sessMu.Unlock()
}

// Heard records that the session's client sent something (a request, a
// ping): the next touch round keeps the session alive. A client port
// session that is not heard for its timeout expires, as in ZooKeeper.
func (s RemoteSession) Heard() {
	if !s.heard.Load() {
		s.heard.Store(true)
	}
}

// RemoteWatcher is how a wire session leaves watches. After a successful
// read that asked for one, under the apply lock (so no change slips between
// the read and the watch), the engine calls Watch with the path and the
// kind ZooKeeper would leave; the watcher registers a sink through add
// unless it already watches that path with that kind. An error from add (a
// registration refused) is returned, and fails the read.
type RemoteWatcher interface {
	Watch(path string, kind watch.Kind, add func(watch.Sink) (watch.ID, error)) error
}

// adder returns the add function a RemoteWatcher gets; the caller holds the
// apply lock. A session that ended meanwhile keeps no watch (registerAttached).
func (s *Session) adder(path string, kind watch.Kind) func(watch.Sink) (watch.ID, error) {
	return func(sink watch.Sink) (watch.ID, error) { return s.registerAttached(path, kind, sink) }
}

// GetRemote is Get that leaves a data watch through w (nil: no watch).
func (s RemoteSession) GetRemote(ctx context.Context, path string, w RemoteWatcher) ([]byte, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, err
	}
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		if n, err = s.readNode(path, true, znode.PermRead); err == nil && w != nil {
			err = w.Watch(path, watch.KindData, s.adder(path, watch.KindData))
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, opError("get", path, err)
	}
	return n.Data, n.Stat, nil
}

// ExistsRemote is Exists that leaves a watch through w (nil: no watch): a
// data watch on an existing node, an exist watch on a missing one. A
// missing node is ErrNoNode here, as ZooKeeper replies to exists.
func (s RemoteSession) ExistsRemote(ctx context.Context, path string, w RemoteWatcher) (Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return Stat{}, err
	}
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		n, err = s.readNode(path, false, znode.PermRead)
		kind := watch.KindData
		if errors.Is(err, zkerr.ErrNoNode) {
			kind = watch.KindExist
		}
		if w != nil && (err == nil || kind == watch.KindExist) {
			if werr := w.Watch(path, kind, s.adder(path, kind)); werr != nil {
				return werr
			}
		}
		return err
	})
	if err != nil {
		return Stat{}, opError("exists", path, err)
	}
	return n.Stat, nil
}

// ChildrenRemote is Children that leaves a child watch through w (nil: no
// watch).
func (s RemoteSession) ChildrenRemote(ctx context.Context, path string, w RemoteWatcher) ([]string, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, err
	}
	var names []string
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		if names, n, err = s.readChildren(path); err == nil && w != nil {
			err = w.Watch(path, watch.KindChild, s.adder(path, watch.KindChild))
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, opError("children", path, err)
	}
	return names, n.Stat, nil
}

// AddWatchRemote leaves a persistent (or persistent recursive) watch
// through w, in the session's order.
func (s RemoteSession) AddWatchRemote(ctx context.Context, path string, recursive bool, w RemoteWatcher) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	kind := watch.KindPersistent
	if recursive {
		kind = watch.KindPersistentRecursive
	}
	err := s.read(ctx, func() error { return w.Watch(path, kind, s.adder(path, kind)) })
	if err != nil {
		return opError("addWatch", path, err)
	}
	return nil
}

// RemoveWatchIDs removes registrations made through a RemoteWatcher, in
// the session's order; each one's sink gets its removal event and Close.
func (s RemoteSession) RemoveWatchIDs(ctx context.Context, ids []watch.ID) error {
	return s.read(ctx, func() error {
		for _, id := range ids {
			s.e.watches.RemoveID(id)
		}
		return nil
	})
}

// DropWatchIDs removes registrations at once, outside the session's order
// (the connection that made them is gone).
func (s RemoteSession) DropWatchIDs(ids []watch.ID) {
	for _, id := range ids {
		s.e.watches.RemoveID(id)
	}
}

// SetWatchesRemote re-registers a reconnecting client's watches as
// ZooKeeper's SetWatches does: a watch whose node changed after
// relativeZxid (the last zxid the client saw) gets its event now, returned
// in order (data watches, then exist, then child watches), and is not
// registered; every other watch is registered through w. Persistent and
// recursive watches are registered as they are. It runs in the session's
// order, under the apply lock.
func (s RemoteSession) SetWatchesRemote(ctx context.Context, relativeZxid int64, data, exist, child, persistent, recursive []string, w RemoteWatcher) ([]Event, error) {
	var missed []Event
	err := s.read(ctx, func() (err error) {
		missed, err = s.setWatches(relativeZxid, [5][]string{data, exist, child, persistent, recursive}, w)
		return err
	})
	if err != nil {
		return nil, opError("setWatches", "/", err)
	}
	return missed, nil
}

func (s *Session) setWatches(rel int64, lists [5][]string, w RemoteWatcher) ([]Event, error) {
	var missed []Event
	kinds := [5]watch.Kind{watch.KindData, watch.KindExist, watch.KindChild, watch.KindPersistent, watch.KindPersistentRecursive}
	for i, paths := range lists {
		kind := kinds[i]
		for _, path := range paths {
			if znode.ValidatePath(path) != nil {
				continue // a path no node can have: nothing to watch
			}
			if ev, ok := s.missed(path, kind, rel); ok {
				missed = append(missed, ev)
				continue
			}
			if err := w.Watch(path, kind, s.adder(path, kind)); err != nil {
				return missed, err
			}
		}
	}
	return missed, nil
}

// missed decides the event a watch of kind on path missed since rel, as
// ZooKeeper's DataTree.setWatches does; the caller holds the apply lock.
func (s *Session) missed(path string, kind watch.Kind, rel int64) (Event, bool) {
	n, err := s.e.tree.Stat(path)
	exists := err == nil
	ev := Event{Path: path, Zxid: s.e.applied.load()}
	switch {
	case err != nil && !errors.Is(err, zkerr.ErrNoNode):
		return Event{}, false
	case kind == watch.KindData && !exists, kind == watch.KindChild && !exists:
		ev.Type = EventNodeDeleted
	case kind == watch.KindData && n.Stat.Mzxid > rel:
		ev.Type = EventNodeDataChanged
	case kind == watch.KindExist && exists:
		ev.Type = EventNodeCreated
	case kind == watch.KindChild && n.Stat.Pzxid > rel:
		ev.Type = EventNodeChildrenChanged
	default:
		return Event{}, false
	}
	return ev, true
}

// CheckOps returns the index of the first op of a multi that the session
// would refuse before proposing it, with its error, or -1: a wire multi
// answers that op's error in its place, as ZooKeeper does.
func (s RemoteSession) CheckOps(ops []Op) (int, error) {
	for i, op := range ops {
		if err := s.checkOp(op); err != nil {
			return i, err
		}
	}
	return -1, nil
}

// Allowed reports whether the session may do perm on path by its ACL (or
// as the super user), as ZooKeeper checks a reconfig against WRITE on
// /zookeeper/config; GetACL cannot tell, as it masks digest ids.
func (s RemoteSession) Allowed(ctx context.Context, path string, perm znode.Perm) (bool, error) {
	var ok bool
	err := s.read(ctx, func() error {
		n, err := s.e.tree.Stat(path)
		ok = err == nil && s.allowed(n.ACL, perm)
		return err
	})
	return ok, err
}
