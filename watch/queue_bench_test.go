package watch

import "testing"

// BenchmarkDeliverTake measures one event delivered and taken: through a
// Queue, and through a ChanSink for comparison; "burst" delivers 512 then
// takes 512.
func BenchmarkDeliverTake(b *testing.B) {
	e := Event{Type: EventNodeDataChanged, Path: "/a", Zxid: 1}
	b.Run("queue/steady", func(b *testing.B) {
		q := NewQueue(1024)
		for b.Loop() {
			q.Deliver(e)
			q.TryNext()
		}
	})
	b.Run("chan/steady", func(b *testing.B) {
		s := NewChanSink(1024)
		for b.Loop() {
			s.Deliver(e)
			<-s.C()
		}
	})
	b.Run("queue/burst512", func(b *testing.B) {
		q := NewQueue(1024)
		for b.Loop() {
			for i := 0; i < 512; i++ {
				q.Deliver(e)
			}
			for i := 0; i < 512; i++ {
				q.TryNext()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/event")
	})
	b.Run("chan/burst512", func(b *testing.B) {
		s := NewChanSink(1024)
		for b.Loop() {
			for i := 0; i < 512; i++ {
				s.Deliver(e)
			}
			for i := 0; i < 512; i++ {
				<-s.C()
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/512, "ns/event")
	})
}
