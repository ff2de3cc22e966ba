// Package zk is Apache ZooKeeper as an embeddable Go library.
//
// A host application calls NewEnsemble and its process becomes one peer of a
// replicated ensemble — or, with no Servers configured, a standalone
// ensemble of one, the embedded default. Sessions opened on the Ensemble
// read and write a tree of znodes with ZooKeeper's semantics: persistent,
// ephemeral, sequential, container and TTL nodes, the full Stat, versions
// for optimistic concurrency, ACLs, multi-op transactions, one-shot and
// persistent watches.
//
//	ens, err := zk.NewEnsemble(zk.Config{DataDir: "/var/lib/myapp/zk"})
//	...
//	defer ens.Close()
//	sess, err := ens.NewSession(ctx)
//	...
//	path, err := sess.Create(ctx, "/jobs/job-", data, zk.WithMode(zk.ModePersistentSequential))
//
// # Guarantees
//
// Writes go through the leader and commit at a quorum after being fsynced
// to the transaction log; a write that returned without error is never lost.
// Every peer applies committed writes in the same (zxid) order. A session's
// calls complete in the order it issued them, and it reads its own writes;
// reads are served by the local peer, and Sync makes the next read
// linearizable. A watch event reaches a session before that session can read
// the change that caused it, and events reach a session in zxid order.
//
// # Errors
//
// Errors wrap sentinels with ZooKeeper's names (ErrNoNode, ErrNodeExists,
// ErrBadVersion, ...): test them with errors.Is. A call whose context ends
// while its write is in flight returns ErrOutcomeUnknown (which also matches
// ErrConnectionLoss): the write may still commit.
//
// # Concurrency and ownership
//
// Ensemble and Session are safe for concurrent use. Slices passed in are not
// retained after a call returns, except data given to Create and Set, which
// the library may keep: do not modify it afterwards. Slices returned belong
// to the caller.
//
// # Durability
//
// The transaction log is the source of truth: a write is acknowledged only
// after its record is fsynced. The tree (in Pebble) is written without its
// own log and replayed from the transaction log after a crash. A failed
// fsync stops the peer (fail-stop): it serves nothing more and reports the
// error in Status and through Config.Listener.Failed.
//
// # Layout
//
// This file is the whole root package: the public API, declared as aliases
// of the implementation in internal/engine (types keep their methods and
// identities, so errors.Is and type switches work across both names).
package zk

import (
	"io"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/wire"
)

// Server is one member of a replicated ensemble, as zoo.cfg's
// server.N=host:quorumPort:electionPort[:observer] line describes it.
//
// zk multiplexes election and ZAB traffic on the quorum port; the election
// port is accepted for compatibility with existing zoo.cfg files and
// otherwise unused.
//
// Fields:
//
//	ID int64
//	Host string
//	QuorumPort int
//	ElectionPort int
//	Observer bool
//
//	// ClientAddr is the client address part of a dynamic configuration's
//	// server line ("[host:]port" after the ';'), kept as it is; optional.
//	ClientAddr string
//
// Methods:
//
//	// QuorumAddr returns host:quorumPort ([host]:quorumPort for an IPv6 host).
//	func (s Server) QuorumAddr() string
type Server = engine.Server

// ReconfigRequest is a membership change, as ZooKeeper's reconfig takes
// it: incremental (Add and Remove) or a whole new member list (Members).
//
// Fields:
//
//	// Add lists servers to add; a server already in the configuration
//	// with another role or address is changed (an observer promoted to
//	// participant, a participant demoted).
//	Add []Server
//
//	// Remove lists the ids of servers to remove.
//	Remove []int64
//
//	// Members, if set, is the whole new configuration (Add and Remove
//	// must then be empty), with Groups and Weights for a hierarchical
//	// quorum.
//	Members []Server
//
//	Groups [][]int64
//	Weights map[int64]int64
//
//	// FromConfig, if not 0, is the version the change applies to
//	// (ZooKeeper's -v): another version fails with ErrBadVersion.
//	FromConfig int64
type ReconfigRequest = engine.ReconfigRequest

// ClusterConfig is one configuration of the ensemble: its servers, the
// hierarchical quorum's groups and weights if any, and its version (the
// zxid of the reconfig that made it; 0 for the static configuration).
//
// Fields:
//
//	Servers []Server
//	Groups [][]int64
//	Weights map[int64]int64
//	Version int64
//
// Methods:
//
//	// Text is the configuration in ZooKeeper's dynamic configuration format,
//	// as /zookeeper/config and the dynamic configuration file hold it: one
//	// server.N=host:quorumPort:electionPort:role[;clientAddr] line per server
//	// in id order, group.N and weight.N lines, then version=<hex>.
//	func (c ClusterConfig) Text() string
type ClusterConfig = engine.ClusterConfig

// MembershipPolicy lets the leader replace a voter that has been out of
// sync for DownTicks ticks by a synced observer, as one ordinary reconfig
// (Config.MembershipPolicy; beyond ZooKeeper, off by default).
//
// Fields:
//
//	// DownTicks is how long a voter must have been out of sync with the
//	// leader before it is replaced, in ticks (TicksPerTickTime per
//	// TickTime); counted from when this leader was established at the
//	// earliest. It must exceed the sync limit (SyncLimit ticks of
//	// TickTime), or a slow voter would be replaced before the leader gives
//	// up on it.
//	DownTicks int64
type MembershipPolicy = engine.MembershipPolicy

// ParseClusterConfig parses ClusterConfig.Text's format and a dynamic
// configuration file's, with java.util.Properties' rules as ZooKeeper
// reads both (comments, key:value, continued lines; a key given twice,
// a server.N line too, takes its last value).
func ParseClusterConfig(text []byte) (ClusterConfig, error) { return engine.ParseClusterConfig(text) }

// ParseReconfig turns the three strings of ZooKeeper's reconfig (zkCli's
// -add, -remove and -members) into a ReconfigRequest, checking them as
// ZooKeeper's leader does: members, if not empty, is the whole new list
// (server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort],
// group.N and weight.N, separated by commas or newlines); otherwise
// joining lists servers to add in that form (the client port required)
// and leaving the ids to remove, both comma-separated. Anything malformed
// fails with ErrBadArguments.
func ParseReconfig(joining, leaving, members string) (ReconfigRequest, error) {
	return engine.ParseReconfig(joining, leaving, members)
}

