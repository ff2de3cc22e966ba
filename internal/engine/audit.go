package engine

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"os/user"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// The audit log (Config.AuditEnabled) is ZooKeeper 3.8's (its
// ZKAuditProvider, AuditHelper and AuditEvent), event for event and field
// for field, so that what reads ZooKeeper's zookeeper_audit.log reads zk's.
//
// What is logged, and by which peer:
//
//   - A write of a session attached to this peer (create, including
//     createContainer and createTTL; delete; setData; setAcl; multi), once
//     this peer has applied it or the failure the leader ordered for it,
//     and before the session gets its answer: the peer the client is
//     connected to logs it, as ZooKeeper's FinalRequestProcessor logs only
//     the requests of its own connections; the other peers, which apply
//     the same transaction, do not. A failure logs the path the request
//     named, a create's success the path created (sequence suffix
//     included). znode_type is a create's mode as its request's flags
//     name it (persistent, ephemeral_sequential, container,
//     persistent_with_ttl, ...), as ZooKeeper's AuditHelper takes it: on
//     the client port a create with the container flag, which makes a
//     persistent node, is a container, a createContainer without it,
//     which makes a container, is persistent or ephemeral. acl is a
//     setAcl's ACL as the session sent it.
//   - A multi that succeeded logs one event per create, delete and setData
//     op (a check op logs none); a create's znode_type only when it is
//     neither sequential nor TTL, as ZooKeeper looks the mode up by the
//     request's path, which neither finds. A multi that failed logs one
//     event, operation=multiOperation, without znode.
//   - A reconfig request on the client port (RemoteSession.AuditReconfig):
//     znode=/zookeeper/config when it succeeded, no znode when it failed.
//   - Each ephemeral node deleted because its session closed or expired,
//     operation=ephemeralZNodeDeletionOnSessionCloseOrExpire, by every
//     peer that applies the close (as ZooKeeper's DataTree logs it), as
//     the server's user and without ip, in ZooKeeper's order
//     (javaHashSetOrder).
//   - serverStart (success when NewEnsemble returns the running peer,
//     failure when it fails) and serverStop (invoked, as Close begins), as
//     the server's user.
//
// Not logged, as in ZooKeeper: reads, the creation and close of a session
// itself, the leader's deletions of empty containers and expired TTL nodes
// (no session made them), and a request refused before the leader ordered
// it (over jute.maxbuffer, or while no quorum serves; ZooKeeper closes the
// connection or does not answer), and a write in flight when its peer lost
// its leader (its outcome unknown to this peer's session, as ZooKeeper's
// follower drops its connections then). zk's session refuses an invalid
// path before the leader, and logs that failure then, as ZooKeeper's prep
// refuses and logs it (auditRefused), and a path over MaxPathLength, which
// ZooKeeper runs and logs (it has no such limit). Its other early
// refusals log nothing, as ZooKeeper logs nothing for them (an unknown
// create mode, an empty multi). The client port logs the refusals it makes
// before the session sees them where ZooKeeper logs them: a multi with a
// read op, or an op whose mode or TTL ZooKeeper refuses (multiOperation
// failed), and a create or createContainer whose flags ZooKeeper's audit
// names but whose op does not go with them (a TTL mode: a failed create).
//
// Ensemble.Reconfig, a call of the host and not of a session, is logged as
// an operation of the server, as serverStart is (ZooKeeper has no such
// call: its reconfigs all come from clients): user is the server's user,
// there is no session and no ip; znode and result as for a reconfig
// request.
//
// The fields, in this order, each left out when it has no value:
// session (0x and the id in hex), user (the names of the session's
// identities, comma-separated, in the order ZooKeeper's hash set of them
// would list them, javaSetOrder: an ip identity's address, a digest
// identity's user name, a SASL user, a certificate's DN; super adds none),
// ip (the session's client address, WithClientAddr; an in-process session
// without one has none; written as Java writes it, JavaHostAddress:
// 0:0:0:0:0:0:0:1 for ::1, but without the zone Java appends to a
// link-local address), operation, znode, znode_type, acl
// (scheme:id:perms with perms as cdrwa letters, the entries run together
// without a separator, as ZooKeeper's ZKUtil.aclToString writes them),
// then result (success, failure, or invoked for serverStop). The server's
// user is the system user running the process (ZooKeeper's: its Kerberos
// principal if it has one, else the JVM's user.name).
//
// One difference from ZooKeeper 3.8.0, which logs no createTTL outside a
// multi (ZOOKEEPER-4725, fixed in 3.9.4): zk logs it, as later releases
// do.
//
// The events are written on the peer loop, after the apply lock is
// released; with the audit log off, the loop only checks a nil pointer.

