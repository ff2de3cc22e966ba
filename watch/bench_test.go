package watch

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/embedzk/zk/znode"
)

// nopSink takes everything and counts nothing: it isolates the Manager's own
// costs.
type nopSink struct{}

func (nopSink) Deliver(Event) bool { return true }
func (nopSink) Overflow()          {}
func (nopSink) Close()             {}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkMemory measures the heap held by 10k sessions with 10 watches
// each: per watch and per session (a session's 10 watches plus its own
// bookkeeping). "shared" puts the watches on 1,000 paths (many sessions per
// path), "distinct" on 100,000 paths; "nop" uses one shared Sink so only the
// Manager is measured, "chan" a ChanSink(1) per watch, as the engine uses
// for one-shot watches, and "queue" a Queue(1024) per watch, as the engine
// uses for persistent ones.
func BenchmarkMemory(b *testing.B) {
	const sessions, perSession = 10_000, 10
	for _, layout := range []string{"shared", "distinct"} {
		for _, sinkKind := range []string{"nop", "chan", "queue"} {
			b.Run(layout+"/"+sinkKind, func(b *testing.B) {
				paths := make([]string, sessions*perSession)
				for i := range paths {
					n := i
					if layout == "shared" {
						n = i % 1000
					}
					paths[i] = "/app/svc/node-" + strconv.Itoa(n)
				}
				var perWatch, perSess float64
				for b.Loop() {
					before := heapInUse()
					m := NewManager()
					for s := 0; s < sessions; s++ {
						for w := 0; w < perSession; w++ {
							var sink Sink = nopSink{}
							switch sinkKind {
							case "chan":
								sink = NewChanSink(1)
							case "queue":
								sink = NewQueue(1024)
							}
							m.Add(int64(s+1), paths[s*perSession+w], Kind(1+w%5), sink)
						}
					}
					used := float64(heapInUse() - before)
					perWatch = used / (sessions * perSession)
					perSess = used / sessions
					runtime.KeepAlive(m)
				}
				b.ReportMetric(perWatch, "B/watch")
				b.ReportMetric(perSess, "B/session")
			})
		}
	}
}

// BenchmarkSinkMemory reports the heap held by one idle sink (10k of them):
// "chan1" is the ChanSink(1) of a one-shot watch, "chan1024" the
// ChanSink(1024) the engine gave each persistent watch before Queue, "queue"
// the Queue(1024) it gives them now, and "queue-drained" a Queue(1024)
// after its consumer took a burst of 1000 events.
func BenchmarkSinkMemory(b *testing.B) {
	const n = 10_000
	mk := map[string]func() Sink{
		"chan1":    func() Sink { return NewChanSink(1) },
		"chan1024": func() Sink { return NewChanSink(1024) },
		"queue":    func() Sink { return NewQueue(1024) },
		"queue-drained": func() Sink {
			q := NewQueue(1024)
			for i := 0; i < 1000; i++ {
				q.Deliver(Event{Type: EventNodeDataChanged, Path: "/a", Zxid: int64(i)})
			}
			for _, ok := q.TryNext(); ok; _, ok = q.TryNext() {
			}
			return q
		},
	}
	for _, name := range []string{"chan1", "chan1024", "queue", "queue-drained"} {
		b.Run(name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				sinks := make([]Sink, n)
				before := heapInUse()
				for i := range sinks {
					sinks[i] = mk[name]()
				}
				per = float64(heapInUse()-before) / n
				runtime.KeepAlive(sinks)
			}
			b.ReportMetric(per, "B/sink")
		})
	}
}

// BenchmarkTrigger measures one DataChanged change reaching n persistent
// watches (they stay, so every iteration fires all of them), n one-shot data
// watches (re-added outside the timer), and nothing (n watches elsewhere).
func BenchmarkTrigger(b *testing.B) {
	change := []znode.Change{{Type: znode.ChangeDataChanged, Path: "/app/hot", Zxid: 1, ACL: worldRead}}
	for _, n := range []int{1, 100, 10_000} {
		b.Run(fmt.Sprintf("persistent/%d", n), func(b *testing.B) {
			m := NewManager()
			for i := 0; i < n; i++ {
				m.Add(int64(i), "/app/hot", KindPersistent, nopSink{})
			}
			for b.Loop() {
				m.Trigger(change, allow)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/watcher")
		})
		b.Run(fmt.Sprintf("oneshot/%d", n), func(b *testing.B) {
			m := NewManager()
			for b.Loop() {
				b.StopTimer()
				for i := 0; i < n; i++ {
					m.Add(int64(i), "/app/hot", KindData, nopSink{})
				}
				b.StartTimer()
				m.Trigger(change, allow)
			}
		})
		b.Run(fmt.Sprintf("unrelated/%d", n), func(b *testing.B) {
			m := NewManager()
			for i := 0; i < n; i++ {
				m.Add(int64(i), "/app/cold/"+strconv.Itoa(i), KindPersistent, nopSink{})
				m.Add(int64(i), "/app/cold", KindData, nopSink{})
			}
			m.Add(1, "/", KindPersistentRecursive, nopSink{})
			deep := []znode.Change{{Type: znode.ChangeCreated, Path: "/app/hot/a/b/c/d/e/f/g", Zxid: 1, ACL: worldRead, ParentACL: worldRead}}
			for b.Loop() {
				m.Trigger(deep, allow)
			}
		})
	}
}

func BenchmarkAddRemove(b *testing.B) {
	m := NewManager()
	for i := 0; i < 100_000; i++ {
		m.Add(int64(i%1000), "/app/"+strconv.Itoa(i%5000), Kind(1+i%5), nopSink{})
	}
	for b.Loop() {
		id := add(m, 42, "/app/new", KindPersistent, nopSink{})
		m.RemoveID(id)
	}
}

// BenchmarkTables100k: counting the watch tables (mntr, a metrics scrape)
// over 100,000 registrations on 20,000 paths from 1,000 sessions; the
// Manager's lock is held meanwhile.
func BenchmarkTables100k(b *testing.B) {
	m := NewManager()
	for i := range 100000 {
		if _, err := m.Add(int64(i%1000), fmt.Sprintf("/p/%d", i%20000), Kind(1+i%5), &recSink{}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		m.Tables()
	}
}
