package sim

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"strings"
)

// tracer hashes everything observable that happens in a run, in order:
// frames delivered (with their bytes), ticks, client calls and results,
// faults, hook points reached and status changes. Two runs of one seed must
// end with the same hash. It also keeps the last lines of a readable trace
// for failure reports, and writes every line to out when set.
type tracer struct {
	h    hash.Hash64
	out  io.Writer
	ring []string
	next int
	full bool
	n    int64 // lines
	buf  [8]byte
}

const traceRing = 400

func newTracer(out io.Writer) *tracer {
	return &tracer{h: fnv.New64a(), out: out, ring: make([]string, traceRing)}
}

// bytes adds raw bytes to the hash only (frames).
func (t *tracer) bytes(b []byte) {
	binary.LittleEndian.PutUint64(t.buf[:], uint64(len(b)))
	t.h.Write(t.buf[:])
	t.h.Write(b)
}

// line adds a formatted event to the hash and to the readable trace.
func (t *tracer) line(now int64, format string, args ...any) {
	s := fmt.Sprintf("%6d "+format, append([]any{now}, args...)...)
	t.h.Write([]byte(s))
	t.h.Write([]byte{'\n'})
	t.n++
	t.ring[t.next] = s
	t.next = (t.next + 1) % len(t.ring)
	if t.next == 0 {
		t.full = true
	}
	if t.out != nil {
		fmt.Fprintln(t.out, s)
	}
}

// sum is the hash of everything so far.
func (t *tracer) sum() uint64 { return t.h.Sum64() }

// tail returns the last lines of the trace.
func (t *tracer) tail() string {
	var b strings.Builder
	if t.full {
		for _, s := range t.ring[t.next:] {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	for _, s := range t.ring[:t.next] {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return b.String()
}
