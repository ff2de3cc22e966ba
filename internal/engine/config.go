package engine

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

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
}

// QuorumAddr returns host:quorumPort.
func (s Server) QuorumAddr() string { return fmt.Sprintf("%s:%d", s.Host, s.QuorumPort) }

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
	// MinSessionTimeout and MaxSessionTimeout bound the negotiated session
	// timeout; defaults 2 and 20 TickTimes.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// MaxClientCnxns limits the sessions attached to this peer at once (0 =
	// no limit; ZooKeeper limits connections per client address).
	MaxClientCnxns int
	// SnapCount is the number of transactions between snapshots (default
	// 100000; as in ZooKeeper a peer snapshots after a random count in
	// [SnapCount/2, SnapCount]).
	SnapCount int
	// SnapRetainCount is the number of snapshots kept (default 3, at least 3).
	SnapRetainCount int
	// PurgeInterval is how often old snapshots and logs are purged (default
	// 1h; negative disables).
	PurgeInterval time.Duration
	// JuteMaxBuffer limits every request, as ZooKeeper's jute.maxbuffer
	// does: the whole request as ZooKeeper's client serializes it (request
	// header, path, data, ACLs; a multi as a whole) may be at most this
	// many bytes (default DefaultJuteMaxBuffer, 1 MiB - 1; at most
	// MaxJuteMaxBuffer). It is checked at the session before anything is
	// prepared and again by the leader (a follower configured otherwise
	// cannot bypass the leader's limit); a request over it fails with
	// ErrRequestTooLarge and changes nothing. Paths are limited to
	// MaxPathLength whatever this is. zoo.cfg's jute.maxbuffer sets it.
	JuteMaxBuffer int
	// SuperDigest, if set, is a digest ("super:<base64 sha1>", as made by
	// DigestAuth) whose holder passes every ACL check, as ZooKeeper's
	// zookeeper.DigestAuthenticationProvider.superDigest.
	SuperDigest string
	// Transport carries peer traffic. Default: TCP on this peer's quorum
	// port, authenticated by PeerSecret and/or PeerTLS. Ignored standalone.
	Transport transport.Transport
	// PeerSecret authenticates peers to each other on the default TCP
	// transport (HMAC challenge-response). Required with Servers unless
	// PeerTLS is set or Transport is given.
	PeerSecret []byte
	// PeerTLS, if set, makes the default TCP transport use mutual TLS.
	PeerTLS *tls.Config
	// Logger receives the peer's logs; default discards them.
	Logger *slog.Logger
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
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Servers = append([]Server(nil), c.Servers...)
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
	case c.SnapCount < 2:
		return configErr("SnapCount", "%d must be at least 2", c.SnapCount)
	case c.SnapRetainCount < 3:
		return configErr("SnapRetainCount", "%d must be at least 3", c.SnapRetainCount)
	case c.JuteMaxBuffer < MinJuteMaxBuffer || c.JuteMaxBuffer > MaxJuteMaxBuffer:
		return configErr("JuteMaxBuffer", "%d is outside %d..%d", c.JuteMaxBuffer, MinJuteMaxBuffer, MaxJuteMaxBuffer)
	}
	if c.SuperDigest != "" {
		if err := validateDigestID(c.SuperDigest); err != nil {
			return configErr("SuperDigest", "%v", err)
		}
	}
	return c.validateServers()
}

func (c Config) validateServers() error {
	if len(c.Servers) == 0 {
		return nil
	}
	ids := map[int64]bool{}
	addrs := map[string]int64{}
	voters, self := 0, false
	for i, s := range c.Servers {
		field := fmt.Sprintf("Servers[%d]", i)
		switch {
		case s.ID < 1 || s.ID > 254:
			return configErr(field, "id %d is outside 1..254", s.ID)
		case ids[s.ID]:
			return configErr(field, "duplicate id %d", s.ID)
		case s.Host == "":
			return configErr(field, "server.%d has no host", s.ID)
		case s.QuorumPort < 1 || s.QuorumPort > 65535:
			return configErr(field, "server.%d quorum port %d is outside 1..65535", s.ID, s.QuorumPort)
		case s.ElectionPort < 0 || s.ElectionPort > 65535:
			return configErr(field, "server.%d election port %d is outside 0..65535", s.ID, s.ElectionPort)
		}
		if other, dup := addrs[s.QuorumAddr()]; dup {
			return configErr(field, "server.%d has the same address %s as server.%d", s.ID, s.QuorumAddr(), other)
		}
		ids[s.ID] = true
		addrs[s.QuorumAddr()] = s.ID
		if !s.Observer {
			voters++
		}
		if s.ID == c.ID {
			self = true
		}
	}
	switch {
	case !self:
		return configErr("ID", "%d is not among Servers", c.ID)
	case voters == 0:
		return configErr("Servers", "no voters (every server is an observer)")
	case c.Transport == nil && len(c.PeerSecret) == 0 && c.PeerTLS == nil:
		return configErr("PeerSecret", "required with Servers unless PeerTLS or Transport is set (peers must authenticate)")
	case len(c.PeerSecret) > 0 && len(c.PeerSecret) < 16:
		return configErr("PeerSecret", "%d bytes is too short (at least 16)", len(c.PeerSecret))
	}
	return nil
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
