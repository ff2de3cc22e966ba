package recipes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/embedzk/zk"
)

// ErrNotLocked is returned by Unlock on a Mutex this handle does not hold.
var ErrNotLocked = errors.New("recipes: mutex not locked")

// Mutex is a distributed lock, ZooKeeper's classic recipe as Curator's
// InterProcessMutex: each contender creates an ephemeral sequential node
// under the lock's path; the lowest sequence holds the lock, and every other
// contender watches only its predecessor, so a release wakes one waiter.
//
// A Mutex is re-entrant per handle: Lock on a handle that already holds the
// lock only counts, and the lock is released by the matching number of
// Unlocks. Different handles (even on one session) exclude each other. The
// lock is held as long as the session lives: if the session expires, the
// node goes and another contender gets the lock.
type Mutex struct {
	s    *zk.Session
	path string
	id   string // this handle's marker in node names (Curator's "protected" mode)

	mu    sync.Mutex
	node  string // our node while locked
	count int
}

// NewMutex returns a lock on path for the session. path need not exist; it
// is created as a container node (removed by the ensemble when empty).
func NewMutex(s *zk.Session, path string) *Mutex {
	var b [8]byte
	rand.Read(b[:])
	return &Mutex{s: s, path: path, id: "_c_" + hex.EncodeToString(b[:])}
}

// Lock waits until the lock is held (or ctx ends: the attempt is then
// withdrawn).
func (m *Mutex) Lock(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count > 0 {
		m.count++
		return nil
	}
	node, err := m.enqueue(ctx)
	if err != nil {
		return err
	}
	if err := m.waitTurn(ctx, node); err != nil {
		m.withdraw(node)
		return err
	}
	m.node, m.count = node, 1
	return nil
}

// Unlock releases one hold; the last one deletes the node.
func (m *Mutex) Unlock(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count == 0 {
		return ErrNotLocked
	}
	if m.count--; m.count > 0 {
		return nil
	}
	node := m.node
	m.node = ""
	if err := m.s.Delete(ctx, node, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("recipes: unlock %s: %w", m.path, err)
	}
	return nil
}

// enqueue creates this handle's node; if the create's outcome is unknown, it
// looks for the node by its marker rather than creating a second one.
func (m *Mutex) enqueue(ctx context.Context) (string, error) {
	prefix := m.path + "/" + m.id + "-lock-"
	for {
		node, err := m.s.Create(ctx, prefix, nil, zk.WithMode(zk.ModeEphemeralSequential))
		if err == nil {
			return node, nil
		}
		switch {
		case errors.Is(err, zk.ErrNoNode):
			if _, err := m.s.Create(ctx, m.path, nil, zk.WithMode(zk.ModeContainer), zk.WithParents()); err != nil && !errors.Is(err, zk.ErrNodeExists) {
				return "", fmt.Errorf("recipes: lock %s: %w", m.path, err)
			}
		case errors.Is(err, zk.ErrConnectionLoss):
			if node, ok := m.find(ctx); ok {
				return node, nil
			}
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
		default:
			return "", fmt.Errorf("recipes: lock %s: %w", m.path, err)
		}
	}
}

// find returns this handle's node among the contenders, if it exists.
func (m *Mutex) find(ctx context.Context) (string, bool) {
	kids, _, err := m.s.Children(ctx, m.path)
	if err != nil {
		return "", false
	}
	for _, k := range kids {
		if strings.HasPrefix(k, m.id+"-") {
			return m.path + "/" + k, true
		}
	}
	return "", false
}

// waitTurn waits until node is the lowest contender.
func (m *Mutex) waitTurn(ctx context.Context, node string) error {
	name := node[len(m.path)+1:]
	for {
		kids, _, err := m.s.Children(ctx, m.path)
		if err != nil {
			return fmt.Errorf("recipes: lock %s: %w", m.path, err)
		}
		sortBySequence(kids)
		i := sort.SearchStrings(seqs(kids), seq(name))
		if i >= len(kids) || kids[i] != name {
			return fmt.Errorf("recipes: lock %s: our node %s is gone (session expired?)", m.path, name)
		}
		if i == 0 {
			return nil
		}
		// Watch only the predecessor: its deletion is our turn (or a change
		// of who precedes us).
		// GetW sets no watch on a node that is already gone.
		_, _, ch, err := m.s.GetW(ctx, m.path+"/"+kids[i-1])
		switch {
		case errors.Is(err, zk.ErrNoNode):
			continue
		case err != nil:
			return fmt.Errorf("recipes: lock %s: %w", m.path, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// withdraw deletes a node whose wait was abandoned; it uses a fresh context
// (bounded by the session timeout) so that a cancelled Lock still cleans up.
// If even that fails, the node goes with the session.
func (m *Mutex) withdraw(node string) {
	ctx, cancel := context.WithTimeout(context.Background(), m.s.Timeout())
	defer cancel()
	_ = m.s.Delete(ctx, node, -1)
}

// seq returns the sequence suffix of a contender's node name.
func seq(name string) string { return name[strings.LastIndexByte(name, '-')+1:] }

func seqs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = seq(n)
	}
	return out
}

// sortBySequence orders contenders by their sequence suffix (their names
// start with per-handle markers, so plain order would be wrong).
func sortBySequence(names []string) {
	sort.Slice(names, func(i, j int) bool { return seq(names[i]) < seq(names[j]) })
}
