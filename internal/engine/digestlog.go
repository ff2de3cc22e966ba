package engine

import "sync"

// digestLogInterval and digestLogLimit are ZooKeeper's DataTree digest log
// constants: the tree digest is kept after every txn whose zxid is a
// multiple of the interval, the last digestLogLimit of them.
const (
	digestLogInterval = 128
	digestLogLimit    = 1024
)

// ZxidDigest is the tree digest after the txn of Zxid.
type ZxidDigest struct {
	Zxid   int64
	Digest uint64
}

// digestLog is the peer's recent tree digests (ZooKeeper's digest log, the
// hash four-letter word): the loop adds, the client port reads.
type digestLog struct {
	mu   sync.Mutex
	ring [digestLogLimit]ZxidDigest
	next int // where the next one goes
	n    int // how many are kept
}

// note keeps digest if zxid is one the log keeps.
func (l *digestLog) note(zxid int64, digest uint64) {
	if zxid%digestLogInterval != 0 {
		return
	}
	l.mu.Lock()
	l.ring[l.next] = ZxidDigest{Zxid: zxid, Digest: digest}
	l.next = (l.next + 1) % digestLogLimit
	l.n = min(l.n+1, digestLogLimit)
	l.mu.Unlock()
}

// list returns the kept digests, oldest first.
func (l *digestLog) list() []ZxidDigest {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]ZxidDigest, 0, l.n)
	for i := l.next - l.n; i < l.next; i++ {
		out = append(out, l.ring[(i+digestLogLimit)%digestLogLimit])
	}
	return out
}

// DigestLog returns the tree digests this peer kept as it applied txns
// since it started, oldest first: after every txn whose zxid is a multiple
// of 128, the last 1024 of them (ZooKeeper's digest log, the hash word).
func (r Remote) DigestLog() []ZxidDigest { return r.e.digests.list() }
