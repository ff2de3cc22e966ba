package wire_test

import (
	"testing"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// TestTooManyWatchesOverTheWire: a read that would set one watch past the
// peer's per-session limit fails with QUOTAEXCEEDED (ZooKeeper's code for a
// refused resource limit, not SYSTEMERROR) and registers nothing; the
// session goes on.
func TestTooManyWatchesOverTheWire(t *testing.T) {
	cfg := peerConfig()
	cfg.MaxWatchesPerSession = 2
	e := startPeer(t, cfg)
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/a", 0)
	r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil)
	r.ok(jute.OpGetChildren, &jute.PathWatchRequest{Path: "/a", Watch: true}, nil)
	if h, _, _ := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/b", Watch: true}); h.Err != int32(zkerr.CodeQuotaExceeded) {
		t.Fatalf("a third watch: error %d, want QUOTAEXCEEDED (%d)", h.Err, zkerr.CodeQuotaExceeded)
	}
	// Nothing was registered for /b: creating it fires no event.
	createRaw(r, "/b", 0)
	if h, _, evs := r.call(jute.OpExists, &jute.PathWatchRequest{Path: "/a"}); h.Err != 0 || len(evs) != 0 {
		t.Fatalf("after creating /b: %+v, events %+v", h, evs)
	}
}
