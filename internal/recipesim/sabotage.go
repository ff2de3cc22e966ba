package recipesim

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// Sabotage breaks, on purpose, something the recipes rely on, so that a
// test can show the check that must catch it does.
type Sabotage int

const (
	// SabotageNone: the real thing.
	SabotageNone Sabotage = iota
	// SabotageLongTimeout: the recipes believe sessions time out 100
	// times later than they do, so a hold outlives a session that expired
	// while its peer was paused or cut off (two live holders).
	SabotageLongTimeout
	// SabotageHidePredecessor: one actor's view of /m misses the first
	// contender, so it believes it holds the lock (two live holders).
	SabotageHidePredecessor
	// SabotageNoDelete: deletes report success and delete nothing (nodes
	// stay: the end check, and liveness).
	SabotageNoDelete
	// SabotageToken: one actor's view of its node's Stat has a wrong czxid
	// (fencing tokens out of order).
	SabotageToken
	// SabotageEndEarly: the world believes every session ended at its
	// birth (nodes of ended sessions).
	SabotageEndEarly
	// SabotageBlindReader: one reader's view of /rw misses the writers'
	// nodes (a reader beside a writer).
	SabotageBlindReader
)

// victim is the actor the one-actor sabotages act on.
const victim = "mutex0"

func (g *gateConn) Timeout() time.Duration {
	if g.w.opts.Sabotage == SabotageLongTimeout {
		return 100 * g.Session.Timeout()
	}
	return g.Session.Timeout()
}

func (g *gateConn) Children(ctx context.Context, path string) ([]string, zk.Stat, error) {
	kids, st, err := g.Session.Children(ctx, path)
	if g.w.opts.Sabotage == SabotageBlindReader && g.name == "read5" && path == "/rw" {
		kids = slices.DeleteFunc(kids, func(k string) bool { return strings.Contains(k, "__WRIT__") })
	}
	if g.w.opts.Sabotage == SabotageHidePredecessor && g.name == victim && path == "/m" && len(kids) > 1 {
		first := slices.MinFunc(kids, func(a, b string) int { return compareSeq(a, b) })
		kids = slices.DeleteFunc(kids, func(k string) bool { return k == first })
	}
	return kids, st, err
}

// compareSeq orders names by their last ten characters (the sequence).
func compareSeq(a, b string) int {
	sa, sb := a[max(0, len(a)-10):], b[max(0, len(b)-10):]
	switch {
	case sa < sb:
		return -1
	case sa > sb:
		return 1
	}
	return 0
}