// Config configures one peer. Its fields map to zoo.cfg; the zero value of a
// field means its default. Clone it freely: NewEnsemble keeps its own copy.
//
// Fields:
//
//	// ID is this peer's id (zoo.cfg's myid), 1..254. Default 1 when Servers
//	// is empty.
//	ID int64
//
//	// TickTime is ZooKeeper's basic time unit (default 2s). Session timeouts
//	// are negotiated in [2, 20] TickTimes by default, and InitLimit and
//	// SyncLimit count TickTimes. Internally zk's clock ticks ten times per
//	// TickTime so that elections and heartbeats react faster than a TickTime.
//	TickTime time.Duration
//
//	// InitLimit bounds, in TickTimes, how long a follower may take to connect
//	// and sync to a leader (default 10).
//	InitLimit int
//
//	// SyncLimit bounds, in TickTimes, how long a follower may be silent
//	// before the leader drops it, and how long a leader keeps leading without
//	// a quorum (default 5).
//	SyncLimit int
//
//	// DataDir holds the tree and the snapshots. Required.
//	DataDir string
//
//	// DataLogDir holds the transaction log; default DataDir + "/log".
//	DataLogDir string
//
//	// FS is the file system everything is stored on; default the OS
//	// (vfs.Default). Tests use vfs.NewMem or vfs.NewCrashableMem.
//	FS vfs.FS
//
//	// Servers lists every voter and observer, this peer included. Empty
//	// means standalone: an ensemble of one voter.
//	Servers []Server
//
//	// Groups, if set, makes the quorum hierarchical, as zoo.cfg's
//	// group.N=id:id:... lines do (ZooKeeper's QuorumHierarchical): every
//	// voter is in exactly one group, no observer is in any. A set of voters
//	// is a quorum when it holds more than half of the weight of more than
//	// half of the groups (a group that weighs 0 is not counted): with
//	// groups {1,2,3} {4,5,6} {7,8,9}, voters 1, 2, 4 and 5 are a quorum and
//	// 1, 2, 3, 4 and 7 are not. Elections, commits, the leader's check that
//	// it keeps a quorum, and Sync all use the rule. Nil: a majority of the
//	// voters.
//	Groups [][]int64
//
//	// Weights gives voters' weights in a hierarchical quorum, as zoo.cfg's
//	// weight.N=w lines do: 0..2147483647, default 1; it needs Groups. A
//	// voter of weight 0 takes part (it follows and acknowledges) but its
//	// vote never counts and it is never elected.
//	Weights map[int64]int64
//
//	// MinSessionTimeout and MaxSessionTimeout bound the negotiated session
//	// timeout; defaults 2 and 20 TickTimes.
//	MinSessionTimeout time.Duration
//
//	MaxSessionTimeout time.Duration
//
//	// MaxClientCnxns limits what one client address holds on this peer at
//	// once, as ZooKeeper's maxClientCnxns limits a client IP's connections
//	// to a server (0 = no limit, the default here; zoo.cfg without the key
//	// gives ZooKeeper's 60). The client port refuses a connection over it
//	// as it accepts it, counting the plain and the secure port apart as
//	// ZooKeeper's two connection factories do; in process, NewSession and Reattach of a session
//	// whose WithClientAddr names an address holding as many fail with
//	// ErrConnectionLoss. A session opened without WithClientAddr is the
//	// host's own and does not count (MaxSessions bounds all of them).
//	MaxClientCnxns int
//
//	// MaxSessions limits the sessions attached to this peer at once,
//	// whatever their address, in process and on the client port alike (0 =
//	// no limit, the default). zk's own: ZooKeeper has no such bound. Over it
//	// NewSession and Reattach fail with ErrConnectionLoss.
//	MaxSessions int
//
//	// MaxCnxns limits the connections each client port (plain and secure,
//	// counted apart) holds at once, as ZooKeeper's maxCnxns limits each of
//	// its connection factories: a connection over it is closed as it is
//	// accepted (0 = no limit, the default, as in ZooKeeper).
//	MaxCnxns int
//
//	// GlobalOutstandingLimit bounds the requests in flight on this peer's
//	// client ports, as ZooKeeper's globalOutstandingLimit: once that many
//	// are in flight, a connection that has some of them stops reading
//	// until fewer are (0 means ZooKeeper's default, 1000). As in ZooKeeper,
//	// a voter of an ensemble of more than two voters divides it by the
//	// number of voters less one: here those of Servers, counted when the
//	// client port starts (ZooKeeper counts its current view each time).
//	GlobalOutstandingLimit int
//
//	// NoLeaderServes makes this peer refuse clients on its client ports
//	// while it leads an ensemble (Mode ModeLeading), as ZooKeeper's
//	// zookeeper.leaderServes=no (zoo.cfg's leaderServes=no) leaves a
//	// leader without a server behind its ports: a connect is closed
//	// unanswered, so the client tries another server; the connections it
//	// holds when it becomes leader are closed (their sessions live on, and
//	// the clients reconnect elsewhere); and the four-letter words but
//	// ruok, envi, gtmk and stmk answer that the peer is not serving (isro
//	// "null"; so srvr has no Mode line for a status check to read). The
//	// AdminServer answers as on any peer, and in-process sessions
//	// (NewSession, Reattach) are served, as the host's own. A standalone
//	// peer (no Servers) ignores it, as ZooKeeper's does; an ensemble of
//	// one voter does not, as ZooKeeper's with standaloneEnabled=false
//	// (only its observers serve). Default false: the leader serves,
//	// ZooKeeper's leaderServes=yes.
//	NoLeaderServes bool
//
//	// SnapCount is the number of transactions between snapshots (default
//	// 100000; as in ZooKeeper a peer snapshots after a random count in
//	// [SnapCount/2, SnapCount]). A peer's own snapshot is a checkpoint of
//	// the tree's store (DataDir/snapshots/snapshot.<zxid>.tree, hard links
//	// to the tree's files), so it costs a flush, not a copy of the tree.
//	SnapCount int
//
//	// SnapRetainCount is the number of snapshots kept (default 3, at least 3).
//	SnapRetainCount int
//
//	// PreAllocSize is how far ahead of its records the transaction log is
//	// filled with zeros, in bytes (ZooKeeper's preAllocSize, which zoo.cfg
//	// gives in KiB). The log then grows a step at a time, and the fsyncs in
//	// between need not update the file's size: 1.1-1.5x more fsyncs/s on
//	// ext4 here. 0 means 1 MiB (ZooKeeper pads 64 MiB at once, a whole zk
//	// segment); negative turns it off, as 0 does in zoo.cfg.
//	PreAllocSize int64
//
//	// NoForceSync makes this peer acknowledge a transaction once it is
//	// written to its log file, without the fsync that makes it durable, as
//	// ZooKeeper's zookeeper.forceSync=no (zoo.cfg's forceSync=no): writes
//	// wait for no disk, but an operating-system crash or a power loss (not
//	// a crash of the process alone) may lose transactions the peer
//	// acknowledged, and committed ones when a quorum loses power at once.
//	// As in ZooKeeper only the log's fsync of each group commit is
//	// skipped (wal's Options.NoAppendSync); the epochs, snapshots and the
//	// tree's flushes are synced as before. After such a crash the tree,
//	// flushed apart from the log, may hold transactions the log lost: the
//	// peer then starts its log over after the tree's zxid (and logs it),
//	// as ZooKeeper goes on from a snapshot newer than its log. NewEnsemble
//	// logs a warning. The default, false, syncs every group commit,
//	// ZooKeeper's forceSync=yes.
//	NoForceSync bool
//
//	// PurgeInterval is how often the log files below the oldest snapshot
//	// kept are purged; snapshots beyond the SnapRetainCount newest are
//	// deleted as new ones are written (default 1h). Negative disables every
//	// deletion, as ZooKeeper's autopurge.purgeInterval=0: all snapshot and
//	// log files are kept, and disk use grows until an operator removes old
//	// ones. Note the two defaults: a Config made in code (PurgeInterval 0)
//	// purges hourly, the embedded default; a zoo.cfg read by ParseZooCfg
//	// without autopurge.purgeInterval purges nothing, as ZooKeeper.
//	PurgeInterval time.Duration
//
//	// MaxWatchesPerSession limits the watches one session holds at once,
//	// one-shot and persistent together (default
//	// DefaultMaxWatchesPerSession). A call that would set one more fails
//	// with ErrTooManyWatches and sets nothing; a watch that fires or is
//	// removed makes room. ZooKeeper has no such limit: it bounds the memory
//	// a session can pin (an idle watch costs a few hundred bytes, a
//	// persistent one up to DefaultWatchBuffer queued events more).
//	MaxWatchesPerSession int
//
//	// JuteMaxBuffer limits every request, as ZooKeeper's jute.maxbuffer
//	// does: the whole request as ZooKeeper's client serializes it (request
//	// header, path, data, ACLs; a multi as a whole) may be at most this
//	// many bytes (default DefaultJuteMaxBuffer, 1 MiB - 1; at most
//	// MaxJuteMaxBuffer). It is checked at the session before anything is
//	// prepared and again by the leader (a follower configured otherwise
//	// cannot bypass the leader's limit); a request over it fails with
//	// ErrRequestTooLarge and changes nothing. Paths are limited to
//	// MaxPathLength whatever this is. On the client port a frame over it
//	// closes the connection, as in ZooKeeper. zoo.cfg's jute.maxbuffer
//	// sets it.
//	JuteMaxBuffer int
//
//	// SuperDigest, if set, is a digest ("super:<base64 sha1>", as made by
//	// DigestAuth, or of DigestAlg's hash, as made by DigestAuthWith) whose
//	// holder passes every ACL check, as ZooKeeper's
//	// zookeeper.DigestAuthenticationProvider.superDigest. zoo.cfg's
//	// DigestAuthenticationProvider.superDigest sets it, as in ZooKeeper.
//	SuperDigest string
//
//	// DigestAlg is the hash of the digest scheme, as ZooKeeper's
//	// zookeeper.DigestAuthenticationProvider.digestAlg (zoo.cfg's
//	// DigestAuthenticationProvider.digestAlg): the name Java's
//	// MessageDigest takes, in any case ("SHA-256", "SHA256", "SHA3-256",
//	// "SHA-512", "MD5", ...; MD2 is the one zk lacks). An addauth digest
//	// credential becomes "user:" + base64(hash(credential)), which digest
//	// ACL entries and SuperDigest must then hold; ids made with another
//	// hash (those of ACLs stored before a change, say) match no credential
//	// any more, as in ZooKeeper. NewEnsemble refuses a name it does not
//	// know, as ZooKeeper fails to start. Empty means "SHA1", ZooKeeper's
//	// default. Give every peer the same one: a session's identity is
//	// computed by the peer it is connected to.
//	DigestAlg string
//
//	// NoDigestAuth unregisters the digest scheme, as ZooKeeper's
//	// zookeeper.DigestAuthenticationProvider.enabled=false (zoo.cfg's
//	// DigestAuthenticationProvider.enabled=false): an addauth digest fails
//	// with ErrAuthFailed (on the client port AUTHFAILED, and the
//	// connection closes), a create or setACL whose ACL has a digest entry
//	// fails with ErrInvalidACL where ZooKeeper's leader refuses it (the
//	// leader's setting decides), digest ACL entries already stored match
//	// no session, SuperDigest can never be matched, and "digest" in
//	// EnforceAuthSchemes is refused by NewEnsemble, as ZooKeeper fails to
//	// start with it.
//	NoDigestAuth bool
//
//	// SkipACL turns every ACL check off on this peer, as ZooKeeper's
//	// zookeeper.skipACL=yes (zoo.cfg's skipACL=yes): every session may do
//	// everything to every node. ACLs are still validated and stored. A
//	// write is checked by the leader, as in ZooKeeper, so it is the
//	// leader's SkipACL that counts for writes, and the session's own
//	// peer's for reads, watches and a reconfig's check of
//	// /zookeeper/config (which ZooKeeper's leader makes).
//	SkipACL bool
//
//	// SASLUsers are the users a client-port client may authenticate as with
//	// SASL DIGEST-MD5, name → password: ZooKeeper's JAAS "Server" section
//	// of DigestLoginModule options user_<name>="<password>" (LoadJAAS reads
//	// one). A client that authenticates gets the identity {"sasl", name},
//	// which sasl ACL entries match. Empty: every SASL request is answered
//	// AUTHFAILED and its connection closes (ZooKeeper without a JAAS Server
//	// section answers OK with a null token, which its clients cannot use).
//	// Kerberos (GSSAPI) is not served.
//	SASLUsers map[string]string
//
//	// SASLSuperUser names the SASL user who passes every ACL check, as
//	// ZooKeeper's zookeeper.superUser (zoo.cfg's superUser sets it).
//	SASLSuperUser string
//
//	// EnforceAuthSchemes, if set, makes the client port refuse every request
//	// but auth and sasl from a connection with no identity of one of these
//	// schemes ("digest", "sasl", "x509", "ip"): the reply is
//	// SESSIONCLOSEDREQUIRESASLAUTH and the connection closes, as ZooKeeper's
//	// enforce.auth.enabled with enforce.auth.schemes (zoo.cfg keys here too;
//	// sessionRequireClientSASLAuth=true means "sasl"). With "sasl" among
//	// them, a failed SASL exchange is answered so too. In-process sessions
//	// are the host's own and are not checked.
//	EnforceAuthSchemes []string
//
//	// ContainerCheckInterval is how often the leader looks for empty
//	// containers and expired TTL nodes to delete (default 1 minute; rounded
//	// up to whole TickTimes), as ZooKeeper's znode.container.checkIntervalMs
//	// (a zoo.cfg key here).
//	ContainerCheckInterval time.Duration
//
//	// ContainerMaxPerMinute bounds how many of them the leader deletes per
//	// minute (default 10000), as znode.container.maxPerMinute.
//	ContainerMaxPerMinute int
//
//	// Transport carries peer traffic. Default: TCP on this peer's quorum
//	// port, authenticated by PeerSecret and/or PeerTLS. Ignored standalone.
//	Transport transport.Transport
//
//	// PeerSecret authenticates peers to each other on the default TCP
//	// transport (HMAC challenge-response, the dialer proving first; see
//	// package zab/transport). Required with Servers unless PeerTLS is set
//	// or Transport is given. It must be random bytes, at least 16 of them
//	// (32 from crypto/rand is right): Validate refuses a secret that is
//	// short, constant (16 zero bytes), a repeated pattern, a constant-step
//	// run, or that shows too little variety (transport.CheckSecret). zoo.cfg:
//	// quorum.auth.secret.location names a file holding it.
//	PeerSecret []byte
//
//	// PeerTLS, if set, makes the default TCP transport use mutual TLS. It
//	// needs Certificates, RootCAs and ClientCAs, and each peer's
//	// certificate must carry the DNS name "zk-peer-<id>"
//	// (transport.PeerName). zoo.cfg: sslQuorum=true with the
//	// ssl.quorum.* files (see ParseZooCfg).
//	PeerTLS *tls.Config
//
//	// QuorumListenOnAllIPs makes the default TCP transport listen on every
//	// address of the host, at its own server line's quorum port, while
//	// its peers still dial the address the line names (behind NAT, or
//	// where that address is not the host's own). zoo.cfg:
//	// quorumListenOnAllIPs=true.
//	QuorumListenOnAllIPs bool
//
//	// Logger receives the peer's logs; default discards them.
//	Logger *slog.Logger
//
//	// AuditEnabled turns on ZooKeeper's audit log (zoo.cfg audit.enable=true,
//	// the system property zookeeper.audit.enable; off by default, as in
//	// ZooKeeper), written to AuditLogger: an event for each write of a
//	// session attached to this peer (create, delete, setData, setAcl, each
//	// op of a multi, a reconfig on the client port), succeeded or failed,
//	// logged by this peer alone once it applied the write and before the
//	// session gets its answer; one for each ephemeral node deleted as its
//	// session closed or expired, logged by every peer; serverStart and
//	// serverStop. The events and their fields are ZooKeeper 3.8's
//	// (internal/engine/audit.go lists them).
//	AuditEnabled bool
//
//	// AuditLogger receives the audit events when AuditEnabled is set
//	// (default Logger, where ZooKeeper's default logging configuration
//	// sends them too). Each record's message is the whole event as
//	// ZooKeeper writes it: key=value pairs, tab-separated, in ZooKeeper's
//	// order (session, user, ip, operation, znode, znode_type, acl, then
//	// result), without attributes; its level is Error for a failure and
//	// Info otherwise, as ZooKeeper's Slf4jAuditLogger logs them.
//	// examples/server writes them to zookeeper_audit.log in ZooKeeper's
//	// layout.
//	AuditLogger *slog.Logger
//
//	// Listener receives the peer's events.
//	Listener EventListener
//
//	// ManualClock stops the internal ticker: time advances only through
//	// Ensemble.Tick, so tests (and hosts' tests) drive the ensemble tick by
//	// tick. Node times (ctime, mtime) then come from Clock, or from a logical
//	// clock that starts at 2020-01-01 and advances TickTime/10 per tick.
//	ManualClock bool
//
//	// Clock supplies node times (default time.Now).
//	Clock func() time.Time
//
//	// Rand supplies session passwords and protocol jitter (default
//	// crypto/rand). Tests pass a seeded source for reproducible runs.
//	Rand io.Reader
//
//	// The client port: ZooKeeper's client protocol, so that zkCli.sh, kazoo,
//	// Curator and go-zookeeper work against this peer. zk.NewEnsemble starts
//	// it; sessions made there are sessions of this peer like any other.
//	//
//	// ClientPort is the TCP port (zoo.cfg clientPort): 0 leaves the client
//	// port off, -1 picks a free port (Ensemble.ClientAddr tells which).
//	ClientPort int
//
//	// ClientPortAddress is the address the client port listens on (zoo.cfg
//	// clientPortAddress); default every address.
//	ClientPortAddress string
//
//	// SecureClientPort serves the client protocol over TLS (zoo.cfg
//	// secureClientPort), beside ClientPort or alone: 0 leaves it off, -1
//	// picks a free port (Ensemble.SecureClientAddr tells which). It needs
//	// ClientTLS. SecureClientPortAddress is its listen address (zoo.cfg
//	// secureClientPortAddress; default every address).
//	SecureClientPort int
//
//	SecureClientPortAddress string
//
//	// ClientTLS is the secure client port's TLS configuration: the server's
//	// Certificates, and ClientAuth with ClientCAs for the clients'
//	// certificates. zoo.cfg: ssl.keyStore.location (the certificate chain
//	// and its key, in a PEM, JKS or PKCS12 store), ssl.trustStore.location
//	// (the CA certificates), their types and passwords, and ssl.clientAuth
//	// (need, the default as in ZooKeeper, want or none); see ParseZooCfg.
//	// A client whose certificate verified has the identity {"x509", its
//	// subject's distinguished name (RFC 2253)} on that connection, as
//	// ZooKeeper's X509AuthenticationProvider gives it; x509 ACL entries
//	// match it.
//	ClientTLS *tls.Config
//
//	// ClientPortUnification serves TLS clients on the plain client port
//	// too, with ClientTLS, as ZooKeeper's client.portUnification (zoo.cfg
//	// key client.portUnification=true): a connection whose first byte
//	// starts a TLS handshake record is served over TLS, any other in plain
//	// text. Clients can then move to TLS one by one on the same port.
//	ClientPortUnification bool
//
//	// X509SuperUser is the distinguished name of the client certificate that
//	// passes every ACL check (zoo.cfg X509AuthenticationProvider.superUser).
//	X509SuperUser string
//
//	// FourLetterWords lists the four-letter words the client port answers
//	// (zoo.cfg 4lw.commands.whitelist, "*" for all of them); srvr is always
//	// answered, as in ZooKeeper.
//	FourLetterWords []string
//
//	// ClientIO chooses how the client port does its socket I/O, as
//	// ZooKeeper's serverCnxnFactory chooses between NIO and Netty (zoo.cfg
//	// key zk.clientIO). By default ("") it serves every connection from one
//	// io_uring where the kernel allows it (Linux 5.12 or later, unless a
//	// seccomp filter or io_uring_disabled refuses it), and otherwise gives
//	// each connection a reader goroutine of its own. ClientIOUring insists on
//	// io_uring (the client port fails to start where the kernel refuses it);
//	// ClientIOGoroutines insists on a goroutine per connection.
//	// The ring's thread waits in the kernel while it holds a P: a host
//	// that serves many clients may run with one P more than its cores, as
//	// examples/server does (GOMAXPROCS).
//	ClientIO string
//
//	// The AdminServer: ZooKeeper's commands over HTTP, each answered as a
//	// JSON object (GET AdminCommandURL/<command>, such as
//	// /commands/monitor or /commands/ruok; the URL alone lists them), as
//	// ZooKeeper 3.5 and later serve them. zk.NewEnsemble starts it.
//	//
//	// AdminServerPort is its TCP port (zoo.cfg admin.serverPort): 0 leaves
//	// it off, -1 picks a free port (Ensemble.AdminAddr tells which). zoo.cfg
//	// turns it on at 8080 unless admin.enableServer=false, as ZooKeeper
//	// does. A port that cannot be bound is logged and the peer runs without
//	// it, as a ZooKeeper quorum peer does.
//	AdminServerPort int
//
//	// AdminServerAddress is its listen address (zoo.cfg
//	// admin.serverAddress; default every address).
//	AdminServerAddress string
//
//	// AdminCommandURL is the path of the commands (zoo.cfg
//	// admin.commandURL; default DefaultAdminCommandURL).
//	AdminCommandURL string
//
//	// AdminIdleTimeout bounds each read and write of an HTTP connection,
//	// and closes one idle that long (zoo.cfg admin.idleTimeout, in ms;
//	// default 30 s).
//	AdminIdleTimeout time.Duration
//
//	// AdminTLS serves the AdminServer over HTTPS only, with its
//	// Certificates (zoo.cfg admin.forceHttps=true; ZooKeeper takes the key
//	// and trust stores of ssl.quorum.keyStore.* and ssl.quorum.trustStore.*
//	// for it, whatever sslQuorum says). Clients' certificates are not asked
//	// for, as in ZooKeeper. With AdminPortUnification (zoo.cfg
//	// admin.portUnification=true) the port serves HTTPS and plain HTTP,
//	// told apart by a connection's first byte. HTTPS answers carry
//	// Strict-Transport-Security, as ZooKeeper's do.
//	AdminTLS *tls.Config
//
//	AdminPortUnification bool
//
//	// EnforceQuota makes the leader refuse, with ErrQuotaExceeded, a create
//	// or set that would take a subtree past a hard quota (Session.SetQuota),
//	// as ZooKeeper's zookeeper.enforceQuota (zoo.cfg key enforceQuota).
//	// Without it, hard limits only warn and count, as soft ones do. The
//	// leader's setting decides: followers never check.
//	EnforceQuota bool
//
//	// TreeCacheSize is the bytes of Pebble's block cache, the tree's most
//	// recently read table blocks (default znode.DefaultCacheSize).
//	TreeCacheSize int64
//
//	// TreeMemTableSize is the size of Pebble's memtable, where the latest
//	// writes wait for their flush to a table: up to two are held while one
//	// flushes (default znode.DefaultMemTableSize, 16 MiB). The tree flushes
//	// every half memtable of writes (or 8,192 txns), which bounds what a
//	// restart after a crash replays; smaller memtables flush, and compact
//	// the whole key space, more often.
//	TreeMemTableSize int64
//
//	// TreeValueCacheSize bounds the cache of node values that the leader's
//	// pipeline, the apply and the sessions' reads (getData, exists) read
//	// before Pebble: a create's parent, a setData's node, the session of
//	// an ephemeral, a node read often (default znode.DefaultValueCacheSize;
//	// negative: no cache).
//	// A read that finds its node in neither cache costs a Pebble lookup,
//	// 10–17 times the CPU of a cached one (znode's BenchmarkGetRandom100k):
//	// a host whose clients read a large tree at random may size this cache
//	// and TreeCacheSize to what they read.
//	TreeValueCacheSize int64
//
//	// Registerer, if set, receives this peer's Prometheus metrics, named as
//	// ZooKeeper names them where it has a name (metrics.go lists them). Nil
//	// means no metrics: nothing is measured and nothing is registered
//	// anywhere (zk has no global registry). The metrics carry no label that
//	// tells peers apart, so several ensembles on one registry each need
//	// their own labels: prometheus.WrapRegistererWith(prometheus.Labels{
//	// "server": "1"}, reg) (zk's metrics use the labels key, learner and
//	// state). NewEnsemble fails if a name is registered already; Close
//	// unregisters them.
//	Registerer prometheus.Registerer
//
//	// MetricsHTTPAddress is where a host may serve the metrics over HTTP
//	// (at /metrics); the library itself serves nothing. ParseZooCfg sets it
//	// from metricsProvider.httpHost and metricsProvider.httpPort (defaults
//	// 0.0.0.0 and 7000, as ZooKeeper's) when metricsProvider.className is
//	// ZooKeeper's PrometheusMetricsProvider; examples/server serves it.
//	MetricsHTTPAddress string
//
//	// ReadOnlyMode lets this peer, cut off from a quorum, keep serving
//	// reads to the sessions that allow it (WithReadOnly), as ZooKeeper's
//	// readonlymode.enabled (a zoo.cfg key here): writes are refused with
//	// ErrNotReadOnly and such sessions report StateConnectedReadOnly until
//	// the quorum is back. Off by default, as in ZooKeeper. See the package
//	// documentation of internal/engine (readonly.go) for what a read-only
//	// read guarantees.
//	ReadOnlyMode bool
//
//	// LocalSessions is ZooKeeper's localSessionsEnabled (zoo.cfg): a
//	// session opened here is local to this peer (nothing proposed to open
//	// or close it, its timeout counted here); it expires if reattached on
//	// another peer or when this peer loses its leader, and an ephemeral
//	// create upgrades it (LocalSessionsUpgrading) or fails with
//	// ErrEphemeralOnLocalSession. A standalone peer ignores it. Off by
//	// default. See the package documentation of internal/engine.
//	LocalSessions bool
//
//	// LocalSessionsUpgrading is ZooKeeper's localSessionsUpgradingEnabled
//	// (zoo.cfg): with LocalSessions, an ephemeral create makes a local
//	// session one of the ensemble first. Off by default, as zoo.cfg's.
//	LocalSessionsUpgrading bool
//
//	// ReconfigEnabled allows Ensemble.Reconfig (zoo.cfg reconfigEnabled),
//	// off by default as in ZooKeeper: Reconfig then fails with
//	// ErrReconfigDisabled. It does not gate /zookeeper/config: the first
//	// leader of a multi-peer ensemble writes the static configuration
//	// there either way, as ZooKeeper does.
//	ReconfigEnabled bool
//
//	// StandaloneDisabled is zoo.cfg's standaloneEnabled=false (ParseZooCfg
//	// sets it): a reconfig may then leave a single participant, as
//	// ZooKeeper's may with that setting ("at least 1 follower"); without
//	// it a new configuration needs at least 2, ZooKeeper's rule with its
//	// default. The leader's setting decides. (ParseZooCfg also keeps a
//	// zoo.cfg of one voting server an ensemble with it; a Config whose
//	// Servers list one voter is an ensemble of one either way.)
//	StandaloneDisabled bool
//
//	// DynamicConfigFile, if set, is rewritten with the configuration (in
//	// /zookeeper/config's format) each time a reconfig is applied here, as
//	// ZooKeeper rewrites its dynamic configuration file; ParseZooCfg reads
//	// the membership from it. A restarted peer takes its membership from
//	// its own tree when a reconfig was applied, from Servers otherwise.
//	DynamicConfigFile string
//
//	// InitialConfig is the text of the zoo.cfg the configuration was read
//	// from (ParseZooCfg and LoadZooCfg set it), which the AdminServer's
//	// initial_configuration command answers, as ZooKeeper's.
//	InitialConfig string
//
//	// MembershipPolicy, if set (on every peer, with ReconfigEnabled), lets
//	// the leader replace a voter that has been out of sync for a while by
//	// a synced observer; see MembershipPolicy. Beyond ZooKeeper; nil: off.
//	MembershipPolicy *MembershipPolicy
//
//	// Rejoin lets a server that a committed configuration removed, and
//	// that stopped since, come back with its data directory: restarted
//	// with Rejoin (and Servers listing it), it joins as a new server does,
//	// counting in no quorum until a reconfig adds it again. Without it, a
//	// removed server stays removed after a restart (Status.Removed), so
//	// that one restarted unchanged does not rejoin by accident. A server no
//	// configuration removed ignores it. (A removed server that keeps running
//	// needs no restart: a reconfig can add it back.)
//	Rejoin bool
//
//	// TestHooks is for zk's own tests (its deterministic simulation crashes
//	// peers at named points through it); leave it nil.
//	TestHooks *hooks.Hooks
//
// Methods:
//
//	// Validate reports the first problem with c (after defaults are applied),
//	// naming the field.
//	func (c Config) Validate() error
type Config = engine.Config

