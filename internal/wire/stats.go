package wire

import (
	"math"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
)

// The request statistics the four-letter words report, kept as ZooKeeper
// 3.8 keeps them whatever the metrics configuration: the server's latency
// (srvr, stat, mntr; reset by srst) and each connection's (cons; reset by
// crst). A request's latency is counted in whole milliseconds, from the
// millisecond its frame was read to the one its reply was queued, as
// ZooKeeper subtracts its millisecond clock's readings; pings, the connect
// (createSession) and closeSession count, auth packets do not.

// latency is min/avg/max over requests, as ZooKeeper's AvgMinMaxCounter:
// atomics, since every connection adds to it. A reset racing with adds may
// leave one of them half counted, as ZooKeeper's may.
type latency struct {
	min, max     atomic.Int64 // math.MaxInt64 and math.MinInt64 when empty
	total, count atomic.Int64
}

func newLatency() *latency {
	l := &latency{}
	l.reset()
	return l
}

func (l *latency) add(ms int64) {
	for cur := l.min.Load(); ms < cur && !l.min.CompareAndSwap(cur, ms); cur = l.min.Load() {
	}
	for cur := l.max.Load(); ms > cur && !l.max.CompareAndSwap(cur, ms); cur = l.max.Load() {
	}
	l.total.Add(ms)
	l.count.Add(1)
}

func (l *latency) reset() {
	l.count.Store(0)
	l.total.Store(0)
	l.min.Store(math.MaxInt64)
	l.max.Store(math.MinInt64)
}

// values returns min, avg and max: whole milliseconds, and the mean
// rounded to four decimals (0 before any request).
func (l *latency) values() (lo int64, avg float64, hi int64) {
	lo, hi, total, count := l.min.Load(), l.max.Load(), l.total.Load(), l.count.Load()
	if lo == math.MaxInt64 {
		lo = 0
	}
	if hi == math.MinInt64 {
		hi = 0
	}
	if count > 0 {
		avg = roundHalfUp4(float64(total) / float64(count))
	}
	return lo, avg, hi
}

// read returns min, avg and max as srvr prints them, the mean as Java
// prints a double.
func (l *latency) read() (lo, avg, hi string) {
	min, mean, max := l.values()
	return strconv.FormatInt(min, 10), javaDouble(mean), strconv.FormatInt(max, 10)
}

// roundHalfUp4 rounds v to four decimals, half up, from its exact binary
// value (as Java's new BigDecimal(v).setScale(4, HALF_UP) does).
func roundHalfUp4(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	r := new(big.Rat).SetFloat64(v)
	r.Mul(r, big.NewRat(10000, 1))
	num, den := r.Num(), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int)) // truncated towards zero
	if new(big.Int).Mul(m.Abs(m), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	out, _ := new(big.Rat).SetFrac(q, big.NewInt(10000)).Float64()
	return out
}

// newSizes returns the server's record of its client responses' sizes
// (every frame sent to a client: replies, pings' and notifications; its
// length without the length prefix, as ZooKeeper's BufferStats counts it).
func newSizes() *engine.SizeStats {
	b := &engine.SizeStats{}
	b.Reset()
	return b
}

// noteFrame notes the response frame that grew buf from n bytes.
func (s *Server) noteFrame(buf []byte, n int) { s.respSizes.Note(len(buf) - n - 4) }

// cnxnStats is a connection's record of its requests for cons, as
// ZooKeeper's ServerCnxn keeps it. A new connection starts from zeros: its
// minimum stays 0 (ZooKeeper's field default) until a crst, which starts
// every field afresh.
type cnxnStats struct {
	mu sync.Mutex
	cnxnRecord
}

type cnxnRecord struct {
	lastOp     string
	lastCxid   int64 // -1 after a crst: none since (pings keep the last real one)
	lastZxid   int64
	lastResp   int64 // the server's clock (clockMs) at the last reply
	lastLat    int64
	min, max   int64
	minUnset   bool // after a crst: the next latency is the minimum
	count, sum int64
}

// lastRespMs returns the time of the last reply (clockMs), 0 if none since
// the connection's start or the last crst.
func (st *cnxnStats) lastRespMs() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lastResp
}

// record returns a copy of the record.
func (st *cnxnStats) record() cnxnRecord {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cnxnRecord
}

// minimum is the least latency, 0 before the first after a crst.
func (r cnxnRecord) minimum() int64 {
	if r.minUnset {
		return 0
	}
	return r.min
}

// reset is crst's.
func (st *cnxnStats) reset() {
	st.mu.Lock()
	st.cnxnRecord = cnxnRecord{lastOp: "NA", lastCxid: -1, lastZxid: -1, minUnset: true}
	st.mu.Unlock()
}

func (st *cnxnStats) update(op string, xid int32, zxid, began, now int64) {
	elapsed := now - began
	st.mu.Lock()
	if xid >= 0 {
		st.lastCxid = int64(xid)
	}
	st.lastZxid, st.lastOp, st.lastResp, st.lastLat = zxid, op, now, elapsed
	if st.minUnset || elapsed < st.min {
		st.min, st.minUnset = elapsed, false
	}
	st.max = max(st.max, elapsed)
	st.count++
	st.sum += elapsed
	st.mu.Unlock()
}

