package wire_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// TestLeaderServesNo: in a 3-peer ensemble with NoLeaderServes
// (leaderServes=no), the leader closes a connect unanswered while the
// followers answer, a client listing the leader first lands on a
// follower, and the leader's four-letter words answer as ZooKeeper's
// leader with no server behind its port. When the leader goes, the peer
// elected in its place stops serving its clients: they move to the other
// peer with their sessions, and it refuses new ones.
func TestLeaderServesNo(t *testing.T) {
	peers := startClusterWith(t, 3, func(c *engine.Config) { c.NoLeaderServes = true })
	leader, followers := rolesOf(t, peers)
	if !closedUnanswered(t, leader.ClientAddr()) {
		t.Fatal("the leader answered a connect")
	}
	for _, f := range followers {
		if !opensSession(f.ClientAddr()) {
			t.Fatalf("follower %d refused a connect", f.Status().ID)
		}
	}
	checkLeaderWords(t, leader.ClientAddr())
	if ans, _ := askWord(followers[0].ClientAddr(), "srvr"); !strings.Contains(ans, "Mode: follower") {
		t.Errorf("a follower's srvr: %q", ans)
	}
	c, _ := dialOrdered(t, leader.ClientAddr(), followers[0].ClientAddr(), followers[1].ClientAddr())
	if c.Server() == leader.ClientAddr() {
		t.Fatal("a client got a session on the leader")
	}

	// A client on each follower, then the leader goes.
	clients := []*gozk.Conn{}
	for i := range followers {
		c, _ := dialOrdered(t, followers[i].ClientAddr(), followers[1-i].ClientAddr())
		_, err := c.Create("/e"+string(rune('a'+i)), nil, gozk.FlagEphemeral, open)
		must(t, err)
		clients = append(clients, c)
	}
	must(t, leader.Close())
	next, other := rolesOf(t, followers)
	waitFor(t, func() bool {
		for _, c := range clients {
			if c.State() != gozk.StateHasSession || c.Server() != other[0].ClientAddr() {
				return false
			}
		}
		return true
	})
	for i, c := range clients {
		if ok, _, err := c.Exists("/e" + string(rune('a'+i))); err != nil || !ok {
			t.Errorf("client %d on the remaining follower: its ephemeral node: %v %v", i, ok, err)
		}
	}
	if !closedUnanswered(t, next.ClientAddr()) {
		t.Fatal("the new leader answered a connect")
	}
	checkLeaderWords(t, next.ClientAddr())
}

// TestLeaderServesNoStandalone: a standalone peer ignores NoLeaderServes,
// as ZooKeeper's standalone server never reads leaderServes.
func TestLeaderServesNoStandalone(t *testing.T) {
	cfg := peerConfig()
	cfg.NoLeaderServes = true
	e := startPeer(t, cfg)
	if !opensSession(e.ClientAddr()) {
		t.Fatal("a standalone peer with NoLeaderServes refused a connect")
	}
	if got, _ := askWord(e.ClientAddr(), "isro"); got != "rw" {
		t.Errorf("isro: %q, want rw", got)
	}
}

// rolesOf waits until one of peers leads and the others follow, and
// returns them.
func rolesOf(t *testing.T, peers []*engine.Ensemble) (leader *engine.Ensemble, followers []*engine.Ensemble) {
	t.Helper()
	waitFor(t, func() bool {
		leader, followers = nil, nil
		for _, e := range peers {
			switch st := e.Status(); {
			case st.Mode == engine.ModeLeading && st.Serving:
				leader = e
			case st.Mode == engine.ModeFollowing && st.Serving:
				followers = append(followers, e)
			}
		}
		return leader != nil && len(followers) == len(peers)-1
	})
	return leader, followers
}

// checkLeaderWords checks the four-letter words of a leader with
// NoLeaderServes: those that ask ZooKeeper's server answer that none
// serves (isro "null", hash without a newline); ruok and envi answer.
func checkLeaderWords(t *testing.T, addr string) {
	t.Helper()
	const none = "This ZooKeeper instance is not currently serving requests"
	for word, want := range map[string]string{
		"ruok": "imok", "isro": "null", "hash": none, "srvr": none + "\n", "stat": none + "\n",
		"mntr": none + "\n", "conf": none + "\n", "cons": none + "\n", "wchs": none + "\n", "dump": none + "\n",
	} {
		if got, err := askWord(addr, word); got != want {
			t.Errorf("the leader's %s: %q (%v), want %q", word, got, err, want)
		}
	}
	if got, _ := askWord(addr, "envi"); !strings.HasPrefix(got, "Environment:") {
		t.Errorf("the leader's envi: %q", got)
	}
}

// closedUnanswered reports whether a connect to addr is closed without a
// response (not left unanswered on an open connection).
func closedUnanswered(t *testing.T, addr string) bool {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	must(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = nc.Write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}))
	if err == nil {
		_, err = jute.ReadFrame(nc, nil, 1<<20)
	}
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// dialOrdered connects go-zookeeper trying addrs in their order (Connect
// shuffles them otherwise) and waits for its session.
func dialOrdered(t *testing.T, addrs ...string) (*gozk.Conn, <-chan gozk.Event) {
	t.Helper()
	c, events, err := gozk.Connect(addrs, 4*time.Second, gozk.WithLogger(quiet{}),
		gozk.WithHostProvider(&orderedHosts{servers: addrs, curr: -1, last: -1}))
	must(t, err)
	t.Cleanup(c.Close)
	waitState(t, events, gozk.StateHasSession)
	return c, events
}

// orderedHosts is a go-zookeeper HostProvider that tries its servers in
// turn from the first, as its DNSHostProvider does after it shuffled them.
type orderedHosts struct {
	mu         sync.Mutex
	servers    []string
	curr, last int
}

func (h *orderedHosts) Init([]string) error { return nil }

func (h *orderedHosts) Len() int { return len(h.servers) }

func (h *orderedHosts) Next() (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.curr = (h.curr + 1) % len(h.servers)
	retryStart := h.curr == h.last
	if h.last == -1 {
		h.last = 0
	}
	return h.servers[h.curr], retryStart
}

func (h *orderedHosts) Connected() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = h.curr
}