// EventListener holds optional callbacks. They run on the peer's own
// goroutine: keep them short and never call back into the Ensemble from one.
//
// Fields:
//
//	// StatusChanged reports a change of mode, leader, epoch or serving.
//	StatusChanged func(Status)
//
//	// SessionExpired reports a session closed by expiry.
//	SessionExpired func(sessionID int64)
//
//	// Failed reports the error that stopped the peer (a disk failure, a
//	// divergence between replicas). The peer serves nothing after it.
//	Failed func(error)
type EventListener = engine.EventListener

// Ensemble is this process's peer of a ZooKeeper ensemble (or a standalone
// ensemble of one). Its methods are safe for concurrent use.
//
// Methods:
//
//	// AdminAddr returns the address of the AdminServer's HTTP port
//	// (Config.AdminServerPort), or "" when it is off or could not be bound.
//	func (e *Ensemble) AdminAddr() string
//
//	// Barrier returns once the peer has handled every transport event already
//	// queued for it, and everything they caused locally (persisting, applying,
//	// answering, sending). With a manually driven in-memory network it lets a
//	// test (or a simulation) run an ensemble step by step, deterministically.
//	func (e *Ensemble) Barrier(ctx context.Context) error
//
//	// ClientAddr returns the address ZooKeeper clients connect to (the client
//	// port's listener), or "" when Config.ClientPort is not set.
//	func (e *Ensemble) ClientAddr() string
//
//	// Close stops the peer: every goroutine it started is gone when it returns.
//	// Sessions attached to it fail with ErrClosed from then on; their state in
//	// the ensemble is untouched (they may be re-attached elsewhere, or expire).
//	// Close returns the failure that stopped a failed peer, and an error of
//	// its storage (a flush the disk refused): what the tree could not flush is
//	// replayed from the log at the next start. Close always returns; a second
//	// Close returns nil. With Config.AuditEnabled the first Close logs
//	// serverStop (invoked) before it stops anything.
//	func (e *Ensemble) Close() error
//
//	// ClusterConfig returns the configuration this peer has applied.
//	func (e *Ensemble) ClusterConfig() ClusterConfig
//
//	// ExpireSession expires a session on purpose, as Curator's KillSession does
//	// in tests: the ensemble closes it as if its timeout had passed, its
//	// ephemeral nodes go, and its handle (wherever it is attached) moves to
//	// StateExpired. For tests, of this repository and of host applications.
//	func (e *Ensemble) ExpireSession(ctx context.Context, id int64) error
//
//	// NewSession opens a session attached to this peer. It waits (within ctx)
//	// until the peer serves, then commits the session through the leader. If
//	// the peer closes once the session is committed, the handle it returns has
//	// ended (StateClosed), as every handle attached to the peer has.
//	func (e *Ensemble) NewSession(ctx context.Context, opts ...SessionOption) (*Session, error)
//
//	// Reattach attaches an existing session (made on this or another peer) to
//	// this peer by id and password, as a ZooKeeper client reconnecting
//	// elsewhere. An unknown id or a wrong password fails with ErrSessionExpired,
//	// as in ZooKeeper; a wrong password for a session this peer's tree holds
//	// fails at once, even while the peer is not serving. Before it returns,
//	// this peer has applied everything the ensemble had committed (a Sync
//	// round), so a session never goes back in time by moving to a peer that
//	// lags.
//	// It also makes this peer the session's owner at the leader: a write of
//	// the session still on its way from the peer it was attached to before
//	// then fails with ErrSessionMoved and changes nothing (ZooKeeper's
//	// SESSIONMOVED), so no write is applied after one the client sent later.
//	func (e *Ensemble) Reattach(ctx context.Context, id int64, password []byte, opts ...SessionOption) (*Session, error)
//
//	// Reconfig changes the ensemble's membership (ZooKeeper's reconfig) and
//	// returns the new configuration. It needs Config.ReconfigEnabled
//	// (ErrReconfigDisabled otherwise, as ZooKeeper). The change is a
//	// transaction ordered like any write: while it is pending every commit
//	// needs a quorum of the old and of the new configuration, then the new
//	// one alone governs; /zookeeper/config shows it. Refused: a change while
//	// another is in progress, or before the leader applied the last committed
//	// one (ErrReconfigInProgress), a new configuration of
//	// which no quorum is connected and synced with the leader
//	// (ErrNewConfigNoQuorum: start a new server, listing the current members
//	// and itself, before adding it), a bad request or a new configuration
//	// with fewer than 2 participants, 1 with StandaloneDisabled
//	// (ErrBadArguments, as ZooKeeper), a
//	// FromConfig that is not the current version (ErrBadVersion), a
//	// standalone peer (ErrUnimplemented, as ZooKeeper). Ids to remove that are
//	// not members are ignored, and a change with nothing to add or remove
//	// commits the same servers under a new version, as in ZooKeeper. A removed
//	// server keeps following and serving as a non-voting member, counted in no
//	// quorum (Status.RemovedBy), as ZooKeeper's does, until a reconfig adds it
//	// back or it stops; a leader that removes itself hands over to a leader the
//	// new voters elect, and follows it. Restarted while removed, a server
//	// serves nothing (Status.Removed); to add it back, restart it with
//	// Config.Rejoin (it keeps its DataDir and joins as a new server does; the
//	// leader syncs it) or with an empty DataDir, then add it with a reconfig.
//	// With Config.AuditEnabled its outcome is logged, operation=reconfig, as
//	// the host's: without session or ip, as the server's user (auditor.host).
//	func (e *Ensemble) Reconfig(ctx context.Context, req ReconfigRequest) (ClusterConfig, error)
//
//	// SecureClientAddr returns the address ZooKeeper clients connect to over
//	// TLS (the secure client port's listener), or "" when
//	// Config.SecureClientPort is not set.
//	func (e *Ensemble) SecureClientAddr() string
//
//	// Status returns what the peer is doing now.
//	func (e *Ensemble) Status() Status
//
//	// Tick advances a ManualClock ensemble by one tick (a tenth of TickTime) and
//	// returns once the peer has handled it and everything it caused locally.
//	// It is an error on an ensemble with a real clock.
//	func (e *Ensemble) Tick(ctx context.Context) error
//
//	// WaitServing waits until the peer serves (it is part of a working quorum),
//	// ticking a ManualClock ensemble as it waits.
//	func (e *Ensemble) WaitServing(ctx context.Context) error
type Ensemble = engine.Ensemble

