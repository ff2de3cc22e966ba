package wire_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// TestDumpLocalSessionsAsRealZK: with local sessions, dump lists the local
// session tracker's sessions ("Local Session Sets") before the global
// ones, as ZooKeeper 3.8's leader and followers do. Three real ZooKeeper
// servers and three zk peers, each with a local session on a follower,
// one on the leader and one upgraded by an ephemeral create, give the
// same dumps but for times, ids and how sessions share expiry buckets.
func TestDumpLocalSessionsAsRealZK(t *testing.T) {
	real, ours := localEnsembles(t, true)
	want, got := dumpLocalScenario(t, real), dumpLocalScenario(t, ours)
	for i, server := range []string{"follower", "leader"} {
		if got[i] != want[i] {
			t.Errorf("the %s's dump (masked):\n%s\nZooKeeper's:\n%s", server, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "Local Session Sets (*)/(2):") {
		t.Errorf("the follower's dump lists no local sessions:\n%s", got[0])
	}
}

// dumpLocalScenario opens two local sessions on addrs[0] (a follower),
// upgrades one by an ephemeral create, opens one on addrs[2] (the leader)
// and returns both servers' dumps, masked (maskDump).
func dumpLocalScenario(t *testing.T, addrs []string) [2]string {
	a, _, _, _ := lsConnect(t, addrs[0], 0, nil, 0)
	b, _, _, _ := lsConnect(t, addrs[0], 0, nil, 0)
	c, _, _, _ := lsConnect(t, addrs[2], 0, nil, 0)
	for _, r := range []*rawConn{a, b, c} {
		t.Cleanup(func() { r.nc.Close() })
	}
	if got := lsCall(b, jute.OpCreate, &jute.CreateRequest{Path: "/dl", ACL: openACL, Flags: 1}); got != "err=0" {
		t.Fatalf("ephemeral create at %s: %s", addrs[0], got)
	}
	lsCall(a, jute.OpSync, &jute.PathRequest{Path: "/"}) // the follower has the upgrade
	return [2]string{maskDump(fourLetter(t, addrs[0], "dump")), maskDump(fourLetter(t, addrs[2], "dump"))}
}

var (
	dumpIDRE      = regexp.MustCompile(`0x[0-9a-f]+`)
	dumpSetsRE    = regexp.MustCompile(`Session Sets \([0-9]+\)/`)
	dumpBucketsRE = regexp.MustCompile(`(?m)^([0-9]+ expire at .*|\t0x[0-9a-f]+)\n`)
)

// maskDump is a dump up to its connections with what differs between two
// servers masked: session ids, the number of expiry buckets and their
// lines (sessions share buckets as their times fall, and ZooKeeper's
// ExpiryQueue.dump can list a session that is being touched in no
// bucket, though it counts it).
func maskDump(d string) string {
	d, _, _ = strings.Cut(d, "Connections dump:")
	d = dumpBucketsRE.ReplaceAllString(d, "")
	d = dumpSetsRE.ReplaceAllString(d, "Session Sets (*)/")
	return dumpIDRE.ReplaceAllString(d, "0xID")
}
