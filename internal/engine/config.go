package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab/transport"
)

// ErrInvalidConfig wraps every error Config.Validate returns; the message names
// the field.
var ErrInvalidConfig = errors.New("zk: invalid config")

// Server is one member of a replicated ensemble, as zoo.cfg's
// server.N=host:quorumPort:electionPort[:observer] line describes it.
//
// zk multiplexes election and ZAB traffic on the quorum port; the election
// port is accepted for compatibility with existing zoo.cfg files and
// otherwise unused.
type Server struct {
	ID           int64
	Host         string
	QuorumPort   int
	ElectionPort int
	Observer     bool
	// ClientAddr is the client address part of a dynamic configuration's
	// server line ("[host:]port" after the ';'), kept as it is; optional.
	ClientAddr string
}

// QuorumAddr returns host:quorumPort ([host]:quorumPort for an IPv6 host).
func (s Server) QuorumAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.QuorumPort)) }

// Config configures one peer. Its fields map to zoo.cfg; the zero value of a
// field means its default. Clone it freely: NewEnsemble keeps its own copy.
type Config struct {
	// ID is this peer's id (zoo.cfg's myid), 1..254. Default 1 when Servers
	// is empty.
	ID int64
	// TickTime is ZooKeeper's basic time unit (default 2s). Session timeouts
	// are negotiated in [2, 20] TickTimes by default, and InitLimit and
	// SyncLimit count TickTimes. Internally zk's clock ticks ten times per
	// TickTime so that elections and heartbeats react faster than a TickTime.
	TickTime time.Duration
	// InitLimit bounds, in TickTimes, how long a follower may take to connect
	// and sync to a leader (default 10).
	InitLimit int
	// SyncLimit bounds, in TickTimes, how long a follower may be silent
	// before the leader drops it, and how long a leader keeps leading without
	// a quorum (default 5).
	SyncLimit int
	// DataDir holds the tree and the snapshots. Required.
	DataDir string
	// DataLogDir holds the transaction log; default DataDir + "/log".
	DataLogDir string
	// FS is the file system everything is stored on; default the OS
	// (vfs.Default). Tests use vfs.NewMem or vfs.NewCrashableMem.
	FS vfs.FS
	// Servers lists every voter and observer, this peer included. Empty
	// means standalone: an ensemble of one voter.
	Servers []Server
	// Groups, if set, makes the quorum hierarchical, as zoo.cfg's
	// group.N=id:id:... lines do (ZooKeeper's QuorumHierarchical): every
	// voter is in exactly one group, no observer is in any. A set of voters
	// is a quorum when it holds more than half of the weight of more than
	// half of the groups (a group that weighs 0 is not counted): with
	// groups {1,2,3} {4,5,6} {7,8,9}, voters 1, 2, 4 and 5 are a quorum and
	// 1, 2, 3, 4 and 7 are not. Elections, commits, the leader's check that
	// it keeps a quorum, and Sync all use the rule. Nil: a majority of the
	// voters.
	Groups [][]int64
	// Weights gives voters' weights in a hierarchical quorum, as zoo.cfg's
	// weight.N=w lines do: 0..2147483647, default 1; it needs Groups. A
	// voter of weight 0 takes part (it follows and acknowledges) but its
	// vote never counts and it is never elected.
	Weights map[int64]int64
	// MinSessionTimeout and MaxSessionTimeout bound the negotiated session
	// timeout; defaults 2 and 20 TickTimes.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxClientCnxns limits what one client address holds on this peer at
	// once, as ZooKeeper's maxClientCnxns limits a client IP's connections
	// to a server (0 = no limit, the default here; zoo.cfg without the key
	// gives ZooKeeper's 60). The client port refuses a connection over it
	// as it accepts it, counting the plain and the secure port apart as
	// ZooKeeper's two connection factories do; in process, NewSession and Reattach of a session
	// whose WithClientAddr names an address holding as many fail with
	// ErrConnectionLoss. A session opened without WithClientAddr is the
	// host's own and does not count (MaxSessions bounds all of them).
	MaxClientCnxns int
	// MaxSessions limits the sessions attached to this peer at once,
	// whatever their address, in process and on the client port alike (0 =
	// no limit, the default). zk's own: ZooKeeper has no such bound. Over it
	// NewSession and Reattach fail with ErrConnectionLoss.
	MaxSessions int
	// MaxCnxns limits the connections each client port (plain and secure,
	// counted apart) holds at once, as ZooKeeper's maxCnxns limits each of
	// its connection factories: a connection over it is closed as it is
	// accepted (0 = no limit, the default, as in ZooKeeper).
	MaxCnxns int
	// GlobalOutstandingLimit bounds the requests in flight on this peer's
	// client ports, as ZooKeeper's globalOutstandingLimit: once that many
	// are in flight, a connection that has some of them stops reading
	// until fewer are (0 means ZooKeeper's default, 1000). As in ZooKeeper,
	// a voter of an ensemble of more than two voters divides it by the
	// number of voters less one: here those of Servers, counted when the
	// client port starts (ZooKeeper counts its current view each time).
	GlobalOutstandingLimit int
	// NoLeaderServes makes this peer refuse clients on its client ports
	// while it leads an ensemble (Mode ModeLeading), as ZooKeeper's
	// zookeeper.leaderServes=no (zoo.cfg's leaderServes=no) leaves a
	// leader without a server behind its ports: a connect is closed
	// unanswered, so the client tries another server; the connections it
	// holds when it becomes leader are closed (their sessions live on, and
	// the clients reconnect elsewhere); and the four-letter words but
	// ruok, envi, gtmk and stmk answer that the peer is not serving (isro
	// "null"; so srvr has no Mode line for a status check to read). The
	// AdminServer answers as on any peer, and in-process sessions
	// (NewSession, Reattach) are served, as the host's own. A standalone
	// peer (no Servers) ignores it, as ZooKeeper's does; an ensemble of
	// one voter does not, as ZooKeeper's with standaloneEnabled=false
	// (only its observers serve). Default false: the leader serves,
	// ZooKeeper's leaderServes=yes.
	NoLeaderServes bool
	// SnapCount is the number of transactions between snapshots (default
	// 100000; as in ZooKeeper a peer snapshots after a random count in
	// [SnapCount/2, SnapCount]). A peer's own snapshot is a checkpoint of
	// the tree's store (DataDir/snapshots/snapshot.<zxid>.tree, hard links
	// to the tree's files), so it costs a flush, not a copy of the tree.
	SnapCount int
	// SnapRetainCount is the number of snapshots kept (default 3, at least 3).
	SnapRetainCount int
	// PreAllocSize is how far ahead of its records the transaction log is
	// filled with zeros, in bytes (ZooKeeper's preAllocSize, which zoo.cfg
	// gives in KiB). The log then grows a step at a time, and the fsyncs in
	// between need not update the file's size: 1.1-1.5x more fsyncs/s on
	// ext4 here. 0 means 1 MiB (ZooKeeper pads 64 MiB at once, a whole zk
	// segment); negative turns it off, as 0 does in zoo.cfg.
	PreAllocSize int64
	// NoForceSync makes this peer acknowledge a transaction once it is
	// written to its log file, without the fsync that makes it durable, as
	// ZooKeeper's zookeeper.forceSync=no (zoo.cfg's forceSync=no): writes
	// wait for no disk, but an operating-system crash or a power loss (not
	// a crash of the process alone) may lose transactions the peer
	// acknowledged, and committed ones when a quorum loses power at once.
	// As in ZooKeeper only the log's fsync of each group commit is
	// skipped (wal's Options.NoAppendSync); the epochs, snapshots and the
	// tree's flushes are synced as before. After such a crash the tree,
	// flushed apart from the log, may hold transactions the log lost: the
	// peer then starts its log over after the tree's zxid (and logs it),
	// as ZooKeeper goes on from a snapshot newer than its log. NewEnsemble
	// logs a warning. The default, false, syncs every group commit,
	// ZooKeeper's forceSync=yes.
	NoForceSync bool
	// PurgeInterval is how often the log files below the oldest snapshot
	// kept are purged; snapshots beyond the SnapRetainCount newest are
	// deleted as new ones are written (default 1h). Negative disables every
	// deletion, as ZooKeeper's autopurge.purgeInterval=0: all snapshot and
	// log files are kept, and disk use grows until an operator removes old
	// ones. Note the two defaults: a Config made in code (PurgeInterval 0)
	// purges hourly, the embedded default; a zoo.cfg read by ParseZooCfg
	// without autopurge.purgeInterval purges nothing, as ZooKeeper.
	PurgeInterval time.Duration
	// MaxWatchesPerSession limits the watches one session holds at once,
	// one-shot and persistent together (default
	// DefaultMaxWatchesPerSession). A call that would set one more fails
	// with ErrTooManyWatches and sets nothing; a watch that fires or is
	// removed makes room. ZooKeeper has no such limit: it bounds the memory
	// a session can pin (an idle watch costs a few hundred bytes, a
	// persistent one up to DefaultWatchBuffer queued events more).
	MaxWatchesPerSession int
	// JuteMaxBuffer limits every request, as ZooKeeper's jute.maxbuffer
	// does: the whole request as ZooKeeper's client serializes it (request
	// header, path, data, ACLs; a multi as a whole) may be at most this
	// many bytes (default DefaultJuteMaxBuffer, 1 MiB - 1; at most
	// MaxJuteMaxBuffer). It is checked at the session before anything is
	// prepared and again by the leader (a follower configured otherwise
	// cannot bypass the leader's limit); a request over it fails with
	// ErrRequestTooLarge and changes nothing. Paths are limited to
	// MaxPathLength whatever this is. On the client port a frame over it
	// closes the connection, as in ZooKeeper. zoo.cfg's jute.maxbuffer
	// sets it.
	JuteMaxBuffer int
	// SuperDigest, if set, is a digest ("super:<base64 sha1>", as made by
	// DigestAuth, or of DigestAlg's hash, as made by DigestAuthWith) whose
	// holder passes every ACL check, as ZooKeeper's
	// zookeeper.DigestAuthenticationProvider.superDigest. zoo.cfg's
	// DigestAuthenticationProvider.superDigest sets it, as in ZooKeeper.
	SuperDigest string
	// DigestAlg is the hash of the digest scheme, as ZooKeeper's
	// zookeeper.DigestAuthenticationProvider.digestAlg (zoo.cfg's
	// DigestAuthenticationProvider.digestAlg): the name Java's
	// MessageDigest takes, in any case ("SHA-256", "SHA256", "SHA3-256",
	// "SHA-512", "MD5", ...; MD2 is the one zk lacks). An addauth digest
	// credential becomes "user:" + base64(hash(credential)), which digest
	// ACL entries and SuperDigest must then hold; ids made with another
	// hash (those of ACLs stored before a change, say) match no credential
	// any more, as in ZooKeeper. NewEnsemble refuses a name it does not
	// know, as ZooKeeper fails to start. Empty means "SHA1", ZooKeeper's
	// default. Give every peer the same one: a session's identity is
	// computed by the peer it is connected to.
	DigestAlg string
	// NoDigestAuth unregisters the digest scheme, as ZooKeeper's
	// zookeeper.DigestAuthenticationProvider.enabled=false (zoo.cfg's
	// DigestAuthenticationProvider.enabled=false): an addauth digest fails
	// with ErrAuthFailed (on the client port AUTHFAILED, and the
	// connection closes), a create or setACL whose ACL has a digest entry
	// fails with ErrInvalidACL where ZooKeeper's leader refuses it (the
	// leader's setting decides), digest ACL entries already stored match
	// no session, SuperDigest can never be matched, and "digest" in
	// EnforceAuthSchemes is refused by NewEnsemble, as ZooKeeper fails to
	// start with it.
	NoDigestAuth bool
	// SkipACL turns every ACL check off on this peer, as ZooKeeper's
	// zookeeper.skipACL=yes (zoo.cfg's skipACL=yes): every session may do
	// everything to every node. ACLs are still validated and stored. A
	// write is checked by the leader, as in ZooKeeper, so it is the
	// leader's SkipACL that counts for writes, and the session's own
	// peer's for reads, watches and a reconfig's check of
	// /zookeeper/config (which ZooKeeper's leader makes).
	SkipACL bool
	// SASLUsers are the users a client-port client may authenticate as with
	// SASL DIGEST-MD5, name → password: ZooKeeper's JAAS "Server" section
	// of DigestLoginModule options user_<name>="<password>" (LoadJAAS reads
	// one). A client that authenticates gets the identity {"sasl", name},
	// which sasl ACL entries match. Empty: every SASL request is answered
	// AUTHFAILED and its connection closes (ZooKeeper without a JAAS Server
	// section answers OK with a null token, which its clients cannot use).
	// Kerberos (GSSAPI) is not served.
	SASLUsers map[string]string
	// SASLSuperUser names the SASL user who passes every ACL check, as
	// ZooKeeper's zookeeper.superUser (zoo.cfg's superUser sets it).
	SASLSuperUser string
	// EnforceAuthSchemes, if set, makes the client port refuse every request
	// but auth and sasl from a connection with no identity of one of these
	// schemes ("digest", "sasl", "x509", "ip"): the reply is
	// SESSIONCLOSEDREQUIRESASLAUTH and the connection closes, as ZooKeeper's
	// enforce.auth.enabled with enforce.auth.schemes (zoo.cfg keys here too;
	// sessionRequireClientSASLAuth=true means "sasl"). With "sasl" among
	// them, a failed SASL exchange is answered so too. In-process sessions
	// are the host's own and are not checked.
	EnforceAuthSchemes []string
	// ContainerCheckInterval is how often the leader looks for empty
	// containers and expired TTL nodes to delete (default 1 minute; rounded
	// up to whole TickTimes), as ZooKeeper's znode.container.checkIntervalMs
	// (a zoo.cfg key here).
	ContainerCheckInterval time.Duration
	// ContainerMaxPerMinute bounds how many of them the leader deletes per
	// minute (default 10000), as znode.container.maxPerMinute.
	ContainerMaxPerMinute int
	// Transport carries peer traffic. Default: TCP on this peer's quorum
	// port, authenticated by PeerSecret and/or PeerTLS. Ignored standalone.
	Transport transport.Transport
	// PeerSecret authenticates peers to each other on the default TCP
	// transport (HMAC challenge-response, the dialer proving first; see
	// package zab/transport). Required with Servers unless PeerTLS is set
	// or Transport is given. It must be random bytes, at least 16 of them
	// (32 from crypto/rand is right): Validate refuses a secret that is
	// short, constant (16 zero bytes), a repeated pattern, a constant-step
	// run, or that shows too little variety (transport.CheckSecret). zoo.cfg:
	// quorum.auth.secret.location names a file holding it.
	PeerSecret []byte
	// PeerTLS, if set, makes the default TCP transport use mutual TLS. It
	// needs Certificates, RootCAs and ClientCAs, and each peer's
	// certificate must carry the DNS name "zk-peer-<id>"
	// (transport.PeerName). zoo.cfg: sslQuorum=true with the
	// ssl.quorum.* files (see ParseZooCfg).
	PeerTLS *tls.Config
	// QuorumListenOnAllIPs makes the default TCP transport listen on every
	// address of the host, at its own server line's quorum port, while
	// its peers still dial the address the line names (behind NAT, or
	// where that address is not the host's own). zoo.cfg:
	// quorumListenOnAllIPs=true.
	QuorumListenOnAllIPs bool
	// Logger receives the peer's logs; default discards them.
	Logger *slog.Logger
	// AuditEnabled turns on ZooKeeper's audit log (zoo.cfg audit.enable=true,
	// the system property zookeeper.audit.enable; off by default, as in
	// ZooKeeper), written to AuditLogger: an event for each write of a
	// session attached to this peer (create, delete, setData, setAcl, each
	// op of a multi, a reconfig on the client port), succeeded or failed,
	// logged by this peer alone once it applied the write and before the
	// session gets its answer; one for each ephemeral node deleted as its
	// session closed or expired, logged by every peer; serverStart and
	// serverStop. The events and their fields are ZooKeeper 3.8's
	// (internal/engine/audit.go lists them).
	AuditEnabled bool
	// AuditLogger receives the audit events when AuditEnabled is set
	// (default Logger, where ZooKeeper's default logging configuration
	// sends them too). Each record's message is the whole event as
	// ZooKeeper writes it: key=value pairs, tab-separated, in ZooKeeper's
	// order (session, user, ip, operation, znode, znode_type, acl, then
	// result), without attributes; its level is Error for a failure and
	// Info otherwise, as ZooKeeper's Slf4jAuditLogger logs them.
	// examples/server writes them to zookeeper_audit.log in ZooKeeper's
	// layout.
	AuditLogger *slog.Logger
	// Listener receives the peer's events.
	Listener EventListener
	// ManualClock stops the internal ticker: time advances only through
	// Ensemble.Tick, so tests (and hosts' tests) drive the ensemble tick by
	// tick. Node times (ctime, mtime) then come from Clock, or from a logical
	// clock that starts at 2020-01-01 and advances TickTime/10 per tick.
	ManualClock bool
	// Clock supplies node times (default time.Now).
	Clock func() time.Time
	// Rand supplies session passwords and protocol jitter (default
	// crypto/rand). Tests pass a seeded source for reproducible runs.
	Rand io.Reader

	// The client port: ZooKeeper's client protocol, so that zkCli.sh, kazoo,
	// Curator and go-zookeeper work against this peer. zk.NewEnsemble starts
	// it; sessions made there are sessions of this peer like any other.
	//
	// ClientPort is the TCP port (zoo.cfg clientPort): 0 leaves the client
	// port off, -1 picks a free port (Ensemble.ClientAddr tells which).
	ClientPort int
	// ClientPortAddress is the address the client port listens on (zoo.cfg
	// clientPortAddress); default every address.
	ClientPortAddress string
	// SecureClientPort serves the client protocol over TLS (zoo.cfg
	// secureClientPort), beside ClientPort or alone: 0 leaves it off, -1
	// picks a free port (Ensemble.SecureClientAddr tells which). It needs
	// ClientTLS. SecureClientPortAddress is its listen address (zoo.cfg
	// secureClientPortAddress; default every address).
	SecureClientPort        int
	SecureClientPortAddress string
	// ClientTLS is the secure client port's TLS configuration: the server's
	// Certificates, and ClientAuth with ClientCAs for the clients'
	// certificates. zoo.cfg: ssl.keyStore.location (the certificate chain
	// and its key, in a PEM, JKS or PKCS12 store), ssl.trustStore.location
	// (the CA certificates), their types and passwords, and ssl.clientAuth
	// (need, the default as in ZooKeeper, want or none); see ParseZooCfg.
	// A client whose certificate verified has the identity {"x509", its
	// subject's distinguished name (RFC 2253)} on that connection, as
	// ZooKeeper's X509AuthenticationProvider gives it; x509 ACL entries
	// match it.
	ClientTLS *tls.Config
	// ClientPortUnification serves TLS clients on the plain client port
	// too, with ClientTLS, as ZooKeeper's client.portUnification (zoo.cfg
	// key client.portUnification=true): a connection whose first byte
	// starts a TLS handshake record is served over TLS, any other in plain
	// text. Clients can then move to TLS one by one on the same port.
	ClientPortUnification bool
	// X509SuperUser is the distinguished name of the client certificate that
	// passes every ACL check (zoo.cfg X509AuthenticationProvider.superUser).
	X509SuperUser string
	// FourLetterWords lists the four-letter words the client port answers
	// (zoo.cfg 4lw.commands.whitelist, "*" for all of them); srvr is always
	// answered, as in ZooKeeper.
	FourLetterWords []string
	// ClientIO chooses how the client port does its socket I/O, as
	// ZooKeeper's serverCnxnFactory chooses between NIO and Netty (zoo.cfg
	// key zk.clientIO). By default ("") it serves every connection from one
	// io_uring where the kernel allows it (Linux 5.12 or later, unless a
	// seccomp filter or io_uring_disabled refuses it), and otherwise gives
	// each connection a reader goroutine of its own. ClientIOUring insists on
	// io_uring (the client port fails to start where the kernel refuses it);
	// ClientIOGoroutines insists on a goroutine per connection.
	// The ring's thread waits in the kernel while it holds a P: a host
	// that serves many clients may run with one P more than its cores, as
	// examples/server does (GOMAXPROCS).
	ClientIO string

	// The AdminServer: ZooKeeper's commands over HTTP, each answered as a
	// JSON object (GET AdminCommandURL/<command>, such as
	// /commands/monitor or /commands/ruok; the URL alone lists them), as
	// ZooKeeper 3.5 and later serve them. zk.NewEnsemble starts it.
	//
	// AdminServerPort is its TCP port (zoo.cfg admin.serverPort): 0 leaves
	// it off, -1 picks a free port (Ensemble.AdminAddr tells which). zoo.cfg
	// turns it on at 8080 unless admin.enableServer=false, as ZooKeeper
	// does. A port that cannot be bound is logged and the peer runs without
	// it, as a ZooKeeper quorum peer does.
	AdminServerPort int
	// AdminServerAddress is its listen address (zoo.cfg
	// admin.serverAddress; default every address).
	AdminServerAddress string
	// AdminCommandURL is the path of the commands (zoo.cfg
	// admin.commandURL; default DefaultAdminCommandURL).
	AdminCommandURL string
	// AdminIdleTimeout bounds each read and write of an HTTP connection,
	// and closes one idle that long (zoo.cfg admin.idleTimeout, in ms;
	// default 30 s).
	AdminIdleTimeout time.Duration
	// AdminTLS serves the AdminServer over HTTPS only, with its
	// Certificates (zoo.cfg admin.forceHttps=true; ZooKeeper takes the key
	// and trust stores of ssl.quorum.keyStore.* and ssl.quorum.trustStore.*
	// for it, whatever sslQuorum says). Clients' certificates are not asked
	// for, as in ZooKeeper. With AdminPortUnification (zoo.cfg
	// admin.portUnification=true) the port serves HTTPS and plain HTTP,
	// told apart by a connection's first byte. HTTPS answers carry
	// Strict-Transport-Security, as ZooKeeper's do.
	AdminTLS             *tls.Config
	AdminPortUnification bool

	// Quotas.

	// EnforceQuota makes the leader refuse, with ErrQuotaExceeded, a create
	// or set that would take a subtree past a hard quota (Session.SetQuota),
	// as ZooKeeper's zookeeper.enforceQuota (zoo.cfg key enforceQuota).
	// Without it, hard limits only warn and count, as soft ones do. The
	// leader's setting decides: followers never check.
	EnforceQuota bool

	// Memory: what the tree (stored in Pebble) holds in RAM besides what the
	// sessions and watches hold. Zero means the default; see memory.go.

	// TreeCacheSize is the bytes of Pebble's block cache, the tree's most
	// recently read table blocks (default znode.DefaultCacheSize).
	TreeCacheSize int64
	// TreeMemTableSize is the size of Pebble's memtable, where the latest
	// writes wait for their flush to a table: up to two are held while one
	// flushes (default znode.DefaultMemTableSize, 16 MiB). The tree flushes
	// every half memtable of writes (or 8,192 txns), which bounds what a
	// restart after a crash replays; smaller memtables flush, and compact
	// the whole key space, more often.
	TreeMemTableSize int64
	// TreeValueCacheSize bounds the cache of node values that the leader's
	// pipeline, the apply and the sessions' reads (getData, exists) read
	// before Pebble: a create's parent, a setData's node, the session of
	// an ephemeral, a node read often (default znode.DefaultValueCacheSize;
	// negative: no cache).
	// A read that finds its node in neither cache costs a Pebble lookup,
	// 10–17 times the CPU of a cached one (znode's BenchmarkGetRandom100k):
	// a host whose clients read a large tree at random may size this cache
	// and TreeCacheSize to what they read.
	TreeValueCacheSize int64

	// Observability: logs go to Logger (above), status to Ensemble.Status.

	// Registerer, if set, receives this peer's Prometheus metrics, named as
	// ZooKeeper names them where it has a name (metrics.go lists them). Nil
	// means no metrics: nothing is measured and nothing is registered
	// anywhere (zk has no global registry). The metrics carry no label that
	// tells peers apart, so several ensembles on one registry each need
	// their own labels: prometheus.WrapRegistererWith(prometheus.Labels{
	// "server": "1"}, reg) (zk's metrics use the labels key, learner and
	// state). NewEnsemble fails if a name is registered already; Close
	// unregisters them.
	Registerer prometheus.Registerer
	// MetricsHTTPAddress is where a host may serve the metrics over HTTP
	// (at /metrics); the library itself serves nothing. ParseZooCfg sets it
	// from metricsProvider.httpHost and metricsProvider.httpPort (defaults
	// 0.0.0.0 and 7000, as ZooKeeper's) when metricsProvider.className is
	// ZooKeeper's PrometheusMetricsProvider; examples/server serves it.
	MetricsHTTPAddress string
	// ReadOnlyMode lets this peer, cut off from a quorum, keep serving
	// reads to the sessions that allow it (WithReadOnly), as ZooKeeper's
	// readonlymode.enabled (a zoo.cfg key here): writes are refused with
	// ErrNotReadOnly and such sessions report StateConnectedReadOnly until
	// the quorum is back. Off by default, as in ZooKeeper. See the package
	// documentation of internal/engine (readonly.go) for what a read-only
	// read guarantees.
	ReadOnlyMode bool
	// LocalSessions is ZooKeeper's localSessionsEnabled (zoo.cfg): a
	// session opened here is local to this peer (nothing proposed to open
	// or close it, its timeout counted here); it expires if reattached on
	// another peer or when this peer loses its leader, and an ephemeral
	// create upgrades it (LocalSessionsUpgrading) or fails with
	// ErrEphemeralOnLocalSession. A standalone peer ignores it. Off by
	// default. See the package documentation of internal/engine.
	LocalSessions bool
	// LocalSessionsUpgrading is ZooKeeper's localSessionsUpgradingEnabled
	// (zoo.cfg): with LocalSessions, an ephemeral create makes a local
	// session one of the ensemble first. Off by default, as zoo.cfg's.
	LocalSessionsUpgrading bool
	// ReconfigEnabled allows Ensemble.Reconfig (zoo.cfg reconfigEnabled),
	// off by default as in ZooKeeper: Reconfig then fails with
	// ErrReconfigDisabled. It does not gate /zookeeper/config: the first
	// leader of a multi-peer ensemble writes the static configuration
	// there either way, as ZooKeeper does.
	ReconfigEnabled bool
	// StandaloneDisabled is zoo.cfg's standaloneEnabled=false (ParseZooCfg
	// sets it): a reconfig may then leave a single participant, as
	// ZooKeeper's may with that setting ("at least 1 follower"); without
	// it a new configuration needs at least 2, ZooKeeper's rule with its
	// default. The leader's setting decides. (ParseZooCfg also keeps a
	// zoo.cfg of one voting server an ensemble with it; a Config whose
	// Servers list one voter is an ensemble of one either way.)
	StandaloneDisabled bool
	// DynamicConfigFile, if set, is rewritten with the configuration (in
	// /zookeeper/config's format) each time a reconfig is applied here, as
	// ZooKeeper rewrites its dynamic configuration file; ParseZooCfg reads
	// the membership from it. A restarted peer takes its membership from
	// its own tree when a reconfig was applied, from Servers otherwise.
	DynamicConfigFile string
	// InitialConfig is the text of the zoo.cfg the configuration was read
	// from (ParseZooCfg and LoadZooCfg set it), which the AdminServer's
	// initial_configuration command answers, as ZooKeeper's.
	InitialConfig string
	// MembershipPolicy, if set (on every peer, with ReconfigEnabled), lets
	// the leader replace a voter that has been out of sync for a while by
	// a synced observer; see MembershipPolicy. Beyond ZooKeeper; nil: off.
	MembershipPolicy *MembershipPolicy
	// Rejoin lets a server that a committed configuration removed, and
	// that stopped since, come back with its data directory: restarted
	// with Rejoin (and Servers listing it), it joins as a new server does,
	// counting in no quorum until a reconfig adds it again. Without it, a
	// removed server stays removed after a restart (Status.Removed), so
	// that one restarted unchanged does not rejoin by accident. A server no
	// configuration removed ignores it. (A removed server that keeps running
	// needs no restart: a reconfig can add it back.)
	Rejoin bool

	// TestHooks is for zk's own tests (its deterministic simulation crashes
	// peers at named points through it); leave it nil.
	TestHooks *hooks.Hooks
}

