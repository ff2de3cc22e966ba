package engine

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/znode"
)

// sizeCase is one request built at exactly a given size: build(pad)
// returns the call for a request pad bytes larger than build(0)'s.
type sizeCase struct {
	name  string
	build func(pad int) (size int, call func(ctx context.Context, s *Session) error)
	want  error // the outcome at exactly the limit (nil: success)
}

// createTxnOf is the txn Create would send.
func createTxnOf(path string, data []byte, opts ...CreateOption) *znode.Txn {
	txn, _ := buildCreate(path, data, opts)
	return txn
}

func multiTxnOf(ops []Op) *znode.Txn {
	txn := &znode.Txn{Type: znode.TxnMulti}
	for _, op := range ops {
		txn.Ops = append(txn.Ops, op.txn)
	}
	return txn
}

func multiCall(ops []Op) func(ctx context.Context, s *Session) error {
	return func(ctx context.Context, s *Session) error { _, err := s.Multi(ctx, ops...); return err }
}

// checksThenCreate: a multi of n checks of "/" (the smallest op; the first
// one with firstVersion) and a create whose data pads the request.
func checksThenCreate(limit int, firstVersion int32, path string) func(pad int) (int, func(context.Context, *Session) error) {
	empty := CreateOp(path, nil)
	n := (limit - juteHeader - 2*juteMultiHeader - recordSize(&empty.txn)) / minJuteOp
	return func(pad int) (int, func(context.Context, *Session) error) {
		ops := []Op{CheckOp("/", firstVersion)}
		for i := 1; i < n; i++ {
			ops = append(ops, CheckOp("/", -1))
		}
		ops = append(ops, CreateOp(path, make([]byte, pad)))
		return txnRequestSize(multiTxnOf(ops)), multiCall(ops)
	}
}

// worstCases are the shapes whose log entry is largest for their request
// size: data, the most ops (the largest recorded failure), the most ACL
// entries with the largest msgpack overhead, TTL and sequential creates,
// the longest path.
func worstCases(limit int) []sizeCase {
	return []sizeCase{
		{"create with data", func(pad int) (int, func(context.Context, *Session) error) {
			data := make([]byte, pad)
			return txnRequestSize(createTxnOf("/w", data)), func(ctx context.Context, s *Session) error {
				_, err := s.Create(ctx, "/w", data)
				return err
			}
		}, nil},
		{"set with data", func(pad int) (int, func(context.Context, *Session) error) {
			data := make([]byte, pad)
			return txnRequestSize(&znode.Txn{Type: znode.TxnSetData, Path: "/w", Data: data}), func(ctx context.Context, s *Session) error {
				_, err := s.Set(ctx, "/w", data, -1)
				return err
			}
		}, nil},
		{"multi of checks, the first fails", checksThenCreate(limit, 7, "/m1"), ErrBadVersion},
		{"multi of checks", checksThenCreate(limit, -1, "/m2"), nil},
		{"create with tiny invalid ACL entries", func(pad int) (int, func(context.Context, *Session) error) {
			var acl []ACL
			per := juteInt + juteString("x") + juteString("")
			for i := 0; i < (limit-64)/per; i++ {
				acl = append(acl, ACL{Perms: znode.Perm(1<<30 + i), Scheme: "x"}) // distinct, 5 msgpack bytes of perms
			}
			data := make([]byte, pad)
			return txnRequestSize(createTxnOf("/a", data, WithACL(acl...))), func(ctx context.Context, s *Session) error {
				_, err := s.Create(ctx, "/a", data, WithACL(acl...))
				return err
			}
		}, ErrInvalidACL},
		{"multi of creates with invalid ACLs", func(pad int) (int, func(context.Context, *Session) error) {
			bad := WithACL(ACL{Perms: 1 << 30, Scheme: "x"})
			one := CreateOp("/c", nil, bad)
			per := juteMultiHeader + recordSize(&one.txn)
			var ops []Op
			for i := 0; i < (limit-128)/per; i++ {
				ops = append(ops, one)
			}
			ops = append(ops, CreateOp("/c", make([]byte, pad), bad))
			return txnRequestSize(multiTxnOf(ops)), multiCall(ops)
		}, ErrInvalidACL},
		{"setACL with many ip entries", func(pad int) (int, func(context.Context, *Session) error) {
			var acl []ACL
			size := txnRequestSize(&znode.Txn{Type: znode.TxnSetACL, Path: "/w"})
			for i := 0; ; i++ {
				a := ACL{Perms: PermAll, Scheme: "ip", ID: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
				if size += juteInt + juteString(a.Scheme) + juteString(a.ID); size > limit-256 {
					break
				}
				acl = append(acl, a)
			}
			// The last entry, a digest id, pads the request.
			sum := sha1.Sum([]byte("pad"))
			acl = append(acl, ACL{Perms: PermAll, Scheme: "digest", ID: strings.Repeat("u", 1+pad) + ":" + base64.StdEncoding.EncodeToString(sum[:])})
			return txnRequestSize(&znode.Txn{Type: znode.TxnSetACL, Path: "/w", ACL: acl}), func(ctx context.Context, s *Session) error {
				_, err := s.SetACL(ctx, "/w", acl, -1)
				return err
			}
		}, nil},
		{"multi of TTL sequential creates", func(pad int) (int, func(context.Context, *Session) error) {
			opts := []CreateOption{WithMode(ModePersistentSequentialWithTTL), WithTTL(time.Hour)}
			one := CreateOp("/t/", nil, opts...)
			per := juteMultiHeader + recordSize(&one.txn)
			var ops []Op
			for i := 0; i < (limit-256)/per; i++ {
				ops = append(ops, one)
			}
			ops = append(ops, CreateOp("/t/", make([]byte, pad), opts...))
			return txnRequestSize(multiTxnOf(ops)), multiCall(ops)
		}, nil},
	}
}

var onlyCase = flag.String("worstcase", "", "run only the worst cases whose name contains this")

// TestRequestSizeWorstCases: at the largest limit zk accepts
// (MaxJuteMaxBuffer; a smaller one under the race detector, see
// worstCaseLimit), every worst shape built at exactly the limit is
// taken (proposed, logged, applied) and gets its ZooKeeper outcome; one
// byte more fails at once with ErrRequestTooLarge and proposes nothing.
// Every log entry stays within entryBound(limit), which fits a proposal,
// a log record and a transport frame (TestEntryBoundFits).
func TestRequestSizeWorstCases(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 21)
	cfg.JuteMaxBuffer = worstCaseLimit
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	mustCreate(t, s, "/t", "")
	runWorstCases(t, e, worstCases(worstCaseLimit), func(call func(context.Context, *Session) error) error {
		return call(testCtx(t), s)
	})
}

