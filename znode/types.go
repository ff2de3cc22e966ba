package znode

// This file is the contract between znode and the packages that use it
// (watch, the root's pipeline and apply loop). Field names and meanings are
// fixed; new fields may be added.

// Stat is a znode's metadata, with ZooKeeper's fields and update rules.
type Stat struct {
	Czxid          int64 // zxid of the create
	Mzxid          int64 // zxid of the last data change (the create, at first)
	Pzxid          int64 // zxid of the last change to the children list
	Ctime          int64 // create time, ms since the Unix epoch (leader's clock)
	Mtime          int64 // last data change time, ms
	Version        int32 // number of data changes
	Cversion       int32 // number of child creates and deletes (2 x creates - NumChildren, as ZooKeeper reports it)
	Aversion       int32 // number of ACL changes
	EphemeralOwner int64 // owning session of an ephemeral node; 0 for every other kind (container and TTL nodes too)
	DataLength     int32
	NumChildren    int32
}

// Perm is a set of ACL permissions.
type Perm int32

// ZooKeeper's permission bits.
const (
	PermRead   Perm = 1 << 0
	PermWrite  Perm = 1 << 1
	PermCreate Perm = 1 << 2
	PermDelete Perm = 1 << 3
	PermAdmin  Perm = 1 << 4
	PermAll    Perm = PermRead | PermWrite | PermCreate | PermDelete | PermAdmin
)

// Letters names the permissions of p as ZooKeeper writes them (zkCli's
// getAcl, the audit log): the letters of the bits set, in the order c, d,
// r, w, a ("cdrwa" for PermAll); other bits are not named.
func (p Perm) Letters() string {
	b := make([]byte, 0, 5)
	for _, l := range [...]struct {
		bit    Perm
		letter byte
	}{{PermCreate, 'c'}, {PermDelete, 'd'}, {PermRead, 'r'}, {PermWrite, 'w'}, {PermAdmin, 'a'}} {
		if p&l.bit != 0 {
			b = append(b, l.letter)
		}
	}
	return string(b)
}

// ACL is one access control entry: Perms granted to the identity ID of
// Scheme ("world", "auth", "digest", "ip", "super").
type ACL struct {
	Perms  Perm
	Scheme string
	ID     string
}

// Identity is one authenticated identity of a session, such as
// {Scheme: "digest", ID: "alice:<base64 sha1>"} or {Scheme: "ip", ID:
// "127.0.0.1"}.
type Identity struct {
	Scheme string
	ID     string
}

// CreateMode is the kind of node a create makes, with ZooKeeper's values.
type CreateMode int32

const (
	ModePersistent                  CreateMode = 0
	ModeEphemeral                   CreateMode = 1
	ModePersistentSequential        CreateMode = 2
	ModeEphemeralSequential         CreateMode = 3
	ModeContainer                   CreateMode = 4
	ModePersistentWithTTL           CreateMode = 5
	ModePersistentSequentialWithTTL CreateMode = 6
	// ModeContainerSequential is a sequential container: no ZooKeeper
	// CreateMode names it, but ZooKeeper 3.8 makes one for a
	// createContainer request with a sequential flag (its txn, a
	// CreateContainerTxn, is chosen by the op, its name by the flag).
	ModeContainerSequential CreateMode = 7
)

// TxnType is the kind of a Txn.
type TxnType uint8

const (
	TxnCreate          TxnType = 1
	TxnDelete          TxnType = 2
	TxnSetData         TxnType = 3
	TxnSetACL          TxnType = 4
	TxnCheck           TxnType = 5 // version check; only inside a multi
	TxnMulti           TxnType = 6
	TxnCreateSession   TxnType = 7
	TxnCloseSession    TxnType = 8
	TxnDeleteContainer TxnType = 9 // reaper's delete of an empty container or expired TTL node
	TxnNoop            TxnType = 10
	TxnSetQuota        TxnType = 11 // set a quota's limits (SetQuotaTxn)
	TxnDeleteQuota     TxnType = 12 // delete a quota or some of its limits (DeleteQuotaTxn)
)

// Txn is one replicated state change: the unit of the log. A Txn is fully
// deterministic: the leader stamps Time and resolves the sequence suffix into
// Path before proposing, so that every replica applying the same Txn at the
// same zxid reaches the same state.
type Txn struct {
	Type    TxnType
	Session int64 // requesting session: owner of ephemerals, the session of Create/CloseSession
	Time    int64 // ms since the Unix epoch, the leader's clock at prep
	Path    string
	// Data of a create or setData: nil is null data (ZooKeeper's null),
	// a non-nil empty slice empty data; they read back so. TxnSetQuota
	// and TxnDeleteQuota carry their limits here.
	Data    []byte
	ACL     []ACL
	Mode    CreateMode
	TTL     int64 // ms, for the TTL modes
	Version int32 // expected version; -1 matches any
	// CreateSession fields.
	Timeout  int32 // negotiated session timeout, ms
	Password []byte
	// TxnMulti: the ops, each of type Create, Delete, SetData or Check.
	Ops []Txn
}

// Result is the outcome of applying (or preparing) one Txn.
type Result struct {
	// Err is nil on success or one of the zkerr sentinels (ErrNoNode, ...);
	// for a failed multi it is the error of the first op that failed.
	Err error
	// Path is the created path (with its sequence suffix) for a create.
	Path string
	// Stat is the node's Stat after a create, set or setACL (and after a
	// create, for a multi's create op).
	Stat Stat
	// Multi holds one Result per op of a TxnMulti. When the multi failed,
	// the ops before the failing one carry a nil Err, the failing op its
	// error, and the ops after it zkerr.ErrRuntimeInconsistency (as
	// ZooKeeper reports them).
	Multi []Result
}

// ChangeType is the kind of a Change.
type ChangeType uint8

const (
	ChangeCreated     ChangeType = 1
	ChangeDeleted     ChangeType = 2
	ChangeDataChanged ChangeType = 3
)

// Change is one effect of an applied Txn on one node, in the order they
// happened; the watch package turns them into events (and derives the
// parent's NodeChildrenChanged from Created and Deleted).
type Change struct {
	Type ChangeType
	Path string
	Zxid int64
	// ACL is the node's ACL (before a delete, after a create or set), so
	// that a watch delivers only what its session may read.
	ACL []ACL
	// ParentACL is the ACL of Path's parent, for the parent's
	// NodeChildrenChanged (nil for the root, and for a DataChanged, which
	// changes nothing of the parent). ACL and ParentACL may be shared with
	// other changes: read them, never modify them.
	ParentACL []ACL
}

// SessionInfo is a session as the replicated state records it.
type SessionInfo struct {
	ID       int64
	Timeout  int32 // ms
	Password []byte
}

// Node is a node as a read returns it.
type Node struct {
	Stat Stat
	// Data is nil unless asked for; when asked for, nil is null data
	// (ZooKeeper's null) and a non-nil empty slice is empty data.
	Data []byte
	ACL  []ACL
}
