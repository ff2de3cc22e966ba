package wire

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// handle decodes one request and runs it, or queues it behind the
// requests not answered yet (see pipe.go); it reports whether the
// connection goes on.
func (c *conn) handle(body []byte) bool {
	if c.sess.Session != nil {
		c.sess.Heard() // keeps the session alive, as any packet of its client does
	}
	d := &c.dec
	d.Reset(body)
	defer d.Reset(nil) // an idle connection keeps no frame
	var h jute.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return c.bad("request header", d.Err())
	}
	c.trace(&h)
	var k *call
	var rec jute.Record
	known := true
	switch h.Type { // the hottest writes: their records live in their call
	case jute.OpSetData:
		k = &call{}
		rec = &k.set
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		k = &call{}
		k.create.HasTTL = h.Type == jute.OpCreateTTL // as jute.NewRequest
		rec = &k.create
	default:
		rec, known = jute.NewRequest(h.Type)
	}
	var malformed error
	if rec != nil {
		rec.Decode(d)
		if malformed = d.Err(); malformed != nil {
			if h.Type == jute.OpAuth || h.Type == jute.OpSASL {
				return c.bad(fmt.Sprintf("request of type %d", h.Type), malformed)
			}
			rec = nil
		}
	} else if h.Type == jute.OpCreateSession {
		// On an open session: ZooKeeper's PrepRequestProcessor reads a
		// session timeout from its body and fails.
		known, malformed = true, fmt.Errorf("%w: a createSession request on an open session", jute.ErrMalformed)
	}
	local := !known || !isWrite(h.Type)
	began := c.s.clockMs()
	if local && c.queued() == 0 && (c.rc.Load() == nil || !mayWait(h.Type)) {
		// Nothing ahead of it: it runs here, now. (Only the reader queues
		// calls, so the queue stays empty until it pushes.)
		now := call{xid: h.Xid, op: h.Type, rec: rec, unknown: !known, malformed: malformed, local: true, began: began}
		return c.run(&now)
	}
	if k == nil {
		k = &call{}
	}
	k.xid, k.op, k.rec, k.size, k.local, k.unknown, k.began = h.Xid, h.Type, rec, len(body)+4, local, !known, began
	k.malformed = malformed
	c.push(k)
	return true
}

// mayWait reports whether a local call may wait (for a commit, a round
// trip, the engine): the ring never runs one itself, it queues it for the
// completer.
func mayWait(op int32) bool {
	switch op {
	case jute.OpGetData, jute.OpExists, jute.OpGetChildren, jute.OpGetChildren2, jute.OpGetACL,
		jute.OpGetAllChildrenNumber, jute.OpGetEphemerals, jute.OpMultiRead, jute.OpPing, jute.OpWhoAmI,
		jute.OpAddWatch, jute.OpCheckWatches, jute.OpRemoveWatches:
		return false
	}
	return true
}

// isWrite reports whether op is a write the reader starts at once.
func isWrite(op int32) bool {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL,
		jute.OpDelete, jute.OpSetData, jute.OpSetACL, jute.OpMulti:
		return true
	}
	return false
}

