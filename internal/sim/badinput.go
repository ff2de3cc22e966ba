package sim

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	zk "github.com/embedzk/zk"
)

// Bad input. Clients send, among their good calls, every kind of bad
// request a user can make. Each must fail with its clear error (badKind's
// accepts) and change nothing: a bad call is no write of the workload, so
// if anything it sent committed, resolve finds a committed txn no client
// call asked for and the run fails; the linearizability model leaves it
// out (it says nothing about any key).

// badKind is the kind of bad request a bad call makes.
type badKind uint8

const (
	badBigData      badKind = iota + 1 // create or set with data over the request limit
	badBigPath                         // a path over MaxPathLength (now and then issue 9's 5 MB one)
	badBigMulti                        // creates each legal alone, over the limit as one multi
	badManyOps                         // small ops, over the limit as one multi
	badBigACL                          // an ACL list over the limit
	badBigAuth                         // AddAuth with a credential over the limit
	badPath                            // a malformed path, in any call
	badSeqPath                         // a malformed sequential create path
	badMode                            // an unknown create mode
	badTTL                             // a TTL out of range, or with a mode that takes none
	badACL                             // an unknown scheme, a malformed id, an empty list
	badVersion                         // an expected version that no node can have
	badEmptyMulti                      // a multi of no ops: no results, nothing changes
	badDeadSession                     // a call on a closed or expired session's handle
	badNilCtx                          // a nil context
	badCancelledCtx                    // a context that ended before the call
	badAuthScheme                      // AddAuth with an unknown scheme
	badReattach                        // Reattach with a wrong password, or of a session never issued
	nBadKinds
)

var badNames = [...]string{"?", "bigdata", "bigpath", "bigmulti", "manyops", "bigacl", "bigauth", "path", "seqpath",
	"mode", "ttl", "acl", "version", "emptymulti", "deadsession", "nilctx", "cancelledctx", "authscheme", "reattach"}

func (k badKind) String() string { return badNames[k] }

// malformedPaths are paths ZooKeeper refuses, one per rule.
var malformedPaths = []string{
	"", "r", "r/k0", "/r/", "/r//k0", "//", "/.", "/..", "/r/.", "/r/..", "/r/./k0", "/r/../r",
	"/r/k\x00", "/r/\x01k", "/r/k\x7f", "/r/k\u0085", "/r/\ud7ff\ue000", "/r/\uffff", "/r/k\xff", "/r/\U0001F600",
}

// malformedSeqPaths are sequential create paths ZooKeeper refuses (a
// sequential path may end with "/", the suffix follows, but the rest holds).
var malformedSeqPaths = []string{"", "s/p-", "/s//", "//", "/s/./", "/s/../", "/s/\x00p-", "/s//p-"}

// badACLs are ACL lists fixupACL refuses.
var badACLs = [][]zk.ACL{
	{},
	{{Perms: zk.PermAll, Scheme: "foo", ID: "bar"}},
	{{Perms: zk.PermAll, Scheme: "", ID: ""}},
	{{Perms: zk.PermAll, Scheme: "world", ID: "someone"}},
	{{Perms: zk.PermAll, Scheme: "digest", ID: "nocolon"}},
	{{Perms: zk.PermAll, Scheme: "ip", ID: "999.1.1.1"}},
	{{Perms: zk.PermAll, Scheme: "ip", ID: "10.0.0.1/99"}},
	{{Perms: zk.PermAll, Scheme: "ip", ID: "not-an-address"}},
	{{Perms: zk.PermAll, Scheme: "auth", ID: ""}},                                                           // a session with no digest identity
	{{Perms: zk.PermRead, Scheme: "world", ID: "anyone"}, {Perms: zk.PermAll, Scheme: "sasl", ID: "a@b@c"}}, // not a Kerberos name
}

// badVersions are expected versions no node of the workload reaches.
var badVersions = []int32{-2, -3, -100, math.MinInt32, math.MaxInt32, math.MaxInt32 - 1, 1 << 30}