// Audit results, as ZooKeeper's AuditEvent.Result names them.
const (
	auditSuccess = "success"
	auditFailure = "failure"
	auditInvoked = "invoked"
)

// auditor writes the audit log; nil when Config.AuditEnabled is off.
type auditor struct {
	log  *slog.Logger
	user string // the server's user, whom system operations are logged as
}

// newAuditor returns cfg's auditor, or nil without Config.AuditEnabled.
func newAuditor(cfg Config) *auditor {
	if !cfg.AuditEnabled {
		return nil
	}
	log := cfg.AuditLogger
	if log == nil {
		log = cfg.Logger
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &auditor{log: log, user: systemUser()}
}

// systemUser names the user running the process as Java's user.name does
// (without a Windows domain), or "<NA>", ZooKeeper's name for none.
func systemUser() string {
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "<NA>"
	}
	name := u.Username
	if runtime.GOOS == "windows" {
		name = name[strings.LastIndexByte(name, '\\')+1:]
	}
	return name
}

// auditEvent is an event's line as it is built: key=value pairs in the
// order added, tab-separated, as ZooKeeper's AuditEvent.toString.
type auditEvent []byte

func (ev auditEvent) add(key, value string) auditEvent {
	if len(ev) > 0 {
		ev = append(ev, '\t')
	}
	ev = append(ev, key...)
	ev = append(ev, '=')
	return append(ev, value...)
}

// emit logs ev with its result, last: at Error for a failure, at Info
// otherwise, as ZooKeeper's Slf4jAuditLogger.
func (a *auditor) emit(ev auditEvent, result string) {
	level := slog.LevelInfo
	if result == auditFailure {
		level = slog.LevelError
	}
	a.log.Log(context.Background(), level, string(ev.add("result", result)))
}

// server logs an operation of the server itself (serverStart, serverStop).
func (a *auditor) server(op, result string) {
	a.emit(auditEvent(nil).add("user", a.user).add("operation", op), result)
}

// started logs serverStart: a success unless err.
func (a *auditor) started(err error) {
	if err != nil {
		a.server("serverStart", auditFailure)
		return
	}
	a.server("serverStart", auditSuccess)
}

// client starts the event of a session's request: session, user, ip.
func (a *auditor) client(session int64, ids []znode.Identity) auditEvent {
	ev := auditEvent(nil).add("session", auditSession(session))
	if users := auditUsers(ids); users != "" {
		ev = ev.add("user", users)
	}
	for _, id := range ids {
		if id.Scheme == znode.SchemeIP {
			return ev.add("ip", id.ID)
		}
	}
	return ev
}

// auditSession is a session id as ZooKeeper writes it: 0x and lower-case
// hex of the id as unsigned.
func auditSession(id int64) string { return "0x" + strconv.FormatUint(uint64(id), 16) }

// auditUsers lists the user names of ids, comma-separated, as ZooKeeper's
// AuthUtil.getUsers: each identity's name as its scheme's provider gives
// it, those that are blank left out, in the order ZooKeeper's connection
// holds them (javaSetOrder).
func auditUsers(ids []znode.Identity) string {
	var b strings.Builder
	for _, id := range javaSetOrder(ids) {
		name := auditUser(id)
		if strings.TrimFunc(name, func(r rune) bool { return r <= ' ' }) == "" { // Java's trim
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(name)
	}
	return b.String()
}

// javaSetOrder returns ids, added in this order, in the order a ZooKeeper
// connection lists them: it keeps them in a ConcurrentHashMap's key set,
// which iterates bucket by bucket (the Id's jute hashCode, spread as the
// map spreads it, modulo its table's size: 16, doubled each time the set
// reaches three quarters of it), and a bucket's entries in the order they
// were added. The same as Java's for fewer than 12 identities; from 12 on,
// a resize of the table may reorder a bucket of several, which this does
// not follow, nor does it count the super identity ZooKeeper adds.
func javaSetOrder(ids []znode.Identity) []znode.Identity {
	if len(ids) < 2 {
		return ids
	}
	n := 16
	for n-n/4 <= len(ids) {
		n *= 2
	}
	bucket := func(id znode.Identity) int {
		h := uint32(37*(37*17+javaHash(id.Scheme)) + javaHash(id.ID))
		return int(h^h>>16) & (n - 1)
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b znode.Identity) int { return cmp.Compare(bucket(a), bucket(b)) })
	return out
}