// run answers a local call; it reports whether the connection goes on.
func (c *conn) run(k *call) bool {
	switch k.op { // not requests: no statistics, as ZooKeeper
	case jute.OpAuth:
		return c.auth(k.xid, k.rec.(*jute.AuthPacket))
	case jute.OpSASL:
		return c.saslStep(k.xid, k.rec.(*jute.SASLToken))
	}
	if err := c.enforceAuth(); err != nil {
		// Every other packet, pings included, as ZooKeeper's processPacket.
		c.s.cfg.Logger.Info("zk: client port: an unauthenticated request; closing the connection", "ip", c.ip, "err", err)
		return c.answer(k.xid, nil, err)
	}
	// A local call is no write: its name holds whatever its outcome.
	defer c.responded(k.op, k.xid, k.began, false)
	switch {
	case k.unknown:
		return c.unsupported(k)
	case k.op != jute.OpCloseSession && c.sess.Moved():
		// This peer leads and the session is attached to another peer
		// now: ZooKeeper's leader refuses every request of it
		// (SESSIONMOVED, reads and pings too) and closes the connection
		// unanswered. Writes meet the same refusal in the engine.
		c.s.cfg.Logger.Debug("zk: client port: the session moved to another peer; closing the connection", "ip", c.ip, "op", k.op)
		return false
	case k.malformed != nil:
		return c.answer(k.xid, nil, c.marshalling(k))
	case k.op == jute.OpPing:
		c.replyHeader(jute.XidPing, 0)
		return true
	case k.op == jute.OpCloseSession:
		return c.closeSession(k.xid)
	case k.op == jute.OpSetWatches, k.op == jute.OpSetWatches2:
		return c.setWatches(k.xid, k.rec.(*jute.SetWatches))
	}
	resp, err := c.dispatch(k.op, k.rec)
	if h := c.s.hooks.beforeReply; h != nil {
		h()
	}
	return c.answer(k.xid, resp, err)
}

// start starts a write call (in xid order: under the pipe's lock, or as
// the head of the queue): the engine issues it in the session's order and
// proposes it; its outcome is collected by finishWrite. A write refused
// before it leaves gets its answer now. Without wait (the ring, or under
// the pipe's lock in the ring's mode) it reports false when starting would
// wait for the peer loop: the call is then deferred, and blocks the writes
// behind it until the completer starts it.
func (c *conn) start(k *call, wait bool) bool {
	if err := c.ctx.Err(); err != nil {
		k.err = err
		return true
	}
	if err := c.enforceAuth(); err != nil {
		k.err = err // answered in its turn; then the connection closes
		return true
	}
	k.counted = true
	c.startWrite()
	if err := c.refusedReadOnly(k.op); err != nil {
		k.err = err
		return true
	}
	if k.malformed != nil {
		k.err = c.marshalling(k)
		if k.op == jute.OpMulti {
			c.sess.AuditMultiFailed(k.err) // ZooKeeper's error txn logs multiOperation failed
		}
		return true
	}
	ctx, s := c.ctx, c.sess
	if !wait {
		s = s.NoWait()
	}
	switch k.op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		k.pw, k.err = c.startCreate(s, k.op, k.rec.(*jute.CreateRequest))
	case jute.OpDelete:
		r := k.rec.(*jute.PathVersionRequest)
		k.pw = s.StartDelete(ctx, r.Path, r.Version)
	case jute.OpSetData:
		r := k.rec.(*jute.SetDataRequest)
		k.pw = s.StartSet(ctx, r.Path, r.Data, r.Version)
	case jute.OpSetACL:
		r := k.rec.(*jute.SetACLRequest)
		k.pw = s.StartSetACL(ctx, r.Path, fromACL(r.ACL), r.Version)
	case jute.OpMulti:
		k.pw, k.resp, k.err = c.startMulti(s, k.rec.(*jute.MultiRequest))
	}
	if k.pw != nil && k.pw.WouldBlock() {
		k.pw, k.counted, k.deferred = nil, false, true
		c.out.writes.Add(-1)
		return false
	}
	return true
}

// finishWrite answers a started write once its outcome is in.
func (c *conn) finishWrite(k *call) bool {
	if k.pw == nil {
		defer c.responded(k.op, k.xid, k.began, k.err != nil)
		return c.answerAt(k.xid, k.resp, k.err, noPos, k.counted)
	}
	res, err := k.pw.Wait(c.ctx)
	var resp jute.Record
	switch k.op {
	case jute.OpCreate:
		k.path = jute.PathRequest{Path: res.Path}
		resp = &k.path
	case jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		resp = &jute.Create2Response{Path: res.Path, Stat: toStat(res.Stat)}
	case jute.OpSetData, jute.OpSetACL:
		k.stat = jute.StatResponse{Stat: toStat(res.Stat)}
		resp = &k.stat
	case jute.OpMulti:
		resp, err = multiResponse(k.rec.(*jute.MultiRequest), res.Multi, err)
	}
	defer c.responded(k.op, k.xid, k.began, err != nil)
	return c.answerAt(k.xid, resp, err, res.Zxid, k.counted)
}

