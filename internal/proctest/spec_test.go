//go:build unix

package proctest

import (
	"flag"
	"path/filepath"
	"time"

	zk "github.com/embedzk/zk"
)

// Flags for longer or replayed runs. The defaults are the CI run.
var (
	flagSeed  = flag.Int64("proctest.seed", 0, "seed of the fault schedule and the workload (0: from the clock)")
	flagChaos = flag.Duration("proctest.chaos", 20*time.Second, "how long TestChaos injects faults")
	flagKeep  = flag.Bool("proctest.keep", false, "keep the run directory even when the test passes")
)

// envPeer carries a child's peerSpec, as JSON.
const envPeer = "ZK_PROCTEST_PEER"

// replyPrefix starts every line a child means for the parent.
const replyPrefix = "proctest> "

// peerSpec is everything a child needs to run one peer.
type peerSpec struct {
	ID          int64
	Ports       map[int64]int // quorum port of every peer, this one included
	Dir         string        // the peer's directory (data, op log, zk log)
	TickTime    time.Duration
	Secret      string
	Seed        int64 // the run's seed; the child mixes in its id and incarnation
	Incarnation int   // 0 for the first start, +1 at each restart
	Work        workSpec
}

// workSpec shapes the client workload of one peer process.
type workSpec struct {
	Clients        int           // client goroutines, each with its own session
	Keys           int           // shared registers /k/0 .. /k/<Keys-1>
	Unique         bool          // also create never-deleted unique nodes under /w
	Think          time.Duration // pause between two operations of one client (upper bound, jittered)
	OpTimeout      time.Duration // context deadline of one operation
	SessionTimeout time.Duration // requested session timeout
	Bad            bool          // also send bad requests (badinput_test.go)
}

// Files inside a peer's directory.
func dataDir(peerDir string) string    { return filepath.Join(peerDir, "data") }
func opLogPath(peerDir string) string  { return filepath.Join(peerDir, "ops.jsonl") }
func zkLogPath(peerDir string) string  { return filepath.Join(peerDir, "zk.log") }
func stderrPath(peerDir string) string { return filepath.Join(peerDir, "stderr.txt") }
func dumpPath(peerDir string) string   { return filepath.Join(peerDir, "dump.json") }

// Paths of the workload.
const (
	keysDir   = "/k"   // shared registers, checked by lincheck
	uniqueDir = "/w"   // unique creates, never deleted
	seqDir    = "/seq" // sequential creates
	seqPrefix = seqDir + "/s-"
)

// statusReply is a child's answer to "status".
type statusReply struct {
	Mode     string
	Leader   int64
	Serving  bool
	Epoch    int64
	Applied  int64
	LastZxid int64
	Err      string // the error that fail-stopped the peer
	Ops      int64  // operations completed by this incarnation's clients
	Acked    int64  // of which successful writes
	LastAck  int64  // invocation time (ns) of the latest successful write
}

// dumpReply is a child's answer to "dump".
type dumpReply struct {
	Applied int64
	Nodes   int
}

// treeDump is what "dump" writes: the tree at one applied zxid.
type treeDump struct {
	ID      int64
	Applied int64
	Nodes   map[string]nodeDump
}

// nodeDump is one znode of a dump.
type nodeDump struct {
	Data []byte
	Stat zk.Stat
}

// childReply is any reply line's payload.
type childReply struct {
	Err    string       `json:",omitempty"`
	Status *statusReply `json:",omitempty"`
	Dump   *dumpReply   `json:",omitempty"`
}
