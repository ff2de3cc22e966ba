package wire_test

import (
	"slices"
	"strings"
	"testing"
)

// TestCuratorPathChildrenCacheEvents compares a recipes PathChildrenCache
// made WithConnectionEvents with Curator 5.4's PathChildrenCache started
// with POST_INITIALIZED_EVENT, through TestCuratorCacheConnEvents' faults
// (a short cut, an expiry, a short cut with a child changed twice and
// another created and deleted meanwhile). Both tell the same events
// through the first two, with no INITIALIZED after LOST (Curator's
// PathChildrenCache tells INITIALIZED only after its first load); through
// the third, Curator tells what its reads find, the Go cache every change.
func TestCuratorPathChildrenCacheEvents(t *testing.T) {
	x := newConnCompare(t, "children", "/cc")
	x.threeFaults("the changes after the new session", nodeEventsAfterLast("Reconnected", 3))
	x.compareFaults("PathChildrenCache", nil, nil)
}

// TestCuratorNodeCacheEvents compares a recipes NodeCache (made without
// connection events, which Curator's NodeCache has none of) with Curator
// 5.4's NodeCache on /cc/b: its listener is told no event, so each Go
// event is seen as what Curator's listener would read then (the node's
// data, or "- -" once it is gone). Live changes, the node deleted and made
// again, and an expiry give the same events; through a short cut with two
// changes, and through one where the node is deleted and made again,
// Curator tells what its read finds, the Go cache every change.
func TestCuratorNodeCacheEvents(t *testing.T) {
	x := newConnCompare(t, "node", "/cc/b")
	jv, goRec := x.jv, x.goRec

	x.cut(1)
	x.write("s /cc/b 2", "s /cc/b 3")
	x.heal()
	jv.until(t, "the change after reconnection", nodeEvents(2))
	goRec.until(t, "the changes after reconnection", nodeEvents(3))

	x.write("d /cc/b")
	jv.until(t, "the delete", nodeEvents(3))
	x.write("c /cc/b 4")
	jv.until(t, "the create", nodeEvents(4))

	x.cut(2)
	must(t, x.leader.ExpireSession(x.ctx, goRec.sessionID()))
	x.write("s /cc/b 5")
	jv.untilState(t, "LOST", 1)
	x.heal()
	jv.until(t, "the change after the new session", nodeEvents(5))
	goRec.until(t, "the change after the new session", nodeEvents(6))

	x.cut(3)
	x.write("d /cc/b", "c /cc/b 6")
	x.heal()
	jv.until(t, "the change after reconnection", nodeEvents(6))
	goRec.until(t, "the changes after reconnection", nodeEvents(8))
	x.end()

	same := []string{"NodeChanged /cc/b 1"}
	wantJava := append(slices.Clone(same), "NodeChanged /cc/b 3",
		"NodeChanged - -", "NodeChanged /cc/b 4", "NodeChanged /cc/b 5", "NodeChanged /cc/b 6")
	wantGo := append(slices.Clone(same), "NodeChanged /cc/b 2", "NodeChanged /cc/b 3",
		"NodeChanged - -", "NodeChanged /cc/b 4", "NodeChanged /cc/b 5", "NodeChanged - -", "NodeChanged /cc/b 6")
	x.compare("NodeCache", jv.snapshot(), asNodeCache(goRec.snapshot()), wantJava, wantGo)
}

// nodeEvents is the wait condition "at least n node events".
func nodeEvents(n int) func([]string) bool {
	return func(evs []string) bool {
		k := 0
		for _, ev := range evs {
			if strings.HasPrefix(ev, "Node") {
				k++
			}
		}
		return k >= n
	}
}

// asNodeCache gives each of a recipes NodeCache's events as Curator's
// NodeCache listener would see the node then: NodeChanged and its path and
// data, or "- -" once it is gone.
func asNodeCache(evs []string) []string {
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		switch {
		case strings.HasPrefix(ev, "NodeDeleted "):
			out = append(out, "NodeChanged - -")
		case strings.HasPrefix(ev, "Node"):
			out = append(out, "NodeChanged "+strings.SplitN(ev, " ", 2)[1])
		default:
			out = append(out, ev)
		}
	}
	return out
}
