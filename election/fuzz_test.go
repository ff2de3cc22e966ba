package election

import (
	"encoding/binary"
	"testing"
)

// FuzzStep feeds arbitrary notifications (and ticks) to an election. It must
// never panic, never move its round backwards while looking, never propose or decide for a
// non-voter, and within a round never move its proposal to a worse vote.
func FuzzStep(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Add([]byte("\x03\x03\x00\x00\x00\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x02\x02"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, _ := NewMajority([]int64{1, 2, 3, 4, 5})
		e, err := New(Config{ID: 1, Quorum: q, Observers: []int64{9}, Finalize: 1, Resend: 2})
		if err != nil {
			t.Fatal(err)
		}
		e.Start(Vote{1, 0x100000003, 1})
		for len(data) >= 19 {
			rec := data[:19]
			data = data[19:]
			round, vote, state := e.Round(), e.Vote(), e.State()
			if rec[0]%7 == 0 {
				e.Tick()
			} else {
				n := Notification{
					Vote: Vote{
						Leader: int64(int8(rec[1])),
						Zxid:   int64(binary.BigEndian.Uint64(rec[2:10])),
						Epoch:  int64(int32(binary.BigEndian.Uint32(rec[10:14]))),
					},
					Round: int64(binary.BigEndian.Uint32(rec[14:18])),
					State: State(rec[18] % 6),
				}
				_ = e.Step(int64(rec[0]%11), n)
			}
			// Only joining a running ensemble takes the leader's round,
			// which may be older (as ZooKeeper does).
			if e.Round() < round && e.State() == Looking {
				t.Fatalf("round went back: %d -> %d", round, e.Round())
			}
			if !e.State().Valid() {
				t.Fatalf("state %v", e.State())
			}
			if e.State() == Looking && state == Looking && e.Round() == round && vote.Beats(e.Vote()) {
				t.Fatalf("proposal got worse in round %d: %v -> %v", round, vote, e.Vote())
			}
			if v := e.Vote(); v != NoVote && !q.IsVoter(v.Leader) {
				t.Fatalf("proposes non-voter %v", v)
			}
			for _, m := range e.Messages() {
				if m.To == 1 || (m.To != 9 && !q.IsVoter(m.To)) {
					t.Fatalf("message to %d", m.To)
				}
			}
		}
	})
}
