//go:build unix

package proctest

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/znode"
)

// Bad input (workSpec.Bad): clients send, among their good operations,
// every kind of bad request a user can make. Each must get its clear error
// and change nothing. A bad request is logged like any operation (kind
// "bad"); the analysis requires that nothing it sent committed but as a
// failed no-op (the leader refuses some, such as an ACL of an unknown
// scheme, in its pipeline: the refusal is ordered like a write).

const (
	kindBad = "bad"
	// classRefused is a bad request that got its clear error.
	classRefused = "refused"
	// classBadWrong is a bad request that got another answer: the run fails.
	classBadWrong = "badwrong"
)

// badCall is one kind of bad request.
type badCall struct {
	name string
	// txn is the txn type the leader would log if the request reached it
	// (refused in its pipeline, as a failed no-op), "" if the session
	// refuses it; the analysis matches the log's entries with it.
	txn string
	do  func(ctx context.Context, c *client, rec *record) error
	ok  func(error) bool
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

var tooLarge = func(err error) bool {
	return errors.Is(err, zk.ErrRequestTooLarge) && errors.Is(err, zk.ErrBadArguments)
}

var badCalls = []badCall{
	{"bigdata", "", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(ctx, rec.Path, make([]byte, zk.DefaultJuteMaxBuffer))
		return err
	}, tooLarge},
	{"bigpath", "", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(ctx, "/"+strings.Repeat("p", 5<<20-1), nil) // issue 9's
		return err
	}, tooLarge},
	{"longpath", "", func(ctx context.Context, c *client, rec *record) error {
		_, _, err := c.sess.Get(ctx, "/"+strings.Repeat("p", zk.MaxPathLength))
		return err
	}, tooLarge},
	{"bigmulti", "", func(ctx context.Context, c *client, rec *record) error {
		var ops []zk.Op // issue 9's: five creates, each legal alone
		for i := 0; i < 5; i++ {
			ops = append(ops, zk.CreateOp(fmt.Sprintf("%s-%d", rec.Path, i), make([]byte, zk.DefaultJuteMaxBuffer-128)))
		}
		_, err := c.sess.Multi(ctx, ops...)
		return err
	}, tooLarge},
	{"manyops", "", func(ctx context.Context, c *client, rec *record) error {
		long := "/k/" + strings.Repeat("m", 200)
		ops := make([]zk.Op, zk.DefaultJuteMaxBuffer/220+1)
		for i := range ops {
			ops[i] = zk.DeleteOp(long, -1)
		}
		_, err := c.sess.Multi(ctx, ops...)
		return err
	}, tooLarge},
	{"bigacl", "", func(ctx context.Context, c *client, rec *record) error {
		acl := make([]zk.ACL, zk.DefaultJuteMaxBuffer/1000+1)
		for i := range acl {
			user := fmt.Sprintf("u%d%s", i, strings.Repeat("u", 970))
			sum := sha1.Sum([]byte(user))
			acl[i] = zk.ACL{Perms: zk.PermRead, Scheme: "digest", ID: user + ":" + base64.StdEncoding.EncodeToString(sum[:])}
		}
		_, err := c.sess.SetACL(ctx, rec.Path, acl, -1)
		return err
	}, tooLarge},
	{"path", "", func(ctx context.Context, c *client, rec *record) error {
		paths := []string{"", "k", "/k/", "//", "/k//0", "/.", "/k/..", "/k/./0", "/k/\x00", "/k/\x01", "/k/\xff", "/k/\uffff"}
		p := paths[c.rng.IntN(len(paths))]
		switch c.rng.IntN(4) {
		case 0:
			_, err := c.sess.Create(ctx, p, nil)
			return err
		case 1:
			_, err := c.sess.Set(ctx, p, nil, -1)
			return err
		case 2:
			return c.sess.Delete(ctx, p, -1)
		}
		_, _, err := c.sess.Get(ctx, p)
		return err
	}, is(zk.ErrInvalidPath)},
	{"seqpath", "", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(ctx, "/seq//s-", nil, zk.WithMode(zk.ModePersistentSequential))
		return err
	}, is(zk.ErrInvalidPath)},
	{"mode", "", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(ctx, rec.Path, nil, zk.WithMode(zk.CreateMode(7+c.rng.IntN(100))))
		return err
	}, is(zk.ErrBadArguments)},
	{"ttl", "", func(ctx context.Context, c *client, rec *record) error {
		opts := [][]zk.CreateOption{
			{zk.WithMode(zk.ModePersistentWithTTL)},
			{zk.WithMode(zk.ModePersistentWithTTL), zk.WithTTL(-time.Second)},
			{zk.WithMode(zk.ModePersistentWithTTL), zk.WithTTL(1 << 62)},
			{zk.WithTTL(time.Minute)},
		}[c.rng.IntN(4)]
		_, err := c.sess.Create(ctx, rec.Path, nil, opts...)
		return err
	}, is(zk.ErrBadArguments)},
	{"acl", "setACL", func(ctx context.Context, c *client, rec *record) error {
		acl := [][]zk.ACL{
			{{Perms: zk.PermAll, Scheme: "foo", ID: "bar"}},
			{{Perms: zk.PermAll, Scheme: "digest", ID: "nocolon"}},
			{{Perms: zk.PermAll, Scheme: "ip", ID: "300.1.1.1"}},
			{{Perms: zk.PermAll, Scheme: "world", ID: "someone"}},
		}[c.rng.IntN(4)]
		_, err := c.sess.SetACL(ctx, rec.Path, acl, -1)
		return err
	}, func(err error) bool { return errors.Is(err, zk.ErrInvalidACL) || sent(err) }},
	{"emptyacl", "create", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(ctx, rec.Path, nil, zk.WithACL())
		return err
	}, func(err error) bool { return errors.Is(err, zk.ErrInvalidACL) || sent(err) }},
	{"version", "setData", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Set(ctx, rec.Path, []byte(rec.Data), rec.Version) // chooseBad drew it
		return err
	}, func(err error) bool {
		return errors.Is(err, zk.ErrBadArguments) || errors.Is(err, zk.ErrBadVersion) || errors.Is(err, zk.ErrNoNode) || sent(err)
	}},
	{"emptymulti", "", func(ctx context.Context, c *client, rec *record) error {
		res, err := c.sess.Multi(ctx)
		if err == nil && len(res) > 0 {
			err = fmt.Errorf("an empty multi returned %d results", len(res))
		}
		return err
	}, func(err error) bool { return err == nil }},
	{"deadsession", "", func(ctx context.Context, c *client, rec *record) error {
		if c.dead == nil {
			s, err := c.w.ens.NewSession(ctx)
			if err != nil {
				return errDeadSession // not a bad request's answer: retried later
			}
			if err := s.Close(ctx); err != nil {
				return errDeadSession
			}
			c.dead = s
		}
		_, err := c.dead.Create(ctx, rec.Path, []byte(rec.Data))
		return err
	}, func(err error) bool { return errors.Is(err, zk.ErrClosed) || errors.Is(err, errDeadSession) }},
	{"nilctx", "", func(ctx context.Context, c *client, rec *record) error {
		_, err := c.sess.Create(nil, rec.Path, []byte(rec.Data)) // the point of the call
		return err
	}, is(zk.ErrBadArguments)},
	{"cancelledctx", "", func(ctx context.Context, c *client, rec *record) error {
		done, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.sess.Set(done, rec.Path, []byte(rec.Data), -1)
		return err
	}, func(err error) bool { return errors.Is(err, context.Canceled) && !errors.Is(err, zk.ErrOutcomeUnknown) }},
	{"authscheme", "", func(ctx context.Context, c *client, rec *record) error {
		return c.sess.AddAuth(ctx, "foo", []byte("u:p"))
	}, is(zk.ErrAuthFailed)},
}

