package recipes

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/embedzk/zk"
)

// ErrCorrupt: a recipe's node holds data the recipe cannot read (a count
// shorter than 4 bytes, a long of 1 to 7, an item or instance that does
// not decode).
var ErrCorrupt = errors.New("recipes: corrupt node data")

// VersionedCount is a count and the version of the node it was read from:
// what TrySetCount compares.
type VersionedCount struct {
	Version int32
	Count   int32
}

// SharedCount is Curator's SharedCount: an integer in a node (4 bytes, big
// endian, as Curator writes it) shared by every process, with a local copy
// that follows the node and listeners told of its changes. Start creates
// the node with the seed if it is missing.
//
// TrySetCount is a compare-and-set on the node's version. Unlike Curator's,
// its answer is exact when the peer stops serving in the middle: the write
// carries a marker (see versioned.go) that says afterwards whether it
// happened, so a set that happened is never reported as failed, nor made
// twice. The marker is an ephemeral child of the count's node, deleted
// right after the write: meanwhile a process that lists the node's
// children sees it, and one that deletes the node gets zk.ErrNotEmpty
// (Curator writes no child).
type SharedCount struct {
	c    *Client
	path string
	seed int32

	mu        sync.Mutex
	state     runState
	cur       VersionedCount // Version -1: not read yet
	notified  int32          // the version the listeners last heard
	listeners []func(VersionedCount)
	changed   chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
}