// Op is one operation of a Multi: build it with CreateOp, DeleteOp, SetOp or
// CheckOp.
//
// Methods:
//
//	// Path returns the path the op works on.
//	func (o Op) Path() string
//
//	// Within returns the op moved below root, as ZooKeeper's chroot moves a
//	// client's paths: "/" is root itself and "/a" is root+"/a". The op's path
//	// must be absolute (ErrInvalidPath), so the result never leaves root once
//	// the session has validated it (".." is no path component); and a create
//	// of "/" is refused (ErrBadArguments): it would make root itself or, with a
//	// sequential mode, a sibling of root. Everything else about the op stays.
//	func (o Op) Within(root string) (Op, error)
type Op = engine.Op

// OpResult is the outcome of one op of a Multi. For a failed multi, the ops
// before the one that failed have a nil Err, that op its error, and the ops
// after it ErrRuntimeInconsistency, as ZooKeeper reports them.
//
// Fields:
//
//	Path string // the created path, for a create
//	Stat Stat // the node's Stat after a create or set
//	Err error
type OpResult = engine.OpResult

// ReadOp is one read of a MultiRead: GetDataOp or GetChildrenOp.
//
// Methods:
//
//	// Path returns the path the read works on.
//	func (o ReadOp) Path() string
//
//	// Within returns the read moved below root, as Op.Within.
//	func (o ReadOp) Within(root string) (ReadOp, error)
type ReadOp = engine.ReadOp

