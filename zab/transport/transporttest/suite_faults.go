package transporttest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/embedzk/zk/zab/transport"
)

// retryable reports a Send error that only means "not now".
func retryable(err error) bool {
	return errors.Is(err, transport.ErrNotConnected) || errors.Is(err, transport.ErrOverflow)
}

// progress waits for the next event (automatic) or makes one step (manual).
func (e *env) progress(ch <-chan struct{}) error {
	if e.o.Manual {
		e.drain()
		if !e.c.Step() {
			return errors.New("quiescent")
		}
		return nil
	}
	timer := time.NewTimer(e.o.Timeout)
	defer timer.Stop()
	select {
	case <-ch:
		return nil
	case <-timer.C:
		return fmt.Errorf("no event for %v", e.o.Timeout)
	}
}

// stream is one direction of testPrefixUnderBreaks: seq numbers only count
// accepted frames, and the sender breaks its own connection now and then.
type stream struct {
	from, to  int64
	next      uint64 // seq of the next accepted frame
	nextBreak uint64
	breaks    int
	rng       *rand.Rand
}

// sendOne tries one frame; it reports whether the frame was accepted.
func (s *stream) sendOne(tr transport.Transport) (bool, error) {
	err := tr.Send(s.to, seqFrame(s.next, s.rng.IntN(200)))
	switch {
	case err == nil:
		s.next++
		if s.next == s.nextBreak {
			if err := tr.Disconnect(s.to); err == nil {
				s.breaks++
			} else if !errors.Is(err, transport.ErrNotConnected) {
				return true, fmt.Errorf("Disconnect: %w", err)
			}
			s.nextBreak += 10 + uint64(s.rng.IntN(40))
		}
		return true, nil
	case retryable(err):
		return false, nil
	default:
		return false, fmt.Errorf("Send %d->%d: %w", s.from, s.to, err)
	}
}

// testPrefixUnderBreaks streams both ways between 1 and 2 while each side
// keeps breaking the connection, then checks that on every connection the
// receiver got a gap-free run of what was sent, and across connections each
// frame at most once, in order.
func testPrefixUnderBreaks(e *env) {
	e.waitAllUp()
	const n = 400
	streams := []*stream{{from: 1, to: 2}, {from: 2, to: 1}}
	for _, s := range streams {
		s.rng = e.newRand()
		s.nextBreak = 10 + uint64(s.rng.IntN(40))
	}
	if e.o.Manual {
		e.interleave(streams, n)
	} else {
		errs := make(chan error, len(streams))
		for _, s := range streams {
			go func() { errs <- e.pumpStream(s, n) }()
		}
		for range streams {
			if err := <-errs; err != nil {
				e.t.Fatal(err)
			}
		}
	}
	for _, s := range streams {
		e.finish(s)
	}
	e.locked(func() {
		for _, s := range streams {
			e.checkStream(s)
		}
	})
}

// pumpStream sends until n frames were accepted (automatic mode).
func (e *env) pumpStream(s *stream, n uint64) error {
	for s.next < n {
		ch := e.changed()
		ok, err := s.sendOne(e.tr(s.from))
		if err != nil {
			return err
		}
		if !ok {
			if err := e.progress(ch); err != nil {
				return fmt.Errorf("stream %d->%d stuck at %d: %w", s.from, s.to, s.next, err)
			}
		}
	}
	return nil
}