// pickBad draws a bad call on path (a register key).
func (c *client) pickBad(op *opRecord, key string) {
	w := c.w
	op.kind, op.path = opBad, key
	op.bad = badKind(1 + w.rng.IntN(int(nBadKinds)-1))
	op.badArg = w.rng.IntN(1 << 20)
	op.data = fmt.Sprintf("bad%d", w.nextOp)
	if op.bad == badDeadSession {
		for _, h := range w.handles {
			if st := h.sess.State(); st == zk.StateClosed || st == zk.StateExpired {
				op.dead = h.sess
				if w.rng.IntN(2) == 0 {
					break
				}
			}
		}
		if op.dead == nil {
			op.bad = badNilCtx // no dead handle yet
		}
	}
	if op.bad == badReattach {
		c.pickBadReattach(op)
	}
}

// pickBadReattach draws whom a bad Reattach names (op.target) and with
// which password: the client's own session with a wrong or an empty
// password, a session id no peer ever issued, or id 0. Only on a peer that
// serves, and for a session it serves read-write: a Reattach waits for
// service before its sync round, and a sync queued later, when service
// came back, would be queued out of the seed's turn (turn.go).
func (c *client) pickBadReattach(op *opRecord) {
	if !slices.Contains(c.w.servingPeers(), c.peer) || c.sess.State() != zk.StateConnected {
		op.bad = badNilCtx
		return
	}
	switch op.badArg % 4 {
	case 0:
		op.target, op.password = c.sid, slices.Clone(c.password)
		op.password[op.badArg%len(op.password)] ^= 0x5a
	case 1:
		op.target, op.password = c.sid, nil
	case 2:
		op.target, op.password = 0x7e<<56|int64(op.badArg), []byte("never issued")
	default:
		op.target, op.password = 0, nil
	}
}

// ownReattach reports whether a bad Reattach names the client's own
// session, which its peer's tree holds: it is refused at once.
func (op *opRecord) ownReattach() bool { return op.bad == badReattach && op.badArg%4 < 2 }

// accepts reports whether err is a right answer to a bad call of kind k.
func (k badKind) accepts(err error) bool {
	switch k {
	case badBigData, badBigPath, badBigMulti, badManyOps, badBigACL, badBigAuth:
		return errors.Is(err, zk.ErrRequestTooLarge) && errors.Is(err, zk.ErrBadArguments)
	case badPath, badSeqPath:
		return errors.Is(err, zk.ErrInvalidPath)
	case badMode, badTTL, badNilCtx:
		return errors.Is(err, zk.ErrBadArguments)
	case badACL:
		// Refused by the leader's prep (a failed no-op is proposed), so it
		// may also end as any call that was sent.
		return errors.Is(err, zk.ErrInvalidACL) || sentCallEnded(err)
	case badVersion:
		// ZooKeeper compares any int32; zk refused versions below -1 as
		// bad arguments: either way, the call fails.
		return errors.Is(err, zk.ErrBadArguments) || errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) ||
			sentCallEnded(err)
	case badEmptyMulti:
		// A peer serving the session read-only refuses any multi, as
		// ZooKeeper's ReadOnlyRequestProcessor does.
		return err == nil || errors.Is(err, zk.ErrNotReadOnly)
	case badDeadSession:
		return errors.Is(err, zk.ErrClosed) || errors.Is(err, zk.ErrSessionExpired)
	case badCancelledCtx:
		return errors.Is(err, context.Canceled) && !errors.Is(err, zk.ErrOutcomeUnknown)
	case badAuthScheme:
		return errors.Is(err, zk.ErrAuthFailed)
	case badReattach:
		// Expired; or, for an id the peer's tree does not hold, whatever
		// ended its sync round.
		return errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrNotServing) || sentCallEnded(err)
	}
	return false
}

// sentCallEnded reports the errors any call that was sent may end with
// under faults (its peer lost its quorum, crashed, or the client gave up;
// or its session was re-attached on another peer meanwhile).
func sentCallEnded(err error) bool {
	return errors.Is(err, zk.ErrConnectionLoss) || errors.Is(err, zk.ErrClosed) ||
		errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, context.Canceled) ||
		errors.Is(err, zk.ErrSessionMoved) ||
		errors.Is(err, zk.ErrNotReadOnly) // a read-only peer refuses it before it leaves
}