// ReadResult is the outcome of one ReadOp.
//
// Fields:
//
//	Data []byte
//	Children []string
//	Stat Stat
//	Err error
type ReadResult = engine.ReadResult

// CreateOption configures Create.
type CreateOption = engine.CreateOption

// Session is a ZooKeeper session attached to this peer: the handle every
// data operation goes through. Its ephemeral nodes live as long as it does;
// its requests complete in the order they were issued (FIFO), and it reads its
// own writes. Methods are safe for concurrent use; calls made concurrently
// are ordered as they entered the session.
//
// Methods:
//
//	// AddAuth adds an identity to the session, as ZooKeeper's addauth:
//	//   - "digest": auth is any credential, usually "user:password", even
//	//     empty (non-nil); the identity is "user:" + base64(sha1(auth)) (the
//	//     hash is Config.DigestAlg's), user being what precedes the first
//	//     colon (all of auth if it has none), exactly as ZooKeeper's
//	//     DigestAuthenticationProvider computes it, so existing ZooKeeper
//	//     digest ACLs and super digests work. A digest equal to
//	//     Config.SuperDigest makes the session the super user. A nil auth is
//	//     a null credential, which ZooKeeper refuses (AUTHFAILED, the
//	//     connection closed): it fails with ErrAuthFailed, as every digest
//	//     credential does with Config.NoDigestAuth.
//	//   - "ip": accepted and ignored. The ip identity is where the client really
//	//     connects from, declared by the host with WithClientAddr; a session
//	//     cannot claim an address (ZooKeeper's IPAuthenticationProvider also
//	//     ignores what the client sends).
//	//
//	// Any other scheme fails with ErrAuthFailed and changes nothing.
//	func (s *Session) AddAuth(ctx context.Context, scheme string, auth []byte) error
//
//	// AddWatch sets a persistent watch on path, recursive or not. A persistent
//	// watch gets NodeCreated, NodeDeleted, NodeDataChanged and
//	// NodeChildrenChanged for path; a recursive one gets the first three for
//	// path and every node below it (and never NodeChildrenChanged). The node
//	// need not exist; the session needs READ on the nodes it hears about. A
//	// session that has Config.MaxWatchesPerSession watches already gets
//	// ErrTooManyWatches.
//	//
//	// Options: FromZxid starts the watch in the past (a gapless resume),
//	// WithEventData attaches the node's data to each event, WithWatchBuffer
//	// bounds the events held, WithRelativePaths reports paths under a root. A
//	// watch with FromZxid or WithEventData is strict: if this peer ever replaces
//	// its tree with a leader's snapshot (it fell too far behind), the watch ends
//	// with NotWatching and an Err wrapping ErrCompacted instead of skipping
//	// changes; resume it with FromZxid (which then fails with ErrCompacted if
//	// this peer's log no longer reaches back: read again).
//	//
//	// A watch never outlives its session: one that ends while AddWatch (or
//	// GetW, ExistsW, ChildrenW) runs makes the call fail with
//	// ErrSessionExpired (ErrClosed if it was closed) and leaves no watch.
//	func (s *Session) AddWatch(ctx context.Context, path string, recursive bool, opts ...WatchOption) (*Watch, error)
//
//	// AllChildrenNumber returns the number of nodes below path (all
//	// descendants), as ZooKeeper's getAllChildrenNumber. It needs READ on path.
//	func (s *Session) AllChildrenNumber(ctx context.Context, path string) (int64, error)
//
//	// Children returns the names of a node's children, sorted, and its Stat. It
//	// needs READ permission.
//	func (s *Session) Children(ctx context.Context, path string) ([]string, Stat, error)
//
//	// ChildrenW is Children that also sets a one-shot child watch: it fires
//	// NodeChildrenChanged when a child is created or deleted, NodeDeleted when
//	// the node goes.
//	func (s *Session) ChildrenW(ctx context.Context, path string) ([]string, Stat, <-chan Event, error)
//
//	// Close closes the session: its ephemeral nodes are deleted and its watches
//	// removed, at once. Calls after Close fail with ErrClosed.
//	func (s *Session) Close(ctx context.Context) error
//
//	// Create makes a node and returns its path (with the sequence suffix for a
//	// sequential mode). data nil makes a node whose data is null, data of
//	// length 0 (non-nil) one whose data is empty: Get tells them apart, as
//	// ZooKeeper's getData returns null or a zero-length array.
//	func (s *Session) Create(ctx context.Context, path string, data []byte, opts ...CreateOption) (string, error)
//
//	// Delete deletes a node if its version is version (-1: any; every other
//	// int32 is compared) and it has no children. It needs DELETE permission on
//	// the parent. ZooKeeper's checks run in its order: a built-in node (/,
//	// /zookeeper, /zookeeper/quota, /zookeeper/config: ErrBadArguments), the
//	// parent exists (ErrNoNode), DELETE on the parent (ErrNoAuth), the node
//	// exists (ErrNoNode), its version (ErrBadVersion), no children
//	// (ErrNotEmpty).
//	func (s *Session) Delete(ctx context.Context, path string, version int32) error
//
//	// DeleteAll deletes path and everything below it, as ZooKeeper's deleteall:
//	// the tree is listed, then deleted leaves first, in multis of up to 1000
//	// deletes. It is not atomic as a whole: if nodes appear meanwhile, it lists
//	// again (up to a few times) until the subtree is gone. The built-in nodes
//	// (/, /zookeeper, /zookeeper/quota, /zookeeper/config), which cannot be
//	// deleted, stay: DeleteAll("/") removes every other node, those users made
//	// below /zookeeper too, and leaves a fresh tree.
//	func (s *Session) DeleteAll(ctx context.Context, path string) error
//
//	// DeleteQuota deletes the quota on path, as zkCli's delquota: with no
//	// limits named, the whole quota (its limits and stats nodes, and the
//	// directories under /zookeeper/quota left empty); otherwise only the limits
//	// named, which become none. A path without a quota is ErrNoNode (zkCli
//	// prints "Quota does not exist").
//	func (s *Session) DeleteQuota(ctx context.Context, path string, limits ...QuotaLimit) error
//
//	// Ephemerals returns the session's ephemeral nodes whose path starts with
//	// prefix ("/" for all), sorted, as ZooKeeper's getEphemerals.
//	func (s *Session) Ephemerals(ctx context.Context, prefix string) ([]string, error)
//
//	// Exists reports whether a node exists, with its Stat. It needs READ
//	// permission on an existing node, as ZooKeeper 3.8.4 and later (and 3.9.2)
//	// check it (ZOOKEEPER-2590; earlier releases returned the Stat of any
//	// node); a missing node needs no permission.
//	func (s *Session) Exists(ctx context.Context, path string) (bool, Stat, error)
//
//	// ExistsW is Exists that also sets a one-shot watch: on an existing node it
//	// fires on its change or deletion, on a missing one on its creation.
//	func (s *Session) ExistsW(ctx context.Context, path string) (bool, Stat, <-chan Event, error)
//
//	// Get returns a node's data and Stat. It needs READ permission. The data
//	// is nil when the node's data is null (created or set with nil data) and a
//	// non-nil empty slice when it is empty, as ZooKeeper keeps them apart; the
//	// caller owns it.
//	func (s *Session) Get(ctx context.Context, path string) ([]byte, Stat, error)
//
//	// GetACL returns a node's ACL and Stat. As in ZooKeeper 3.8 it needs READ or
//	// ADMIN permission, and a caller without ADMIN sees digest ids masked as
//	// "user:x".
//	func (s *Session) GetACL(ctx context.Context, path string) ([]ACL, Stat, error)
//
//	// GetW is Get that also sets a one-shot data watch on the node: the channel
//	// receives one event (NodeDataChanged or NodeDeleted, or NotWatching if the
//	// session ends first) and is then closed. No watch is set if Get fails; a
//	// session that has Config.MaxWatchesPerSession watches already gets
//	// ErrTooManyWatches (and no data) from every call that sets one.
//	func (s *Session) GetW(ctx context.Context, path string) ([]byte, Stat, <-chan Event, error)
//
//	// ID returns the session id (this peer's id in the high byte).
//	func (s *Session) ID() int64
//
//	// Identities returns the session's authenticated identities, as
//	// ZooKeeper's whoAmI (zkCli's whoami) lists them: the ip identity the host
//	// declared with WithClientAddr ({"ip", "10.0.0.7"}), each digest identity
//	// AddAuth added ({"digest", "alice:<base64 sha1>"}; ZooKeeper's whoAmI
//	// shows only the user, before the colon), the SASL user a client port
//	// client authenticated as ({"sasl", "bob"}), the subject of a verified
//	// client certificate ({"x509", "CN=bob,O=example"}) and, right after the
//	// identity that matched Config.SuperDigest, Config.SASLSuperUser or
//	// Config.X509SuperUser, {"super", ""}. They come in the order
//	// the session gained them (a ZooKeeper server lists them in a hash set's
//	// order). The slice is the caller's. It is what the client port answers
//	// to whoAmI.
//	func (s *Session) Identities() []Identity
//
//	// ListQuota returns the quota on path and its usage, as zkCli's listquota
//	// reads them. A path without a quota is ErrNoNode. It needs READ on the
//	// quota's two nodes.
//	func (s *Session) ListQuota(ctx context.Context, path string) (Quota, QuotaUsage, error)
//
//	// Multi runs ops as one transaction: all of them or none. The error is that
//	// of the first op that failed (the per-op results say which).
//	func (s *Session) Multi(ctx context.Context, ops ...Op) ([]OpResult, error)
//
//	// MultiRead runs reads against one state of the tree, as ZooKeeper's
//	// read-only multi: each op succeeds or fails on its own.
//	func (s *Session) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error)
//
//	// Password returns the session password; with the id it re-attaches the
//	// session (Ensemble.Reattach), possibly on another peer.
//	func (s *Session) Password() []byte
//
//	// RemoveWatches removes the session's watches of type typ on path, as
//	// ZooKeeper's removeWatches: each removed watch gets its removal event
//	// (DataWatchRemoved, ChildWatchRemoved or PersistentWatchRemoved) and is
//	// closed. It fails with ErrNoWatcher if none matched.
//	func (s *Session) RemoveWatches(ctx context.Context, path string, typ WatcherType) error
//
//	// Set replaces a node's data if its version is version (-1: any) and returns
//	// the new Stat. It needs WRITE permission. As in Create, nil data is null
//	// and non-nil data of length 0 is empty. Every int32 is a valid expected
//	// version, as in ZooKeeper: the comparison with the node's version decides
//	// (ErrNoNode, ErrBadVersion); a version that passed MaxInt32 is negative.
//	func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error)
//
//	// SetACL replaces a node's ACL if its aversion is aversion (-1: any; every
//	// other int32 is compared). It needs ADMIN permission. The "auth" scheme
//	// stands for the session's digest identities; permission bits are stored as
//	// given, as ZooKeeper stores them.
//	func (s *Session) SetACL(ctx context.Context, path string, acl []ACL, aversion int32) (Stat, error)
//
//	// SetQuota sets limits on the subtree at path, as zkCli's setquota: the
//	// limits given (non-zero) replace the quota's, the others stay as they are
//	// (none, on a new quota). It makes the nodes ZooKeeper makes, under
//	// /zookeeper/quota, in one write: the quota's directories, its
//	// zookeeper_limits node and its zookeeper_stats node, which the server
//	// keeps up to date from then on. It needs CREATE (and WRITE, to change a
//	// quota) on those nodes, which are open by default.
//	//
//	// As zkCli it refuses, with ErrNoNode, a path that does not exist and, with
//	// ErrBadArguments, a quota on a path below or above one that has a quota;
//	// with ErrBadArguments too, a quota on / or in /zookeeper, and negative or
//	// absent limits. Nothing changes then.
//	func (s *Session) SetQuota(ctx context.Context, path string, q Quota) error
//
//	// State returns the session's current state.
//	func (s *Session) State() SessionState
//
//	// States returns the channel of the session's state changes, made with
//	// the session (every call returns it). The library never blocks on it: a
//	// consumer that falls behind misses intermediate states but always gets
//	// the latest one; after StateExpired or StateClosed the channel is closed.
//	// It has one consumer; WatchStates gives others theirs.
//	func (s *Session) States() <-chan SessionState
//
//	// Sync makes the session's next read linearizable: it returns once this
//	// peer has applied everything the ensemble had committed when the leader
//	// received the Sync, confirmed by a quorum round (stronger than ZooKeeper's
//	// sync, which is not). path is validated for compatibility and otherwise
//	// unused: the barrier covers the whole tree.
//	func (s *Session) Sync(ctx context.Context, path string) error
//
//	// Timeout returns the negotiated session timeout.
//	func (s *Session) Timeout() time.Duration
//
//	// WatchStates returns a new channel of the session's state changes from
//	// the call on, as States' channel (the latest state is never missed, and
//	// the channel is closed after StateExpired or StateClosed; after the
//	// session ended, it holds its last state and is closed), so that several
//	// consumers (a recipes.Client and a cache, say) each follow the session,
//	// and stop, which takes the channel back: the session sends no more on
//	// it (it is not closed). Call stop when done with the channel; until then
//	// or the session's end the session keeps it.
//	func (s *Session) WatchStates() (states <-chan SessionState, stop func())
//
//	// Zxid returns the zxid of the state this session reads at its peer now:
//	// every call the session made before it saw a state at most this new, the
//	// peer has applied every change up to it, and every watch event of those
//	// changes is already queued. A consumer that loaded state with any number of
//	// reads, then calls Zxid, holds the state at Zxid once it has also applied
//	// its watch's events up to it (see WithEventData).
//	func (s *Session) Zxid(ctx context.Context) (int64, error)
type Session = engine.Session