// interleave sends, steps and drains in a seeded random order (manual mode).
func (e *env) interleave(streams []*stream, n uint64) {
	for i := 0; ; i++ {
		if i > 1_000_000 {
			e.t.Fatalf("streams did not finish")
		}
		var open []*stream
		for _, s := range streams {
			if s.next < n {
				open = append(open, s)
			}
		}
		if len(open) == 0 {
			return
		}
		if r := e.rng.IntN(10); r < 6 {
			if _, err := open[r%len(open)].sendOne(e.tr(open[r%len(open)].from)); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		e.drain()
		e.c.Step()
	}
}

// finish sends marker frames on s until one arrives, so the last
// connection is known to work.
func (e *env) finish(s *stream) {
	for attempt := 0; attempt < 1000; attempt++ {
		e.waitFor(fmt.Sprintf("%d-%d up", s.from, s.to), func() bool {
			return e.isUp(s.from, s.to) && e.isUp(s.to, s.from)
		})
		var downs int
		e.locked(func() {
			downs = e.count(s.to, s.from, transport.EventDown) + e.count(s.from, s.to, transport.EventDown)
		})
		ch := e.changed()
		seq := s.next
		err := e.tr(s.from).Send(s.to, seqFrame(seq, 0))
		if err != nil {
			if !retryable(err) {
				e.t.Fatalf("marker Send: %v", err)
			}
			if err := e.progress(ch); err != nil {
				e.t.Fatalf("marker %d->%d: %v", s.from, s.to, err)
			}
			continue
		}
		s.next++
		delivered := false
		e.waitFor(fmt.Sprintf("marker %d on %d->%d", seq, s.from, s.to), func() bool {
			fs := e.frames(s.to, s.from)
			if len(fs) > 0 {
				if got, _ := frameSeq(fs[len(fs)-1]); got == seq {
					delivered = true
					return true
				}
			}
			return e.count(s.to, s.from, transport.EventDown)+e.count(s.from, s.to, transport.EventDown) > downs
		})
		if delivered {
			return
		}
	}
	e.t.Fatalf("no marker got through %d->%d", s.from, s.to)
}

// checkStream checks the receiver's log of s (e.mu held).
func (e *env) checkStream(s *stream) {
	var maxSeen, segLast int64 = -1, -1
	frames, downs := 0, 0
	for _, ev := range e.recs[s.to].log[s.from] {
		switch ev.Kind {
		case transport.EventUp:
			segLast = -1
		case transport.EventDown:
			downs++
		case transport.EventFrame:
			frames++
			u, ok := frameSeq(ev.Frame)
			seq := int64(u)
			switch {
			case !ok:
				e.t.Errorf("%d->%d: corrupt frame %x", s.from, s.to, ev.Frame)
			case segLast >= 0 && seq != segLast+1:
				e.t.Errorf("%d->%d: frame %d follows %d on one connection (gap or reorder)", s.from, s.to, seq, segLast)
			case seq <= maxSeen:
				e.t.Errorf("%d->%d: frame %d after %d (duplicate or reorder)", s.from, s.to, seq, maxSeen)
			}
			segLast, maxSeen = seq, max(maxSeen, seq)
		}
	}
	if maxSeen != int64(s.next)-1 {
		e.t.Errorf("%d->%d: last frame %d, the marker was %d", s.from, s.to, maxSeen, s.next-1)
	}
	if s.breaks == 0 || downs == 0 {
		e.t.Errorf("%d->%d: %d breaks made, %d Down seen: the test broke nothing", s.from, s.to, s.breaks, downs)
	}
	if frames > int(s.next) {
		e.t.Errorf("%d->%d: %d frames delivered, only %d accepted", s.from, s.to, frames, s.next)
	}
}

// testOverflow stops a receiver from reading until its sender's queue
// overflows, both ways round (for transports where dialing has a
// direction).
func testOverflow(e *env) {
	e.waitAllUp()
	e.overflow(1, 3, 1<<40)
	e.overflow(3, 1, 2<<40)
}

// bigFrame is seqFrame with zero padding, cheap to build.
func bigFrame(seq uint64, size int) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b, seq)
	return b
}

