package engine

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/hooks"
)

// TestMaxClientCnxnsConcurrent opens many sessions at once from one client
// address on a peer that takes 5 per address: exactly 5 are attached, the
// others fail with ErrConnectionLoss. Attaches that fail after taking a
// slot (an unknown session id) give it back, and a session that ends frees
// its slot. Another address, and sessions with no address (the host's
// own), are not limited by that address's count: MaxClientCnxns is
// ZooKeeper's per-client-IP limit, not a limit of the peer.
func TestMaxClientCnxnsConcurrent(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.MaxClientCnxns = 5
	e := openTest(t, withStepped(cfg))
	defer e.Close()
	from := WithClientAddr("10.0.0.1:5000")
	capacityUnderLoad(t, e, 5, from)
	ctx := testCtx(t)
	stepUntil(t, e, func() {
		for i := 0; i < 7; i++ {
			if _, err := e.NewSession(ctx); err != nil {
				t.Errorf("session %d with no address: %v", i, err)
			}
			if _, err := e.NewSession(ctx, WithClientAddr("10.0.0.2")); (err != nil) != (i >= 5) {
				t.Errorf("session %d from another address: %v", i, err)
			}
		}
	})
	if _, err := e.NewSession(ctx, WithClientAddr("10.0.0.1:6000")); !errors.Is(err, ErrConnectionLoss) || !strings.Contains(err.Error(), "10.0.0.1") {
		t.Fatalf("another port of the full address: %v", err)
	}
}

// TestMaxSessionsConcurrent is the same for MaxSessions, zk's limit of
// the sessions attached to a peer whatever their address.
func TestMaxSessionsConcurrent(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.MaxSessions = 5
	e := openTest(t, withStepped(cfg))
	defer e.Close()
	capacityUnderLoad(t, e, 5)
	if _, err := e.NewSession(testCtx(t), WithClientAddr("10.0.0.3")); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("a session from an address at MaxSessions: %v", err)
	}
}

// withStepped makes the loop handle requests only inside a Barrier, so
// that every caller of a capacity test is past the capacity check before
// any session commits.
func withStepped(cfg Config) Config {
	cfg.TestHooks = &hooks.Hooks{Stepped: true}
	return cfg
}

// stepUntil runs e's stepped loop until f returns.
func stepUntil(t *testing.T, e *Ensemble, f func()) {
	t.Helper()
	ctx := testCtx(t)
	done := make(chan struct{})
	go func() { f(); close(done) }()
	for {
		if err := e.Barrier(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			return
		default:
		}
	}
}

// capacityUnderLoad opens 40 sessions with opts at once on a stepped peer
// that takes limit of them, and checks exactly limit are attached, that
// failed re-attaches give their slot back, and that a closed session frees
// its slot.
func capacityUnderLoad(t *testing.T, e *Ensemble, limit int, opts ...SessionOption) {
	t.Helper()
	const callers = 40
	ctx := testCtx(t)
	stepUntil(t, e, func() {
		for i := int64(1); i <= 10; i++ {
			if _, err := e.Reattach(ctx, i, []byte("nope"), opts...); !errors.Is(err, ErrSessionExpired) {
				t.Errorf("reattach of an unknown session: %v", err)
			}
		}
	})
	var (
		mu       sync.Mutex
		sessions []*Session
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.NewSession(ctx, opts...)
			if err != nil {
				refused.Add(1)
				if !errors.Is(err, ErrConnectionLoss) {
					t.Errorf("NewSession over the limit: %v, want ErrConnectionLoss", err)
				}
				return
			}
			mu.Lock()
			sessions = append(sessions, s)
			mu.Unlock()
		}()
	}
	for int64(e.Status().Requests)+refused.Load() < callers {
		runtime.Gosched() // until every caller is queued or refused
	}
	stepUntil(t, e, wg.Wait)
	if n := len(sessions); n != limit {
		t.Fatalf("%d concurrent NewSession calls opened %d sessions, want %d", callers, n, limit)
	}
	if n := e.Status().Sessions; n != limit {
		t.Fatalf("status: %d sessions attached, want %d", n, limit)
	}
	if _, err := e.NewSession(ctx, opts...); !errors.Is(err, ErrConnectionLoss) {
		t.Fatalf("NewSession at the limit: %v", err)
	}
	stepUntil(t, e, func() {
		if err := sessions[0].Close(ctx); err != nil {
			t.Error(err)
		}
		if _, err := e.NewSession(ctx, opts...); err != nil {
			t.Errorf("NewSession after a session closed: %v", err)
		}
	})
}

// TestAttachAfterCloseEndsHandle: a NewSession or Reattach whose request
// was answered just before its peer closed attaches its handle after
// Close has ended every attached one. The handle must end too
// (StateClosed), as it would have had it been attached a moment earlier,
// and give its slot back; it was left connected, on a closed peer, for
// good (the simulation's seed 47021 ran two ways on that race).
func TestAttachAfterCloseEndsHandle(t *testing.T) {
	e := openTest(t, testConfig(vfs.NewMem(), 1))
	from := sessionOpts{clientAddr: "10.0.0.1:5000"}
	addr, err := e.reserveSlot(from)
	if err != nil {
		t.Fatal(err)
	}
	s := newSessionHandle(e, 42, make([]byte, 16), 4*time.Second, from)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if old := e.attachReserved(s, addr); old != nil {
		t.Fatalf("attach after Close returned another handle %p", old)
	}
	if st := s.State(); st != StateClosed {
		t.Fatalf("a handle attached after Close is %v, want %v", st, StateClosed)
	}
	e.sessMu.Lock()
	defer e.sessMu.Unlock()
	if len(e.sessions) != 0 || e.slots.reserved != 0 || len(e.slots.byAddr) != 0 {
		t.Fatalf("after Close: %d sessions attached, %d slots reserved, addresses %v", len(e.sessions), e.slots.reserved, e.slots.byAddr)
	}
}

// TestReattachWrongPasswordWithoutQuorum: a peer whose tree holds a
// session refuses a wrong password at once, before it waits for service
// and a Sync round (ZooKeeper checks the password as soon as it reads the
// connect), here while it cannot serve; the right password waits for
// service (here, until the caller gives up).
func TestReattachWrongPasswordWithoutQuorum(t *testing.T) {
	c := newCluster(t, 3, 0, 41)
	c.waitFor("a leader", 400, c.allServing)
	leader := c.leader()
	s := c.session(leader)
	for _, id := range c.others(leader) {
		c.stop(id)
	}
	c.waitFor("the leader to stop serving", c.syncLimitTicks()+20, func() bool { return !c.ens[leader].Status().Serving })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := c.ens[leader].Reattach(ctx, s.ID(), []byte("wrong")); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("wrong password without a quorum: %v, want ErrSessionExpired at once", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the wrong password was refused only after the deadline")
	}
	if _, err := c.ens[leader].Reattach(ctx, s.ID(), s.Password()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("right password without a quorum: %v, want the caller's deadline", err)
	}
}
