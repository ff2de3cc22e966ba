package transporttest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
)

// Cluster is the set of transports a subtest runs on: one per id of a fixed
// membership, every one of them configured with Options.MaxFrame and
// Options.MaxQueue.
type Cluster interface {
	// Transport returns id's transport (created with the cluster).
	Transport(id int64) transport.Transport
	// Restart closes id's transport, if open, and returns a new one for id
	// that rejoins like a restarted process (same address, same identity).
	Restart(id int64) transport.Transport
	// Step makes one step of progress in a manual cluster and reports
	// whether there was anything to do; automatic clusters return false.
	Step() bool
	// Close closes every transport.
	Close()
}

// Options configures Run.
type Options struct {
	// New makes a cluster for ids. Randomness it uses must come from seed.
	New func(t *testing.T, ids []int64, seed int64) Cluster
	// Manual says the cluster only moves through Step.
	Manual bool
	// MaxFrame and MaxQueue are the limits the transports were given.
	// MaxQueue must not exceed 1 MiB (the overflow test fills it), and
	// MaxFrame must be at least 1 KiB.
	MaxFrame, MaxQueue int
	// Timeout bounds every wait (default 20s).
	Timeout time.Duration
	// Seed seeds the suite (0: from the clock); it is logged.
	Seed int64
}

// Run runs the conformance suite. Subtests do not run in parallel.
func Run(t *testing.T, o Options) {
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	if o.MaxFrame < 1<<10 || o.MaxQueue <= 0 || o.MaxQueue > 1<<20 {
		t.Fatalf("transporttest: MaxFrame %d / MaxQueue %d out of range", o.MaxFrame, o.MaxQueue)
	}
	seed := o.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("transporttest seed %d", seed)
	tests := []struct {
		name string
		f    func(*env)
	}{
		{"ConnectAll", testConnectAll},
		{"FIFO", testFIFO},
		{"Errors", testErrors},
		{"Broadcast", testBroadcast},
		{"Disconnect", testDisconnect},
		{"Close", testClose},
		{"Restart", testRestart},
		{"PrefixUnderBreaks", testPrefixUnderBreaks},
		{"Overflow", testOverflow},
		{"ConcurrentClose", testConcurrentClose},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := seed + int64(i)
			CheckGoroutines(t)
			defer func() {
				if t.Failed() {
					t.Logf("replay with Options.Seed = %d (subtest seed %d)", seed, s)
				}
			}()
			tc.f(newEnv(t, o, []int64{1, 2, 3}, s))
		})
	}
}

// seqFrame is a test frame: an 8-byte sequence number, then pad bytes
// derived from it.
func seqFrame(seq uint64, pad int) []byte {
	b := make([]byte, 8+pad)
	binary.BigEndian.PutUint64(b, seq)
	for i := range pad {
		b[8+i] = byte(seq) + byte(i)
	}
	return b
}

// frameSeq reads a seqFrame back; ok is false if it is malformed.
func frameSeq(b []byte) (uint64, bool) {
	if len(b) < 8 {
		return 0, false
	}
	seq := binary.BigEndian.Uint64(b)
	for i, c := range b[8:] {
		if c != byte(seq)+byte(i) {
			return seq, false
		}
	}
	return seq, true
}

func testConnectAll(e *env) {
	e.waitAllUp()
	e.locked(func() {
		for _, a := range e.ids {
			for _, b := range e.ids {
				if a != b && len(e.recs[a].log[b]) != 1 {
					e.t.Errorf("peer %d got %s from %d, want exactly one Up", a, summarize(e.recs[a].log[b]), b)
				}
			}
		}
	})
}

// fifoFrames makes n frames for every ordered pair: random sizes, the
// first one empty, one of exactly MaxFrame.
func (e *env) fifoFrames(n int) map[[2]int64][][]byte {
	want := make(map[[2]int64][][]byte)
	for _, a := range e.ids {
		for _, b := range e.ids {
			if a == b {
				continue
			}
			var fs [][]byte
			for i := range n {
				size := e.rng.IntN(1024)
				switch {
				case i == 0:
					size = 0
				case i == n/2 && a == 1 && b == 3:
					size = e.o.MaxFrame
				}
				f := make([]byte, size)
				for j := range f {
					f[j] = byte(e.rng.Uint32())
				}
				fs = append(fs, f)
			}
			want[[2]int64{a, b}] = fs
		}
	}
	return want
}

