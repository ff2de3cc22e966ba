package wire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// connectTimeout bounds the wait for the first frame of a connection.
const connectTimeout = 10 * time.Second

// handshake reads the first frame: a four-letter word (answered, then the
// connection ends) or a ConnectRequest, which opens or re-attaches the
// session. It reports whether the connection goes on.
func (c *conn) handshake() bool {
	_, secure := c.nc.(tlsConn)
	if secure {
		// The TLS handshake runs in the first read, and writes too.
		c.nc.SetDeadline(time.Now().Add(connectTimeout))
	} else {
		c.nc.SetReadDeadline(time.Now().Add(connectTimeout))
	}
	if _, err := io.ReadFull(c.nc, c.hdr[:]); err != nil {
		c.logFirstRead(err)
		return false
	}
	if secure {
		c.nc.SetWriteDeadline(time.Time{})
	}
	if word := string(c.hdr[:]); isWord(word) {
		c.word.Store(true)
		c.received.Add(1)
		c.s.stats.received.Add(1)
		if word == "stmk" && c.s.words[word] && !c.readTraceMask() {
			return false // ZooKeeper too closes without an answer
		}
		c.s.fourLetter(c, word)
		return false
	}
	n := int32(binary.BigEndian.Uint32(c.hdr[:]))
	if n < 0 || int(n) > c.s.maxBuffer {
		c.s.cfg.Logger.Info("zk: client port: connect frame length out of range", "ip", c.ip, "len", n)
		return false
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.nc, body); err != nil {
		return false
	}
	began := c.s.clockMs()
	var req jute.ConnectRequest
	d := jute.NewDecoder(body)
	req.Decode(d)
	if d.Err() != nil {
		c.s.cfg.Logger.Info("zk: client port: malformed connect request", "ip", c.ip, "err", d.Err())
		return false
	}
	c.received.Add(1)
	c.s.stats.received.Add(1)
	if !c.connect(&req) {
		return false
	}
	if req.SessionID == 0 {
		// A new session's createSession is a request; a re-attach is not
		// (ZooKeeper reopens it outside its request pipeline).
		c.responded(jute.OpCreateSession, 0, began, false)
	}
	return true
}

// connect opens a new session (SessionID 0) or re-attaches one, and
// answers. A peer that does not serve refuses every client (the
// connection closes), except new read-only ones in read-only mode, once
// connectHold has passed since it stopped serving; so does a leader with
// Config.NoLeaderServes, at once. A
// client that saw a newer zxid than this peer has applied, even after a
// sync round, is refused (the connection closes; it tries another peer),
// as ZooKeeper refuses it.
func (c *conn) connect(req *jute.ConnectRequest) bool {
	e := c.s.e
	// Bounded by the server's lifetime, not the connection's: a child of
	// the connection's context would give it a map of children for good.
	ctx, cancel := context.WithTimeout(c.s.ctx, c.connectWait(req.TimeOut))
	defer cancel()
	if !e.Serving() && !e.ReadOnly() && (!e.AwaitServing(ctx, c.connectHold(req.TimeOut)) || c.clientGone()) {
		// As ZooKeeper's server while it elects, syncs or has lost its
		// quorum ("ZooKeeperServer not running"): the connection closes,
		// and the client tries again (another peer, or this one once it
		// serves); the session, if any, is not touched. Unlike ZooKeeper's,
		// the peer first holds the connect for up to a TickTime after it
		// stopped serving (connectHold); a client that left meanwhile
		// (another server answered it) is not answered, so a held
		// re-attach never takes its session back from the peer it went to.
		c.s.cfg.Logger.Debug("zk: client port: refusing a client: the peer does not serve",
			"ip", c.ip, "session", fmt.Sprintf("%#x", req.SessionID))
		return false
	}
	if c.leaderRefuses(req) { // after the hold above, which may end with this peer leading
		return false
	}
	if e.ReadOnly() && (!req.ReadOnly || req.SessionID != 0) {
		// As ZooKeeper's read-only server: only new read-only sessions.
		c.s.cfg.Logger.Info("zk: client port: read-only mode: refusing a client that is not read-only or renews a session",
			"ip", c.ip, "read_only", req.ReadOnly, "session", fmt.Sprintf("%#x", req.SessionID))
		return false
	}
	if req.LastZxidSeen > e.AppliedZxid() {
		err := e.SyncApplied(ctx)
		if have := e.AppliedZxid(); req.LastZxidSeen > have {
			c.s.cfg.Logger.Info("zk: client port: refusing a client that saw a newer zxid",
				"ip", c.ip, "client_zxid", fmt.Sprintf("%#x", req.LastZxidSeen), "our_zxid", fmt.Sprintf("%#x", have), "err", err)
			return false
		}
	}
	sess, err := c.open(ctx, req)
	switch {
	case errors.Is(err, zkerr.ErrSessionExpired) || errors.Is(err, zkerr.ErrUnknownSession):
		// As ZooKeeper: a zero session and timeout tell the client its
		// session is gone; then the connection closes.
		resp := &jute.ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: req.HasReadOnly}
		c.queueRaw(func(b []byte) []byte { return jute.AppendFrame(b, resp) })
		return false
	case err != nil:
		c.s.cfg.Logger.Info("zk: client port: cannot open a session", "ip", c.ip, "err", err)
		return false
	}
	if req.SessionID == 0 {
		c.s.claim(c, sess.ID())
	}
	c.sess, c.timeout = sess, sess.Timeout()
	if dn := c.x509Subject(); dn != "" {
		// As ZooKeeper's server names a client by its verified certificate
		// (on a failure the teardown detaches the session).
		if err := sess.AddX509(ctx, dn); err != nil {
			c.s.cfg.Logger.Info("zk: secure client port: cannot give the session its x509 identity", "ip", c.ip, "err", err)
			return false
		}
	}
	c.sessionID.Store(sess.ID())
	sess.NoteSeen(req.LastZxidSeen)
	c.ro.Store(sess.State() == engine.StateConnectedReadOnly)
	c.live.Store(sess.Session)
	c.timeoutMsA.Store(sess.Timeout().Milliseconds())
	resp := &jute.ConnectResponse{
		TimeOut: int32(sess.Timeout().Milliseconds()), SessionID: sess.ID(), Passwd: sess.Password(),
		ReadOnly: c.ro.Load(), HasReadOnly: req.HasReadOnly,
	}
	c.queueRaw(func(b []byte) []byte { return jute.AppendFrame(b, resp) })
	return true
}

