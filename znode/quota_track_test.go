package znode

import (
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/google/go-cmp/cmp"
)

// TestStatsTrack: ZooKeeper's StatsTrack text, parsed and written as its
// Java class does.
func TestStatsTrack(t *testing.T) {
	cases := []struct {
		in   string
		want statsTrack
		out  string // encode of the parsed value
	}{
		{"", statsTrack{}, "count=-1,bytes=-1"},
		{"count=2,bytes=1", statsTrack{"count": 2, "bytes": 1}, "count=2,bytes=1"},
		{"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3",
			statsTrack{"count": -1, "bytes": -1, "byteHardLimit": -1, "countHardLimit": 3},
			"count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3"},
		{"countHardLimit=3;count=1", statsTrack{"count": 1, "countHardLimit": 3}, "count=1,bytes=-1=;countHardLimit=3"},
		{"count=1,,;;bytes=2;", statsTrack{"count": 1, "bytes": 2}, "count=1,bytes=2"},
		{";,;", statsTrack{}, "count=-1,bytes=-1"},
		{"count==5", statsTrack{"count": -1}, "count=-1,bytes=-1"},
		{"count=+7", statsTrack{"count": 7}, "count=7,bytes=-1"},
		{"zzz=1,count=1", statsTrack{"count": 1, "zzz": 1}, "count=1,bytes=-1=;zzz=1"},
	}
	for _, c := range cases {
		got, err := parseStatsTrack([]byte(c.in))
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if !cmp.Equal(got, c.want) {
			t.Errorf("%q: parsed %v, want %v", c.in, got, c.want)
		}
		if out := string(got.encode()); out != c.out {
			t.Errorf("%q: encoded %q, want %q", c.in, out, c.out)
		}
	}
	for _, in := range []string{"count", "count=", ",count=1", "count=x", "count=1.5", "count=99999999999999999999"} {
		if _, err := parseStatsTrack([]byte(in)); !isBadArgs(err) {
			t.Errorf("%q: %v, want ErrBadArguments", in, err)
		}
	}
}

func isBadArgs(err error) bool { return codeOf(err) == zkerr.CodeBadArguments }

func FuzzStatsTrack(f *testing.F) {
	for _, s := range []string{"count=1,bytes=2", "count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=3", ";", "a==b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStatsTrack(b)
		if err != nil {
			return
		}
		// What zk writes, it reads back the same (count and bytes are always
		// written).
		again, err := parseStatsTrack(st.encode())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", st.encode(), err)
		}
		if again.get(trackCount) != st.get(trackCount) || again.get(trackBytes) != st.get(trackBytes) ||
			again.get(trackCountHard) != st.get(trackCountHard) || again.get(trackBytesHard) != st.get(trackBytesHard) {
			t.Fatalf("%q -> %v -> %q -> %v", b, st, st.encode(), again)
		}
	})
}
