package wire_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/jute"
)

// The raw differential test's steps (diffraw_test.go runs them).

// rawStep is one drawn step: the session it runs on and what it does.
type rawStep struct {
	desc string
	sess int
	run  func(x *rawSys, s *rawSess) string
	// closes marks a step that closes a session. Its ephemeral nodes go in
	// one txn, and ZooKeeper deletes them (and sends their events) in its
	// hash set's order (PrepRequestProcessor's closeSession takes the
	// session's ephemerals as a HashSet; DataTree.killSession deletes them
	// in that order), zk in path order. No client can rely on that order,
	// so the step always ends with the barrier (all its events are in) and
	// its events are compared sorted.
	closes bool
}

func rawData(rng *rand.Rand) []byte {
	if rng.IntN(8) == 0 {
		return nil
	}
	return []byte(fmt.Sprint(rng.IntN(1000)))
}

func rawPath(rng *rand.Rand) string {
	switch rng.IntN(40) {
	case 0:
		return "/"
	case 1:
		return rawOddPaths[rng.IntN(len(rawOddPaths))]
	}
	return rawPaths[rng.IntN(len(rawPaths))]
}

// genRawCreate draws create, create2, createContainer or createTTL with a
// mode that goes with it (and now and then a mode or a TTL out of range, an
// odd ACL, or none).
func genRawCreate(rng *rand.Rand, p string) (string, func(x *rawSys, s *rawSess) string) {
	ops := []int32{jute.OpCreate, jute.OpCreate2, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL}
	op := ops[rng.IntN(len(ops))]
	req := &jute.CreateRequest{Path: p, Data: rawData(rng), ACL: rawACL(rng)}
	switch op {
	case jute.OpCreate, jute.OpCreate2:
		req.Flags = rawFlags(rng)
	case jute.OpCreateContainer:
		req.Flags = 4
	case jute.OpCreateTTL:
		req.HasTTL = true
		req.Flags = []int32{5, 6}[rng.IntN(2)]
		req.TTL = rawTTL(rng)
	}
	if rng.IntN(30) == 0 {
		req.ACL = nil
	}
	// Now and then a mode that does not go with the op: ZooKeeper makes a
	// persistent node for create and create2 with the container flag, and
	// a container for createContainer with another flag. Not a sequential
	// one (flags 2, 3): zk has no sequential container and refuses it, a
	// deliberate difference (README, "ZooKeeper's clients").
	if rng.IntN(10) == 0 {
		switch op {
		case jute.OpCreate, jute.OpCreate2:
			req.Flags = 4
		case jute.OpCreateContainer:
			req.Flags = int32(rng.IntN(2))
		}
	}
	return fmt.Sprintf("op%d %s flags=%d ttl=%d acl=%d", op, p, req.Flags, req.TTL, len(req.ACL)), func(x *rawSys, s *rawSess) string {
		_, _, out := x.call(s, op, req)
		return out
	}
}

// genRawMultiOps draws the ops of a multi.
func genRawMultiOps(rng *rand.Rand) ([]jute.MultiOp, string) {
	var ops []jute.MultiOp
	var desc []string
	for i := 0; i < 1+rng.IntN(3); i++ {
		p := rawPath(rng)
		v := rawVersion(rng)
		var op jute.MultiOp
		switch rng.IntN(8) {
		case 0:
			op = jute.MultiOp{Type: jute.OpCreate, Path: p, Data: []byte("m"), ACL: openACL, Flags: int32(rng.IntN(5))}
		case 1:
			op = jute.MultiOp{Type: jute.OpCreate2, Path: p, Data: []byte("m2"), ACL: openACL, Flags: int32(rng.IntN(5))}
		case 2:
			if rng.IntN(2) == 0 {
				// Mostly the container flag; without it ZooKeeper's multi
				// makes a plain create of it.
				op = jute.MultiOp{Type: jute.OpCreateContainer, Path: p, ACL: openACL, Flags: []int32{4, 4, 0, 2}[rng.IntN(4)]}
			} else {
				op = jute.MultiOp{Type: jute.OpCreateTTL, Path: p, ACL: openACL, Flags: 5, TTL: 3_600_000}
			}
		case 3:
			op = jute.MultiOp{Type: jute.OpDelete, Path: p, Version: v}
		case 4:
			op = jute.MultiOp{Type: jute.OpSetData, Path: p, Data: []byte("s"), Version: v}
		case 5:
			op = genRawMultiOdd(rng, p)
		default:
			op = jute.MultiOp{Type: jute.OpCheck, Path: p, Version: v}
		}
		if i > 0 {
			tameEarly(&op)
		}
		ops = append(ops, op)
		desc = append(desc, fmt.Sprintf("op%d %s f%d v%d ttl%d", op.Type, op.Path, op.Flags, op.Version, op.TTL))
	}
	return ops, strings.Join(desc, "; ")
}

