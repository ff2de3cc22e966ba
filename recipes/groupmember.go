package recipes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/embedzk/zk"
)

// GroupMember is Curator's GroupMember: membership of a group by an
// ephemeral node named by the member's id (its data the member's payload)
// under the group's path, and a live view of every member. While the
// Client lives the node is kept: created again if someone deletes it.
// Its session's end ends the membership (a new session needs a new Client
// and a new GroupMember, as every recipe here).
type GroupMember struct {
	c    *Client
	dir  string
	id   string
	node string

	mu      sync.Mutex
	state   runState
	payload []byte
	view    liveChildren
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewGroupMember returns the member id of the group at path, with payload
// as its node's data.
func NewGroupMember(c *Client, path, id string, payload []byte) (*GroupMember, error) {
	if c == nil {
		return nil, fmt.Errorf("recipes: group member %s: %w: nil Client", path, zk.ErrBadArguments)
	}
	if err := checkPath("group", path); err != nil {
		return nil, err
	}
	if err := checkPath("group member", path+"/"+id); err != nil || id == "" || strings.Contains(id, "/") {
		return nil, fmt.Errorf("recipes: group %s: %w: member id %q", path, zk.ErrInvalidPath, id)
	}
	g := &GroupMember{c: c, dir: path, id: id, node: path + "/" + id, payload: slices.Clone(payload), done: make(chan struct{})}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	return g, nil
}

// ID returns the member's id.
func (g *GroupMember) ID() string { return g.id }

// Start joins the group: it creates the member's node and returns once it
// exists, then keeps it and the view of the group until Close or the end
// of the Client. A node of the same id left by another session (a
// previous run whose session has not expired yet) is waited out.
func (g *GroupMember) Start(ctx context.Context) error {
	if err := usable(ctx, g.c); err != nil {
		return fmt.Errorf("recipes: group member %s: %w", g.node, err)
	}
	g.mu.Lock()
	switch g.state {
	case started:
		g.mu.Unlock()
		return fmt.Errorf("recipes: group member %s: %w", g.node, ErrAlreadyStarted)
	case closed:
		g.mu.Unlock()
		return fmt.Errorf("recipes: group member %s: %w", g.node, zk.ErrClosed)
	}
	g.state = started
	g.mu.Unlock()
	if err := g.join(ctx); err != nil {
		g.mu.Lock()
		g.state = latent
		g.mu.Unlock()
		return fmt.Errorf("recipes: group member %s: %w", g.node, err)
	}
	g.mu.Lock()
	g.view = newDirView(g.c, g.dir)
	g.mu.Unlock()
	go g.keep()
	return nil
}

// join creates the member's node, waiting while another session holds
// its id.
func (g *GroupMember) join(ctx context.Context) error {
	var b backoff
	for {
		g.mu.Lock()
		data := g.payload
		g.mu.Unlock()
		_, err := g.c.createFixed(ctx, g.node, zk.ModeContainer, data)
		if !errors.Is(err, zk.ErrNodeExists) {
			if err != nil && ctx.Err() != nil {
				g.c.settleDelete(g.node)
			}
			return err
		}
		exists, st, ch, err := g.c.conn.ExistsW(ctx, g.node)
		switch {
		case err != nil:
			if err := g.c.retryable(ctx, err, &b); err != nil {
				return err
			}
		case exists && st.EphemeralOwner == g.c.conn.ID():
			return nil // ours, with an older payload: SetPayload's
		case exists:
			select {
			case <-ch:
			case <-ctx.Done():
				return fmt.Errorf("%w: id held by session %#x: %w", zk.ErrNodeExists, st.EphemeralOwner, context.Cause(ctx))
			}
		}
	}
}

// keep makes the node again whenever it is deleted, until Close or the end
// of the Client.
func (g *GroupMember) keep() {
	defer close(g.done)
	ctx := g.ctx
	stop := context.AfterFunc(g.c.ctx, g.cancel)
	defer stop()
	var b backoff
	for ctx.Err() == nil {
		exists, _, ch, err := g.c.conn.ExistsW(ctx, g.node)
		switch {
		case err == nil && exists:
			b = backoff{}
			select {
			case <-ch:
			case <-ctx.Done():
			}
			continue
		case err == nil:
			err = g.join(ctx)
		}
		if err != nil && g.c.retryable(ctx, err, &b) != nil {
			return
		}
	}
}

// Members returns the group's members (id -> payload) as the view holds
// them; this member is always among them, with its payload.
func (g *GroupMember) Members() map[string][]byte {
	out := map[string][]byte{}
	g.mu.Lock()
	view, payload := g.view, g.payload
	g.mu.Unlock()
	if view != nil {
		nodes, _ := view.snapshot()
		for k, d := range nodes {
			out[k] = d.Data
		}
	}
	out[g.id] = payload
	return out
}

// Changed returns a channel closed at the next change of the view (nil
// before Start). To wait for a state, take the channel before reading
// Members: one taken after the read misses a change made in between.
func (g *GroupMember) Changed() <-chan struct{} {
	g.mu.Lock()
	view := g.view
	g.mu.Unlock()
	if view == nil {
		return nil
	}
	return view.changed()
}

// SetPayload changes the member's payload (its node's data).
func (g *GroupMember) SetPayload(ctx context.Context, data []byte) error {
	if err := usable(ctx, g.c); err != nil {
		return fmt.Errorf("recipes: group member %s: %w", g.node, err)
	}
	g.mu.Lock()
	g.payload = slices.Clone(data)
	st := g.state
	g.mu.Unlock()
	if st != started {
		return nil // the node is made with it
	}
	var b backoff
	for {
		err := g.c.write(func() error {
			_, err := g.c.conn.Multi(ctx, zk.SetOp(g.node, data, -1))
			return err
		})
		if err == nil || errors.Is(err, zk.ErrNoNode) {
			return nil // missing: keep makes it again, with the new payload
		}
		if err := g.c.retryable(ctx, err, &b); err != nil {
			return fmt.Errorf("recipes: group member %s: %w", g.node, err)
		}
	}
}

// Close leaves the group: the view stops and the node is deleted
// (guaranteed). Closing twice does nothing.
func (g *GroupMember) Close(ctx context.Context) error {
	g.mu.Lock()
	st, view := g.state, g.view
	g.state = closed
	g.mu.Unlock()
	if st != started {
		return nil
	}
	g.cancel()
	<-g.done
	view.close()
	if ctx == nil {
		ctx = context.Background()
	}
	return g.c.guaranteedDelete(ctx, g.node)
}