// EventListener holds optional callbacks. They run on the peer's own
// goroutine: keep them short and never call back into the Ensemble from one.
type EventListener struct {
	// StatusChanged reports a change of mode, leader, epoch or serving.
	StatusChanged func(Status)
	// SessionExpired reports a session closed by expiry.
	SessionExpired func(sessionID int64)
	// Failed reports the error that stopped the peer (a disk failure, a
	// divergence between replicas). The peer serves nothing after it.
	Failed func(error)
}

// Defaults.
const (
	DefaultTickTime        = 2 * time.Second
	DefaultInitLimit       = 10
	DefaultSyncLimit       = 5
	DefaultSnapCount       = 100000
	DefaultSnapRetainCount = 3
	DefaultPurgeInterval   = time.Hour
	// DefaultZooCfgMaxClientCnxns is ZooKeeper's default maxClientCnxns,
	// which ParseZooCfg applies when zoo.cfg does not set it (a Config's
	// zero MaxClientCnxns means no limit).
	DefaultZooCfgMaxClientCnxns = 60
	// DefaultMaxWatchesPerSession is the default Config.MaxWatchesPerSession:
	// about 0.5 GiB of idle watches.
	DefaultMaxWatchesPerSession = 1 << 20
	// DefaultJuteMaxBuffer is ZooKeeper's default jute.maxbuffer, 0xfffff.
	DefaultJuteMaxBuffer = 1<<20 - 1
	// MinJuteMaxBuffer and MaxJuteMaxBuffer bound Config.JuteMaxBuffer.
	// The ceiling keeps every accepted request, with the worst overhead of
	// zk's log entry (see reqsize.go), within one ZAB proposal
	// (maxProposalBytes) and one log record (wal.MaxEntrySize); it is also
	// the tree's hard limit on data, the same on every peer.
	MinJuteMaxBuffer = 1 << 10
	MaxJuteMaxBuffer = 2 << 20
	// MaxPathLength is the longest znode path zk accepts, in bytes
	// (ZooKeeper has no limit but jute.maxbuffer). A sequential create's
	// path counts with its 10-digit suffix. A longer path fails with
	// ErrRequestTooLarge.
	MaxPathLength = 32 << 10
	// TicksPerTickTime is how many times zk's internal clock ticks per
	// TickTime.
	TicksPerTickTime = 10
)

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.SASLUsers = maps.Clone(c.SASLUsers) // the caller's map and slice may change later
	c.EnforceAuthSchemes = slices.Clone(c.EnforceAuthSchemes)
	if c.ID == 0 && len(c.Servers) == 0 {
		c.ID = 1
	}
	if c.TickTime == 0 {
		c.TickTime = DefaultTickTime
	}
	if c.InitLimit == 0 {
		c.InitLimit = DefaultInitLimit
	}
	if c.SyncLimit == 0 {
		c.SyncLimit = DefaultSyncLimit
	}
	if c.DataLogDir == "" && c.DataDir != "" {
		c.DataLogDir = c.DataDir + "/log"
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.MinSessionTimeout == 0 {
		c.MinSessionTimeout = 2 * c.TickTime
	}
	if c.MaxSessionTimeout == 0 {
		c.MaxSessionTimeout = 20 * c.TickTime
	}
	if c.SnapCount == 0 {
		c.SnapCount = DefaultSnapCount
	}
	if c.SnapRetainCount == 0 {
		c.SnapRetainCount = DefaultSnapRetainCount
	}
	if c.PurgeInterval == 0 {
		c.PurgeInterval = DefaultPurgeInterval
	}
	if c.JuteMaxBuffer == 0 {
		c.JuteMaxBuffer = DefaultJuteMaxBuffer
	}
	if c.ContainerCheckInterval == 0 {
		c.ContainerCheckInterval = DefaultContainerCheckInterval
	}
	if c.ContainerMaxPerMinute == 0 {
		c.ContainerMaxPerMinute = DefaultContainerMaxPerMinute
	}
	if c.MaxWatchesPerSession == 0 {
		c.MaxWatchesPerSession = DefaultMaxWatchesPerSession
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Servers = append([]Server(nil), c.Servers...)
	c.Groups, c.Weights = cloneGroups(c.Groups), maps.Clone(c.Weights)
	return c
}

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// Validate reports the first problem with c (after defaults are applied),
// naming the field.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.ID < 1 || c.ID > 254:
		return configErr("ID", "%d is outside 1..254", c.ID)
	case c.DataDir == "":
		return configErr("DataDir", "required")
	case c.TickTime < TicksPerTickTime*time.Millisecond:
		return configErr("TickTime", "%v is below %dms", c.TickTime, TicksPerTickTime)
	case c.InitLimit < 1:
		return configErr("InitLimit", "%d must be at least 1", c.InitLimit)
	case c.SyncLimit < 1:
		return configErr("SyncLimit", "%d must be at least 1", c.SyncLimit)
	case c.MinSessionTimeout <= 0:
		return configErr("MinSessionTimeout", "%v must be positive", c.MinSessionTimeout)
	case c.MaxSessionTimeout < c.MinSessionTimeout:
		return configErr("MaxSessionTimeout", "%v is below MinSessionTimeout %v", c.MaxSessionTimeout, c.MinSessionTimeout)
	case c.MaxSessionTimeout > time.Duration(1<<31-1)*time.Millisecond:
		return configErr("MaxSessionTimeout", "%v does not fit in int32 milliseconds", c.MaxSessionTimeout)
	case c.MaxClientCnxns < 0:
		return configErr("MaxClientCnxns", "%d is negative", c.MaxClientCnxns)
	case c.MaxSessions < 0:
		return configErr("MaxSessions", "%d is negative", c.MaxSessions)
	case c.MaxCnxns < 0:
		return configErr("MaxCnxns", "%d is negative", c.MaxCnxns)
	case c.GlobalOutstandingLimit < 0:
		return configErr("GlobalOutstandingLimit", "%d is negative", c.GlobalOutstandingLimit)
	case c.SnapCount < 2:
		return configErr("SnapCount", "%d must be at least 2", c.SnapCount)
	case c.SnapRetainCount < 3:
		return configErr("SnapRetainCount", "%d must be at least 3", c.SnapRetainCount)
	case c.ContainerCheckInterval < 0:
		return configErr("ContainerCheckInterval", "%v is negative", c.ContainerCheckInterval)
	case c.ContainerMaxPerMinute < 0:
		return configErr("ContainerMaxPerMinute", "%d is negative", c.ContainerMaxPerMinute)
	case c.MaxWatchesPerSession < 0:
		return configErr("MaxWatchesPerSession", "%d is negative", c.MaxWatchesPerSession)
	case c.JuteMaxBuffer < MinJuteMaxBuffer || c.JuteMaxBuffer > MaxJuteMaxBuffer:
		return configErr("JuteMaxBuffer", "%d is outside %d..%d", c.JuteMaxBuffer, MinJuteMaxBuffer, MaxJuteMaxBuffer)
	}
	if err := c.validateAuth(); err != nil {
		return err
	}
	if err := c.validateClientPort(); err != nil {
		return err
	}
	if err := c.validateAdmin(); err != nil {
		return err
	}
	if err := c.validateMemory(); err != nil {
		return err
	}
	if err := c.validatePolicy(); err != nil {
		return err
	}
	return c.validateServers()
}