// errDeadSession: the client could not make its closed session.
var errDeadSession = errors.New("proctest: no closed session to call")

// sent reports the errors a request that was sent may end with under
// faults (the log then says whether it failed).
func sent(err error) bool {
	return errors.Is(err, zk.ErrConnectionLoss) || errors.Is(err, zk.ErrSessionExpired) ||
		errors.Is(err, zk.ErrClosed) || errors.Is(err, context.DeadlineExceeded)
}

// chooseBad picks a bad request on key.
func (c *client) chooseBad(key, data string) record {
	b := badCalls[c.rng.IntN(len(badCalls))]
	rec := record{Kind: kindBad, Bad: b.name, BadTxn: b.txn, Path: key, Data: data, Version: -1}
	if b.name == "version" {
		rec.Version = []int32{-2, math.MinInt32, math.MaxInt32}[c.rng.IntN(3)]
	}
	return rec
}

// doBad makes a bad request and classifies its answer.
func (c *client) doBad(ctx context.Context, rec record) record {
	var ret record
	for _, b := range badCalls {
		if b.name != rec.Bad {
			continue
		}
		err := b.do(ctx, c, &rec)
		if b.txn == "" && !b.ok(err) && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			err = c.askAgain(b, &rec)
		}
		switch {
		case !b.ok(err):
			ret.Class = classBadWrong
		case b.txn != "" && (errors.Is(err, zk.ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded)):
			ret.Class = classUnknown // the log says it failed
		case b.txn != "" && sent(err):
			ret.Class = classOther
		default:
			ret.Class = classRefused
		}
		if err != nil {
			ret.Err = err.Error()
			if len(ret.Err) > 300 {
				ret.Err = ret.Err[:300] + "..."
			}
		}
	}
	return ret
}

