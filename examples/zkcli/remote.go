package main

import (
	"context"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/zkclient"
)

// remote is the Backend of -server host:port[,host:port...]: a ZooKeeper
// service (a zk peer's client port, or a real ZooKeeper) over ZooKeeper's
// client protocol (examples/internal/zkclient).
type remote struct {
	addr     string
	servers  []string
	chroot   string
	readOnly bool
	tls      *zkclient.TLS // -client-configuration's, nil for plain TCP
}

// dialRemote opens the Backend for the servers of addr (zkCli's
// connection string, "host[:port][,host[:port]...][/chroot]"; the port
// defaults to 2181). It does not connect: each Open opens a session.
func dialRemote(addr string) (Backend, error) { return remoteDialer{}.dial(addr) }

// remoteDialer opens Backends whose sessions may be read-only (zkCli's
// -r) and secured by TLS (-client-configuration), which zkCli's connect
// command keeps.
type remoteDialer struct {
	readOnly bool
	tls      *zkclient.TLS
}

func (d remoteDialer) dial(addr string) (Backend, error) {
	servers, chroot, err := zkclient.ParseConnectString(addr)
	if err != nil {
		return nil, err
	}
	return &remote{addr: addr, servers: servers, chroot: chroot, readOnly: d.readOnly, tls: d.tls}, nil
}

// Addr is the connection string, as zkCli's prompt shows it.
func (r *remote) Addr() string { return r.addr }

// Close has nothing to release: the sessions close themselves.
func (r *remote) Close() error { return nil }

func (r *remote) Open(ctx context.Context, timeout time.Duration) (Conn, error) {
	cl, err := zkclient.Connect(ctx, r.config(timeout))
	if err != nil {
		return nil, err
	}
	return &remoteConn{cl: cl}, nil
}

// OpenLater opens a session in the background (zkclient.Start): the
// interactive shell's session when no server answers at its start, as
// zkCli's stays CONNECTING and keeps trying.
func (r *remote) OpenLater(timeout time.Duration) (Conn, error) {
	cl, err := zkclient.Start(r.config(timeout))
	if err != nil {
		return nil, err
	}
	return &remoteConn{cl: cl}, nil
}

func (r *remote) config(timeout time.Duration) zkclient.Config {
	return zkclient.Config{Servers: r.servers, SessionTimeout: timeout, Chroot: r.chroot, ReadOnly: r.readOnly, TLS: r.tls}
}

// remoteConn is a session on a server, each call one request.
type remoteConn struct {
	cl *zkclient.Client
}

func (c *remoteConn) Create(ctx context.Context, path string, data []byte, acl []zk.ACL, mode zk.CreateMode, ttl time.Duration) (string, error) {
	p, _, err := c.cl.Create(ctx, path, data, acl, mode, ttl)
	return p, err
}

func (c *remoteConn) Delete(ctx context.Context, path string, version int32) error {
	return c.cl.Delete(ctx, path, version)
}

func (c *remoteConn) DeleteBatch(ctx context.Context, paths []string) error {
	return c.cl.DeleteAll(ctx, paths)
}

func (c *remoteConn) Exists(ctx context.Context, path string, watch bool) (bool, zk.Stat, error) {
	return c.cl.Exists(ctx, path, watch)
}

func (c *remoteConn) Get(ctx context.Context, path string, watch bool) ([]byte, zk.Stat, error) {
	return c.cl.Get(ctx, path, watch)
}

func (c *remoteConn) Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error) {
	return c.cl.Set(ctx, path, data, version)
}

func (c *remoteConn) Children(ctx context.Context, path string, watch bool) ([]string, zk.Stat, error) {
	return c.cl.Children(ctx, path, watch)
}

func (c *remoteConn) GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error) {
	return c.cl.GetACL(ctx, path)
}

func (c *remoteConn) SetACL(ctx context.Context, path string, acl []zk.ACL, version int32) (zk.Stat, error) {
	return c.cl.SetACL(ctx, path, acl, version)
}

func (c *remoteConn) AddAuth(ctx context.Context, scheme string, auth []byte) error {
	return c.cl.AddAuth(ctx, scheme, auth)
}

func (c *remoteConn) WhoAmI(ctx context.Context) ([]Identity, error) {
	ids, err := c.cl.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Identity, len(ids))
	for i, id := range ids {
		out[i] = Identity{Scheme: id.Scheme, User: id.User}
	}
	return out, nil
}

func (c *remoteConn) Sync(ctx context.Context, path string) error { return c.cl.Sync(ctx, path) }

func (c *remoteConn) AddWatch(ctx context.Context, path string, recursive bool) error {
	return c.cl.AddWatch(ctx, path, recursive)
}

func (c *remoteConn) RemoveWatches(ctx context.Context, path string, typ zk.WatcherType) error {
	return c.cl.RemoveWatches(ctx, path, typ)
}

func (c *remoteConn) Ephemerals(ctx context.Context, prefix string) ([]string, error) {
	return c.cl.Ephemerals(ctx, prefix)
}

func (c *remoteConn) AllChildrenNumber(ctx context.Context, path string) (int64, error) {
	return c.cl.AllChildrenNumber(ctx, path)
}

// Events are the client's, in arrival order: notifications and state
// changes as ZooKeeper's default watcher gets them.
func (c *remoteConn) Events() []Event {
	evs := c.cl.Events()
	out := make([]Event, len(evs))
	for i, e := range evs {
		typ := "None"
		if e.Type != 0 {
			typ = e.Type.String()
		}
		out[i] = Event{State: e.State, Type: typ, Path: e.Path}
	}
	return out
}

func (c *remoteConn) State() string { return c.cl.State().String() }

func (c *remoteConn) Close(ctx context.Context) error { return c.cl.Close(ctx) }

func (c *remoteConn) Reconfig(ctx context.Context, joining, leaving, members *string, version int64) ([]byte, zk.Stat, error) {
	return c.cl.Reconfig(ctx, joining, leaving, members, version)
}