// rawRun runs a step on one system's session and returns its transcript.
type rawRun = func(x *rawSys, s *rawSess) string

// rawGen is what a step of a connected session draws first: the session,
// a path, whether a read sets a one-shot watch (never on the persistent
// session, see persistentSess) and a version for the writes.
type rawGen struct {
	rng     *rand.Rand
	real    *rawSys
	i       int
	p       string
	watch   bool
	version int32
}

// genRawStep draws one step for a session; a disconnected session's step
// is its reconnect.
func genRawStep(rng *rand.Rand, real *rawSys) rawStep {
	i := rng.IntN(rawSessions)
	k := rng.IntN(36)
	if k >= 16 && k < 18 {
		i = persistentSess // addWatch: the persistent session's
	}
	if !real.sess[i].connected {
		return genRawReconnect(rng, i, len(real.addrs))
	}
	p := rawPath(rng)
	watch := rng.IntN(2) == 0 && i != persistentSess
	version := rawVersion(rng)
	g := rawGen{rng: rng, real: real, i: i, p: p, watch: watch, version: version}
	st := rawStep{sess: i}
	switch {
	case k < 10:
		st.desc, st.run = g.write(k)
	case k < 16:
		st.desc, st.run = g.read(k)
	case k < 20:
		st.desc, st.run = g.watches(k)
	case k < 27:
		st.desc, st.run = g.other(k)
	case k >= 30:
		st.desc, st.run = g.odd(k)
	default:
		st.desc, st.run, st.closes = g.session(k)
	}
	st.desc = fmt.Sprintf("s#%d ", i+1) + st.desc
	return st
}

// write draws a create, a delete or a setData.
func (g rawGen) write(k int) (string, rawRun) {
	p, version := g.p, g.version
	switch {
	case k < 5:
		return genRawCreate(g.rng, p)
	case k < 7:
		return fmt.Sprintf("delete %s v=%d", p, version), func(x *rawSys, s *rawSess) string {
			_, _, out := x.call(s, jute.OpDelete, &jute.PathVersionRequest{Path: p, Version: version})
			return out
		}
	}
	data := rawData(g.rng)
	return fmt.Sprintf("setData %s v=%d", p, version), func(x *rawSys, s *rawSess) string {
		_, _, out := x.call(s, jute.OpSetData, &jute.SetDataRequest{Path: p, Data: data, Version: version})
		return out
	}
}