// SessionOption configures NewSession.
type SessionOption = engine.SessionOption

// Quota is a quota on a subtree, as ZooKeeper 3.8 keeps it: limits on the
// number of its nodes (its root included) and on the bytes of their data.
// Zero means no limit. A write past a soft limit succeeds, logs a warning
// (Config.Logger) and counts; a create or set past a hard limit fails with
// ErrQuotaExceeded when the leader enforces quotas (Config.EnforceQuota),
// and is treated as past a soft limit otherwise. Set, list and delete
// quotas with Session.SetQuota, ListQuota and DeleteQuota.
//
// Fields:
//
//	Count int64 // soft limit on the number of nodes (zkCli setquota -n)
//	Bytes int64 // soft limit on the bytes of data (setquota -b)
//	CountHard int64 // hard limit on the number of nodes (setquota -N)
//	BytesHard int64 // hard limit on the bytes of data (setquota -B)
type Quota = engine.Quota

// QuotaUsage is what a quota counts: the nodes of its subtree (its root
// included) and the bytes of their data.
//
// Fields:
//
//	Count int64 // nodes in the subtree, its root included
//	Bytes int64 // bytes of their data
type QuotaUsage = engine.QuotaUsage

// QuotaLimit names limits of a Quota, for Session.DeleteQuota.
type QuotaLimit = engine.QuotaLimit

// Stat is a znode's metadata, with ZooKeeper's fields and update rules.
//
// Fields:
//
//	Czxid int64 // zxid of the create
//	Mzxid int64 // zxid of the last data change (the create, at first)
//	Pzxid int64 // zxid of the last change to the children list
//	Ctime int64 // create time, ms since the Unix epoch (leader's clock)
//	Mtime int64 // last data change time, ms
//	Version int32 // number of data changes
//	Cversion int32 // number of child creates and deletes (2 x creates - NumChildren, as ZooKeeper reports it)
//	Aversion int32 // number of ACL changes
//	EphemeralOwner int64 // owning session of an ephemeral node; 0 for every other kind (container and TTL nodes too)
//	DataLength int32
//	NumChildren int32
type Stat = engine.Stat

// ACL is one access control entry.
//
// Fields:
//
//	Perms Perm
//	Scheme string
//	ID string
type ACL = engine.ACL

// Perm is a set of ACL permissions.
//
// Methods:
//
//	// Letters names the permissions of p as ZooKeeper writes them (zkCli's
//	// getAcl, the audit log): the letters of the bits set, in the order c, d,
//	// r, w, a ("cdrwa" for PermAll); other bits are not named.
//	func (p Perm) Letters() string
type Perm = engine.Perm

// Identity is one authenticated identity of a session
// (Session.Identities).
//
// Fields:
//
//	Scheme string
//	ID string
type Identity = engine.Identity

// CreateMode is the kind of node Create makes.
type CreateMode = engine.CreateMode

// Event is a watch event.
//
// Fields:
//
//	Type EventType
//	Path string
//
//	// Zxid is the zxid of the change that caused the event; 0 for removal
//	// and not-watching events.
//	Zxid int64
//
//	// Err says why the watch ended; set on EventNotWatching only.
//	Err error
//
//	// Node is the node's data and Stat right after the change's
//	// transaction, for registrations whose sink attaches it (the engine's
//	// watches with data). It is nil otherwise, for NodeDeleted, and when the
//	// same transaction deleted the node again. Receivers must not modify it.
//	Node *NodeState
type Event = engine.Event

// NodeState is a node's data and Stat as a transaction left them: what an
// event of a watch set WithEventData carries (Event.Node).
//
// Fields:
//
//	Data []byte
//	Stat znode.Stat
type NodeState = engine.NodeState

// WatchOption configures AddWatch.
type WatchOption = engine.WatchOption

// EventType is the kind of a watch event.
//
// Methods:
//
//	// String returns ZooKeeper's name of the event type.
//	func (t EventType) String() string
type EventType = engine.EventType

// WatcherType selects the watches RemoveWatches removes.
//
// Methods:
//
//	// Matches reports whether Remove with this watcher type removes a
//	// registration of kind k.
//	func (w WatcherType) Matches(k Kind) bool
//
//	// String returns ZooKeeper's name of the watcher type.
//	func (w WatcherType) String() string
type WatcherType = engine.WatcherType

// Mode is what a peer is doing.
//
// Methods:
//
//	func (m Mode) String() string
type Mode = engine.Mode

// Status describes a peer at one moment.
//
// Fields:
//
//	Mode Mode
//	ID int64
//	Leader int64 // 0 when unknown
//	Epoch int64
//	LastZxid int64 // last zxid in this peer's log
//	Applied int64 // last zxid applied to this peer's tree
//	Serving bool // part of a working quorum: reads and writes are accepted
//	Peers []int64
//	Sessions int // sessions attached to this peer
//	Requests int // client requests queued or in flight at this peer
//	Err error
//
//	// ConfigVersion is the version of the configuration in effect (0: the
//	// static one). RemovedBy is the version of the committed reconfig that
//	// removed this peer while it ran (0: none, or a later one added it
//	// back): as ZooKeeper's removed server, it keeps following and serving
//	// as a non-voting member, counted in no quorum, until a reconfig adds
//	// it back or it stops. Removed: this peer restarted after a reconfig
//	// removed it, and serves nothing (restart it with Config.Rejoin to take
//	// part again).
//	ConfigVersion int64
//
//	RemovedBy int64
//	Removed bool
//	Why string // why the peer does not serve ("" while it serves)
//	Round int64 // the round (logical clock) of its last election
//	Learners []LearnerStatus // leading: each learner, by id, with its lag (as of the last tick)
//	Znodes int64 // nodes in the tree (ZooKeeper's znode_count is one more: it counts the root twice)
//	Ephemerals int64 // ephemeral nodes (ephemerals_count)
//	DataSize int64 // bytes of every node's path and data (approximate_data_size)
//	Watches int // watch registrations on this peer (ZooKeeper's watch_count counts (session, path) pairs)
//	FsyncP99 time.Duration // 99th percentile of the last 128 fsyncs of the log
type Status = engine.Status

// LearnerStatus is a leader's view of one of its learners
// (Status.Learners).
//
// Fields:
//
//	ID int64
//	Observer bool
//
//	// NonVoting: a follower no configuration counts (a joiner, or a server
//	// a reconfig removed): ZooKeeper's non-voting follower.
//	NonVoting bool
//
//	// Phase is "broadcast" once the learner is synced and gets every
//	// commit; while it joins: "info", "epoch", "acked", "snap", "diff",
//	// "syncing".
//	Phase string
//
//	// Sync is how the leader synced it in this epoch: "DIFF", "TRUNC" (then
//	// DIFF) or "SNAP" (then DIFF); "none" until chosen.
//	Sync string
//
//	// Zxid is how far it has the leader's history: for a follower, the last
//	// zxid it acknowledged (durable on it); for an observer, the last sent.
//	Zxid int64
//
//	// LagTxns is how many entries of the leader's log it lacks (-1 when
//	// they span epochs and cannot be counted without reading the log).
//	LagTxns int64
//
//	// Lag is how long ago the oldest entry it lacks was proposed, to a
//	// tick (TickTime/10): 0 when it lacks none.
//	Lag time.Duration
//
//	// Silent is how long ago the leader last heard from it.
//	Silent time.Duration
type LearnerStatus = engine.LearnerStatus

// SessionState is the state of a Session.
//
// Methods:
//
//	func (s SessionState) String() string
type SessionState = engine.SessionState