// TestRequestSizeWorstCasesForwarded: the shapes with the largest log
// entries, at exactly worstCaseLimit, from a follower's session: the
// request is forwarded to the leader (an app message), checked again
// there, and its entry replicated to every peer as a proposal.
func TestRequestSizeWorstCasesForwarded(t *testing.T) {
	c := newClusterWith(t, 3, 0, 21, transport.NetworkOptions{}, func(cfg *Config) { cfg.JuteMaxBuffer = worstCaseLimit })
	c.waitFor("a serving ensemble", 300, c.allServing)
	l := c.leader()
	s := c.session(c.others(l)[0])
	var cases []sizeCase
	for _, tc := range worstCases(worstCaseLimit) {
		if strings.HasPrefix(tc.name, "create") || strings.HasPrefix(tc.name, "set") {
			cases = append(cases, tc)
		}
	}
	runWorstCases(t, c.ens[l], cases, func(call func(context.Context, *Session) error) error {
		return c.do(func(ctx context.Context) error { return call(ctx, s) })
	})
	for _, id := range c.running() {
		if err := c.ens[id].Status().Err; err != nil {
			t.Fatalf("peer %d failed: %v", id, err)
		}
	}
	c.sameTrees()
}

// runWorstCases runs each case one byte over the limit (refused, nothing
// proposed), then at exactly the limit; then checks e's log entries
// against entryBound.
func runWorstCases(t *testing.T, e *Ensemble, cases []sizeCase, run func(func(context.Context, *Session) error) error) {
	limit := e.cfg.JuteMaxBuffer
	for _, tc := range cases {
		if *onlyCase != "" && !strings.Contains(tc.name, *onlyCase) {
			continue
		}
		size0, _ := tc.build(0)
		pad := limit - size0
		size, call := tc.build(pad)
		if pad < 0 || size != limit {
			t.Fatalf("%s: built %d bytes, want %d", tc.name, size, limit)
		}
		over, overCall := tc.build(pad + 1)
		z0, d0 := e.tree.Applied()
		if err := run(overCall); !errors.Is(err, ErrRequestTooLarge) {
			t.Fatalf("%s at %d bytes: %v, want ErrRequestTooLarge", tc.name, over, err)
		}
		if z, d := e.tree.Applied(); z != z0 || d != d0 {
			t.Fatalf("%s: a refused request was proposed (applied %#x, was %#x)", tc.name, z, z0)
		}
		start := time.Now()
		if err := run(call); (tc.want == nil && err != nil) || !errors.Is(err, tc.want) {
			t.Fatalf("%s at exactly %d bytes: %v, want %v", tc.name, size, err, tc.want)
		}
		t.Logf("%s: %v", tc.name, time.Since(start))
	}
	max, failure := largestEntry(t, e)
	t.Logf("limit %d: largest log entry %d bytes (bound %d), largest recorded failure %d bytes", limit, max, entryBound(limit), failure)
	if max > entryBound(limit) {
		t.Fatalf("a log entry of %d bytes is over entryBound(%d) = %d", max, limit, entryBound(limit))
	}
}