func (e *env) overflow(from, to int64, base uint64) {
	e.waitFor(fmt.Sprintf("%d-%d up", from, to), func() bool { return e.isUp(from, to) && e.isUp(to, from) })
	var downsFrom, downsTo int
	e.locked(func() {
		downsFrom, downsTo = e.count(from, to, transport.EventDown), e.count(to, from, transport.EventDown)
	})
	size := min(64<<10, e.o.MaxFrame)
	e.hold(to)
	accepted := uint64(0)
	for {
		if accepted*uint64(size) > 512<<20 {
			e.t.Fatalf("%d->%d: no overflow after %d frames to a receiver that does not read", from, to, accepted)
		}
		err := e.tr(from).Send(to, bigFrame(base+accepted, size))
		if err == nil {
			accepted++
			continue
		}
		if errors.Is(err, transport.ErrOverflow) {
			break
		}
		e.t.Fatalf("%d->%d: Send to a receiver that does not read: %v, want nil or ErrOverflow", from, to, err)
	}
	e.release(to)
	e.waitFor(fmt.Sprintf("%d-%d down and up again", from, to), func() bool {
		return e.count(from, to, transport.EventDown) > downsFrom && e.count(to, from, transport.EventDown) > downsTo &&
			e.isUp(from, to) && e.isUp(to, from)
	})
	marker := base + 1<<30
	e.retrySend(from, to, bigFrame(marker, 8), marker)
	e.locked(func() {
		next := base
		for _, f := range e.frames(to, from) {
			seq, _ := frameSeq(f[:8])
			switch {
			case seq < base:
			case seq == marker:
			case seq != next:
				e.t.Errorf("%d->%d: frame %d where %d was due: not a prefix", from, to, seq-base, next-base)
				return
			default:
				next++
			}
		}
		if next-base > accepted {
			e.t.Errorf("%d->%d: %d frames delivered, %d accepted", from, to, next-base, accepted)
		}
	})
}

// retrySend sends frame (whose seq is seq) until it is delivered.
func (e *env) retrySend(from, to int64, frame []byte, seq uint64) {
	for attempt := 0; ; attempt++ {
		if attempt > 1000 {
			e.t.Fatalf("%d->%d: frame %d never delivered", from, to, seq)
		}
		e.waitFor(fmt.Sprintf("%d-%d up", from, to), func() bool { return e.isUp(from, to) && e.isUp(to, from) })
		ch := e.changed()
		if err := e.tr(from).Send(to, frame); err != nil {
			if !retryable(err) {
				e.t.Fatalf("Send: %v", err)
			}
			if err := e.progress(ch); err != nil {
				e.t.Fatalf("%d->%d: %v", from, to, err)
			}
			continue
		}
		e.waitFor(fmt.Sprintf("frame %d on %d->%d", seq, from, to), func() bool {
			fs := e.frames(to, from)
			if len(fs) == 0 {
				return false
			}
			got, _ := frameSeq(fs[len(fs)-1][:8])
			return got == seq
		})
		return
	}
}

// testConcurrentClose closes a transport while other goroutines send and
// disconnect through it: every call returns a contract error, Close returns,
// and later calls say ErrClosed.
func testConcurrentClose(e *env) {
	e.waitAllUp()
	tr := e.tr(1)
	results := make(chan error, 3)
	for g := range 3 {
		go func() {
			to := []int64{2, 3}[g%2]
			for i := 0; ; i++ {
				var err error
				if g == 2 && i%50 == 0 {
					err = tr.Disconnect(to)
				} else {
					err = tr.Send(to, seqFrame(uint64(i), 16))
				}
				switch {
				case errors.Is(err, transport.ErrClosed):
					results <- nil
					return
				case err != nil && !retryable(err):
					results <- fmt.Errorf("goroutine %d: %w", g, err)
					return
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	e.waitForBusy("traffic from 1", func() bool { return len(e.frames(2, 1)) >= 20 && len(e.frames(3, 1)) >= 20 })
	if err := tr.Close(); err != nil {
		e.t.Fatalf("Close: %v", err)
	}
	timer := time.NewTimer(e.o.Timeout)
	defer timer.Stop()
	for range 3 {
		select {
		case err := <-results:
			if err != nil {
				e.t.Error(err)
			}
		case <-timer.C:
			e.t.Fatalf("senders did not see ErrClosed")
		}
	}
	if err := tr.Send(2, []byte("x")); !errors.Is(err, transport.ErrClosed) {
		e.t.Errorf("Send after Close: %v", err)
	}
}