// leaderRefuses reports whether the peer refuses req because it leads with
// Config.NoLeaderServes, as ZooKeeper's leader with leaderServes=no, whose
// client port has no server behind it: the connection closes unanswered,
// and the client tries another server.
func (c *conn) leaderRefuses(req *jute.ConnectRequest) bool {
	if !c.s.e.RefusesClients() {
		return false
	}
	c.s.cfg.Logger.Debug("zk: client port: refusing a client: this peer leads, with leaderServes=no",
		"ip", c.ip, "session", fmt.Sprintf("%#x", req.SessionID))
	return true
}

// open makes or re-attaches the session.
func (c *conn) open(ctx context.Context, req *jute.ConnectRequest) (engine.RemoteSession, error) {
	opts := []engine.SessionOption{engine.WithClientAddr(c.ip)}
	if req.ReadOnly {
		opts = append(opts, engine.WithReadOnly())
	}
	if req.SessionID == 0 {
		opts = append(opts, engine.WithSessionTimeout(time.Duration(req.TimeOut)*time.Millisecond))
		return c.s.e.NewSession(ctx, opts...)
	}
	c.s.claim(c, req.SessionID)
	sess, err := c.s.e.Reattach(ctx, req.SessionID, req.Passwd, opts...)
	if err != nil {
		c.s.release(c, req.SessionID)
		return engine.RemoteSession{}, err
	}
	return sess, nil
}

// connectWait bounds the time spent opening a session: the client gives up
// after about its requested timeout.
func (c *conn) connectWait(requestedMs int32) time.Duration {
	d := time.Duration(requestedMs) * time.Millisecond
	if d <= 0 || d > c.s.cfg.MaxSessionTimeout {
		d = c.s.cfg.MaxSessionTimeout
	}
	return d
}

// connectHold is how long after a peer stopped serving it holds a connect
// until it serves again: one TickTime, and at most a third of the timeout
// the client asks for (about what its connect may take before it gives up
// and tries another server). A client that reconnects during an election,
// which takes milliseconds on a quick network, is answered when it ends
// instead of being refused by every server and waiting out its own back-off
// (go-zookeeper fails its queued requests then, with ErrNoServer). A peer
// cut off from its quorum for longer refuses at once, as ZooKeeper's does.
func (c *conn) connectHold(requestedMs int32) time.Duration {
	return min(c.s.e.Config().TickTime, c.connectWait(requestedMs)/3)
}

// liveState is the session state a connection lives in: the one its
// connect response announced. A session that leaves it (its peer lost or
// regained its quorum) loses the connection, as ZooKeeper closes every
// connection when it starts or stops its read-only server; the client
// reconnects and learns the new mode.
func (c *conn) liveState() engine.SessionState {
	if c.ro.Load() {
		return engine.StateConnectedReadOnly
	}
	return engine.StateConnected
}