// javaHash is Java's String.hashCode of s: over its UTF-16 code units.
func javaHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			h = 31*(31*h+r1) + r2 // a surrogate pair
			continue
		}
		h = 31*h + r
	}
	return h
}

// auditUser is an identity's user name: a digest's before its first
// colon, the whole id of the ip, sasl and x509 schemes (their providers'
// default), none for any other (super has no provider).
func auditUser(id znode.Identity) string {
	switch id.Scheme {
	case znode.SchemeDigest:
		name, _, _ := strings.Cut(id.ID, ":")
		return name
	case znode.SchemeIP, znode.SchemeSASL, znode.SchemeX509:
		return id.ID
	}
	return ""
}

// auditACL writes acl as ZooKeeper's ZKUtil.aclToString: scheme:id:perms
// per entry, with nothing between entries.
func auditACL(acl []znode.ACL) string {
	var b strings.Builder
	for _, a := range acl {
		b.WriteString(a.Scheme)
		b.WriteByte(':')
		b.WriteString(a.ID)
		b.WriteByte(':')
		b.WriteString(a.Perms.Letters())
	}
	return b.String()
}

// auditMode names a create mode as ZooKeeper's CreateMode, in lower case.
func auditMode(m znode.CreateMode) string {
	switch m {
	case znode.ModePersistent:
		return "persistent"
	case znode.ModeEphemeral:
		return "ephemeral"
	case znode.ModePersistentSequential:
		return "persistent_sequential"
	case znode.ModeEphemeralSequential:
		return "ephemeral_sequential"
	case znode.ModeContainer:
		return "container"
	case znode.ModePersistentWithTTL:
		return "persistent_with_ttl"
	case znode.ModePersistentSequentialWithTTL:
		return "persistent_sequential_with_ttl"
	}
	return strconv.Itoa(int(m))
}

// write logs the outcome res of r, a write of a session of this peer.
func (a *auditor) write(r *request, res znode.Result) {
	txn := r.txn
	result := auditSuccess
	if res.Err != nil {
		result = auditFailure
	}
	ev := a.client(txn.Session, r.ids)
	switch txn.Type {
	case znode.TxnCreate:
		path := txn.Path
		if res.Err == nil {
			path = res.Path
		}
		ev = ev.add("operation", "create").add("znode", path).add("znode_type", auditMode(r.sentMode))
	case znode.TxnDelete:
		ev = ev.add("operation", "delete").add("znode", txn.Path)
	case znode.TxnSetData:
		ev = ev.add("operation", "setData").add("znode", txn.Path)
	case znode.TxnSetACL:
		ev = ev.add("operation", "setAcl").add("znode", txn.Path).add("acl", auditACL(r.sentACL))
	case znode.TxnMulti:
		a.multi(r, res)
		return
	default:
		return // not audited: a session's creation and close
	}
	a.emit(ev, result)
}

