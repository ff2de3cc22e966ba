//go:build unix

package proctest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Operation kinds of the workload.
const (
	kindCreate  = "create"  // create /k/i with unique data
	kindSet     = "set"     // set /k/i with unique data, CAS on the version last read (or -1)
	kindDelete  = "delete"  // delete /k/i, CAS on the version last read (or -1)
	kindRead    = "read"    // Sync then Get /k/i
	kindUnique  = "ucreate" // create a unique path under /w
	kindSeq     = "seq"     // create /seq/s-<sequence>
	eventCall   = "call"
	eventReturn = "ret"
)

// Outcome classes of a completed operation.
const (
	classOK      = "ok"      // success
	classZKFail  = "zkfail"  // a ZooKeeper result error: no node, node exists, bad version
	classUnknown = "unknown" // ErrOutcomeUnknown or a context error: it may have committed
	classOther   = "other"   // any other error (not serving, session expired, closed ...)
)

// record is one line of an op log: an invocation or a completion.
type record struct {
	Ev      string
	Client  string // "p<peer>.i<incarnation>.c<client>": one goroutine of one process
	Op      int64  // the client's operation number
	Session int64  // the session the operation used
	Kind    string
	Path    string
	Data    string `json:",omitempty"`
	Version int32  `json:",omitempty"`
	Time    int64  // wall clock, ns since the Unix epoch
	Bad     string `json:",omitempty"` // kind "bad": which bad request (badinput_test.go)
	BadTxn  string `json:",omitempty"` // kind "bad": the txn the leader logs if it refuses it

	// Completion only.
	Class      string `json:",omitempty"`
	Code       string `json:",omitempty"` // lincheck's name of a ZooKeeper result error
	Err        string `json:",omitempty"`
	Exists     bool   `json:",omitempty"`
	ReadData   string `json:",omitempty"`
	NewVersion int32  `json:",omitempty"`
	Created    string `json:",omitempty"` // the path a create returned
}

// opLog appends records to a file opened O_APPEND, one write(2) per record,
// so a process killed at any instant leaves only whole records. Safe for
// concurrent use (each record is one write of the whole line).
type opLog struct{ f *os.File }

func openOpLog(path string) (*opLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &opLog{f: f}, nil
}

func (l *opLog) write(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = l.f.Write(append(b, '\n'))
	return err
}

func (l *opLog) close() error { return l.f.Close() }

// op is one operation of a history: its invocation and, if the client
// learned it, its completion.
type op struct {
	call record
	ret  *record // nil: the process died before the call returned
}

// class is the outcome class; "" when the completion is missing.
func (o *op) class() string {
	if o.ret == nil {
		return ""
	}
	return o.ret.Class
}

// resolved reports whether the client learned the outcome for sure.
func (o *op) resolved() bool { return o.class() == classOK || o.class() == classZKFail }

func (o *op) isWrite() bool { return o.call.Kind != kindRead }

// readOpLogs reads the op logs at paths and pairs invocations with
// completions. Ops are returned sorted by invocation time.
func readOpLogs(paths []string) ([]*op, error) {
	byKey := map[string]*op{}
	var ops []*op
	for _, p := range paths {
		recs, err := readRecords(p)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			key := fmt.Sprintf("%s/%d", r.Client, r.Op)
			switch r.Ev {
			case eventCall:
				if byKey[key] != nil {
					return nil, fmt.Errorf("%s: two invocations of %s", p, key)
				}
				o := &op{call: r}
				byKey[key] = o
				ops = append(ops, o)
			case eventReturn:
				o := byKey[key]
				if o == nil || o.ret != nil {
					return nil, fmt.Errorf("%s: completion of %s without one invocation", p, key)
				}
				rr := r
				o.ret = &rr
			default:
				return nil, fmt.Errorf("%s: unknown event %q", p, r.Ev)
			}
		}
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].call.Time < ops[j].call.Time })
	return ops, nil
}

// readRecords parses one op log. Every line must be a whole record: a
// record is written with one write(2), which a SIGKILL cannot cut.
func readRecords(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