// NewSharedCount returns the count at path, seeded (when Start creates it)
// with seed.
func NewSharedCount(c *Client, path string, seed int32) (*SharedCount, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: shared count %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("shared count", path); err != nil {
		return nil, err
	}
	s := &SharedCount{c: c, path: path, seed: seed, cur: VersionedCount{Version: -1, Count: seed}, notified: -1,
		changed: make(chan struct{}), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Path returns the count's node.
func (s *SharedCount) Path() string { return s.path }

// Start creates the node (with the seed) if it is missing, reads it, and
// follows it until Close or the end of the Client. A node that does not
// hold a count fails Start with ErrCorrupt and is left as it is.
func (s *SharedCount) Start(ctx context.Context) error {
	s.mu.Lock()
	switch s.state {
	case started:
		s.mu.Unlock()
		return fmt.Errorf("recipes: shared count %s: %w", s.path, ErrAlreadyStarted)
	case closed:
		s.mu.Unlock()
		return fmt.Errorf("recipes: shared count %s: %w", s.path, zk.ErrClosed)
	}
	s.state = started
	s.mu.Unlock()
	err := s.start(ctx)
	if err != nil {
		s.mu.Lock()
		s.state = latent
		s.mu.Unlock()
		return fmt.Errorf("recipes: shared count %s: %w", s.path, err)
	}
	go s.follow()
	return nil
}

func (s *SharedCount) start(ctx context.Context) error {
	if err := s.c.Err(); err != nil {
		return err
	}
	if _, err := s.c.versionedWrite(ctx, s.path, countBytes(s.seed), -1, true); err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	data, st, found, err := s.c.readNode(ctx, s.path)
	if err != nil {
		return err
	}
	if !found {
		return nil // deleted meanwhile: follow sees it come back
	}
	v, err := countOf(data)
	if err != nil {
		return err
	}
	s.update(st.Version, v)
	return nil
}

// Count returns the local copy of the count.
func (s *SharedCount) Count() int32 { return s.VersionedCount().Count }

// VersionedCount returns the local copy of the count with its version.
func (s *SharedCount) VersionedCount() VersionedCount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// AddListener adds fn, called on the count's goroutine with each value the
// node is seen to take, in increasing versions (values set and replaced
// between two reads are not seen): keep it short.
func (s *SharedCount) AddListener(fn func(VersionedCount)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Changed returns a channel closed at the next change of the local copy.
func (s *SharedCount) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// SetCount sets the count, whatever its version.
func (s *SharedCount) SetCount(ctx context.Context, n int32) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	v, err := s.c.versionedWrite(ctx, s.path, countBytes(n), -1, false)
	if err != nil {
		return fmt.Errorf("recipes: shared count %s: set: %w", s.path, err)
	}
	s.update(v, n)
	return nil
}

// TrySetCount sets the count to n if the node is still at prev (as read
// from VersionedCount): it returns false, and refreshes the local copy, if
// anyone set it since, or if prev is not the local copy.
func (s *SharedCount) TrySetCount(ctx context.Context, prev VersionedCount, n int32) (bool, error) {
	if err := s.usable(ctx); err != nil {
		return false, err
	}
	if prev.Version < 0 {
		return false, fmt.Errorf("recipes: shared count %s: %w: version %d", s.path, zk.ErrBadArguments, prev.Version)
	}
	if s.VersionedCount() != prev {
		return false, nil
	}
	v, err := s.c.versionedWrite(ctx, s.path, countBytes(n), prev.Version, false)
	switch {
	case errors.Is(err, errConflict):
		data, st, found, rerr := s.c.readNode(ctx, s.path)
		if rerr == nil && found {
			if cnt, err := countOf(data); err == nil {
				s.update(st.Version, cnt)
			}
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("recipes: shared count %s: try set: %w", s.path, err)
	}
	s.update(v, n)
	return true, nil
}

func (s *SharedCount) usable(ctx context.Context) error {
	if ctx == nil {
		return fmt.Errorf("recipes: shared count %s: %w: nil context", s.path, zk.ErrBadArguments)
	}
	s.mu.Lock()
	st := s.state
	s.mu.Unlock()
	switch st {
	case latent:
		return fmt.Errorf("recipes: shared count %s: %w", s.path, ErrNotStarted)
	case closed:
		return fmt.Errorf("recipes: shared count %s: %w", s.path, zk.ErrClosed)
	}
	if err := s.c.Err(); err != nil {
		return fmt.Errorf("recipes: shared count %s: %w", s.path, err)
	}
	return nil
}

// update moves the local copy forward (never back) to version.
func (s *SharedCount) update(version, n int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if version <= s.cur.Version {
		return
	}
	s.cur = VersionedCount{Version: version, Count: n}
	close(s.changed)
	s.changed = make(chan struct{})
}

// follow reads the node whenever it changes, until Close or the end of the
// Client, and tells the listeners.
func (s *SharedCount) follow() {
	defer close(s.done)
	ctx := s.ctx
	stop := context.AfterFunc(s.c.ctx, s.cancel)
	defer stop()
	var b backoff
	for ctx.Err() == nil {
		data, st, ch, err := s.c.conn.GetW(ctx, s.path)
		if errors.Is(err, zk.ErrNoNode) {
			var exists bool
			exists, _, ch, err = s.c.conn.ExistsW(ctx, s.path)
			if err == nil && exists {
				continue
			}
		} else if err == nil {
			if n, derr := countOf(data); derr == nil {
				s.update(st.Version, n)
			}
			s.tell()
		}
		if err != nil {
			if s.c.retryable(ctx, err, &b) != nil {
				return
			}
			continue
		}
		b = backoff{}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// tell calls the listeners with the local copy if they have not heard it.
func (s *SharedCount) tell() {
	s.mu.Lock()
	cur := s.cur
	if cur.Version <= s.notified {
		s.mu.Unlock()
		return
	}
	s.notified = cur.Version
	fns := append([]func(VersionedCount){}, s.listeners...)
	s.mu.Unlock()
	for _, fn := range fns {
		fn(cur)
	}
}

// Close stops following the node. Closing twice does nothing.
func (s *SharedCount) Close() error {
	s.mu.Lock()
	st := s.state
	s.state = closed
	s.mu.Unlock()
	s.cancel()
	if st == started {
		<-s.done
	}
	return nil
}

func countBytes(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// countOf reads a count as Curator's SharedCount does: from the first 4
// bytes; shorter data is corrupt.
func countOf(data []byte) (int32, error) {
	if len(data) < 4 {
		return 0, fmt.Errorf("%w: a count is 4 bytes, not %d", ErrCorrupt, len(data))
	}
	return int32(binary.BigEndian.Uint32(data)), nil
}