// largestEntry returns the size of the largest entry in e's log, and of
// the largest recorded failure.
func largestEntry(t *testing.T, e *Ensemble) (maxEntry, maxFailure int) {
	t.Helper()
	v := inspector{e}
	for after := v.LogBase(); ; {
		ents, err := v.LogEntries(after, 16<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return maxEntry, maxFailure
		}
		for _, en := range ents {
			maxEntry = max(maxEntry, len(en.Data))
			d, err := decodeLogEntry(en.Data)
			if err != nil {
				t.Fatal(err)
			}
			maxFailure = max(maxFailure, len(d.Failure))
		}
		after = ents[len(ents)-1].Zxid
	}
}

// TestPathLengthLimit: a path of MaxPathLength bytes is taken (a
// sequential one with its suffix); one byte more fails with
// ErrRequestTooLarge, with an error that does not repeat the path.
func TestPathLengthLimit(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	long := "/" + strings.Repeat("p", MaxPathLength-1)
	if _, err := s.Create(ctx, long, nil); err != nil {
		t.Fatalf("a path of MaxPathLength bytes: %v", err)
	}
	seq := "/" + strings.Repeat("q", MaxPathLength-1-seqSuffixLen)
	if p, err := s.Create(ctx, seq, nil, WithMode(ModePersistentSequential)); err != nil || len(p) != MaxPathLength {
		t.Fatalf("a sequential path of MaxPathLength bytes with its suffix: %d bytes, %v", len(p), err)
	}
	for name, call := range map[string]func() error{
		"create": func() error { _, err := s.Create(ctx, long+"x", nil); return err },
		"sequential": func() error {
			_, err := s.Create(ctx, seq+"x", nil, WithMode(ModeEphemeralSequential))
			return err
		},
		"get":    func() error { _, _, err := s.Get(ctx, long+"x"); return err },
		"delete": func() error { return s.Delete(ctx, long+"x", -1) },
		"multi":  func() error { _, err := s.Multi(ctx, CheckOp(long+"x", -1)); return err },
	} {
		err := call()
		if !errors.Is(err, ErrRequestTooLarge) || len(err.Error()) > 512 {
			t.Errorf("%s with a path of %d bytes: %.200v (%d bytes of message)", name, len(long)+1, err, len(fmt.Sprint(err)))
		}
	}
}