// bad logs a malformed request header, auth or SASL packet; the connection
// closes, as ZooKeeper's processPacket, which reads them itself, closes it
// on one it cannot deserialize.
func (c *conn) bad(what string, err error) bool {
	c.s.cfg.Logger.Info("zk: client port: malformed "+what+"; closing the connection", "ip", c.ip, "err", err)
	return false
}

// marshalling is the answer to a request whose body did not decode:
// MARSHALLINGERROR, and the connection stays, as ZooKeeper answers one
// (its PrepRequestProcessor for a write, its FinalRequestProcessor for a
// read) — but NOTREADONLY first for a write, a sync or a createSession on
// a connection served read-only, which ZooKeeper refuses before it reads
// the body.
func (c *conn) marshalling(k *call) error {
	if err := c.refusedReadOnly(k.op); err != nil {
		return err
	}
	c.s.cfg.Logger.Info("zk: client port: malformed request; answered MARSHALLINGERROR", "ip", c.ip, "op", k.op, "err", k.malformed)
	return fmt.Errorf("%w: request of type %d: %w", zkerr.ErrMarshalling, k.op, k.malformed)
}

// unsupported answers an op code zk does not serve with UNIMPLEMENTED, and
// the connection closes. The reply's zxid is -1, as ZooKeeper's
// UnimplementedRequestProcessor answers with the request's zxid, which
// nothing set.
func (c *conn) unsupported(k *call) bool {
	c.s.cfg.Logger.Info("zk: client port: unknown op code; closing the connection", "ip", c.ip, "op", k.op)
	c.queueReply(&jute.ReplyHeader{Xid: k.xid, Zxid: -1, Err: int32(zkerr.CodeUnimplemented)}, nil, noPos, false)
	return false
}

// replyHeader queues a reply without a body that reflects no state (a
// ping, a refused request).
func (c *conn) replyHeader(xid, code int32) {
	c.queueReply(&jute.ReplyHeader{Xid: xid, Zxid: c.s.e.AppliedZxid(), Err: code}, nil, noPos, false)
}

// answer queues the reply to a local call, positioned at the state the
// peer has now (see outbox).
func (c *conn) answer(xid int32, resp jute.Record, err error) bool {
	return c.answerAt(xid, resp, err, c.s.e.TreeZxid(), false)
}

// answerAt queues the reply to a request at position pos: the body on
// success, the error code alone on failure; it reports whether the
// connection goes on. write says it answers a started write.
func (c *conn) answerAt(xid int32, resp jute.Record, err error, pos int64, write bool) bool {
	code, act := wireError(err)
	if act == closeConn {
		if c.ctx.Err() == nil {
			c.s.cfg.Logger.Info("zk: client port: request failed; closing the connection", "ip", c.ip, "err", err)
		}
		return false
	}
	c.queueReply(&jute.ReplyHeader{Xid: xid, Zxid: c.s.e.AppliedZxid(), Err: code}, resp, pos, write)
	return act == reply
}

// refusedReadOnly is NOTREADONLY for a request that ZooKeeper's
// ReadOnlyRequestProcessor refuses (the writes, sync, check and reconfig,
// and a createSession request on the open session, which is no local
// session there without localSessionsEnabled) on a connection served
// read-only: a bare header, before anything else looks at the request.
func (c *conn) refusedReadOnly(op int32) error {
	if !c.ro.Load() {
		return nil
	}
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpDelete, jute.OpSetData,
		jute.OpSetACL, jute.OpMulti, jute.OpSync, jute.OpCheck, jute.OpReconfig, jute.OpCreateSession:
		return fmt.Errorf("%w: the peer is in read-only mode", zkerr.ErrNotReadOnly)
	}
	return nil
}