// appendSession appends what cons adds after sent= for a connection with a
// session: ZooKeeper's dumpConnectionInfo fields, its mean latency a whole
// number of ms.
func (st *cnxnStats) appendSession(b []byte, sid int64, est time.Time, timeoutMs int64) []byte {
	st.mu.Lock()
	defer st.mu.Unlock()
	b = append(b, ",sid=0x"...)
	b = strconv.AppendUint(b, uint64(sid), 16)
	b = append(b, ",lop="...)
	if st.lastOp == "" {
		b = append(b, "null"...) // a re-attached session before its first request, as ZooKeeper prints it
	} else {
		b = append(b, st.lastOp...)
	}
	b = append(b, ",est="...)
	b = strconv.AppendInt(b, est.UnixMilli(), 10)
	b = append(b, ",to="...)
	b = strconv.AppendInt(b, timeoutMs, 10)
	if st.lastCxid >= 0 {
		b = append(b, ",lcxid=0x"...)
		b = strconv.AppendUint(b, uint64(st.lastCxid), 16)
	}
	b = append(b, ",lzxid=0x"...)
	b = strconv.AppendUint(b, uint64(st.lastZxid), 16)
	avg := int64(0)
	if st.count > 0 {
		avg = st.sum / st.count
	}
	min := st.min
	if st.minUnset {
		min = 0
	}
	for _, f := range []struct {
		name string
		v    int64
	}{{",lresp=", st.lastResp}, {",llat=", st.lastLat}, {",minlat=", min}, {",avglat=", avg}, {",maxlat=", st.max}} {
		b = append(b, f.name...)
		b = strconv.AppendInt(b, f.v, 10)
	}
	return b
}

// consLine describes c as ZooKeeper's cons (brief: stat) does: its
// address, interest (0 once it only answers a four-letter word), queued
// requests and packets, then for cons the fields of its session, if any.
func (c *conn) consLine(brief bool) string {
	b := make([]byte, 0, 256)
	b = append(b, " /"...)
	b = append(b, engine.JavaSocketAddr(c.nc.RemoteAddr())...)
	if c.word.Load() {
		b = append(b, "[0]"...)
	} else {
		b = append(b, "[1]"...)
	}
	b = append(b, "(queued="...)
	b = strconv.AppendInt(b, int64(c.queued()), 10)
	b = append(b, ",recved="...)
	b = strconv.AppendInt(b, c.received.Load(), 10)
	b = append(b, ",sent="...)
	b = strconv.AppendInt(b, c.sent.Load(), 10)
	if sid := c.sessionID.Load(); !brief && sid != 0 {
		b = c.stats.appendSession(b, sid, c.since, c.timeoutMs())
	}
	b = append(b, ")\n"...)
	return string(b)
}

// resetStats is crst's for one connection: its packets and its record.
func (c *conn) resetStats() {
	c.received.Store(0)
	c.sent.Store(0)
	c.stats.reset()
}

// clockMs returns the server's millisecond clock: Unix ms, advancing with
// the monotonic clock from the server's start.
func (s *Server) clockMs() int64 {
	return s.startedMs + time.Since(s.started).Milliseconds()
}

// responded records that a request of op with xid, read at began
// (clockMs), was answered (at the zxid this peer has applied, as its reply
// says); failed says it failed, which matters for writes only (their
// record names no op, as ZooKeeper's error txn).
func (c *conn) responded(op, xid int32, began int64, failed bool) {
	now, zxid := c.s.clockMs(), c.s.e.AppliedZxid()
	name := opName(op)
	if failed && isWrite(op) && op != jute.OpMulti {
		name = "NA" // ZooKeeper's error txn: its reply names no operation
	}
	c.s.lat.add(now - began)
	c.stats.update(name, xid, zxid, began, now)
}

// opName is the name cons gives a request's op, as ZooKeeper's
// FinalRequestProcessor names them.
func opName(op int32) string {
	if name, ok := opNames[op]; ok {
		return name
	}
	return "NA"
}

// opNames are FinalRequestProcessor's names of the requests.
var opNames = map[int32]string{
	jute.OpPing:                 "PING",
	jute.OpCreateSession:        "SESS",
	jute.OpMulti:                "MULT",
	jute.OpMultiRead:            "MLTR",
	jute.OpCreate:               "CREA",
	jute.OpCreate2:              "CREA",
	jute.OpCreateTTL:            "CREA",
	jute.OpCreateContainer:      "CREA",
	jute.OpDelete:               "DELE",
	jute.OpDeleteContainer:      "DELE",
	jute.OpSetData:              "SETD",
	jute.OpReconfig:             "RECO",
	jute.OpSetACL:               "SETA",
	jute.OpCloseSession:         "CLOS",
	jute.OpSync:                 "SYNC",
	jute.OpCheck:                "CHEC",
	jute.OpExists:               "EXIS",
	jute.OpGetData:              "GETD",
	jute.OpSetWatches:           "SETW",
	jute.OpSetWatches2:          "STW2",
	jute.OpAddWatch:             "ADDW",
	jute.OpGetACL:               "GETA",
	jute.OpGetChildren:          "GETC",
	jute.OpGetChildren2:         "GETC",
	jute.OpGetAllChildrenNumber: "GETACN",
	jute.OpCheckWatches:         "CHKW",
	jute.OpRemoveWatches:        "REMW",
	jute.OpWhoAmI:               "HOMI",
	jute.OpGetEphemerals:        "GETE",
}
