package recipes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// Participant is one contender of a recipe, as its node shows it: for a
// lock dashboard, who holds, who waits in which order, since when.
type Participant struct {
	Node    string    // its node's path
	ID      string    // its participant id (the node's data: WithID, a latch's id)
	Session int64     // the session that owns the node
	Token   int64     // the node's czxid: the fencing token of its hold
	Queued  time.Time // when its node was created (the ensemble's clock)
	Holder  bool      // it holds (the lock, a lease, leadership); else it waits
	Kind    string    // "lock", "read", "write", "lease" or "latch"
}

// participants lists dir's contenders in queue order; holders says which
// of the sorted names hold.
func (c *Client) participants(ctx context.Context, dir string, names []string, holders func([]string) []bool) ([]Participant, error) {
	kids, _, err := c.conn.Children(ctx, dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recipes: participants of %s: %w", dir, err)
	}
	sortContenders(kids, names)
	ops := make([]zk.ReadOp, len(kids))
	for i, k := range kids {
		ops[i] = zk.GetDataOp(dir + "/" + k)
	}
	res, err := c.conn.MultiRead(ctx, ops...)
	if err != nil {
		return nil, fmt.Errorf("recipes: participants of %s: %w", dir, err)
	}
	var live []string
	var out []Participant
	for i, r := range res {
		if r.Err != nil {
			continue // gone meanwhile
		}
		live = append(live, kids[i])
		out = append(out, Participant{
			Node: dir + "/" + kids[i], ID: string(r.Data), Session: r.Stat.EphemeralOwner, Token: r.Stat.Czxid,
			Queued: time.UnixMilli(r.Stat.Ctime), Kind: kindOf(kids[i], names),
		})
	}
	for i, h := range holders(live) {
		out[i].Holder = h
	}
	return out, nil
}

func kindOf(name string, names []string) string {
	for _, n := range names {
		if strings.Contains(name, n) {
			switch n {
			case readName:
				return "read"
			case writeName:
				return "write"
			}
			return strings.TrimSuffix(n, "-")
		}
	}
	return ""
}
