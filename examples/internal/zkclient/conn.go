package zkclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/jute"
)

// conn is one TCP connection of the session, after its handshake.
type conn struct {
	cl          *Client
	addr        string
	nc          net.Conn
	readTimeout time.Duration
	readOnly    bool          // the server took the session in read-only mode
	dead        chan struct{} // closed by close
	once        sync.Once
	done        sync.WaitGroup // reader and pinger

	wmu      sync.Mutex // orders writes and the pending list
	pending  []*call    // sent, waiting for their replies, in xid order
	auths    []*call    // auth packets waiting for their replies
	lastSend time.Time
	err      error // why the connection died
}

// call is one request waiting for its reply.
type call struct {
	xid   int32
	op    int32
	resp  jute.Record
	reply func(code int32) // run by the reader before done, for watches
	hdr   jute.ReplyHeader
	err   error
	done  chan struct{}
}

// errHandshake is a connection that the server accepted and that ended
// before it answered the connect request.
var errHandshake = errors.New("handshake")

// connectOne dials the next server (the read-write server the search for
// one found, else the next of the list) and opens (or re-opens) the
// session.
func (c *Client) connectOne(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	addr := c.rw.found // a read-write server the search found goes first
	if addr != "" {
		c.rw.found = ""
	} else {
		addr = c.servers[c.next%len(c.servers)]
		c.next++
	}
	req := jute.ConnectRequest{
		LastZxidSeen: c.lastZxid, TimeOut: int32(c.cfg.SessionTimeout / time.Millisecond),
		SessionID: c.sessionID, Passwd: c.passwd, ReadOnly: c.cfg.ReadOnly, HasReadOnly: true,
	}
	if !c.seenRW {
		// As the Java client: until a read-write server took the session, a
		// connect asks for a new one (a read-only server's session is its
		// own, which no other server knows).
		req.SessionID, req.Passwd = 0, make([]byte, 16)
	}
	sw := c.watches.setWatches(c.lastZxid)
	auths := append([]jute.AuthPacket(nil), c.auths...)
	c.mu.Unlock()

	// As ZooKeeper's client: a connection attempt gets the session timeout
	// divided among the servers.
	limit := c.cfg.SessionTimeout / time.Duration(len(c.servers))
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	nc, err := c.dial(dctx, addr)
	if err != nil {
		return nil, err
	}
	deadline, _ := dctx.Deadline()
	nc.SetDeadline(deadline) //nolint:errcheck // a failed deadline shows as a failed read
	// Close (ctx ends) cuts a handshake short.
	cut := context.AfterFunc(dctx, func() { nc.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck // as above
	resp, err := handshake(nc, &req, c.cfg.MaxFrame)
	if !cut() && err == nil {
		err = dctx.Err() // ended as the handshake did: the deadline may be cut
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkclient: %w with %s: %w", errHandshake, addr, err)
	}
	if resp.TimeOut <= 0 {
		nc.Close()
		return nil, fmt.Errorf("zkclient: session 0x%x: %w", req.SessionID, zk.ErrSessionExpired)
	}
	nc.SetDeadline(time.Time{}) //nolint:errcheck // as above
	c.mu.Lock()
	c.sessionID, c.passwd = resp.SessionID, resp.Passwd
	c.timeout = time.Duration(resp.TimeOut) * time.Millisecond
	c.seenRW = c.seenRW || !resp.ReadOnly
	c.mu.Unlock()
	cn := &conn{cl: c, addr: addr, nc: nc, dead: make(chan struct{}), readTimeout: c.timeoutOf() * 2 / 3,
		readOnly: resp.ReadOnly}
	// Re-register the watches, then the credentials, before any request,
	// as ZooKeeper's client primes a connection.
	if sw != nil {
		op := jute.OpSetWatches
		if sw.V2 {
			op = jute.OpSetWatches2
		}
		cn.writeFrame(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidSetWatches, Type: op}, sw))
	}
	for i := range auths {
		cn.writeFrame(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidAuth, Type: jute.OpAuth}, &auths[i]))
	}
	cn.done.Add(2)
	go cn.reader()
	go cn.pinger()
	return cn, nil
}

// dial connects to addr, over TLS with Config.TLS.
func (c *Client) dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || c.cfg.TLS == nil {
		return nc, err
	}
	tc, err := c.cfg.TLS.handshakeTLS(ctx, nc, addr)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("zkclient: TLS with %s: %w", addr, err)
	}
	return tc, nil
}