// validateAuth checks the fields of authentication: the digest
// algorithm first, as the super digest is checked against it.
func (c Config) validateAuth() error {
	alg, err := c.digestAlg()
	if err != nil {
		return configErr("DigestAlg", "%v", err)
	}
	if c.SuperDigest != "" {
		if err := validateDigestID(c.SuperDigest, alg); err != nil {
			return configErr("SuperDigest", "%v", err)
		}
	}
	for _, scheme := range c.EnforceAuthSchemes {
		switch scheme {
		case "digest", "sasl", "x509", "ip":
		default:
			return configErr("EnforceAuthSchemes", "authentication scheme %q is not available (digest, sasl, x509 or ip)", scheme)
		}
		if scheme == "digest" && c.NoDigestAuth {
			return configErr("EnforceAuthSchemes", "authentication scheme \"digest\" is not available: NoDigestAuth (DigestAuthenticationProvider.enabled=false) disables it")
		}
	}
	for name := range c.SASLUsers {
		if name == "" {
			return configErr("SASLUsers", "a user with an empty name")
		}
	}
	return nil
}

// The values of Config.ClientIO.
const (
	ClientIOUring      = "io_uring"
	ClientIOGoroutines = "goroutines"
)

// DefaultAdminCommandURL is the path of the AdminServer's commands when
// Config.AdminCommandURL is unset, as ZooKeeper's admin.commandURL.
const DefaultAdminCommandURL = "/commands"