// testFIFO sends frames of varied sizes (empty and MaxFrame included) on
// every ordered pair at once and expects each stream intact and in order.
func testFIFO(e *env) {
	e.waitAllUp()
	const n = 100
	want := e.fifoFrames(n)
	send := func(a int64) error {
		tr := e.tr(a)
		for i := range n {
			for _, b := range e.ids {
				if b == a {
					continue
				}
				if err := tr.Send(b, want[[2]int64{a, b}][i]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	errs := make(chan error, len(e.ids))
	for _, a := range e.ids {
		if e.o.Manual {
			errs <- send(a)
		} else {
			go func() { errs <- send(a) }()
		}
	}
	for range e.ids {
		if err := <-errs; err != nil {
			e.t.Fatalf("Send on a stable connection: %v", err)
		}
	}
	e.waitFor("every frame", func() bool {
		for k := range want {
			if len(e.frames(k[1], k[0])) < n {
				return false
			}
		}
		return true
	})
	e.locked(func() {
		for k, fs := range want {
			got := e.frames(k[1], k[0])
			if len(got) != n {
				e.t.Errorf("%d->%d: %d frames, want %d", k[0], k[1], len(got), n)
				continue
			}
			for i := range fs {
				if !bytes.Equal(got[i], fs[i]) {
					e.t.Errorf("%d->%d: frame %d differs (%d bytes, want %d)", k[0], k[1], i, len(got[i]), len(fs[i]))
				}
			}
			if c := e.count(k[1], k[0], transport.EventDown); c != 0 {
				e.t.Errorf("%d->%d: %d Down events on a stable connection", k[0], k[1], c)
			}
		}
	})
}

func testErrors(e *env) {
	e.waitAllUp()
	tr := e.tr(1)
	check := func(what string, err, want error) {
		e.t.Helper()
		if !errors.Is(err, want) {
			e.t.Errorf("%s: got %v, want %v", what, err, want)
		}
	}
	check("Send to self", tr.Send(1, []byte("x")), transport.ErrUnknownPeer)
	check("Send to a stranger", tr.Send(99, []byte("x")), transport.ErrUnknownPeer)
	check("Send to id 0", tr.Send(0, []byte("x")), transport.ErrUnknownPeer)
	check("Send over MaxFrame", tr.Send(2, make([]byte, e.o.MaxFrame+1)), transport.ErrFrameTooLarge)
	check("Disconnect self", tr.Disconnect(1), transport.ErrUnknownPeer)
	check("Disconnect a stranger", tr.Disconnect(99), transport.ErrUnknownPeer)
	// None of that touched the connection: a frame still goes through.
	if err := tr.Send(2, []byte("after errors")); err != nil {
		e.t.Fatalf("Send after refused calls: %v", err)
	}
	e.waitFor("the frame after errors", func() bool { return len(e.frames(2, 1)) == 1 })
	e.locked(func() {
		if got := string(e.frames(2, 1)[0]); got != "after errors" {
			e.t.Errorf("got frame %q", got)
		}
		if c := e.count(2, 1, transport.EventDown) + e.count(1, 2, transport.EventDown); c != 0 {
			e.t.Errorf("refused calls broke the connection (%d Down)", c)
		}
	})
}

// testBroadcast sends one slice to two peers: each receiver owns its frame.
func testBroadcast(e *env) {
	e.waitAllUp()
	frame := []byte("one slice, two peers")
	for _, to := range []int64{2, 3} {
		if err := e.tr(1).Send(to, frame); err != nil {
			e.t.Fatalf("Send to %d: %v", to, err)
		}
	}
	e.waitFor("both copies", func() bool { return len(e.frames(2, 1)) == 1 && len(e.frames(3, 1)) == 1 })
	e.locked(func() {
		got2, got3 := e.frames(2, 1)[0], e.frames(3, 1)[0]
		for i := range got2 {
			got2[i] = 'X'
		}
		if string(got3) != "one slice, two peers" || string(frame) != "one slice, two peers" {
			e.t.Errorf("frames alias each other: peer 3 has %q, the sender %q", got3, frame)
		}
	})
}

func testDisconnect(e *env) {
	e.waitAllUp()
	if err := e.tr(1).Disconnect(2); err != nil {
		e.t.Fatalf("Disconnect: %v", err)
	}
	e.waitFor("1-2 down and up again", func() bool {
		return e.count(1, 2, transport.EventDown) == 1 && e.count(2, 1, transport.EventDown) == 1 &&
			e.isUp(1, 2) && e.isUp(2, 1)
	})
	for _, d := range [][2]int64{{1, 2}, {2, 1}} {
		if err := e.tr(d[0]).Send(d[1], []byte("again")); err != nil {
			e.t.Fatalf("Send %d->%d after reconnecting: %v", d[0], d[1], err)
		}
	}
	e.waitFor("frames on the new connection", func() bool {
		return len(e.frames(1, 2)) == 1 && len(e.frames(2, 1)) == 1
	})
	e.locked(func() {
		for _, d := range [][2]int64{{1, 3}, {3, 1}, {2, 3}, {3, 2}} {
			if c := e.count(d[0], d[1], transport.EventDown); c != 0 {
				e.t.Errorf("Disconnect(1, 2) broke %d-%d", d[0], d[1])
			}
		}
	})
}

func testClose(e *env) {
	e.waitAllUp()
	tr3 := e.tr(3)
	if err := tr3.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	if err := tr3.Close(); err != nil {
		e.t.Fatalf("second Close: %v", err)
	}
	e.waitFor("3 closed, 1 and 2 told", func() bool {
		return e.recs[3].closed && !e.isUp(1, 3) && !e.isUp(2, 3)
	})
	if err := tr3.Send(1, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		e.t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if err := tr3.Disconnect(1); !errors.Is(err, transport.ErrClosed) {
		e.t.Errorf("Disconnect after Close: %v, want ErrClosed", err)
	}
	if err := e.tr(1).Send(3, []byte("x")); !errors.Is(err, transport.ErrNotConnected) {
		e.t.Errorf("Send to a closed peer: %v, want ErrNotConnected", err)
	}
	if err := e.tr(1).Send(2, []byte("still")); err != nil {
		e.t.Fatalf("Send between survivors: %v", err)
	}
	e.waitFor("a frame between survivors", func() bool { return len(e.frames(2, 1)) == 1 })
}

func testRestart(e *env) {
	e.waitAllUp()
	old := e.tr(2)
	e.restart(2)
	if err := old.Send(1, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		e.t.Errorf("Send on the old incarnation: %v, want ErrClosed", err)
	}
	e.waitFor("the old 2 gone, the new 2 up with 1 and 3", func() bool {
		return e.count(1, 2, transport.EventDown) == 1 && e.count(3, 2, transport.EventDown) == 1 &&
			e.allUp()
	})
	for _, d := range [][2]int64{{2, 1}, {1, 2}, {2, 3}, {3, 2}} {
		if err := e.tr(d[0]).Send(d[1], seqFrame(uint64(d[0]), 10)); err != nil {
			e.t.Fatalf("Send %d->%d after the restart: %v", d[0], d[1], err)
		}
	}
	e.waitFor("frames to and from the new 2", func() bool {
		return len(e.frames(2, 1)) == 1 && len(e.frames(1, 2)) == 1 &&
			len(e.frames(2, 3)) == 1 && len(e.frames(3, 2)) == 1
	})
}

// newRand derives an independent generator for a helper goroutine.
func (e *env) newRand() *rand.Rand {
	return rand.New(rand.NewPCG(e.rng.Uint64(), e.rng.Uint64()))
}