// execBad makes the bad call, on the call's goroutine.
func (op *opRecord) execBad(ctx context.Context) {
	s, a := op.sess, op.badArg
	limit := zk.DefaultJuteMaxBuffer
	switch op.bad {
	case badBigData:
		data := make([]byte, limit+a%64)
		if a%2 == 0 {
			_, op.err = s.Create(ctx, op.path, data)
		} else {
			_, op.err = s.Set(ctx, op.path, data, -1)
		}
	case badBigPath:
		if a%4 == 0 {
			_, op.err = s.Create(ctx, "/"+strings.Repeat("p", 5<<20-1), nil) // issue 9's
			return
		}
		op.err = anyCall(ctx, s, "/"+strings.Repeat("p", zk.MaxPathLength+a%100), a/4)
	case badBigMulti:
		// Issue 9's: five creates of about the limit each, each one legal
		// alone (together they were over a proposal's 4 MiB).
		var ops []zk.Op
		for i := 0; i < 5; i++ {
			ops = append(ops, zk.CreateOp(fmt.Sprintf("/r/%s-%d", op.data, i), make([]byte, limit-128)))
		}
		_, op.err = s.Multi(ctx, ops...)
	case badManyOps:
		long := "/r/" + strings.Repeat("m", 200)
		var ops []zk.Op
		for n := 0; n*220 <= limit; n++ {
			ops = append(ops, zk.DeleteOp(long, -1))
		}
		_, op.err = s.Multi(ctx, ops...)
	case badBigACL:
		acl := make([]zk.ACL, limit/1000+1)
		for i := range acl {
			acl[i] = digestACL(fmt.Sprintf("%s-%d-%s", op.data, i, strings.Repeat("u", 960)))
		}
		if a%2 == 0 {
			_, op.err = s.Create(ctx, op.path, []byte(op.data), zk.WithACL(acl...))
		} else {
			_, op.err = s.SetACL(ctx, op.path, acl, -1)
		}
	case badBigAuth:
		op.err = s.AddAuth(ctx, "digest", []byte("u:"+strings.Repeat("p", limit)))
	default:
		op.execBadArgs(ctx)
	}
}

