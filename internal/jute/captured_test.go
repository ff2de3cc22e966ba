package jute_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/jute"
)

// frame is one captured frame body.
type frame struct {
	conn   int
	client bool // sent by the client
	body   []byte
	line   int
}

// loadFrames reads a testdata/*.frames file written by TestCapture.
func loadFrames(t testing.TB, name string) []frame {
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []frame
	conn := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		switch {
		case strings.HasPrefix(text, "#") || text == "":
		case strings.HasPrefix(text, "= connection"):
			conn++
		case strings.HasPrefix(text, "C "), strings.HasPrefix(text, "S "):
			b, err := hex.DecodeString(text[2:])
			if err != nil {
				t.Fatalf("%s:%d: %v", name, line, err)
			}
			out = append(out, frame{conn: conn, client: text[0] == 'C', body: b, line: line})
		default:
			t.Fatalf("%s:%d: unexpected line %q", name, line, text)
		}
	}
	return out
}

// roundTrip decodes b into rec (every byte used) and checks that encoding it
// again gives b back.
func roundTrip(t *testing.T, where string, b []byte, recs ...jute.Record) {
	t.Helper()
	d := jute.NewDecoder(b)
	for _, r := range recs {
		r.Decode(d)
	}
	if d.Err() != nil {
		t.Fatalf("%s: decode: %v", where, d.Err())
	}
	if d.Remaining() != 0 {
		t.Fatalf("%s: %d bytes left after decoding", where, d.Remaining())
	}
	if got := jute.Marshal(nil, recs...); !bytes.Equal(got, b) {
		t.Fatalf("%s: re-encoded\n%x\nwant\n%x", where, got, b)
	}
}

// replayCapture decodes every frame of a capture as the server and the
// client would, and re-encodes it byte for byte. It returns the request
// types seen.
func replayCapture(t *testing.T, name string) map[int32]int {
	seen := map[int32]int{}
	type connState struct {
		connected, accepted bool
		ops                 map[int32]int32 // xid -> op
	}
	conns := map[int]*connState{}
	for _, f := range loadFrames(t, name) {
		where := name + ":" + itoa(f.line)
		cs := conns[f.conn]
		if cs == nil {
			cs = &connState{ops: map[int32]int32{}}
			conns[f.conn] = cs
		}
		switch {
		case f.client && !cs.connected:
			cs.connected = true
			roundTrip(t, where, f.body, &jute.ConnectRequest{})
		case !f.client && !cs.accepted:
			cs.accepted = true
			roundTrip(t, where, f.body, &jute.ConnectResponse{})
		case f.client:
			var h jute.RequestHeader
			h.Decode(jute.NewDecoder(f.body))
			rec, ok := jute.NewRequest(h.Type)
			if !ok {
				t.Fatalf("%s: unknown op %d", where, h.Type)
			}
			cs.ops[h.Xid] = h.Type
			seen[h.Type]++
			roundTrip(t, where, f.body, withRecord(&h, rec)...)
		default:
			replayReply(t, where, f.body, cs.ops)
		}
	}
	return seen
}

func replayReply(t *testing.T, where string, b []byte, ops map[int32]int32) {
	t.Helper()
	var h jute.ReplyHeader
	h.Decode(jute.NewDecoder(b))
	if h.Xid == jute.XidNotification {
		roundTrip(t, where, b, &h, &jute.WatcherEvent{})
		return
	}
	op, ok := ops[h.Xid]
	if !ok {
		t.Fatalf("%s: reply to unknown xid %d", where, h.Xid)
	}
	if h.Err != 0 {
		roundTrip(t, where, b, &h)
		return
	}
	rec, _ := jute.NewResponse(op)
	roundTrip(t, where, b, withRecord(&h, rec)...)
}

func withRecord(h jute.Record, rec jute.Record) []jute.Record {
	if rec == nil {
		return []jute.Record{h}
	}
	return []jute.Record{h, rec}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestCapturedFrames replays the frames real clients and a real ZooKeeper
// 3.8 exchanged, and checks that the requests each client sent are there.
func TestCapturedFrames(t *testing.T) {
	want := map[string][]int32{
		"gozk.frames": {jute.OpCreate, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpGetData,
			jute.OpExists, jute.OpGetChildren2, jute.OpSetData, jute.OpGetACL, jute.OpSetACL, jute.OpAuth,
			jute.OpSync, jute.OpMulti, jute.OpDelete, jute.OpPing, jute.OpCloseSession},
		"zkcli.frames": {jute.OpCreate, jute.OpGetChildren2, jute.OpCreateContainer, jute.OpCreateTTL, jute.OpGetChildren,
			jute.OpGetData, jute.OpSetData, jute.OpExists, jute.OpGetEphemerals, jute.OpGetAllChildrenNumber,
			jute.OpAddWatch, jute.OpRemoveWatches, jute.OpAuth, jute.OpWhoAmI, jute.OpSetACL, jute.OpGetACL,
			jute.OpSync, jute.OpDelete, jute.OpMulti, jute.OpCloseSession},
		"kazoo.frames": {jute.OpCreate, jute.OpExists, jute.OpGetChildren2, jute.OpMulti, jute.OpGetData,
			jute.OpDelete, jute.OpCloseSession},
	}
	for name, ops := range want {
		t.Run(name, func(t *testing.T) {
			seen := replayCapture(t, name)
			for _, op := range ops {
				if seen[op] == 0 {
					t.Errorf("no request of type %d in %s", op, name)
				}
			}
		})
	}
}
