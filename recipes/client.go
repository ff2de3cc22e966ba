package recipes

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/embedzk/zk"
)

// Conn is what the recipes need of a session. *zk.Session implements it; a
// program may wrap one to count, trace or delay the recipes' calls.
type Conn interface {
	ID() int64
	Timeout() time.Duration
	State() zk.SessionState
	States() <-chan zk.SessionState
	Create(ctx context.Context, path string, data []byte, opts ...zk.CreateOption) (string, error)
	Delete(ctx context.Context, path string, version int32) error
	Multi(ctx context.Context, ops ...zk.Op) ([]zk.OpResult, error)
	ExistsW(ctx context.Context, path string) (bool, zk.Stat, <-chan zk.Event, error)
	GetW(ctx context.Context, path string) ([]byte, zk.Stat, <-chan zk.Event, error)
	Children(ctx context.Context, path string) ([]string, zk.Stat, error)
	ChildrenW(ctx context.Context, path string) ([]string, zk.Stat, <-chan zk.Event, error)
	MultiRead(ctx context.Context, ops ...zk.ReadOp) ([]zk.ReadResult, error)
}

var _ Conn = (*zk.Session)(nil)

// Errors of the recipes. Every loss of a hold is reported, as the cause of
// its lease's context (context.Cause) and by Lease.Err, as an error that
// wraps ErrLockLost and the reason's sentinel from package zk.
var (
	// ErrLockLost: the holder may no longer hold what it acquired.
	ErrLockLost = errors.New("recipes: the hold may be lost")
	// ErrReleased: the lease was released by its holder.
	ErrReleased = errors.New("recipes: released")
	// ErrNotLocked: Unlock or Release of something not held (or released
	// twice).
	ErrNotLocked = errors.New("recipes: not locked")
	// ErrNotReentrant: Reenter on a lease of a recipe that is not
	// re-entrant (SemaphoreMutex, Semaphore, leadership).
	ErrNotReentrant = errors.New("recipes: not re-entrant")
	// ErrClientClosed: the Client was closed. It also matches zk.ErrClosed.
	ErrClientClosed error = &subError{"recipes: client closed", zk.ErrClosed}
)

// subError is a sentinel that also matches a broader one under errors.Is.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string        { return e.msg }
func (e *subError) Is(target error) bool { return target == e.parent }

// Client holds what every recipe on one session shares: the session's
// state (the Client is the one consumer of the session's States channel:
// do not read it elsewhere, use Client.Done and the leases' contexts), the
// evidence that the session is alive (see the package documentation's
// timing argument), and the deletes guaranteed in the background. Make one
// Client per session and share it between recipes and goroutines; Close it
// when done (closing or losing the session ends it too).
type Client struct {
	conn    Conn
	id      []byte // node data of the locks and leases (WithID)
	timeout time.Duration
	base    time.Time // monotonic origin of proofNs

	// proofNs is the local time (since base) at which the newest write the
	// leader answered was sent: the session cannot expire before that time
	// plus its timeout, so holds are valid for two thirds of it.
	proofNs atomic.Int64

	ctx    context.Context // ends when the Client or its session ends
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when the state or validity changes
	ended   error         // why the Client ended; nil while it works
	closed  bool
	lapse   *time.Timer
	holds   map[*hold]struct{} // live holds, lost together
	nodes   map[string]bool    // nodes created and not known deleted (keepalive targets)
	busy    int                // acquisitions in progress
	deletes map[string]bool    // deletes guaranteed in the background
	sweeps  map[string]string  // marker -> directory: creates of unknown outcome
	kick    chan struct{}

	wg       sync.WaitGroup // the Client's goroutines
	attempts sync.WaitGroup // acquisitions in progress

	reg prometheus.Registerer // WithRegisterer
	met *clientMetrics        // nil: nothing measured
}

// ClientOption configures NewClient.
type ClientOption func(*Client)

// WithID sets the participant id the Client's locks and leases carry as
// their nodes' data (Curator's lock node bytes), so that Participants can
// say who holds and who waits. Leader latches and selectors take their own.
func WithID(id string) ClientOption {
	return func(c *Client) { c.id = []byte(id) }
}

