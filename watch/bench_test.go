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
// Manager is measured, "chan" a ChanSink(1) per watch, as the root uses.
func BenchmarkMemory(b *testing.B) {
	const sessions, perSession = 10_000, 10
	for _, layout := range []string{"shared", "distinct"} {
		for _, sinkKind := range []string{"nop", "chan"} {
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
							if sinkKind == "chan" {
								sink = NewChanSink(1)
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
		id := m.Add(42, "/app/new", KindPersistent, nopSink{})
		m.RemoveID(id)
	}
}
