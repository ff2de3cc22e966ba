package main

import (
	"context"
	"errors"
	"time"

	"github.com/embedzk/zk"
)

// Backend is the ZooKeeper service the shell talks to: the embedded peer
// (embedded.go) or, once zk speaks ZooKeeper's client protocol, a server at
// host:port (remote.go). It opens sessions; the shell never sees more.
type Backend interface {
	// Addr names the service in the prompt ("[zk: ADDR(CONNECTED) 0] ").
	Addr() string
	// Open opens a new session (zkCli's new ZooKeeper(...)).
	Open(ctx context.Context, timeout time.Duration) (Conn, error)
	// Close releases the service (the embedded peer stops).
	Close() error
}

// Conn is one session, with what zkCli's commands call on its ZooKeeper
// handle. Every call that takes watch=true registers a one-shot watch whose
// event later comes out of Events, as zkCli's default watcher gets it.
// Paths reach a Conn already validated (validatePath); errors wrap zk's
// sentinel errors (zk.ErrNoNode, ...).
type Conn interface {
	Create(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode, ttl time.Duration) (string, error)
	Delete(ctx context.Context, path string, version int32) error
	// DeleteBatch deletes paths, in order, in one multi (any version).
	DeleteBatch(ctx context.Context, paths []string) error
	Exists(ctx context.Context, path string, watch bool) (bool, zk.Stat, error)
	Get(ctx context.Context, path string, watch bool) ([]byte, zk.Stat, error)
	Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error)
	Children(ctx context.Context, path string, watch bool) ([]string, zk.Stat, error)
	GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error)
	SetACL(ctx context.Context, path string, acl []zk.ACL, version int32) (zk.Stat, error)
	AddAuth(ctx context.Context, scheme string, auth []byte) error
	// WhoAmI lists the session's identities as ZooKeeper's whoAmI does.
	WhoAmI(ctx context.Context) ([]Identity, error)
	Sync(ctx context.Context, path string) error
	AddWatch(ctx context.Context, path string, recursive bool) error
	RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error
	Ephemerals(ctx context.Context, prefix string) ([]string, error)
	AllChildrenNumber(ctx context.Context, path string) (int64, error)
	// Events returns, without waiting, the watch events and connection
	// state changes that arrived since the last call, in order.
	Events() []Event
	// State is the session's state as zkCli's prompt names it (CONNECTED,
	// CONNECTING, CLOSED).
	State() string
	Close(ctx context.Context) error
}

// Identity is one of a session's authenticated identities.
type Identity struct {
	Scheme string
	User   string
}

// Event is what zkCli's default watcher receives: a watch event (State
// SyncConnected) or a change of the connection's state (Type None, no path).
type Event struct {
	State string // SyncConnected, Disconnected, Expired, Closed, AuthFailed
	Type  string // None, NodeCreated, NodeDeleted, ...
	Path  string // "" for a state change
	Zxid  int64  // the change's zxid; 0 for removals and state changes
}

// Quota is a node's quota as ZooKeeper's StatsTrack holds it; -1 is no
// limit. Count and Bytes are the soft limits, CountHard and BytesHard the
// hard ones.
type Quota struct {
	Count, Bytes, CountHard, BytesHard int64
}

// QuotaUsage is what a quota's subtree holds: nodes and bytes of data.
type QuotaUsage struct {
	Count, Bytes int64
}

// QuotaConn is implemented by a Conn whose service keeps quotas
// (setquota, listquota, delquota). A Conn without it makes those commands
// answer errQuotasUnsupported.
type QuotaConn interface {
	// SetQuota sets the limits of q that are not -1 on path, creating its
	// quota if it has none. A path that does not exist is zk.ErrNoNode; a
	// path with a quota above or below it is a *QuotaRefusal.
	SetQuota(ctx context.Context, path string, q Quota) error
	// ListQuota returns path's limits (-1: none) and usage; zk.ErrNoNode if
	// it has no quota.
	ListQuota(ctx context.Context, path string) (Quota, QuotaUsage, error)
	// DelQuota removes path's quota, or with clear set only the limits
	// whose field in clear is not -1; zk.ErrNoNode if it has no quota.
	DelQuota(ctx context.Context, path string, clear *Quota) error
}

// QuotaRefusal is a setquota refused for a quota above or below the path,
// with ZooKeeper's sentence ("/a/b has a parent /a which has a quota").
type QuotaRefusal struct {
	Reason string
	Err    error
}

func (r *QuotaRefusal) Error() string { return r.Reason }
func (r *QuotaRefusal) Unwrap() error { return r.Err }

// errQuotasUnsupported answers setquota, listquota and delquota on a
// service without quotas.
var errQuotasUnsupported = errors.New("quotas are not supported by this peer")