// multi logs a multi: each create, delete and setData op if it succeeded,
// one multiOperation failure otherwise.
func (a *auditor) multi(r *request, res znode.Result) {
	txn := r.txn
	if res.Err != nil {
		a.emit(a.client(txn.Session, r.ids).add("operation", "multiOperation"), auditFailure)
		return
	}
	for i, op := range txn.Ops {
		if i >= len(res.Multi) {
			return
		}
		ev := a.client(txn.Session, r.ids)
		switch op.Type {
		case znode.TxnCreate:
			ev = ev.add("operation", "create").add("znode", res.Multi[i].Path)
			ttl := op.Mode == znode.ModePersistentWithTTL || op.Mode == znode.ModePersistentSequentialWithTTL
			if !isSequential(op.Mode) && !ttl {
				ev = ev.add("znode_type", auditMode(op.Mode))
			}
		case znode.TxnDelete:
			ev = ev.add("operation", "delete").add("znode", op.Path)
		case znode.TxnSetData:
			ev = ev.add("operation", "setData").add("znode", op.Path)
		default:
			continue
		}
		a.emit(ev, auditSuccess)
	}
}

// ephemeralsDeleted logs the deletion of each ephemeral node that the
// close (or expiry) of session deleted, by this peer's apply, in the
// order ZooKeeper deletes them (javaHashSetOrder).
func (a *auditor) ephemeralsDeleted(session int64, changes []znode.Change) {
	var paths []string
	for _, c := range changes {
		if c.Type == znode.ChangeDeleted {
			paths = append(paths, c.Path)
		}
	}
	for _, path := range javaHashSetOrder(paths) {
		ev := auditEvent(nil).add("session", auditSession(session)).add("user", a.user)
		a.emit(ev.add("operation", "ephemeralZNodeDeletionOnSessionCloseOrExpire").add("znode", path), auditSuccess)
	}
}

// javaHashSetOrder orders paths as ZooKeeper deletes a closed session's
// ephemerals: its CloseSessionTxn lists a clone of the session's HashSet
// of their paths (DataTree.getEphemerals), which iterates bucket by bucket
// (String.hashCode, spread as HashMap spreads it, modulo the clone's
// table: the least power of two of at least n/0.75+1), and within one
// bucket in the original set's order (its own table's buckets, of 16 or
// more, then the order the paths were added). Paths in the same bucket of
// both tables keep the order given, where Java's is their creation order.
func javaHashSetOrder(paths []string) []string {
	if len(paths) < 2 {
		return paths
	}
	clone := 1
	for clone < int(float32(len(paths))/0.75+1) {
		clone *= 2
	}
	orig := max(16, clone)
	spread := func(p string) int { h := uint32(javaHash(p)); return int(h ^ h>>16) }
	out := slices.Clone(paths)
	slices.SortStableFunc(out, func(x, y string) int {
		hx, hy := spread(x), spread(y)
		return cmp.Or(cmp.Compare(hx&(clone-1), hy&(clone-1)), cmp.Compare(hx&(orig-1), hy&(orig-1)))
	})
	return out
}

// auditNote is an event of the entries being applied, logged once the
// apply lock is released: a local write's outcome, or the ephemerals a
// session's close deleted.
type auditNote struct {
	r       *request     // the write, or nil
	res     znode.Result // its outcome
	session int64        // the closed session (r nil)
	changes []znode.Change
}

// noteWrite notes the outcome of c, a local request, for the audit log.
func (p *peer) noteWrite(c completion) {
	if p.e.audit != nil && c.r.kind == reqWrite && c.r.txn != nil {
		p.audits = append(p.audits, auditNote{r: c.r, res: c.rep.res})
	}
}

// noteClose notes the ephemerals the close of txn's session deleted.
func (p *peer) noteClose(txn *znode.Txn, changes []znode.Change) {
	if p.e.audit != nil && txn.Type == znode.TxnCloseSession && len(changes) > 0 {
		p.audits = append(p.audits, auditNote{session: txn.Session, changes: changes})
	}
}

// flushAudits logs the noted events, in the order of their entries; with
// drop (the entries did not reach the tree), it forgets them.
func (p *peer) flushAudits(drop bool) {
	if len(p.audits) == 0 {
		return
	}
	for _, n := range p.audits {
		switch {
		case drop:
		case n.r != nil:
			p.e.audit.write(n.r, n.res)
		default:
			p.e.audit.ephemeralsDeleted(n.session, n.changes)
		}
	}
	clear(p.audits)
	p.audits = p.audits[:0]
}