// dispatch runs one request against the session.
func (c *conn) dispatch(op int32, rec jute.Record) (jute.Record, error) {
	if err := c.refusedReadOnly(op); err != nil {
		return nil, err
	}
	switch op {
	case jute.OpSync:
		r := rec.(*jute.PathRequest)
		return &jute.PathRequest{Path: r.Path}, c.sess.Sync(c.ctx, r.Path)
	case jute.OpMultiRead:
		return c.multiRead(rec.(*jute.MultiRequest))
	case jute.OpCheck:
		return c.check(rec.(*jute.PathVersionRequest))
	case jute.OpAddWatch, jute.OpCheckWatches, jute.OpRemoveWatches:
		return c.watchOp(op, rec)
	case jute.OpWhoAmI:
		return c.whoAmI(), nil
	case jute.OpReconfig:
		return c.reconfig(rec.(*jute.ReconfigRequest))
	}
	return c.read(op, rec)
}

// read runs the reads.
func (c *conn) read(op int32, rec jute.Record) (jute.Record, error) {
	s := c.sess
	switch op {
	case jute.OpGetData:
		r := rec.(*jute.PathWatchRequest)
		b, st, err := s.GetRemote(c.ctx, r.Path, c.watcher(r.Watch))
		return &jute.GetDataResponse{Data: b, Stat: toStat(st)}, err // nil: null data
	case jute.OpExists:
		r := rec.(*jute.PathWatchRequest)
		st, err := s.ExistsRemote(c.ctx, r.Path, c.watcher(r.Watch))
		return &jute.StatResponse{Stat: toStat(st)}, err
	case jute.OpGetChildren, jute.OpGetChildren2:
		r := rec.(*jute.PathWatchRequest)
		names, st, err := s.ChildrenRemote(c.ctx, r.Path, c.watcher(r.Watch))
		if names == nil {
			names = []string{}
		}
		if op == jute.OpGetChildren {
			return &jute.StringsResponse{Strings: names}, err
		}
		return &jute.GetChildren2Response{Children: names, Stat: toStat(st)}, err
	case jute.OpGetACL:
		r := rec.(*jute.PathRequest)
		acl, st, err := s.GetACL(c.ctx, r.Path)
		return &jute.GetACLResponse{ACL: toACL(acl), Stat: toStat(st)}, err
	case jute.OpGetAllChildrenNumber:
		r := rec.(*jute.PathRequest)
		n, err := s.AllChildrenNumber(c.ctx, r.Path)
		return &jute.IntResponse{N: int32(n)}, err
	case jute.OpGetEphemerals:
		paths, err := c.ephemerals(rec.(*jute.PathRequest).Path)
		if paths == nil {
			paths = []string{}
		}
		return &jute.StringsResponse{Strings: paths}, err
	}
	return nil, fmt.Errorf("%w: op %d", zkerr.ErrUnimplemented, op)
}

// startCreate starts create, create2, createContainer and createTTL, with
// the mode createMode gives the op and its flags.
func (c *conn) startCreate(s engine.RemoteSession, op int32, r *jute.CreateRequest) (*engine.Pending, error) {
	mode, ttl, err := createMode(op, r.Flags)
	if err != nil {
		// ZooKeeper 3.8.0's audit logs a create, create2 or
		// createContainer with the mode its flags name, when they name
		// one (CreateMode.fromFlag), and no createTTL (ZOOKEEPER-4725).
		if op != jute.OpCreateTTL && r.Flags >= 0 && r.Flags <= int32(znode.ModePersistentSequentialWithTTL) {
			c.sess.AuditCreateRefused(r.Path, znode.CreateMode(r.Flags), err)
		}
		return nil, err
	}
	if ttl && (r.TTL <= 0 || r.TTL > maxTTL) {
		return nil, fmt.Errorf("%w: ttl %d", zkerr.ErrBadArguments, r.TTL)
	}
	var life time.Duration
	if ttl {
		life = time.Duration(r.TTL) * time.Millisecond
	}
	// fromACL makes a fresh (never nil) slice: the create takes it.
	// The flags name the mode the audit log gives (ZooKeeper's
	// CreateMode.fromFlag of them); createMode accepted them.
	return s.StartCreateAs(c.ctx, r.Path, r.Data, mode, znode.CreateMode(r.Flags), fromACL(r.ACL), life), nil
}