// Watch is a persistent watch (ZooKeeper 3.6's addWatch): it stays until
// removed or its session ends. Its consumer pulls the events with Next (or
// Ready and TryNext in a select loop); they wait in a buffer that grows
// with what is queued, up to DefaultWatchBuffer.
//
// Methods:
//
//	// Err reports why the watch ended early: ErrWatchOverflow if its consumer
//	// fell behind, else nil.
//	func (w *Watch) Err() error
//
//	// Next returns the watch's next event, in zxid order, waiting until there is
//	// one or ctx ends (an event already queued is returned even if ctx is done).
//	// The last event of a watch says why it ended: PersistentWatchRemoved, or
//	// NotWatching whose Err is ErrSessionExpired, ErrClosed (the session or the
//	// Ensemble closed) or ErrWatchOverflow (the consumer let DefaultWatchBuffer
//	// events pile up). After that last event Next returns an error: one that
//	// wraps ErrNoWatcher after a removal, else the last event's Err.
//	func (w *Watch) Next(ctx context.Context) (Event, error)
//
//	// NextBatch returns every event of the next transaction together, in
//	// order: the events of one zxid (a multi, a session close that deleted
//	// several ephemerals) come in one batch, so that a consumer never acts on
//	// half a transaction; with WithEventData, applying a batch moves a copy of
//	// the watched nodes from the state at one zxid to the state at the next.
//	// It waits, as Next does, only for the first event; the last event of a
//	// watch comes alone, and after it NextBatch returns Next's error.
//	//
//	// Use NextBatch or Next/TryNext on a watch, not both at once: a batch is
//	// gathered by taking events one by one.
//	func (w *Watch) NextBatch(ctx context.Context) ([]Event, error)
//
//	// Ready returns a channel that holds a value whenever an event is queued or
//	// the watch has ended: receive from it, then take events with TryNext until
//	// it returns false. A value may be stale (TryNext then returns false at
//	// once); the channel is never closed.
//	//
//	// for {
//	// select {
//	// case <-w.Ready():
//	// for ev, ok := w.TryNext(); ok; ev, ok = w.TryNext() {
//	// handle(ev) // the last one says why the watch ended
//	// }
//	// case <-ctx.Done():
//	// return
//	// }
//	// }
//	func (w *Watch) Ready() <-chan struct{}
//
//	// Remove removes the watch; its last event is PersistentWatchRemoved.
//	// Removing a watch that already ended is not an error.
//	func (w *Watch) Remove()
//
//	// TryNext returns the next event if one is queued, without waiting; false
//	// means none is queued now (Next tells whether the watch has ended).
//	func (w *Watch) TryNext() (Event, bool)
type Watch = engine.Watch

// Defaults.
const (
	DefaultTickTime        = engine.DefaultTickTime
	DefaultInitLimit       = engine.DefaultInitLimit
	DefaultSyncLimit       = engine.DefaultSyncLimit
	DefaultSnapCount       = engine.DefaultSnapCount
	DefaultSnapRetainCount = engine.DefaultSnapRetainCount
	DefaultPurgeInterval   = engine.DefaultPurgeInterval
	// DefaultMaxWatchesPerSession is the default Config.MaxWatchesPerSession.
	DefaultMaxWatchesPerSession = engine.DefaultMaxWatchesPerSession
	// DefaultJuteMaxBuffer is ZooKeeper's default jute.maxbuffer (1 MiB -
	// 1), the default Config.JuteMaxBuffer: the largest request.
	DefaultJuteMaxBuffer = engine.DefaultJuteMaxBuffer
	// MinJuteMaxBuffer and MaxJuteMaxBuffer bound Config.JuteMaxBuffer.
	MinJuteMaxBuffer = engine.MinJuteMaxBuffer
	MaxJuteMaxBuffer = engine.MaxJuteMaxBuffer
	// MaxPathLength is the longest znode path zk accepts, in bytes.
	MaxPathLength = engine.MaxPathLength
	// ClientIOUring and ClientIOGoroutines are the values of
	// Config.ClientIO: the client port's connections served from one
	// io_uring (the default where the kernel allows it), or by a reader
	// goroutine each.
	ClientIOUring      = engine.ClientIOUring
	ClientIOGoroutines = engine.ClientIOGoroutines
	// DefaultAdminCommandURL is the path of the AdminServer's commands
	// when Config.AdminCommandURL is unset; DefaultZooCfgAdminPort its port
	// when zoo.cfg turns it on without admin.serverPort (ZooKeeper's
	// defaults).
	DefaultAdminCommandURL = engine.DefaultAdminCommandURL
	DefaultZooCfgAdminPort = engine.DefaultZooCfgAdminPort
	// TicksPerTickTime is how many times zk's internal clock ticks per
	// TickTime.
	TicksPerTickTime = engine.TicksPerTickTime
)

// ZooKeeper's permission bits.
const (
	PermRead   = engine.PermRead
	PermWrite  = engine.PermWrite
	PermCreate = engine.PermCreate
	PermDelete = engine.PermDelete
	PermAdmin  = engine.PermAdmin
	PermAll    = engine.PermAll
)

// Create modes, with ZooKeeper's values.
const (
	ModePersistent                  = engine.ModePersistent
	ModeEphemeral                   = engine.ModeEphemeral
	ModePersistentSequential        = engine.ModePersistentSequential
	ModeEphemeralSequential         = engine.ModeEphemeralSequential
	ModeContainer                   = engine.ModeContainer
	ModePersistentWithTTL           = engine.ModePersistentWithTTL
	ModePersistentSequentialWithTTL = engine.ModePersistentSequentialWithTTL
)

// Event types, with ZooKeeper's values.
const (
	EventNodeCreated            = engine.EventNodeCreated
	EventNodeDeleted            = engine.EventNodeDeleted
	EventNodeDataChanged        = engine.EventNodeDataChanged
	EventNodeChildrenChanged    = engine.EventNodeChildrenChanged
	EventDataWatchRemoved       = engine.EventDataWatchRemoved
	EventChildWatchRemoved      = engine.EventChildWatchRemoved
	EventPersistentWatchRemoved = engine.EventPersistentWatchRemoved
	// EventNotWatching ends a watch that will never fire: its session ended
	// (Err is ErrSessionExpired or ErrClosed) or it overflowed
	// (ErrWatchOverflow).
	EventNotWatching = engine.EventNotWatching
)

// Watcher types, with ZooKeeper's values.
const (
	WatcherChildren            = engine.WatcherChildren
	WatcherData                = engine.WatcherData
	WatcherAny                 = engine.WatcherAny
	WatcherPersistent          = engine.WatcherPersistent
	WatcherPersistentRecursive = engine.WatcherPersistentRecursive
)

// The limits of a Quota.
const (
	QuotaCount     = engine.QuotaCount     // the soft count (zkCli delquota -n)
	QuotaBytes     = engine.QuotaBytes     // the soft bytes (delquota -b)
	QuotaCountHard = engine.QuotaCountHard // the hard count (delquota -N)
	QuotaBytesHard = engine.QuotaBytesHard // the hard bytes (delquota -B)
)

// Modes.
const (
	ModeStandalone = engine.ModeStandalone
	ModeLooking    = engine.ModeLooking
	ModeFollowing  = engine.ModeFollowing
	ModeLeading    = engine.ModeLeading
	ModeObserving  = engine.ModeObserving
	ModeFailed     = engine.ModeFailed
	ModeClosed     = engine.ModeClosed
	// ModeReadOnly: cut off from a quorum, the peer serves reads to the
	// sessions that allow it (Config.ReadOnlyMode).
	ModeReadOnly = engine.ModeReadOnly
)

// Session states.
const (
	// StateConnected: the session's peer serves; calls go through.
	StateConnected = engine.StateConnected
	// StateDisconnected: the peer lost its quorum; calls fail with
	// ErrNotServing until it is back, and the session may expire meanwhile.
	StateDisconnected = engine.StateDisconnected
	// StateExpired: the ensemble expired the session; every call fails with
	// ErrSessionExpired. Terminal.
	StateExpired = engine.StateExpired
	// StateClosed: the session was closed (or its Ensemble closed); calls
	// fail with ErrClosed. Terminal.
	StateClosed = engine.StateClosed
	// StateConnectedReadOnly: the session's peer is in read-only mode
	// (Config.ReadOnlyMode, and the session allows it: WithReadOnly);
	// reads go through, writes and Sync fail with ErrNotReadOnly.
	// ZooKeeper's ConnectedReadOnly.
	StateConnectedReadOnly = engine.StateConnectedReadOnly
)

// DefaultWatchBuffer is the most events a persistent watch holds for its
// consumer; a consumer that lets that many pile up loses the watch
// (ErrWatchOverflow), never an event silently. The buffer grows with what is
// queued: an idle watch holds none.
const (
	DefaultWatchBuffer = engine.DefaultWatchBuffer
)

// ErrInvalidConfig wraps every error Config.Validate returns; the message names
// the field.
var (
	ErrInvalidConfig = engine.ErrInvalidConfig
)

// Errors, with ZooKeeper's names. Every error zk returns wraps one of these;
// test them with errors.Is.
var (
	ErrNoNode                  = engine.ErrNoNode
	ErrNodeExists              = engine.ErrNodeExists
	ErrBadVersion              = engine.ErrBadVersion
	ErrNotEmpty                = engine.ErrNotEmpty
	ErrNoChildrenForEphemerals = engine.ErrNoChildrenForEphemerals
	ErrNoAuth                  = engine.ErrNoAuth
	ErrInvalidACL              = engine.ErrInvalidACL
	ErrAuthFailed              = engine.ErrAuthFailed
	ErrBadArguments            = engine.ErrBadArguments
	ErrInvalidPath             = engine.ErrInvalidPath
	ErrRequestTooLarge         = engine.ErrRequestTooLarge
	ErrSessionExpired          = engine.ErrSessionExpired
	ErrSessionMoved            = engine.ErrSessionMoved
	ErrConnectionLoss          = engine.ErrConnectionLoss
	ErrNotServing              = engine.ErrNotServing
	ErrOutcomeUnknown          = engine.ErrOutcomeUnknown
	ErrNoWatcher               = engine.ErrNoWatcher
	ErrWatchOverflow           = engine.ErrWatchOverflow
	ErrTooManyWatches          = engine.ErrTooManyWatches
	ErrRuntimeInconsistency    = engine.ErrRuntimeInconsistency
	ErrDataInconsistency       = engine.ErrDataInconsistency
	ErrUnimplemented           = engine.ErrUnimplemented
	ErrSystem                  = engine.ErrSystem
	ErrClosed                  = engine.ErrClosed
	// ErrQuotaExceeded is ZooKeeper's QUOTAEXCEEDED (-125): with
	// Config.EnforceQuota, a create or set that would take a subtree past a
	// hard quota.
	ErrQuotaExceeded = engine.ErrQuotaExceeded
	ErrCompacted     = engine.ErrCompacted
	// ErrNotReadOnly is ZooKeeper's NOTREADONLY (-119): a peer in read-only
	// mode refuses a write or a Sync.
	ErrNotReadOnly = engine.ErrNotReadOnly
	// ErrEphemeralOnLocalSession is ZooKeeper's EPHEMERALONLOCALSESSION
	// (-120): with Config.LocalSessions and without
	// LocalSessionsUpgrading, a local session may not create an ephemeral
	// node.
	ErrEphemeralOnLocalSession = engine.ErrEphemeralOnLocalSession
	// Reconfig's refusals (ZooKeeper's RECONFIGDISABLED, RECONFIGINPROGRESS
	// and NEWCONFIGNOQUORUM).
	ErrReconfigDisabled   = engine.ErrReconfigDisabled
	ErrReconfigInProgress = engine.ErrReconfigInProgress
	ErrNewConfigNoQuorum  = engine.ErrNewConfigNoQuorum
)