// read draws a getData, an exists, or a getChildren or getChildren2, each
// with or without a one-shot watch.
func (g rawGen) read(k int) (string, rawRun) {
	p, watch := g.p, g.watch
	switch {
	case k < 12:
		return fmt.Sprintf("getData %s watch=%v", p, watch), func(x *rawSys, s *rawSess) string {
			h, _, out := x.call(s, jute.OpGetData, &jute.PathWatchRequest{Path: p, Watch: watch})
			if watch && h.Err == 0 {
				s.w.data[p] = true
			}
			return out
		}
	case k < 14:
		return fmt.Sprintf("exists %s watch=%v", p, watch), func(x *rawSys, s *rawSess) string {
			h, _, out := x.call(s, jute.OpExists, &jute.PathWatchRequest{Path: p, Watch: watch})
			if watch && h.Err == 0 {
				s.w.data[p] = true
			} else if watch && h.Err == -101 {
				s.w.exist[p] = true
			}
			return out
		}
	}
	op := []int32{jute.OpGetChildren, jute.OpGetChildren2}[g.rng.IntN(2)]
	return fmt.Sprintf("op%d(children) %s watch=%v", op, p, watch), func(x *rawSys, s *rawSess) string {
		h, _, out := x.call(s, op, &jute.PathWatchRequest{Path: p, Watch: watch})
		if watch && h.Err == 0 {
			s.w.child[p] = true
		}
		return out
	}
}

// watches draws an addWatch (on the persistent session), or a
// removeWatches or checkWatches.
func (g rawGen) watches(k int) (string, rawRun) {
	rng, i, p := g.rng, g.i, g.p
	if k < 18 {
		mode := int32(rng.IntN(2))
		// ZooKeeper 3.8 keeps one mode per connection and path: a second
		// mode replaces the first, where zk keeps both (ZOOKEEPER-4466,
		// fixed in 3.9; deliberate, README "Differences from ZooKeeper").
		// Keep the mode the path has.
		if w := g.real.sess[i].w; w.persistent[p] {
			mode = 0
		} else if w.recursive[p] {
			mode = 1
		}
		return fmt.Sprintf("addWatch %s mode=%d", p, mode), func(x *rawSys, s *rawSess) string {
			h, _, out := x.call(s, jute.OpAddWatch, &jute.AddWatchRequest{Path: p, Mode: mode})
			if h.Err == 0 && mode == 0 {
				s.w.persistent[p] = true
			} else if h.Err == 0 {
				s.w.recursive[p] = true
			}
			return out
		}
	}
	op := []int32{jute.OpRemoveWatches, jute.OpCheckWatches}[rng.IntN(2)]
	typ := int32(1 + rng.IntN(3))
	if i == persistentSess {
		// ZooKeeper 3.8 keeps a persistent watch in its data and its
		// child table: removing one type removes half of it
		// (ZOOKEEPER-4471, deliberate): only Any (3). Types 4 and 5
		// (3.9's persistent and recursive) are checked, not removed.
		typ = 3
		if op == jute.OpCheckWatches {
			typ = int32(3 + rng.IntN(3))
		}
	}
	return fmt.Sprintf("op%d(watches) %s type=%d", op, p, typ), func(x *rawSys, s *rawSess) string {
		h, _, out := x.call(s, op, &jute.WatchesRequest{Path: p, Type: typ})
		// After the call: the events before its reply are the session's
		// watches that fired before the server ran it.
		mask := x.checkMasked(i, op, p, typ)
		if h.Err == 0 && op == jute.OpRemoveWatches {
			s.w.removed(p, typ)
		}
		if mask != "" {
			return "masked (" + mask + ")"
		}
		return out
	}
}

// other draws getEphemerals, getAllChildrenNumber, multiRead, multi, sync
// or whoAmI.
func (g rawGen) other(k int) (string, rawRun) {
	rng, p := g.rng, g.p
	var op int32
	var req jute.Record
	var desc string
	switch {
	case k == 20:
		prefix := []string{"", "/", "/d", "/d/a", "/d/a/", "/e", "/x"}[rng.IntN(7)]
		op, req, desc = jute.OpGetEphemerals, &jute.PathRequest{Path: prefix}, fmt.Sprintf("getEphemerals %q", prefix)
	case k == 21:
		op, req, desc = jute.OpGetAllChildrenNumber, &jute.PathRequest{Path: p}, "getAllChildrenNumber "+p
	case k == 22:
		return g.genRawMultiRead()
	case k < 25:
		ops, d := genRawMultiOps(rng)
		return "multi[" + d + "]", func(x *rawSys, s *rawSess) string {
			x.multiOps = ops
			defer func() { x.multiOps = nil }()
			_, _, out := x.call(s, jute.OpMulti, &jute.MultiRequest{Ops: ops})
			return out
		}
	case k == 25:
		op, req, desc = jute.OpSync, &jute.PathRequest{Path: p}, "sync "+p
	default:
		return g.whoAmI()
	}
	return desc, func(x *rawSys, s *rawSess) string {
		_, _, out := x.call(s, op, req)
		return out
	}
}