// askAgain repeats a bad request that the session refuses by itself and
// whose first call ended with its context. Such a refusal never waits, but
// the chaos schedule stops whole processes (SIGSTOP): a stop during the
// call that outlasts its deadline leaves the context expired when the
// session makes its first check, which is the context's (as every Session
// method's). The second call must then get the clear error; one that
// really waits ends with its deadline again and fails the run.
func (c *client) askAgain(b badCall, rec *record) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.w.spec.Work.OpTimeout)
	defer cancel()
	return b.do(ctx, c, rec)
}

// matchesBad reports whether the committed txn t is the bad request of
// call c (refused by the leader's pipeline, so logged as a failed no-op).
func matchesBad(c record, t *znode.Txn) bool {
	switch c.BadTxn {
	case "create": // refused where ZooKeeper's fixupACL refuses it, taking a zxid
		return t.Type == znode.TxnCreate && t.Path == c.Path && len(t.ACL) == 0
	case "setACL":
		return t.Type == znode.TxnSetACL && t.Path == c.Path
	case "setData":
		return t.Type == znode.TxnSetData && t.Path == c.Path && string(t.Data) == c.Data && t.Version == c.Version
	}
	return false
}

// TestBadRequestsOfAStoppedProcess: a bad request whose call outlived its
// deadline while the process was stopped (the chaos schedule's SIGSTOP)
// still counts only with its clear error. An expired context stands for
// the stop: every request the session refuses by itself gets its clear
// error through askAgain, and none is classed as a wrong answer (before
// askAgain, bigmulti, manyops, emptymulti, cancelledctx and authscheme
// were: Multi, Set and AddAuth check the context first).
func TestBadRequestsOfAStoppedProcess(t *testing.T) {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := ens.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &workload{spec: peerSpec{Work: workSpec{OpTimeout: 10 * time.Second}}, ens: ens}
	c := &client{w: w, name: "t", rng: rand.New(rand.NewPCG(1, 2)), sess: sess}
	expired, stop := context.WithTimeout(context.Background(), time.Nanosecond)
	defer stop()
	<-expired.Done()
	for _, b := range badCalls {
		if b.txn != "" {
			continue // sent to the leader: its context error is an unknown outcome, matched with the log
		}
		for i := 0; i < 4; i++ {
			rec := record{Kind: kindBad, Bad: b.name, Path: "/k/0", Data: "d", Version: -1}
			if got := c.doBad(expired, rec); got.Class == classBadWrong {
				t.Fatalf("%s with its deadline passed during the call: classed wrong, %q", b.name, got.Err)
			}
		}
	}
}