// createMode is the mode of the node a create op makes with flags (and
// whether it is a TTL mode), as ZooKeeper 3.8 decides it: its
// PrepRequestProcessor checks only the TTL (a TTL mode goes only with
// createTTL, which goes only with one), and the txn it logs is chosen by the
// op, so create and create2 with the container flag make a persistent node
// (a CreateTxn, not ephemeral) and createContainer makes a container
// whatever its flags: a sequential container with a sequential flag.
func createMode(op, flags int32) (znode.CreateMode, bool, error) {
	mode := znode.CreateMode(flags)
	ttl := mode == znode.ModePersistentWithTTL || mode == znode.ModePersistentSequentialWithTTL
	if mode < znode.ModePersistent || mode > znode.ModePersistentSequentialWithTTL {
		return 0, false, fmt.Errorf("%w: %w %d", zkerr.ErrBadArguments, errUnknownFlags, flags)
	}
	switch {
	case ttl != (op == jute.OpCreateTTL):
	case op == jute.OpCreateContainer && (mode == znode.ModePersistent || mode == znode.ModeEphemeral || mode == znode.ModeContainer):
		return znode.ModeContainer, false, nil
	case op == jute.OpCreateContainer && (mode == znode.ModePersistentSequential || mode == znode.ModeEphemeralSequential):
		return znode.ModeContainerSequential, false, nil
	case op == jute.OpCreateContainer:
	case mode == znode.ModeContainer:
		return znode.ModePersistent, false, nil
	default:
		return mode, ttl, nil
	}
	return 0, false, fmt.Errorf("%w: create flags %d with op %d", zkerr.ErrBadArguments, flags, op)
}

// errUnknownFlags: create flags that name no mode (ZooKeeper's
// CreateMode.fromFlag fails on them, and so does its audit of them).
var errUnknownFlags = errors.New("create flags that name no mode:")

// maxTTL is ZooKeeper's largest TTL (EphemeralType.MAX_EXTENDED_SERVER_ID
// leaves 40 bits of milliseconds).
const maxTTL = 1<<40 - 1

// check runs a lone check op (a version check outside a multi).
func (c *conn) check(r *jute.PathVersionRequest) (jute.Record, error) {
	res, err := c.sess.Multi(c.ctx, engine.CheckOp(r.Path, r.Version))
	if len(res) == 1 && res[0].Err != nil {
		err = res[0].Err
	}
	if err != nil {
		return nil, err
	}
	_, st, err := c.sess.Exists(c.ctx, r.Path)
	return &jute.StatResponse{Stat: toStat(st)}, err
}

// closeSession closes the session, answers, and ends the connection.
func (c *conn) closeSession(xid int32) bool {
	c.closing.Store(true) // the monitor leaves it to awaitClose
	err := c.sess.Close(c.ctx)
	if err == nil {
		c.ended.Store(true)
	} else {
		c.closing.Store(false)
	}
	c.answer(xid, nil, err)
	return false
}

// ephemerals answers getEphemerals as ZooKeeper's FinalRequestProcessor
// does: the prefix is a string, not a path, never refused. Empty, blank or
// "/" once trimmed (Java's trim: every character up to a space) lists them
// all; otherwise the session's ephemeral paths that start with the prefix
// as sent ("/d/a" also lists /d/ab, "/d/a/" lists /d/a's descendants). A
// prefix that is a valid path is the engine's prefix scan; any other is
// the filtered list of them all.
func (c *conn) ephemerals(prefix string) ([]string, error) {
	if t := strings.TrimFunc(prefix, func(r rune) bool { return r <= ' ' }); t == "" || t == "/" {
		return c.sess.Ephemerals(c.ctx, "/")
	}
	if znode.ValidatePath(prefix) == nil {
		return c.sess.Ephemerals(c.ctx, prefix)
	}
	all, err := c.sess.Ephemerals(c.ctx, "/")
	var out []string
	for _, p := range all {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out, err
}