func (c *Client) timeoutOf() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// handshake sends the connect request and reads its response.
func handshake(nc net.Conn, req *jute.ConnectRequest, max int) (*jute.ConnectResponse, error) {
	if _, err := nc.Write(jute.AppendFrame(nil, req)); err != nil {
		return nil, err
	}
	b, err := jute.ReadFrame(nc, nil, max)
	if err != nil {
		return nil, err
	}
	var resp jute.ConnectResponse
	if err := jute.Unmarshal(b, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// writeFrame writes a frame (c.wmu not held); a failure kills the conn.
func (cn *conn) writeFrame(b []byte) {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	cn.writeLocked(b)
}

func (cn *conn) writeLocked(b []byte) {
	if cn.err != nil {
		return
	}
	cn.lastSend = time.Now()
	if _, err := cn.nc.Write(b); err != nil {
		cn.failLocked(err)
	}
}

// send writes a request and queues its call; the xid is taken under the
// write lock, so xids reach the server in order.
func (cn *conn) send(cl *call, req jute.Record) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if cn.err != nil {
		return cn.err
	}
	xid := cn.cl.nextXid()
	if cl.op == jute.OpAuth {
		xid = jute.XidAuth
		cn.auths = append(cn.auths, cl)
	} else {
		cn.pending = append(cn.pending, cl)
	}
	cl.xid = xid
	recs := []jute.Record{&jute.RequestHeader{Xid: xid, Type: cl.op}}
	if req != nil {
		recs = append(recs, req)
	}
	cn.writeLocked(jute.AppendFrame(nil, recs...))
	return nil
}

// close kills the connection with why; the reader fails what is pending.
func (cn *conn) close(why error) {
	cn.wmu.Lock()
	cn.failLocked(why)
	cn.wmu.Unlock()
	cn.done.Wait()
}

// failLocked marks the connection dead and closes its socket (wmu held).
func (cn *conn) failLocked(why error) {
	if cn.err != nil {
		return
	}
	cn.err = fmt.Errorf("%w: %w", zk.ErrConnectionLoss, why)
	cn.nc.Close()
	close(cn.dead)
}

// takeAll removes every waiting call, for failing them.
func (cn *conn) takeAll() []*call {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	out := append(cn.pending, cn.auths...)
	cn.pending, cn.auths = nil, nil
	return out
}

// reader reads replies and notifications until the connection dies, then
// fails every call still waiting.
func (cn *conn) reader() {
	defer cn.done.Done()
	for {
		cn.nc.SetReadDeadline(time.Now().Add(cn.readTimeout)) //nolint:errcheck // shows as a failed read
		b, err := jute.ReadFrame(cn.nc, nil, cn.cl.cfg.MaxFrame)
		if err == nil {
			err = cn.dispatch(b)
		}
		if err != nil {
			cn.wmu.Lock()
			cn.failLocked(err)
			why := cn.err
			cn.wmu.Unlock()
			for _, cl := range cn.takeAll() {
				cl.err = why
				close(cl.done)
			}
			return
		}
	}
}

// dispatch handles one frame from the server.
func (cn *conn) dispatch(b []byte) error {
	d := jute.NewDecoder(b)
	var hdr jute.ReplyHeader
	hdr.Decode(d)
	if d.Err() != nil {
		return d.Err()
	}
	switch hdr.Xid {
	case jute.XidNotification:
		var ev jute.WatcherEvent
		ev.Decode(d)
		if d.Err() != nil {
			return d.Err()
		}
		cn.cl.notify(ev)
		return nil
	case jute.XidPing, jute.XidSetWatches:
		return nil
	case jute.XidAuth:
		return cn.authReply(hdr)
	}
	cn.wmu.Lock()
	if len(cn.pending) == 0 || cn.pending[0].xid != hdr.Xid {
		cn.wmu.Unlock()
		return fmt.Errorf("zkclient: reply xid %d out of order", hdr.Xid)
	}
	cl := cn.pending[0]
	cn.pending = cn.pending[1:]
	cn.wmu.Unlock()
	if hdr.Zxid > 0 {
		cn.cl.seen(hdr.Zxid)
	}
	cl.hdr = hdr
	if hdr.Err == 0 && cl.resp != nil {
		cl.resp.Decode(d)
		cl.err = d.Err()
	}
	if cl.reply != nil && cl.err == nil {
		cl.reply(hdr.Err)
	}
	if cl.op == jute.OpCloseSession {
		cn.cl.end(StateClosed, ErrClosed, "")
	}
	close(cl.done)
	if cl.op == jute.OpCloseSession {
		return ErrClosed
	}
	return cl.err
}

// authReply answers the oldest auth packet. A refused one ends the
// session (the server closes the connection), as in ZooKeeper.
func (cn *conn) authReply(hdr jute.ReplyHeader) error {
	cn.wmu.Lock()
	var cl *call
	if len(cn.auths) > 0 {
		cl = cn.auths[0]
		cn.auths = cn.auths[1:]
	}
	cn.wmu.Unlock()
	if hdr.Err != 0 {
		cn.cl.end(StateAuthFailed, zk.ErrAuthFailed, "")
	}
	if cl != nil {
		cl.hdr = hdr
		close(cl.done)
	}
	if hdr.Err != 0 {
		return zk.ErrAuthFailed
	}
	return nil
}

// pinger sends a ping when nothing was sent for a third of the read
// timeout (ZooKeeper's client waits for half; a third leaves the reply
// more room on a loaded machine), so that the server keeps the session
// and the reader hears from it before its deadline.
func (cn *conn) pinger() {
	defer cn.done.Done()
	t := time.NewTicker(cn.readTimeout / 6)
	defer t.Stop()
	ping := jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidPing, Type: jute.OpPing})
	for {
		select {
		case <-cn.dead:
			return
		case <-t.C:
		}
		cn.wmu.Lock()
		if time.Since(cn.lastSend) >= cn.readTimeout/3 {
			cn.writeLocked(ping)
		}
		cn.wmu.Unlock()
	}
}

// do sends one request and waits for its reply: the reply's zxid, or the
// sentinel error of its code. reply, if set, runs in the reader when the
// reply arrives (before any later notification is queued).
func (c *Client) do(ctx context.Context, op int32, req, resp jute.Record, reply func(code int32)) (int64, error) {
	cn, err := c.current(ctx)
	if err != nil {
		return 0, err
	}
	cl := &call{op: op, resp: resp, reply: reply, done: make(chan struct{})}
	if err := cn.send(cl, req); err != nil {
		return 0, err
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		return 0, fmt.Errorf("%w: %w", zk.ErrConnectionLoss, ctx.Err())
	}
	if cl.err != nil {
		if errors.Is(cl.err, zk.ErrConnectionLoss) {
			return 0, cl.err
		}
		return 0, fmt.Errorf("%w: %w", zk.ErrConnectionLoss, cl.err)
	}
	if cl.hdr.Err != 0 {
		return cl.hdr.Zxid, codeErr(cl.hdr.Err)
	}
	return cl.hdr.Zxid, nil
}
