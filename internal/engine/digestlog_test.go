package engine

import "testing"

// TestDigestLogKeepsTheLast: only multiples of the interval are kept, the
// last digestLogLimit of them, oldest first.
func TestDigestLogKeepsTheLast(t *testing.T) {
	var l digestLog
	if got := l.list(); len(got) != 0 {
		t.Fatalf("empty log lists %v", got)
	}
	const n = digestLogLimit + 300
	for z := int64(1); z <= n*digestLogInterval; z++ {
		l.note(z, uint64(z)*3)
	}
	got := l.list()
	if len(got) != digestLogLimit {
		t.Fatalf("%d kept, want %d", len(got), digestLogLimit)
	}
	for i, d := range got {
		want := int64(n-digestLogLimit+1+i) * digestLogInterval
		if d.Zxid != want || d.Digest != uint64(want)*3 {
			t.Fatalf("entry %d is %+v, want zxid %d", i, d, want)
		}
	}
}
