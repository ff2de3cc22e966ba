package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// printStatus prints everything zk.Status tells of the peer.
func printStatus(w io.Writer, st zk.Status) {
	hex := func(z int64) string { return fmt.Sprintf("0x%x", z) }
	serving := "serving"
	if !st.Serving {
		serving = "not serving: " + st.Why
	}
	var b strings.Builder
	row := func(k, format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s %s\n", k+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "status of zk peer %d (kill -USR1 prints it again):\n", st.ID)
	row("Mode", "%s (%s)", modeName(st.Mode), serving)
	row("Leader", "%d, epoch %d, election round %d", st.Leader, st.Epoch, st.Round)
	row("Zxid", "last logged %s, applied %s", hex(st.LastZxid), hex(st.Applied))
	row("Peers", "%v", st.Peers)
	row("Sessions", "%d attached, %d requests in flight", st.Sessions, st.Requests)
	row("Znodes", "%d (%d ephemeral), %d bytes of paths and data", st.Znodes, st.Ephemerals, st.DataSize)
	row("Watches", "%d", st.Watches)
	row("Fsync p99", "%v (the last 128 fsyncs of the log)", st.FsyncP99.Round(time.Microsecond))
	for _, l := range st.Learners {
		kind := "follower"
		if l.Observer {
			kind = "observer"
		}
		row("Learner", "%d (%s): %s, sync %s, zxid %s, lag %d txns / %v, heard %v ago", l.ID, kind, l.Phase, l.Sync,
			hex(l.Zxid), l.LagTxns, l.Lag, l.Silent)
	}
	if st.Err != nil {
		row("Error", "%v", st.Err)
	}
	io.WriteString(w, b.String())
}