// whoAmI draws a whoAmI, now and then after an auth: a digest (u:p, or
// "u", which has no password and still makes an identity), or a scheme
// the server does not know, which it answers AUTHFAILED and closes the
// connection (the session stays, as after a disconnect).
func (g rawGen) whoAmI() (string, rawRun) {
	auth := []string{"", "", "", "", "u:p", "u:p", "u", "foo"}[g.rng.IntN(8)]
	return fmt.Sprintf("whoAmI (auth first: %q)", auth), func(x *rawSys, s *rawSess) string {
		out := ""
		switch auth {
		case "foo":
			s.r.nc.SetDeadline(time.Now().Add(x.replyBudget()))
			h, _, evs, err := s.r.tryCall(jute.OpAuth, &jute.AuthPacket{Scheme: "foo", Auth: []byte("x")})
			for _, ev := range evs {
				s.w.fired(ev)
			}
			s.r.nc.Close()
			s.connected = false
			return fmt.Sprintf("%s err=%d read error %v | closed", x.events(evs), h.Err, err != nil)
		case "":
		default:
			_, _, out = x.call(s, jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte(auth)})
		}
		_, _, who := x.call(s, jute.OpWhoAmI, nil)
		return out + " |" + who
	}
}

// genRawMultiRead draws a multiRead of getData and getChildren ops, each
// with its watch flag set or not. ZooKeeper 3.8 sets no watch for it:
// MultiOperationRecord keeps only the path of a getData or getChildren op
// it decodes (Op.getData(path)), and the op's toRequestRecord asks for no
// watch. zk ignores the flag too (conn.multiRead); the steps that follow
// check that no event comes of it.
func (g rawGen) genRawMultiRead() (string, rawRun) {
	var ops []jute.MultiOp
	for n := 1 + g.rng.IntN(3); len(ops) < n; {
		t := []int32{jute.OpGetData, jute.OpGetChildren}[g.rng.IntN(2)]
		ops = append(ops, jute.MultiOp{Type: t, Path: rawPath(g.rng), Watch: g.rng.IntN(2) == 0})
	}
	return fmt.Sprintf("multiRead %+v", ops), func(x *rawSys, s *rawSess) string {
		_, _, out := x.call(s, jute.OpMultiRead, &jute.MultiRequest{Ops: ops})
		return out
	}
}

