package wire

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// dumpWait bounds dump's wait for the peer loop, which reads the session
// tracker's buckets.
const dumpWait = 5 * time.Second

// cnxnExpiryInterval is the width of the connections' expiry buckets:
// ZooKeeper's NIO factory buckets them by its sessionless-connection
// timeout, 10 s by default.
const cnxnExpiryInterval = 10_000

// dump answers ZooKeeper's dump: the session tracker's expiry buckets (on
// a follower or observer, the ensemble's sessions and their timeouts; with
// local sessions, the local tracker's buckets before them), the
// ephemeral nodes by session, and the connections by when they would
// expire, in ZooKeeper 3.8's layout. Everything is listed in order (ZooKeeper
// lists the entries of a bucket, and the ephemerals, in its hash tables'
// order).
func (s *Server) dump() string {
	if msg, no := s.notServing(); no {
		return msg
	}
	ctx, cancel := context.WithTimeout(s.ctx, dumpWait)
	defer cancel()
	d, err := s.e.SessionDump(ctx)
	if err != nil {
		return "This ZooKeeper instance is not currently serving requests\n"
	}
	var b strings.Builder
	b.WriteString("SessionTracker dump:\n")
	if d.LocalTracking {
		// ZooKeeper's Leader- and LearnerSessionTracker: the local
		// tracker's buckets first, then the global sessions (a
		// learner's line names them Global already).
		b.WriteString("Local ")
		writeBuckets(&b, d.Local)
	}
	if d.Tracking {
		if d.LocalTracking {
			b.WriteString("Global ")
		}
		writeBuckets(&b, d.Buckets)
	} else {
		fmt.Fprintf(&b, "Global Sessions(%d):\n", len(d.Global))
		for _, g := range d.Global {
			fmt.Fprintf(&b, "0x%x\t%dms\n", g.ID, g.Timeout.Milliseconds())
		}
	}
	writeEphemerals(&b, d.Ephemerals)
	b.WriteString("Connections dump:\n")
	s.dumpConnections(&b)
	return b.String()
}

// writeBuckets writes a session tracker's expiry buckets as ZooKeeper's
// SessionTrackerImpl dumps them.
func writeBuckets(b *strings.Builder, buckets []engine.ExpiryBucket) {
	n := 0
	for _, bk := range buckets {
		n += len(bk.Sessions)
	}
	fmt.Fprintf(b, "Session Sets (%d)/(%d):\n", len(buckets), n)
	for _, bk := range buckets {
		fmt.Fprintf(b, "%d expire at %s:\n", len(bk.Sessions), javaDate(bk.Expires))
		for _, id := range bk.Sessions {
			fmt.Fprintf(b, "\t0x%x\n", id)
		}
	}
}

func writeEphemerals(b *strings.Builder, eph []engine.SessionEphemerals) {
	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(b, "Sessions with Ephemerals (%d):\n", len(eph))
	for _, e := range eph {
		fmt.Fprintf(b, "0x%x:\n", e.ID)
		for _, p := range e.Paths {
			fmt.Fprintf(b, "\t%s\n", p)
		}
	}
}

// dumpConnections lists the connections (address and session) in buckets
// of when they would expire as ZooKeeper's NIO factory computes it: the
// connection's last reply (or its accept) plus its session's timeout (10 s
// before its session), rounded up to the next bucket.
func (s *Server) dumpConnections(b *strings.Builder) {
	byExpiry := map[int64][]string{}
	for _, c := range s.connList() {
		at := c.expiresMs()
		// NIOServerCnxn's toString.
		line := fmt.Sprintf("ip: /%s sessionId: 0x%x", engine.JavaSocketAddr(c.nc.RemoteAddr()), c.sessionID.Load())
		byExpiry[at] = append(byExpiry[at], line)
	}
	keys := make([]int64, 0, len(byExpiry))
	total := 0
	for k, lines := range byExpiry {
		keys = append(keys, k)
		total += len(lines)
	}
	slices.Sort(keys)
	fmt.Fprintf(b, "Connections Sets (%d)/(%d):\n", len(keys), total)
	for _, k := range keys {
		lines := byExpiry[k]
		slices.Sort(lines)
		fmt.Fprintf(b, "%d expire at %s:\n", len(lines), javaDate(time.UnixMilli(k)))
		for _, l := range lines {
			fmt.Fprintf(b, "\t%s\n", l)
		}
	}
}

// expiresMs is when ZooKeeper would expire c (Unix ms): its last reply
// or its accept, whichever is later, plus its timeout, rounded up to a
// multiple of cnxnExpiryInterval.
func (c *conn) expiresMs() int64 {
	last := max(c.since.UnixMilli(), c.stats.lastRespMs())
	timeout := c.timeoutMs()
	if timeout == 0 {
		timeout = cnxnExpiryInterval
	}
	return ((last+timeout)/cnxnExpiryInterval + 1) * cnxnExpiryInterval
}

// javaDate formats t as Java's Date.toString does, in the local zone.
func javaDate(t time.Time) string { return t.Local().Format("Mon Jan 02 15:04:05 MST 2006") }

// hash answers ZooKeeper's hash: the tree digests the peer kept as it
// applied txns (after each txn whose zxid is a multiple of 128, the last
// 1024), oldest first, as "zxid: digest" (hex, then a signed decimal, as
// Java prints a long). zk's digest is its own function of the tree, so
// the values are not ZooKeeper's.
func (s *Server) hash() string {
	if msg, no := s.notServing(); no {
		return strings.TrimSuffix(msg, "\n") // ZooKeeper's hash prints it without one
	}
	var b strings.Builder
	for _, d := range s.e.DigestLog() {
		fmt.Fprintf(&b, "%x: %d\n", d.Zxid, int64(d.Digest))
	}
	return b.String()
}