// auditRefused logs txn, a write of s refused with err before it left the
// session, if ZooKeeper logs it: refused for an invalid path, which
// ZooKeeper's PrepRequestProcessor refuses (BadArguments) in an error txn
// that its FinalRequestProcessor logs, with the path as sent (a multi: its
// multiOperation failure), or for a path over MaxPathLength, which
// ZooKeeper (that has no such limit) runs and logs: a failure when the
// node or its parent is missing, as the refusal is logged. The other
// refusals log nothing, as in ZooKeeper: over the size limits (ZooKeeper
// closes the connection), an unknown create mode (ZooKeeper's audit of it
// fails), an empty multi (ZooKeeper runs it, and logs no op). sentMode is
// a create's mode as sent (keepSentACL).
func (s *Session) auditRefused(txn *znode.Txn, sentMode CreateMode, err error) {
	var long *pathTooLongError
	if errors.Is(err, zkerr.ErrInvalidPath) || errors.As(err, &long) {
		s.auditFailed(txn, sentMode, err)
	}
}

// auditFailed logs txn, a write of s that failed with err before it left
// the session.
func (s *Session) auditFailed(txn *znode.Txn, sentMode CreateMode, err error) {
	a := s.e.audit
	if a == nil {
		return
	}
	if st := s.State(); st == StateExpired || st == StateClosed {
		return // no server would see it: ZooKeeper's client has no connection
	}
	t := *txn
	t.Session = s.id
	r := &request{txn: &t, sentACL: t.ACL, sentMode: sentMode}
	r.ids, _ = s.identities()
	a.write(r, znode.Result{Err: err})
}

// AuditMultiRefused logs a multi the client protocol refused with err
// before it started it (CheckOps), as auditRefused.
func (s RemoteSession) AuditMultiRefused(err error) {
	s.auditRefused(&znode.Txn{Type: znode.TxnMulti}, 0, err)
}

// AuditMultiFailed logs a multi the client protocol refused with err
// before the session saw it, where ZooKeeper's prep fails it in an error
// txn and logs multiOperation failed: a read op among its ops, an op with
// a create mode or a TTL ZooKeeper refuses.
func (s RemoteSession) AuditMultiFailed(err error) {
	s.auditFailed(&znode.Txn{Type: znode.TxnMulti}, 0, err)
}

// AuditCreateRefused logs as failed a create of path the client protocol
// refused with err before the session saw it, where ZooKeeper logs the
// create with the mode its flags name, sentMode: a create or create2 with
// a TTL mode (ZooKeeper fails it), a createContainer with a TTL flag.
func (s RemoteSession) AuditCreateRefused(path string, sentMode CreateMode, err error) {
	s.auditFailed(&znode.Txn{Type: znode.TxnCreate, Path: path}, sentMode, err)
}

// keepSentACL keeps, for the audit log, the ACL r's setACL was sent with
// (the leader expands its "auth" entries in the txn itself, fixupACLs),
// and the mode r's create was sent with, sentMode.
func (r *request) keepSentACL(a *auditor, sentMode CreateMode) {
	if a == nil {
		return
	}
	switch r.txn.Type {
	case znode.TxnSetACL:
		r.sentACL = r.txn.ACL
	case znode.TxnCreate:
		r.sentMode = sentMode
	}
}

// host logs op, a call of the host that changed (or failed to change) the
// ensemble, Ensemble.Reconfig: as an operation of the server (no session,
// no ip, the server's user), with /zookeeper/config as its znode when it
// succeeded, as a session's reconfig is logged.
func (a *auditor) host(op string, err error) {
	ev := auditEvent(nil).add("user", a.user).add("operation", op)
	if err != nil {
		a.emit(ev, auditFailure)
		return
	}
	a.emit(ev.add("znode", znode.ConfigPath), auditSuccess)
}

// AuditReconfig logs the outcome of the session's reconfig request, as
// ZooKeeper logs every reconfig its prep ordered: a success unless err.
// The client protocol calls it once per reconfig request it answers.
func (s RemoteSession) AuditReconfig(err error) {
	a := s.e.audit
	if a == nil {
		return
	}
	ids, _ := s.identities()
	ev := a.client(s.id, ids).add("operation", "reconfig")
	if err != nil {
		a.emit(ev, auditFailure)
		return
	}
	a.emit(ev.add("znode", znode.ConfigPath), auditSuccess)
}
