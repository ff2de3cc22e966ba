// Package proctest tests zk with real operating-system processes: three
// peers, each a separate process, replicating over TCP on 127.0.0.1, killed
// with SIGKILL and frozen with SIGSTOP/SIGCONT while clients write.
//
// The package has no API: everything is in its tests. The peer processes are
// the test binary itself, re-executed with -test.run=^TestHelperPeerProcess$
// and the environment variable ZK_PROCTEST_PEER holding the peer's
// configuration (JSON); without the variable TestHelperPeerProcess does
// nothing.
//
// # Parent and children
//
// The parent (the test) picks the ports, starts the children, and talks to
// each over its stdin (commands, one per line, numbered) and stdout (replies
// prefixed "proctest> " with the command's number; other output is
// ignored). Commands: status, load (start the client workload), quiesce
// (stop it), dump <file> (write the tree, after a Sync, with the zxid it was
// read at), stop (close the ensemble and exit 0). A child exits at once
// when its stdin ends, so a dead parent leaves no child behind; the parent
// SIGKILLs every child it started when a test ends, passed or failed, and
// waits for it.
//
// # Op logs
//
// Clients live in the peer processes (zk has no wire protocol). Each client
// logs every operation to its process's op log, a file opened O_APPEND, as
// one JSON line written with a single write(2) before the call (the
// invocation: client, session, op, arguments, wall-clock time) and one after
// it (the result and time). A process killed mid-call leaves an invocation
// without a completion: its outcome is unknown. A client abandons its session
// after any outcome other than success or a ZooKeeper result error (no node,
// node exists, bad version), so an unresolved operation is always its
// session's last write.
//
// In TestChaos the clients also send bad requests among their good ones
// (badinput_test.go): each must get its clear error, and nothing it sent
// may commit but as a failed no-op the leader logged.
//
// # Checks
//
// At the end the parent heals every peer, waits until all three report the
// same tree at the same applied zxid, stops them, and reads each one's
// transaction log with wal.Open. The committed logs (up to that zxid) must be
// identical; every session's acknowledged writes must be in them, in order,
// and nothing else of that session but possibly its one unresolved write,
// which the log resolves; the final tree must be what replaying the log
// gives; sequential children must be unique and increase with commit order
// and with real time; and the history, unknown outcomes resolved, must be
// linearizable by internal/lincheck within a time limit (a timeout fails).
//
// A failing run prints its seed, the directory it keeps (op logs, peer logs,
// data, dumps, history.json, schedule.txt), the command that replays the
// fault schedule, and, for a history that is not linearizable, the shortest
// failing prefix of the failing path. TestReanalyze with
// -proctest.reanalyze=<dir> runs the checks again on a kept directory. Real
// processes are not deterministic: the seed fixes the fault kinds, durations
// and the client choices, not the interleaving (nor which peer leads).
//
// Flags: -proctest.seed, -proctest.chaos (TestChaos's fault phase, default
// 20s), -proctest.keep. The tests need a Unix system (signals); the package
// builds empty elsewhere.
package proctest
