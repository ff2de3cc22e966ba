package engine

import (
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/codec"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// errBadWire wraps decoding failures of log entries and app messages.
var errBadWire = errors.New("zk: malformed record")

// appKind is the kind of an app message between a follower and its leader.
type appKind uint8

const (
	// appForward: follower -> leader, a write to prepare and propose.
	appForward appKind = iota + 1
	// appReply: leader -> follower, a forwarded write failed in prep.
	appReply
	// appTouch: follower -> leader, sessions attached to the follower are
	// alive.
	appTouch
	// appReconfig: follower -> leader, a membership change (reconfig.go).
	appReconfig
)

// appMsg is the single app message type; unused fields stay empty.
type appMsg struct {
	Kind     appKind
	ReqID    uint64
	Txn      []byte           `codec:",omitempty"`
	Ids      []znode.Identity `codec:",omitempty"`
	Super    bool             `codec:",omitempty"`
	Result   *wireResult      `codec:",omitempty"`
	Zxid     int64            `codec:",omitempty"`
	Sessions []int64          `codec:",omitempty"`
	Reconfig *ReconfigRequest `codec:",omitempty"`
}

// wireResult is a znode.Result with its errors as ZooKeeper codes.
type wireResult struct {
	Code  int32
	Path  string       `codec:",omitempty"`
	Stat  znode.Stat   `codec:",omitempty"`
	Multi []wireResult `codec:",omitempty"`
}

func toWire(r znode.Result) *wireResult {
	w := &wireResult{Code: int32(zkerr.CodeOf(r.Err)), Path: r.Path, Stat: r.Stat}
	for _, m := range r.Multi {
		w.Multi = append(w.Multi, *toWire(m))
	}
	return w
}

func fromWire(w *wireResult) znode.Result {
	if w == nil {
		return znode.Result{Err: zkerr.ErrSystem}
	}
	r := znode.Result{Err: zkerr.FromCode(zkerr.Code(w.Code)), Path: w.Path, Stat: w.Stat}
	for i := range w.Multi {
		r.Multi = append(r.Multi, fromWire(&w.Multi[i]))
	}
	return r
}

func encodeApp(m *appMsg) ([]byte, error) { return codec.Marshal(m) }

func decodeApp(b []byte) (*appMsg, error) {
	var m appMsg
	if err := codec.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadWire, err)
	}
	if m.Kind < appForward || m.Kind > appReconfig {
		return nil, fmt.Errorf("%w: app message kind %d", errBadWire, m.Kind)
	}
	return &m, nil
}