// TestLeaderChecksForwardedRequests: a follower whose limit is larger than
// the leader's forwards what its sessions accept, and the leader refuses
// what is over its own limit, before preparing it, with
// ErrRequestTooLarge; writes in flight are not disturbed.
func TestLeaderChecksForwardedRequests(t *testing.T) {
	c := newClusterWith(t, 3, 0, 9, transport.NetworkOptions{}, func(cfg *Config) {
		if cfg.ID != 3 {
			cfg.JuteMaxBuffer = MaxJuteMaxBuffer
		}
	})
	c.waitFor("a serving ensemble", 300, c.allServing)
	if l := c.leader(); l != 3 {
		t.Fatalf("peer %d leads; the test needs peer 3 (the highest id) to", l)
	}
	sl, sf := c.session(3), c.session(1)
	for name, call := range map[string]func(ctx context.Context) error{
		"create": func(ctx context.Context) error {
			_, err := sf.Create(ctx, "/big", make([]byte, DefaultJuteMaxBuffer))
			return err
		},
		"multi": func(ctx context.Context) error {
			_, err := sf.Multi(ctx, CreateOp("/m1", make([]byte, 600<<10)), CreateOp("/m2", make([]byte, 600<<10)))
			return err
		},
	} {
		var errA, errBig error
		err := c.do(func(ctx context.Context) error {
			doneA := async(ctx, func(ctx context.Context) error { _, err := sl.Create(ctx, "/a-"+name, nil); return err })
			errBig = call(ctx)
			errA = <-doneA
			return nil
		})
		if err != nil || errA != nil || !errors.Is(errBig, ErrRequestTooLarge) {
			t.Fatalf("%s: %v; the write beside it: %v; the oversized one: %v, want ErrRequestTooLarge", name, err, errA, errBig)
		}
	}
	// A session whose identities alone make the forwarded message larger
	// than a proposal: its writes from a follower fail with
	// ErrRequestTooLarge, and are never sent.
	for i := 0; i < 5; i++ {
		user := fmt.Sprintf("u%d%s", i, strings.Repeat("u", DefaultJuteMaxBuffer-100))
		if err := c.do(func(ctx context.Context) error { return sf.AddAuth(ctx, "digest", []byte(user+":pw")) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.create(sf, "/small"); !errors.Is(err, ErrRequestTooLarge) || !strings.Contains(err.Error(), "identities") {
		t.Fatalf("a write with 5 MiB of identities, from a follower: %v, want ErrRequestTooLarge", err)
	}
	c.sameTrees()
	if d := dumpTree(t, c.ens[3]); strings.Contains(d, "/big") || strings.Contains(d, "/m1") || strings.Contains(d, "/small") {
		t.Fatalf("a refused request changed the tree:\n%s", d)
	}
}

// TestAuthExpansionLimit: a create whose "auth" ACL entries expand, at the
// leader, into the session's digest identities, beyond the limit fails
// with ErrRequestTooLarge before anything is expanded; at exactly the
// limit it is taken.
func TestAuthExpansionLimit(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 5)
	cfg.JuteMaxBuffer = 64 << 10
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	ctx := testCtx(t)
	for i := 0; i < 8; i++ {
		if err := s.AddAuth(ctx, "digest", []byte(fmt.Sprintf("user%d:pw", i))); err != nil {
			t.Fatal(err)
		}
	}
	ids, _ := s.identities()
	var acl []ACL
	for i := 0; i < 100; i++ {
		acl = append(acl, ACL{Perms: PermAll, Scheme: "auth", ID: fmt.Sprint(i)})
	}
	build := func(pad int) *znode.Txn { return createTxnOf("/x", make([]byte, pad), WithACL(acl...)) }
	pad := cfg.JuteMaxBuffer - expandedRequestSize(build(0), ids)
	if pad < 0 || txnRequestSize(build(pad)) >= cfg.JuteMaxBuffer/2 {
		t.Fatalf("pad %d: the test needs a request well below the limit that expands to it", pad)
	}
	if _, err := s.Create(ctx, "/x", make([]byte, pad+1), WithACL(acl...)); !errors.Is(err, ErrRequestTooLarge) {
		t.Fatalf("expanded one byte over the limit: %v, want ErrRequestTooLarge", err)
	}
	if ok, _, _ := s.Exists(ctx, "/x"); ok {
		t.Fatal("a refused create made the node")
	}
	if _, err := s.Create(ctx, "/x", make([]byte, pad), WithACL(acl...)); err != nil {
		t.Fatalf("expanded to exactly the limit: %v", err)
	}
	got, _, err := s.GetACL(ctx, "/x")
	if err != nil || len(got) != len(acl)*len(ids) {
		t.Fatalf("stored ACL has %d entries (%v), want %d", len(got), err, len(acl)*len(ids))
	}
}

// TestEntryBoundFits states the arithmetic the limit's ceiling rests on:
// the largest entry an accepted request can make fits one proposal, one
// log record and one transport frame, and its failure fits the entry
// format.
func TestEntryBoundFits(t *testing.T) {
	if b := entryBound(MaxJuteMaxBuffer); b > maxProposalBytes || b > wal.MaxEntrySize || b+1024 > transport.DefaultMaxFrame {
		t.Fatalf("entryBound(%d) = %d: over a proposal (%d), a log record (%d) or a frame (%d)",
			MaxJuteMaxBuffer, b, maxProposalBytes, wal.MaxEntrySize, transport.DefaultMaxFrame)
	}
	failure := MaxJuteMaxBuffer * maxOpFailure / minJuteOp
	if failure >= 1<<20-entryOverhead {
		t.Fatalf("a failure of up to %d bytes does not fit internal/entry's 1 MiB", failure)
	}
	if b := entryBound(MaxJuteMaxBuffer); b > maxProposalBytes {
		t.Fatalf("entryBound(MaxJuteMaxBuffer) = %d > %d", b, maxProposalBytes)
	}
}

// TestZooCfgJuteMaxBuffer: zoo.cfg's jute.maxbuffer (decimal, or hex as
// Java's Integer.decode reads it) sets Config.JuteMaxBuffer, and a value
// over zk's ceiling is refused, naming the field.
func TestZooCfgJuteMaxBuffer(t *testing.T) {
	for in, want := range map[string]int{"jute.maxbuffer=2000000": 2000000, "jute.maxbuffer=0xfffff": 0xfffff} {
		cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\n"+in), nil)
		if err != nil || cfg.JuteMaxBuffer != want {
			t.Fatalf("%s: %d %v, want %d", in, cfg.JuteMaxBuffer, err, want)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
	}
	cfg, _, err := ParseZooCfg(strings.NewReader("dataDir=/d\njute.maxbuffer=4194304"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "JuteMaxBuffer") {
		t.Fatalf("4 MiB: %v, want an error naming JuteMaxBuffer", err)
	}
	if _, _, err := ParseZooCfg(strings.NewReader("jute.maxbuffer=big"), nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("jute.maxbuffer=big: %v", err)
	}
}
