package wire

import (
	"fmt"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

// TestEveryZkErrorHasAZooKeeperCode: every error of zk's own (a code from
// -1000 down) reaches a wire client as a ZooKeeper code it knows, chosen on
// purpose: never SYSTEMERROR by default, never a zk-only code.
func TestEveryZkErrorHasAZooKeeperCode(t *testing.T) {
	deliberate := map[error]bool{zkerr.ErrWatchOverflow: true, zkerr.ErrCompacted: true} // never on the wire
	for c := zkerr.Code(-1000); c > -1200; c-- {
		err := zkerr.FromCode(c)
		if zkerr.CodeOf(err) != c {
			continue // no sentinel has this code
		}
		code, act := wireError(fmt.Errorf("zk: create /x: %w", err))
		switch {
		case code <= -1000:
			t.Errorf("%v (code %d) reaches the client as zk's own code %d", err, c, code)
		case code == int32(zkerr.CodeSystemError) && !deliberate[err]:
			t.Errorf("%v (code %d) reaches the client as SYSTEMERROR: map it to the closest ZooKeeper code", err, c)
		}
		t.Logf("%-45v -> %d (action %d)", err, code, act)
	}
	if code, _ := wireError(zkerr.ErrTooManyWatches); code != int32(zkerr.CodeQuotaExceeded) {
		t.Errorf("ErrTooManyWatches -> %d, want QUOTAEXCEEDED", code)
	}
}

// TestSessionMovedClosesConnection: a write refused because the session
// moved to another peer closes the connection unanswered, as ZooKeeper's
// FinalRequestProcessor does (sendCloseSession), while an expired session
// is answered first.
func TestSessionMovedClosesConnection(t *testing.T) {
	if _, act := wireError(fmt.Errorf("zk: set /x: %w", zkerr.ErrSessionMoved)); act != closeConn {
		t.Errorf("ErrSessionMoved: action %d, want closeConn", act)
	}
	if _, act := wireError(fmt.Errorf("zk: set /x: %w", zkerr.ErrSessionExpired)); act != replyClose {
		t.Errorf("ErrSessionExpired: action %d, want replyClose", act)
	}
}