// session draws a ping, a close and reopen of the session, a disconnect
// (the session stays), or a clear of a path's children.
func (g rawGen) session(k int) (string, rawRun, bool) {
	i, p := g.i, g.p
	switch {
	case k == 27 && g.rng.IntN(3) == 0:
		return "ping", func(x *rawSys, s *rawSess) string {
			_, _, out := x.call(s, jute.OpPing, nil)
			return out
		}, false
	case k == 27:
		return "reopen (closeSession, then a new session)", func(x *rawSys, s *rawSess) string {
			_, _, out := x.call(s, jute.OpCloseSession, nil)
			s.r.nc.Close()
			x.ghost(s.w)
			return out + " | " + x.open(i)
		}, true
	case k == 28 && g.rng.IntN(3) == 0:
		// A reconnect while the old connection is open: the server closes
		// the old one (ZooKeeper's CLIENT_RECONNECT), and the new one has
		// only what it re-registers, authentication included.
		st := genRawReconnect(g.rng, i, len(g.real.addrs))
		return "move: " + st.desc, func(x *rawSys, s *rawSess) string {
			old, from := s.r, s.srv
			out := st.run(x, s)
			if s.srv != from {
				return out + " | " + x.afterMove(old)
			}
			return fmt.Sprintf("%s | old connection closed %v", out, old.closed())
		}, false
	case k == 28:
		return "disconnect (the session stays)", func(x *rawSys, s *rawSess) string {
			s.r.nc.Close()
			s.connected = false
			return "closed"
		}, false
	}
	return "clear " + p, func(x *rawSys, s *rawSess) string {
		h, resp, out := x.call(s, jute.OpGetChildren, &jute.PathWatchRequest{Path: p})
		r, ok := resp.(*jute.StringsResponse)
		if h.Err != 0 || !ok || len(r.Strings) == 0 {
			return out
		}
		var ops []jute.MultiOp
		for _, k := range slices.Sorted(slices.Values(r.Strings)) {
			ops = append(ops, jute.MultiOp{Type: jute.OpDelete, Path: strings.TrimSuffix(p, "/") + "/" + k, Version: -1})
		}
		_, _, del := x.call(s, jute.OpMulti, &jute.MultiRequest{Ops: ops})
		return out + " | " + del
	}, false
}

// genRawReconnect re-attaches session i on a new connection with its last
// zxid and re-registers the watches it remembers (with now and then one it
// never set), by setWatches2, or setWatches when it has no persistent ones.
//
// In an ensemble (servers > 1) it draws the server too, which may be the
// session's own.
func genRawReconnect(rng *rand.Rand, i, servers int) rawStep {
	v1 := rng.IntN(3) == 0
	extra := rng.IntN(3) == 0
	kind := rng.IntN(5)
	p := rawPath(rng)
	skip := rng.IntN(10) == 0
	to, where := -1, ""
	if servers > 1 {
		to = rng.IntN(servers)
		where = fmt.Sprintf(" to server %d", to+1)
	}
	return rawStep{sess: i, desc: fmt.Sprintf("s#%d reconnect%s (v1 %v, extra %v kind %d %s, skip %v)", i+1, where, v1, extra, kind, p, skip),
		run: func(x *rawSys, s *rawSess) string {
			if to >= 0 {
				s.srv = to
			}
			resp := x.reattach(s)
			out := fmt.Sprintf("same=%v timeout=%d passwd=%d", resp.SessionID == s.id, resp.TimeOut, len(resp.Passwd))
			if resp.SessionID != s.id {
				x.t.Fatalf("%s: the session did not re-attach: %+v", x.name, resp)
			}
			s.connected = true
			if extra && i == persistentSess {
				// The persistent session's kinds, one mode a path (see
				// addWatch).
				if !s.w.persistent[p] && !s.w.recursive[p] {
					[]map[string]bool{s.w.persistent, s.w.recursive}[kind%2][p] = true
				}
			} else if extra {
				[]map[string]bool{s.w.data, s.w.exist, s.w.child}[kind%3][p] = true
			}
			req := &jute.SetWatches{RelativeZxid: s.zxid, V2: !v1 || len(s.w.persistent)+len(s.w.recursive) > 0,
				DataWatches: sortedKeys(s.w.data), ExistWatches: sortedKeys(s.w.exist), ChildWatches: sortedKeys(s.w.child),
				PersistentWatches: sortedKeys(s.w.persistent), PersistentRecursive: sortedKeys(s.w.recursive)}
			if skip {
				x.ghost(s.w)
				s.w = newRawWatchModel() // a client that does not reset its watches
				return out + " (no setWatches)"
			}
			op := jute.OpSetWatches
			if req.V2 {
				op = jute.OpSetWatches2
			}
			_, _, got := x.call(s, op, req)
			return fmt.Sprintf("%s | op%d %v %v %v %v %v:%s", out, op, req.DataWatches, req.ExistWatches,
				req.ChildWatches, req.PersistentWatches, req.PersistentRecursive, got)
		}}
}