// DigestAuth returns the digest identity ZooKeeper computes for user and
// password with its default hash: "user:" + base64(sha1("user:password")).
// Use it to build Config.SuperDigest or digest ACLs; DigestAuthWith
// computes it for another Config.DigestAlg.
func DigestAuth(user, password string) string { return engine.DigestAuth(user, password) }

// DigestAuthWith returns the digest identity ZooKeeper computes for user
// and password with the hash alg, named as Config.DigestAlg names it
// (empty is SHA-1): "user:" + base64(alg("user:password")). An unknown alg
// fails with ErrBadArguments.
func DigestAuthWith(alg, user, password string) (string, error) {
	return engine.DigestAuthWith(alg, user, password)
}

// Version is the server version a peer's client port reports (the
// four-letter words srvr, stat, mntr and conf, the AdminServer), in
// ZooKeeper 3.8's shape: "<version>, built on <yyyy-MM-dd HH:mm> UTC", where
// the version is the ZooKeeper protocol zk speaks, marked as zk's
// ("3.8.0-zk"), and the build time is the running executable's
// modification time.
func Version() string { return wire.FullVersion() }

// NewEnsemble opens (or creates) this peer's storage, recovers its state and
// starts it. With no Servers it is a standalone ensemble of one; otherwise it
// joins the ensemble the Servers describe. It returns once the peer runs;
// NewSession waits until it serves. With Config.ClientPort set it also
// serves ZooKeeper's client protocol there (zkCli.sh, kazoo, Curator and
// go-zookeeper connect to it); Close stops it.
func NewEnsemble(cfg Config) (*Ensemble, error) { return wire.NewEnsemble(cfg) }

// CreateOp creates a node (WithParents and WithStat are not supported in a
// multi).
func CreateOp(path string, data []byte, opts ...CreateOption) Op {
	return engine.CreateOp(path, data, opts...)
}

// DeleteOp deletes a node if its version is version (-1: any).
func DeleteOp(path string, version int32) Op { return engine.DeleteOp(path, version) }

// SetOp sets a node's data if its version is version (-1: any).
func SetOp(path string, data []byte, version int32) Op { return engine.SetOp(path, data, version) }

// CheckOp fails the multi unless the node's version is version (-1: the node
// exists). It needs READ permission.
func CheckOp(path string, version int32) Op { return engine.CheckOp(path, version) }

// GetDataOp reads a node's data.
func GetDataOp(path string) ReadOp { return engine.GetDataOp(path) }

// GetChildrenOp lists a node's children.
func GetChildrenOp(path string) ReadOp { return engine.GetChildrenOp(path) }

// WithMode sets the kind of node (default ModePersistent).
func WithMode(m CreateMode) CreateOption { return engine.WithMode(m) }

// WithACL sets the node's ACL (default OpenACLUnsafe).
func WithACL(acl ...ACL) CreateOption { return engine.WithACL(acl...) }

// WithTTL sets the TTL of a ModePersistentWithTTL or
// ModePersistentSequentialWithTTL node, in milliseconds resolution.
func WithTTL(d time.Duration) CreateOption { return engine.WithTTL(d) }

// WithParents creates missing parents as persistent nodes with the same ACL
// first, as kazoo's makepath and Curator's creatingParentsIfNeeded.
func WithParents() CreateOption { return engine.WithParents() }

// WithStat fills *st with the created node's Stat (ZooKeeper's create2).
func WithStat(st *Stat) CreateOption { return engine.WithStat(st) }

// WithSessionTimeout requests a session timeout; the ensemble negotiates it
// into [MinSessionTimeout, MaxSessionTimeout]. Default: MaxSessionTimeout/2.
func WithSessionTimeout(d time.Duration) SessionOption { return engine.WithSessionTimeout(d) }

// WithClientAddr declares the address the session's client really connects
// from (an IP address, or ip:port): the session's only "ip" identity, as
// ZooKeeper takes it from the connection. A host serving remote clients
// passes each one's address here; AddAuth("ip", ...) never claims one.
func WithClientAddr(addr string) SessionOption { return engine.WithClientAddr(addr) }

// FromZxid starts a watch after zxid instead of now: a gapless resume from
// the transaction log, then live (see Session.AddWatch). It fails with
// ErrCompacted when the log no longer reaches back that far.
func FromZxid(zxid int64) WatchOption { return engine.FromZxid(zxid) }

// WithEventData attaches to each event the node's data and Stat right after
// the transaction that caused it (Event.Node).
func WithEventData() WatchOption { return engine.WithEventData() }

// WithWatchBuffer sets how many events a watch holds for its consumer
// (default DefaultWatchBuffer).
func WithWatchBuffer(n int) WatchOption { return engine.WithWatchBuffer(n) }

// WithRelativePaths reports a watch's event paths relative to root, as a
// chroot would.
func WithRelativePaths(root string) WatchOption { return engine.WithRelativePaths(root) }

// WithReadOnly lets a peer in read-only mode (Config.ReadOnlyMode) serve the
// session, as ZooKeeper's canBeReadOnly: while its peer is cut off from a
// quorum the session is in StateConnectedReadOnly, its reads go through
// (never newer than the peer's state, never older than what the session
// saw) and its writes and Syncs fail with ErrNotReadOnly. NewSession with
// it on a peer in read-only mode returns at once with a session of that
// peer alone, which joins the ensemble with the same id and password when
// the quorum is back (StateConnected).
func WithReadOnly() SessionOption { return engine.WithReadOnly() }

// OpenACLUnsafe gives every permission to anyone (ZooKeeper's
// Ids.OPEN_ACL_UNSAFE). It is the default ACL of Create.
func OpenACLUnsafe() []ACL { return engine.OpenACLUnsafe() }

// CreatorAllACL gives every permission to the identities the session has
// authenticated (ZooKeeper's Ids.CREATOR_ALL_ACL).
func CreatorAllACL() []ACL { return engine.CreatorAllACL() }

// ReadACLUnsafe lets anyone read (ZooKeeper's Ids.READ_ACL_UNSAFE).
func ReadACLUnsafe() []ACL { return engine.ReadACLUnsafe() }

// DigestACL gives perms to the holder of user's password, its id hashed
// with SHA-1, ZooKeeper's default digest algorithm; with another
// Config.DigestAlg, build the ACL from DigestAuthWith's id.
func DigestACL(perms Perm, user, password string) ACL { return engine.DigestACL(perms, user, password) }

// ParseZooCfg reads a ZooKeeper zoo.cfg into a Config, so a ZooKeeper user can
// bring their files. myid is the content of the data directory's myid file
// (nil for a standalone configuration; LoadZooCfg reads it). Keys zk has no
// use for (metrics providers other than Prometheus, admin.httpVersion, ...)
// are returned in ignored so the caller can log them; malformed values are
// errors naming the key and line. The result still needs Validate. The
// zoo.cfg text is kept in Config.InitialConfig.
//
// clientPort and clientPortAddress set the client port, or the client
// address of the peer's own server line (server.N=host:quorumPort:electionPort;[host:]port),
// as ZooKeeper 3.5 and later read it. A configuration of one voting server
// runs standalone (no Servers), as ZooKeeper's does with standaloneEnabled=true,
// its default, unless standaloneEnabled=false or reconfigEnabled=true (zk's
// quorum of one can grow by reconfig). The AdminServer is on at 0.0.0.0:8080
// unless admin.enableServer=false (Config.AdminServerPort).
//
// A replicated peer needs peer authentication, which zoo.cfg gives with
// these keys (files are read now; relative paths are relative to the
// working directory, as ZooKeeper's):
//
//	quorum.auth.secret.location      a file holding the shared secret (Config.PeerSecret):
//	                                 random bytes, at least 16, the same on every peer; one
//	                                 trailing newline is not part of it
//	sslQuorum=true                   mutual TLS between peers (Config.PeerTLS):
//	ssl.quorum.certificate.location  this peer's certificate chain (PEM); the certificate must
//	                                 carry the DNS name zk-peer-<myid>
//	ssl.quorum.privateKey.location   its private key, unencrypted PEM
//	ssl.quorum.keyStore.location     instead of the two above, a key store with both
//	ssl.quorum.trustStore.location   the CA certificates peers are verified against
//
// The stores are PEM, JKS or PKCS12 files (the *.type keys, or guessed from
// the file name as ZooKeeper guesses it), opened with the *.password keys
// or the files the *.passwordPath keys name. Without sslQuorum=true the
// TLS files are not read (as in ZooKeeper) and their keys are returned in
// ignored. With both a secret and TLS, peers must pass both.
//
// secureClientPort serves the client protocol over TLS (Config.ClientTLS)
// from stores of the same kinds: ssl.keyStore.location (the server's
// certificate chain and key), ssl.trustStore.location (the CAs clients'
// certificates are verified against), ssl.clientAuth (need, want or none),
// and ssl.protocol, ssl.enabledProtocols and ssl.ciphersuites as ZooKeeper
// 3.8 reads them (TLSv1.2 and its ECDHE suites by default). superUser
// and X509AuthenticationProvider.superUser name the SASL and x509 super
// users; the SASL users come from a JAAS file (LoadJAAS). enforce.auth.enabled
// with enforce.auth.schemes, or sessionRequireClientSASLAuth, sets
// Config.EnforceAuthSchemes.
//
// autopurge.purgeInterval is in hours; 0 or absent means no purge, as in
// ZooKeeper: PurgeInterval is then negative and no snapshot or log file is
// ever deleted. (A Config made in code purges hourly by default.)
func ParseZooCfg(r io.Reader, myid []byte) (cfg Config, ignored []string, err error) {
	return engine.ParseZooCfg(r, myid)
}

// LoadZooCfg reads the zoo.cfg file at path and the myid file in its dataDir
// (if there is one) into a Config; see ParseZooCfg.
func LoadZooCfg(path string) (Config, []string, error) { return engine.LoadZooCfg(path) }

// LoadJAAS reads the SASL DIGEST-MD5 users (Config.SASLUsers) from a JAAS
// configuration file, as ZooKeeper's server reads the one its
// java.security.auth.login.config names: the user_<name>="<password>"
// options of DigestLoginModule in the section "Server".
func LoadJAAS(path string) (map[string]string, error) { return engine.LoadJAAS(path) }