// NewClient returns a Client on conn (a *zk.Session). It fails with
// zk.ErrSessionExpired or zk.ErrClosed if the session already ended.
func NewClient(conn Conn, opts ...ClientOption) (*Client, error) {
	if conn == nil {
		return nil, fmt.Errorf("recipes: NewClient: %w: nil session", zk.ErrBadArguments)
	}
	if err := endedErr(conn.State()); err != nil {
		return nil, fmt.Errorf("recipes: NewClient: %w", err)
	}
	c := &Client{
		conn: conn, timeout: conn.Timeout(), base: time.Now(),
		changed: make(chan struct{}), holds: map[*hold]struct{}{}, nodes: map[string]bool{},
		deletes: map[string]bool{}, sweeps: map[string]string{}, kick: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(c)
	}
	if c.reg != nil {
		met, err := newClientMetrics(c, c.reg)
		if err != nil {
			return nil, err
		}
		c.met = met
	}
	c.proofNs.Store(-int64(c.valid()) - 1) // nothing proven yet
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	// The channel is taken before NewClient returns, so that a change
	// the goroutine would miss starting late (a disconnection and
	// reconnection after an Acquire) is on it.
	states, stop := stateChanges(conn)
	c.wg.Add(2)
	go c.watchStates(states, stop)
	go c.maintain()
	return c, nil
}

// Done is closed when the Client ends: its session expired or was closed,
// or Close was called. Err then says why.
func (c *Client) Done() <-chan struct{} { return c.ctx.Done() }

// Err returns why the Client ended, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// SessionID returns the id of the Client's session.
func (c *Client) SessionID() int64 { return c.conn.ID() }

// valid is how long a proof keeps holds valid: two thirds of the timeout.
func (c *Client) valid() time.Duration { return c.timeout * 2 / 3 }

// refresh is the age of the newest proof at which a new one is made.
func (c *Client) refresh() time.Duration { return c.timeout / 3 }

func (c *Client) sinceBase() int64 { return int64(time.Since(c.base)) }

// proofAge is how long ago the newest proof was sent.
func (c *Client) proofAge() time.Duration {
	return time.Duration(c.sinceBase() - c.proofNs.Load())
}

// answered records that the leader answered a write sent at t0.
func (c *Client) answered(t0 int64) {
	for {
		old := c.proofNs.Load()
		if t0 <= old {
			return
		}
		if c.proofNs.CompareAndSwap(old, t0) {
			break
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	d := time.Duration(t0-c.sinceBase()) + c.valid()
	switch {
	case c.ended != nil:
	case c.lapse == nil:
		c.lapse = time.AfterFunc(d, c.onLapse)
	default:
		c.lapse.Reset(d)
	}
}

// write runs fn, a write, and records the proof its success gives.
func (c *Client) write(fn func() error) error {
	t0 := c.sinceBase()
	err := fn()
	if err == nil {
		c.answered(t0)
	}
	return err
}

// onLapse runs when the newest proof may be too old: every hold is lost.
func (c *Client) onLapse() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if age := c.proofAge(); age >= c.valid() && c.ended == nil {
		c.loseLocked(fmt.Errorf("%w: no write of the session confirmed by the leader for %v (2/3 of the session timeout): %w",
			ErrLockLost, age, zk.ErrConnectionLoss))
		c.broadcastLocked()
	}
}

// lossNow returns why holds cannot be valid at this moment, or nil.
func (c *Client) lossNow() error {
	if c.ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrLockLost, context.Cause(c.ctx))
	}
	if st := c.conn.State(); st != zk.StateConnected {
		if err := endedErr(st); err != nil {
			return fmt.Errorf("%w: %w", ErrLockLost, err)
		}
		return fmt.Errorf("%w: session %v: %w", ErrLockLost, st, zk.ErrConnectionLoss)
	}
	if age := c.proofAge(); age >= c.valid() {
		return fmt.Errorf("%w: no write of the session confirmed by the leader for %v (2/3 of the session timeout): %w",
			ErrLockLost, age, zk.ErrConnectionLoss)
	}
	return nil
}

// endedErr maps a terminal session state to its error.
func endedErr(st zk.SessionState) error {
	switch st {
	case zk.StateExpired:
		return zk.ErrSessionExpired
	case zk.StateClosed:
		return zk.ErrClosed
	}
	return nil
}

// watchStates follows the session's state, from the state it is in when
// the channel is taken (one not connected then is acted on at once): every
// change that is not "connected" loses every
// hold; the end of the session ends the Client.
func (c *Client) watchStates(states <-chan zk.SessionState, stop func()) {
	defer c.wg.Done()
	defer stop()
	if c.conn.State() != zk.StateConnected && !c.onState(true) {
		return
	}
	for {
		select {
		case _, ok := <-states:
			if !c.onState(ok) {
				return
			}
		case <-c.ctx.Done():
			return
		}
	}
}

