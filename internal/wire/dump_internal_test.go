package wire

import (
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/google/go-cmp/cmp"
)

// TestExpiryMap: the AdminServer's dump merges a leader's local and global
// expiry buckets as ZooKeeper's getSessionExpiryMap (the global bucket
// wins a shared time); a learner shows none, and without local sessions
// the buckets are the tracker's.
func TestExpiryMap(t *testing.T) {
	at := func(ms int64) time.Time { return time.UnixMilli(ms) }
	local := []engine.ExpiryBucket{{Expires: at(3000), Sessions: []int64{1}}, {Expires: at(1000), Sessions: []int64{2}}}
	global := []engine.ExpiryBucket{{Expires: at(2000), Sessions: []int64{3}}, {Expires: at(3000), Sessions: []int64{4}}}
	for _, c := range []struct {
		name string
		d    engine.SessionDump
		want []engine.ExpiryBucket
	}{
		{"leader", engine.SessionDump{Tracking: true, Buckets: global, LocalTracking: true, Local: local},
			[]engine.ExpiryBucket{local[1], global[0], global[1]}},
		{"leader without local sessions", engine.SessionDump{Tracking: true, Buckets: global}, global},
		{"learner", engine.SessionDump{LocalTracking: true, Local: local}, nil},
	} {
		if diff := cmp.Diff(c.want, expiryMap(c.d)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", c.name, diff)
		}
	}
}
