package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// The nodes of the demo: the lock every window queues on, the stock (the
// "database" of the seed's program: how many tickets are left, and the
// token of the hold that wrote it last) and one record per ticket sold.
const (
	root      = "/12306"
	lockPath  = root + "/lock"
	stockPath = root + "/stock"
	soldDir   = root + "/sold"
)

// stockState is the stock node's data.
type stockState struct {
	Left  int    `json:"left"`  // tickets not sold yet
	Token int64  `json:"token"` // the fencing token of the last sale's hold: the newest seen
	By    string `json:"by,omitempty"`
}

// soldRecord is the data of a ticket's record under soldDir.
type soldRecord struct {
	By    string `json:"by"`
	Token int64  `json:"token"`
}

// sale is a ticket in a window's hand: read from the stock under a hold,
// to be written back.
type sale struct {
	ticket  int
	version int32 // the stock's version when it was read
	token   int64 // the hold's fencing token
	by      string
	node    string // the hold's lock node
}

func soldPath(ticket int) string { return fmt.Sprintf("%s/ticket-%04d", soldDir, ticket) }

// refusal is the stock's answer to a write it will not take.
type refusal struct {
	kind   refusalKind
	reason string
}

// refusalKind says which check refused a write.
type refusalKind int

const (
	fenced    refusalKind = iota + 1 // an older token than the newest seen
	staleRead                        // the stock changed since it was read
	duplicate                        // the ticket has a record already
)

func (r *refusal) Error() string { return r.reason }

// setupStock creates the stock with n tickets and the record directory.
func setupStock(ctx context.Context, sess *zk.Session, n int) error {
	data, _ := json.Marshal(stockState{Left: n})
	if _, err := sess.Create(ctx, stockPath, data, zk.WithParents()); err != nil {
		return err
	}
	_, err := sess.Create(ctx, soldDir, nil)
	return err
}

// readStock reads the stock.
func readStock(ctx context.Context, sess *zk.Session) (stockState, zk.Stat, error) {
	data, st, err := sess.Get(ctx, stockPath)
	if err != nil {
		return stockState{}, st, err
	}
	var s stockState
	if err := json.Unmarshal(data, &s); err != nil {
		return s, st, fmt.Errorf("stock %q: %w", data, err)
	}
	return s, st, nil
}

// sell writes a sale, as a resource guarded by fencing tokens does: it
// refuses a write whose token is older than the newest one it has seen
// (the fence: that holder was superseded), and, in the same transaction
// that records the ticket, one made from a stock that changed since it was
// read (the write names the version it read). total is the stock's first
// size: ticket t leaves total-t.
func sell(ctx context.Context, sess *zk.Session, s sale, total int) error {
	cur, st, err := readStock(ctx, sess)
	if err != nil {
		return err
	}
	if cur.Token > s.token {
		return &refusal{fenced, fmt.Sprintf("the stock was written under token %s, newer than %s",
			demo.Token(cur.Token), demo.Token(s.token))}
	}
	if st.Version != s.version {
		return &refusal{staleRead, fmt.Sprintf("the stock changed since it was read (version %d, read at %d)", st.Version, s.version)}
	}
	next, _ := json.Marshal(stockState{Left: total - s.ticket, Token: s.token, By: s.by})
	rec, _ := json.Marshal(soldRecord{By: s.by, Token: s.token})
	_, err = sess.Multi(ctx, zk.SetOp(stockPath, next, s.version), zk.CreateOp(soldPath(s.ticket), rec))
	switch {
	case errors.Is(err, zk.ErrBadVersion):
		return &refusal{staleRead, "the stock changed since it was read (version check)"}
	case errors.Is(err, zk.ErrNodeExists):
		return &refusal{duplicate, fmt.Sprintf("ticket #%d has a record already", s.ticket)}
	}
	return err
}

// waitGone waits until node no longer exists.
func waitGone(ctx context.Context, sess *zk.Session, node string) error {
	for {
		ok, _, ch, err := sess.ExistsW(ctx, node)
		if err != nil || !ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitNewerToken waits until the stock was written under a token newer
// than token, and returns that token.
func waitNewerToken(ctx context.Context, sess *zk.Session, token int64) (int64, error) {
	for {
		data, _, ch, err := sess.GetW(ctx, stockPath)
		if err != nil {
			return 0, err
		}
		var s stockState
		if err := json.Unmarshal(data, &s); err != nil {
			return 0, err
		}
		if s.Token > token {
			return s.Token, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