// validateAdmin checks the AdminServer's fields.
func (c Config) validateAdmin() error {
	switch {
	case c.AdminServerPort < -1 || c.AdminServerPort > 65535:
		return configErr("AdminServerPort", "%d is outside 1..65535 (0: off, -1: any free port)", c.AdminServerPort)
	case c.AdminCommandURL != "" && (!strings.HasPrefix(c.AdminCommandURL, "/") || strings.ContainsAny(c.AdminCommandURL, " ?#")):
		return configErr("AdminCommandURL", "%q is not a URL path (/commands)", c.AdminCommandURL)
	case c.AdminIdleTimeout < 0:
		return configErr("AdminIdleTimeout", "%v is negative", c.AdminIdleTimeout)
	case c.AdminPortUnification && c.AdminTLS == nil:
		return configErr("AdminPortUnification", "needs AdminTLS to serve HTTPS with")
	case c.AdminTLS != nil && len(c.AdminTLS.Certificates) == 0 && c.AdminTLS.GetCertificate == nil:
		return configErr("AdminTLS", "has no certificate (zoo.cfg: ssl.quorum.keyStore.location)")
	}
	return nil
}

// validateClientPort checks the client port's fields.
func (c Config) validateClientPort() error {
	switch {
	case c.ClientPort < -1 || c.ClientPort > 65535:
		return configErr("ClientPort", "%d is outside 1..65535 (0: off, -1: any free port)", c.ClientPort)
	case c.SecureClientPort < -1 || c.SecureClientPort > 65535:
		return configErr("SecureClientPort", "%d is outside 1..65535 (0: off, -1: any free port)", c.SecureClientPort)
	case c.ClientPortUnification && c.ClientPort == 0:
		return configErr("ClientPortUnification", "needs a client port (ClientPort) to serve TLS on")
	case (c.SecureClientPort != 0 || c.ClientPortUnification) && (c.ClientTLS == nil || len(c.ClientTLS.Certificates) == 0 && c.ClientTLS.GetCertificate == nil):
		return configErr("ClientTLS", "SecureClientPort and ClientPortUnification need ClientTLS with the server's certificate (zoo.cfg: ssl.keyStore.location)")
	case (c.SecureClientPort != 0 || c.ClientPortUnification) && c.ClientTLS.ClientAuth >= tls.VerifyClientCertIfGiven && c.ClientTLS.ClientCAs == nil:
		return configErr("ClientTLS", "verifying clients' certificates needs ClientCAs (zoo.cfg: ssl.trustStore.location); nil would trust the system's CAs")
	case c.ClientIO != "" && c.ClientIO != ClientIOUring && c.ClientIO != ClientIOGoroutines:
		return configErr("ClientIO", "%q is not %q, %q or empty", c.ClientIO, ClientIOUring, ClientIOGoroutines)
	}
	return nil
}

// walSnapRetain is how many snapshots the log keeps: all of them when
// purging is disabled.
func (c Config) walSnapRetain() int {
	if c.PurgeInterval < 0 {
		return math.MaxInt
	}
	return c.SnapRetainCount
}

// standalone reports whether c describes an ensemble of one.
func (c Config) standalone() bool { return len(c.Servers) == 0 }

// voters and observers return the ids of the members, sorted as listed.
func (c Config) members() (voters, observers []int64) {
	if c.standalone() {
		return []int64{c.ID}, nil
	}
	for _, s := range c.Servers {
		if s.Observer {
			observers = append(observers, s.ID)
		} else {
			voters = append(voters, s.ID)
		}
	}
	return voters, observers
}