// execBadArgs makes the bad calls whose arguments are malformed rather
// than too large.
func (op *opRecord) execBadArgs(ctx context.Context) {
	s, a := op.sess, op.badArg
	switch op.bad {
	case badPath:
		op.err = anyCall(ctx, s, malformedPaths[a%len(malformedPaths)], a/len(malformedPaths))
	case badSeqPath:
		mode := []zk.CreateMode{zk.ModePersistentSequential, zk.ModeEphemeralSequential}[a%2]
		_, op.err = s.Create(ctx, malformedSeqPaths[a%len(malformedSeqPaths)], []byte(op.data), zk.WithMode(mode))
	case badMode:
		mode := []zk.CreateMode{-1, 7, 8, 100, math.MaxInt32, math.MinInt32}[a%6]
		_, op.err = s.Create(ctx, op.path, []byte(op.data), zk.WithMode(mode))
	case badTTL:
		opts := [][]zk.CreateOption{
			{zk.WithMode(zk.ModePersistentWithTTL)},                                         // no TTL
			{zk.WithMode(zk.ModePersistentWithTTL), zk.WithTTL(-time.Second)},               // negative
			{zk.WithMode(zk.ModePersistentSequentialWithTTL), zk.WithTTL(time.Microsecond)}, // 0 ms
			{zk.WithMode(zk.ModePersistentWithTTL), zk.WithTTL(1 << 62)},                    // over the largest
			{zk.WithTTL(time.Minute)},                                                       // a persistent node
			{zk.WithMode(zk.ModeEphemeral), zk.WithTTL(time.Minute)},
			{zk.WithMode(zk.ModeContainer), zk.WithTTL(time.Minute)},
		}[a%7]
		_, op.err = s.Create(ctx, "/t/bad", []byte(op.data), opts...)
	case badACL:
		acl := badACLs[a%len(badACLs)]
		if a/len(badACLs)%2 == 0 {
			_, op.err = s.Create(ctx, op.path+"-"+op.data, []byte(op.data), zk.WithACL(acl...))
		} else {
			_, op.err = s.SetACL(ctx, op.path, acl, -1)
		}
	case badVersion:
		v := badVersions[a%len(badVersions)]
		switch a / len(badVersions) % 3 {
		case 0:
			_, op.err = s.Set(ctx, op.path, []byte(op.data), v)
		case 1:
			op.err = s.Delete(ctx, op.path, v)
		default:
			_, op.err = s.Multi(ctx, zk.CheckOp(op.path, v), zk.SetOp(op.path, []byte(op.data), -1))
		}
	case badEmptyMulti:
		var res []zk.OpResult
		res, op.err = s.Multi(ctx)
		if op.err == nil && len(res) != 0 {
			op.err = fmt.Errorf("an empty multi returned %d results", len(res))
		}
	case badDeadSession:
		op.err = anyCall(ctx, op.dead, op.path, a)
	case badNilCtx:
		op.err = anyCall(nil, s, op.path, a) // the point of the call
	case badCancelledCtx:
		done, cancel := context.WithCancel(ctx)
		cancel()
		op.err = anyCall(done, s, op.path, a)
	case badAuthScheme:
		op.err = s.AddAuth(ctx, []string{"foo", "", "super", "sasl", "x509"}[a%5], []byte("u:p"))
	case badReattach:
		if _, op.err = op.ens.Reattach(ctx, op.target, op.password); op.err == nil {
			op.err = fmt.Errorf("session %#x re-attached with password %x", op.target, op.password)
		}
	}
}

// anyCall makes one of the session's calls on path, chosen by a; data and
// versions are harmless, so only path, s or ctx can make it fail.
func anyCall(ctx context.Context, s *zk.Session, path string, a int) error {
	var err error
	switch a % 12 {
	case 0:
		_, err = s.Create(ctx, path, []byte("bad"))
	case 1:
		_, err = s.Set(ctx, path, []byte("bad"), math.MaxInt32)
	case 2:
		err = s.Delete(ctx, path, math.MaxInt32)
	case 3:
		_, _, err = s.Get(ctx, path)
	case 4:
		_, _, err = s.Exists(ctx, path)
	case 5:
		_, _, err = s.Children(ctx, path)
	case 6:
		var w *zk.Watch
		if w, err = s.AddWatch(ctx, path, true); err == nil {
			w.Remove()
		}
	case 7:
		_, err = s.Multi(ctx, zk.CheckOp(path, math.MaxInt32))
	case 8:
		err = s.Sync(ctx, path)
	case 9:
		_, _, err = s.GetACL(ctx, path)
	case 10:
		_, err = s.SetACL(ctx, path, zk.OpenACLUnsafe(), math.MaxInt32)
	default:
		_, _, _, err = s.GetW(ctx, path)
	}
	return err
}

// digestACL is a well-formed digest ACL entry for user.
func digestACL(user string) zk.ACL {
	sum := sha1.Sum([]byte(user))
	return zk.ACL{Perms: zk.PermRead, Scheme: "digest", ID: user + ":" + base64.StdEncoding.EncodeToString(sum[:])}
}

// judgeBad checks a bad call's answer once it returned.
func (w *World) judgeBad(op *opRecord) {
	w.stats.BadOps++
	op.out, op.errName = outFailed, "bad-"+op.bad.String()
	switch {
	case !op.bad.accepts(op.err):
		w.failf("%v: bad request %s got %.300v, want its clear error", op, op.bad, op.err)
	case op.ownReattach() && !errors.Is(op.err, zk.ErrSessionExpired):
		w.failf("%v: Reattach of session %#x with a wrong password got %.300v, want ErrSessionExpired at once", op, op.target, op.err)
	}
}
