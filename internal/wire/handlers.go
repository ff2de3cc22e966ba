package wire

import (
	"fmt"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// handle decodes and answers one request; it reports whether the
// connection goes on.
func (c *conn) handle(body []byte) bool {
	d := jute.NewDecoder(body)
	var h jute.RequestHeader
	h.Decode(d)
	if d.Err() != nil {
		return c.bad("request header", d.Err())
	}
	rec, known := jute.NewRequest(h.Type)
	if !known {
		return c.unsupported(h)
	}
	if rec != nil {
		rec.Decode(d)
		if d.Err() != nil {
			return c.bad(fmt.Sprintf("request of type %d", h.Type), d.Err())
		}
	}
	switch h.Type {
	case jute.OpPing:
		c.replyHeader(jute.XidPing, 0)
		return true
	case jute.OpCloseSession:
		return c.closeSession(h.Xid)
	case jute.OpAuth:
		return c.auth(h.Xid, rec.(*jute.AuthPacket))
	case jute.OpSetWatches, jute.OpSetWatches2:
		return c.setWatches(h.Xid, rec.(*jute.SetWatches))
	}
	resp, err := c.dispatch(h.Type, rec)
	return c.answer(h.Xid, resp, err)
}

// bad logs a malformed request; the connection closes, as ZooKeeper closes
// it on a request it cannot deserialize.
func (c *conn) bad(what string, err error) bool {
	c.s.cfg.Logger.Info("zk: client port: malformed "+what+"; closing the connection", "ip", c.ip, "err", err)
	return false
}

// unsupported answers a request zk does not serve: reconfig gets
// ZooKeeper's answer when reconfig is disabled, and the connection goes on;
// an unknown op code gets UNIMPLEMENTED and the connection closes.
func (c *conn) unsupported(h jute.RequestHeader) bool {
	if h.Type == jute.OpReconfig {
		c.replyHeader(h.Xid, int32(zkerr.CodeReconfigDisabled))
		return true
	}
	c.s.cfg.Logger.Info("zk: client port: unknown op code; closing the connection", "ip", c.ip, "op", h.Type)
	c.replyHeader(h.Xid, int32(zkerr.CodeUnimplemented))
	return false
}

// replyHeader queues a reply without a body.
func (c *conn) replyHeader(xid, code int32) {
	c.reply(jute.AppendFrame(nil, &jute.ReplyHeader{Xid: xid, Zxid: c.s.e.AppliedZxid(), Err: code}))
}

// answer queues the reply to a request: the body on success, the error
// code alone on failure; it reports whether the connection goes on.
func (c *conn) answer(xid int32, resp jute.Record, err error) bool {
	code, act := wireError(err)
	if act == closeConn {
		c.s.cfg.Logger.Info("zk: client port: request failed; closing the connection", "ip", c.ip, "err", err)
		return false
	}
	h := &jute.ReplyHeader{Xid: xid, Zxid: c.s.e.AppliedZxid(), Err: code}
	if code != 0 || resp == nil {
		c.reply(jute.AppendFrame(nil, h))
	} else {
		c.reply(jute.AppendFrame(nil, h, resp))
	}
	return act == reply
}

// dispatch runs one request against the session.
func (c *conn) dispatch(op int32, rec jute.Record) (jute.Record, error) {
	switch op {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		return c.create(op, rec.(*jute.CreateRequest))
	case jute.OpDelete:
		r := rec.(*jute.PathVersionRequest)
		return nil, c.sess.Delete(c.ctx, r.Path, r.Version)
	case jute.OpSetData:
		r := rec.(*jute.SetDataRequest)
		st, err := c.sess.Set(c.ctx, r.Path, r.Data, r.Version)
		return &jute.StatResponse{Stat: toStat(st)}, err
	case jute.OpSetACL:
		r := rec.(*jute.SetACLRequest)
		st, err := c.sess.SetACL(c.ctx, r.Path, fromACL(r.ACL), r.Version)
		return &jute.StatResponse{Stat: toStat(st)}, err
	case jute.OpSync:
		r := rec.(*jute.PathRequest)
		return &jute.PathRequest{Path: r.Path}, c.sess.Sync(c.ctx, r.Path)
	case jute.OpMulti:
		return c.multi(rec.(*jute.MultiRequest))
	case jute.OpMultiRead:
		return c.multiRead(rec.(*jute.MultiRequest))
	case jute.OpCheck:
		return c.check(rec.(*jute.PathVersionRequest))
	case jute.OpAddWatch, jute.OpCheckWatches, jute.OpRemoveWatches:
		return c.watchOp(op, rec)
	case jute.OpWhoAmI:
		return c.whoAmI(), nil
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
		r := rec.(*jute.PathRequest)
		prefix := r.Path
		if prefix == "" {
			prefix = "/"
		}
		paths, err := s.Ephemerals(c.ctx, prefix)
		if paths == nil {
			paths = []string{}
		}
		return &jute.StringsResponse{Strings: paths}, err
	}
	return nil, fmt.Errorf("%w: op %d", zkerr.ErrUnimplemented, op)
}

// create runs create, create2, createContainer and createTTL. The mode is
// ZooKeeper's create flags; a container mode goes only with
// createContainer and a TTL mode only with createTTL, as in ZooKeeper.
func (c *conn) create(op int32, r *jute.CreateRequest) (jute.Record, error) {
	mode := znode.CreateMode(r.Flags)
	container := mode == znode.ModeContainer
	ttl := mode == znode.ModePersistentWithTTL || mode == znode.ModePersistentSequentialWithTTL
	if container != (op == jute.OpCreateContainer) || ttl != (op == jute.OpCreateTTL) {
		return nil, fmt.Errorf("%w: create flags %d with op %d", zkerr.ErrBadArguments, r.Flags, op)
	}
	if ttl && (r.TTL <= 0 || r.TTL > maxTTL) {
		return nil, fmt.Errorf("%w: ttl %d", zkerr.ErrBadArguments, r.TTL)
	}
	var st znode.Stat
	opts := []engine.CreateOption{engine.WithMode(mode), engine.WithACL(fromACL(r.ACL)...), engine.WithStat(&st)}
	if ttl {
		opts = append(opts, engine.WithTTL(time.Duration(r.TTL)*time.Millisecond))
	}
	path, err := c.sess.Create(c.ctx, r.Path, r.Data, opts...)
	if op == jute.OpCreate {
		return &jute.PathRequest{Path: path}, err
	}
	return &jute.Create2Response{Path: path, Stat: toStat(st)}, err
}

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
	err := c.sess.Close(c.ctx)
	if err == nil {
		c.ended = true
	}
	c.answer(xid, nil, err)
	return false
}
