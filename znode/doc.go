// Package znode is ZooKeeper's tree of znodes, stored in Pebble, with
// ZooKeeper's semantics (DataTree.java and PrepRequestProcessor.java). It is
// the only code that knows the key layout and the value encoding. It knows
// nothing of watches, session liveness, the network or zxid assignment.
//
// # Writes
//
// Tree.Apply(zxid, txn) applies one deterministic Txn: everything it decides
// comes from the txn (the leader stamps Time and resolves the sequence
// suffix into Path) and the tree, so every replica applying the same txns
// reaches the same state and the same digest. A txn's effects, the applied
// zxid, the new digest and the node count go into one Pebble batch. A txn
// that fails with a ZooKeeper error (Result.Err) changes nothing but the
// applied zxid. Apply returns a Go error only for a zxid at or below the
// applied one (ErrZxidOrder) or a storage failure, after which the tree
// refuses writes (fail-stop). Only one goroutine applies.
//
// Pending.Prepare runs exactly the same code on the tree plus an overlay of
// prepared-but-unapplied txns, checks permissions where ZooKeeper checks
// them, and resolves sequential paths in place. The txn semantics are
// written once (state.go, apply*.go) over a small key-value view (kv.go);
// Apply commits the view to Pebble, Prepare records it in the overlay, a
// failed txn or multi drops it. A txn staged and kept on a Pending (Stage,
// Keep) carries what it did (Kept): Group.ApplyKept applies that, without
// running the txn again, on the state the txn was staged on (it checks the
// zxid and the digest there, and refuses any other state).
//
// Semantics worth knowing (each as ZooKeeper, unless noted):
//   - create sets czxid = mzxid = pzxid = zxid, ctime = mtime = Time,
//     versions 0; the parent gets one more create, pzxid = zxid,
//     numChildren+1. The sequence suffix is "%010d" of the parent's count of
//     creates before this one; after 2^31 creates it wraps negative and
//     prints as ZooKeeper prints it ("-000000001", still ten characters).
//   - delete: the parent gets numChildren-1 and pzxid = zxid. Checks run in
//     ZooKeeper's order: a built-in node (/, /zookeeper, /zookeeper/quota,
//     /zookeeper/config: ErrBadArguments), parent exists, DELETE on the
//     parent, node exists, version, then no children.
//   - Stat as clients see it (DataNode.copyStat): Cversion is 2 x creates -
//     numChildren, so every create and every delete of a child counts, and
//     the built-in nodes start at / -1 and /zookeeper -2; EphemeralOwner is
//     the session of an ephemeral node and 0 for every other kind.
//   - Null data (a nil Data in a create or setData) stays apart from
//     empty data (a non-nil empty slice), as ZooKeeper's getData returns
//     null or a zero-length array: reads return nil for the first, a
//     non-nil empty slice for the second; the built-in nodes have empty
//     data, the directories TxnSetQuota makes null data (as zkCli's
//     setquota). The node value, the txn encoding and snapshots keep the
//     difference; what was written before it was kept reads as empty.
//   - setData: version+1, mzxid = zxid, mtime = Time. setACL: aversion+1
//     only. Expected version -1 matches any version; any other int32 is
//     compared. A version after MaxInt32 wraps to MinInt32; unlike ZooKeeper
//     3.8 it then skips -1 (ZOOKEEPER-4743, in ZooKeeper's main line), so
//     that a node never has the version that means "any".
//   - Ephemerals need a session recorded by TxnCreateSession (else
//     ErrSessionExpired; session 0 is ErrBadArguments) and cannot have
//     children (ErrNoChildrenForEphemerals). TTL nodes keep their TTL, in
//     (0, 2^40-1] ms (else ErrBadArguments); a positive TTL with a non-TTL
//     mode is ErrBadArguments, zero or negative is ignored.
//   - /, /zookeeper, /zookeeper/quota and /zookeeper/config exist from the
//     start (the config node READ_ACL_UNSAFE, aversion -1, as ZooKeeper).
//     They cannot be deleted; otherwise they and everything below them obey
//     their ACLs like any node (create under /zookeeper works, setData on
//     /zookeeper/config is ErrNoAuth but for the super user).
//   - Quotas (quota.go) live under /zookeeper/quota as in ZooKeeper: a
//     zookeeper_limits node per quota, and a zookeeper_stats node that
//     every create, delete and setData below the quota's path updates in
//     the same txn. Prepare refuses writes past a hard limit when
//     Options.EnforceQuota is set (ErrQuotaExceeded); Apply never refuses.
//     TxnSetQuota and TxnDeleteQuota make and remove them atomically, with
//     zkCli's checks.
//   - ACLs: Apply stores an ACL after ZooKeeper's validation (non-empty,
//     world:anyone, digest ids in two parts (Prepare refuses digest ids
//     with Options.NoDigestACL), ip ids; "auth" must have been
//     expanded by ExpandACL, else ErrInvalidACL), in the op's place among its
//     checks; permission bits are stored as given, any int32.
//   - An invalid path fails with an error matching both ErrBadArguments
//     (ZooKeeper's server answer) and ErrInvalidPath; data over MaxDataSize
//     with one matching ErrBadArguments and ErrDataTooLarge. MaxDataSize
//     must be the same on every peer, as Apply checks it.
//   - Multi: ops (create, delete, setData, check only; anything else is
//     ErrBadArguments) apply in order, each seeing the previous ones, all
//     or nothing, all with the multi's Session and Time. A check outside a
//     multi is ErrBadArguments.
//   - CloseSession deletes the session's ephemerals in path order and
//     removes the session record; unknown sessions are a no-op success.
//     CreateSession of a known id is a no-op success.
//   - DeleteContainer deletes a childless container that has had a child or a
//     childless TTL node with Time - mtime > TTL; otherwise ErrNoNode,
//     ErrNotEmpty or ErrBadVersion. Reapable lists candidates from an index.
//
// # Changes
//
// Apply returns the Changes of a successful txn in order: ChangeCreated,
// ChangeDeleted (also for every ephemeral of a closed session and every
// reaped node) and ChangeDataChanged, each with the node's ACL, and a
// Created or Deleted also with its parent's ACL (for the parent's
// NodeChildrenChanged). setACL produces no Change (ZooKeeper fires no
// watch).
//
// # Reads
//
// Get, Stat, Children, AllChildrenNumber, Ephemerals, Sessions, Session,
// MultiRead and Reapable are safe for concurrent use with each other and
// with Apply. Each sees the state after some Apply: one Pebble read, or one
// Pebble iterator or snapshot for multi-key reads. Returned slices are owned
// by the caller. Reads do not check ACLs; the caller does, with CheckACL.
// The digest scheme's ids are those of ZooKeeper's
// DigestAuthenticationProvider: DigestID and DigestCredential compute them
// with its default hash, SHA-1; a DigestAlg (ParseDigestAlg) with the
// other hashes its zookeeper.DigestAuthenticationProvider.digestAlg names.
//
// # Durability
//
// Pebble's own WAL is disabled: zk's log is the source of truth, and since
// Apply refuses zxids at or below the applied one, the caller replays its log
// only after Applied(). The tree starts a flush in the background every
// Options.FlushEntries txns or FlushBytes of batches, so a crash loses (and
// the log replays) at most two such intervals. Flush makes everything
// applied durable and returns its zxid; Durable reports the zxid known
// durable (what Open found, the last finished flush, or a Restore). A
// failed flush (a full disk) fails the tree: Flush, Apply and Close return
// instead of waiting for Pebble's retries. Close flushes unless the tree
// failed; CloseNoFlush never does. Snapshots (WriteSnapshot) are a
// checksummed stream read from a Pebble snapshot while Apply continues;
// Restore verifies a stream completely and switches to it crash-atomically.
// Checkpoint writes a durable copy of the store beside the tree (Pebble's
// checkpoint: its files hard-linked, the MANIFEST copied) after a flush,
// while Apply continues, and returns the zxid it holds; OpenCheckpoint
// streams such a copy in the snapshot format.
//
// # Storage layout
//
// Below Options.Dir: CURRENT names the Pebble directory in use
// ("tree-NNNNNN"); Restore builds the next one beside it and switches
// CURRENT by rename. Keys in Pebble (one-byte space tag first):
//
//	'n' parent 0x00 name  node value (the root is 'n' 0x00)
//	'e' be64(session) path  empty: ephemerals by session
//	'r' path              empty: containers and TTL nodes
//	's' be64(session)     session value: timeout, password
//	'm'                   applied zxid, digest, node count
//
// Paths never contain NUL, so the children of P are the keys with prefix
// 'n' P 0x00 (Children is a prefix scan), the descendants of P are the
// prefixes 'n' P 0x00 and 'n' P '/', and a parent's key sorts before its
// children's. A node value (value.go) is a version byte, the kind, the
// owner or TTL, the fixed-width Stat fields, numChildren, the crc64 of the
// data, the ACL inline, then the data. Pebble stores values of at least
// Options.SeparateValues bytes (a node with data, mostly) in blob files
// beside its tables, so its compactions move keys and references, not the
// data; a value is read the same either way.
//
// # Digest
//
// The digest (digest.go) is the sum mod 2^64 of a 64-bit hash per node
// (path, kind, owner/TTL, persisted Stat fields, data crc, ACL; the two
// built-in nodes below /zookeeper/ excluded) and per session. Apply and Prepare
// update it incrementally; Restore recomputes it from the stream's content
// and compares.
package znode