// onState acts on the session's current state (open: its channel is
// not closed); false once the Client ended.
func (c *Client) onState(open bool) bool {
	st := c.conn.State()
	if err := endedErr(st); err != nil || !open {
		if err == nil {
			err = zk.ErrClosed
		}
		c.end(err)
		return false
	}
	c.mu.Lock()
	if st != zk.StateConnected {
		c.loseLocked(fmt.Errorf("%w: session %v: %w", ErrLockLost, st, zk.ErrConnectionLoss))
	}
	c.broadcastLocked()
	c.mu.Unlock()
	return true
}

// end ends the Client for good: every hold is lost, every wait ends.
func (c *Client) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		return
	}
	c.ended = err
	c.loseLocked(fmt.Errorf("%w: %w", ErrLockLost, err))
	c.cancel(err)
	if c.lapse != nil {
		c.lapse.Stop()
	}
	c.broadcastLocked()
}

// loseLocked cancels every live hold with cause.
func (c *Client) loseLocked(cause error) {
	for h := range c.holds {
		h.ctx.cancel(cause)
		c.dropLocked(h, cause)
	}
}

// dropLocked forgets h, if it is live: released (cause nil) or lost.
func (c *Client) dropLocked(h *hold, cause error) {
	if _, live := c.holds[h]; live {
		delete(c.holds, h)
		c.met.dropped(h.kind, cause)
	}
}

func (c *Client) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// changedC returns a channel closed at the next change of state or validity.
func (c *Client) changedC() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

func (c *Client) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// register makes h a live hold, if holds can be valid now, and follows its
// node through ch (a watch on it) until the hold ends.
func (c *Client) register(h *hold, ch <-chan zk.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.lossNow(); err != nil {
		return err
	}
	c.holds[h] = struct{}{}
	c.poke()
	c.wg.Add(1) // before end() can run: Close waits for it after end()
	go h.watch(ch)
	return nil
}

// unregister forgets h: released (cause nil) or lost with cause.
func (c *Client) unregister(h *hold, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(h, cause)
}

func (c *Client) track(node string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if on {
		c.nodes[node] = true
	} else {
		delete(c.nodes, node)
	}
}

// begin starts an acquisition: its context also ends when the Client ends
// (with the Client's reason as its cause).
func (c *Client) begin(ctx context.Context) (context.Context, func(), error) {
	c.mu.Lock()
	if c.ended != nil {
		err := c.ended
		c.mu.Unlock()
		return nil, nil, err
	}
	c.busy++
	c.attempts.Add(1)
	c.poke()
	c.mu.Unlock()
	actx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(c.ctx, func() { cancel(context.Cause(c.ctx)) })
	return actx, func() {
		stop()
		cancel(nil)
		c.mu.Lock()
		c.busy--
		c.mu.Unlock()
		c.attempts.Done()
	}, nil
}

// Close ends the Client: holds are lost and their nodes deleted, waits in
// progress end with ErrClientClosed, and the deletes still owed are tried
// (within ctx). The session stays open: it is its owner's. Closing a
// closed Client does nothing.
func (c *Client) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	var owed []string
	for h := range c.holds {
		owed = append(owed, h.node)
	}
	c.mu.Unlock()
	c.end(ErrClientClosed)
	c.attempts.Wait()
	c.wg.Wait()
	c.mu.Lock()
	for n := range c.deletes {
		owed = append(owed, n)
	}
	sweeps := c.sweeps
	c.deletes, c.sweeps = map[string]bool{}, map[string]string{}
	c.mu.Unlock()
	var errs []error
	for _, n := range sortedKeys(owed) {
		if err := c.conn.Delete(ctx, n, -1); err != nil && !errors.Is(err, zk.ErrNoNode) && endedErr(c.conn.State()) == nil {
			errs = append(errs, err)
		}
	}
	for _, marker := range sortedMarkers(sweeps) {
		if err := c.sweep(ctx, sweeps[marker], marker); err != nil && endedErr(c.conn.State()) == nil {
			errs = append(errs, err)
		}
	}
	c.met.unregister()
	if len(errs) > 0 {
		return fmt.Errorf("recipes: close: nodes may remain until the session ends: %w", errors.Join(errs...))
	}
	return nil
}
