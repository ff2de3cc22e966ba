package engine

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// dataKind names what Get returned: null (nil), empty (non-nil, length
// 0), or data.
func dataKind(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) == 0:
		return "empty"
	}
	return "data"
}

// TestNullDataEndToEnd states ZooKeeper's rule (checked against ZooKeeper
// 3.8 with kazoo: create and set with None read back None, with b"" read
// back b""; the built-in nodes read back b""): a node created or set with
// null data reads back nil, one with empty data a non-nil empty slice,
// through every read (Get, GetW, MultiRead), in a multi, on the leader and
// on a follower (the txn crossed the log and the network), and after a
// restart (the log replayed, the tree reopened). WithParents makes its
// parents with empty data, as kazoo's ensure_path and Curator do.
func TestNullDataEndToEnd(t *testing.T) {
	c := newCluster(t, 3, 0, 7)
	c.waitFor("a serving ensemble", 400, c.allServing)
	leader := c.leader()
	ls := c.session(leader)
	fs := c.session(c.others(leader)[0])
	// /zookeeper/config holds the static configuration on an ensemble,
	// reconfigEnabled or not (reconfig.go's initConfig), as ZooKeeper's.
	want := map[string]string{"/": "empty", "/zookeeper": "empty", "/zookeeper/config": "data"}
	err := c.do(func(ctx context.Context) error {
		steps := []func() error{
			func() error { _, err := ls.Create(ctx, "/n", nil); return err },
			func() error { _, err := fs.Create(ctx, "/e", []byte{}); return err },
			func() error { _, err := ls.Create(ctx, "/s1", []byte("x")); return err },
			func() error { _, err := ls.Set(ctx, "/s1", nil, -1); return err },
			func() error { _, err := fs.Create(ctx, "/s2", nil); return err },
			func() error { _, err := fs.Set(ctx, "/s2", []byte{}, -1); return err },
			func() error { _, err := ls.Create(ctx, "/p/q/r", nil, WithParents()); return err },
			func() error {
				_, err := ls.Multi(ctx, CreateOp("/m1", nil), CreateOp("/m2", []byte{}), CreateOp("/m3", []byte("y")),
					SetOp("/m3", []byte{}, -1), SetOp("/m1", []byte("z"), -1), SetOp("/m1", nil, -1))
				return err
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return fs.Sync(ctx, "/")
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, k := range map[string]string{"/n": "null", "/e": "empty", "/s1": "null", "/s2": "empty",
		"/p": "empty", "/p/q": "empty", "/p/q/r": "null", "/m1": "null", "/m2": "empty", "/m3": "empty"} {
		want[p] = k
	}
	check := func(when string, sessions ...*Session) {
		t.Helper()
		for _, s := range sessions {
			err := c.do(func(ctx context.Context) error {
				for p, k := range want {
					data, st, err := s.Get(ctx, p)
					if err != nil {
						return err
					}
					if dataKind(data) != k || st.DataLength != int32(len(data)) {
						t.Errorf("%s: Get(%s) on peer %d: %s data (length %d), want %s", when, p, s.ID()>>56, dataKind(data), st.DataLength, k)
					}
					data, _, _, err = s.GetW(ctx, p)
					if err != nil {
						return err
					}
					if dataKind(data) != k {
						t.Errorf("%s: GetW(%s): %s data, want %s", when, p, dataKind(data), k)
					}
					res, err := s.MultiRead(ctx, GetDataOp(p))
					if err != nil {
						return err
					}
					if dataKind(res[0].Data) != k {
						t.Errorf("%s: MultiRead(%s): %s data, want %s", when, p, dataKind(res[0].Data), k)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	check("leader and follower", ls, fs)
	c.sameTrees()

	// A standalone peer keeps it across a restart.
	fsys := vfs.NewMem()
	e := openTest(t, testConfig(fsys, 3))
	s := newSession(t, e)
	ctx := testCtx(t)
	for p, data := range map[string][]byte{"/n": nil, "/e": {}} {
		if _, err := s.Create(ctx, p, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, testConfig(fsys, 3))
	defer e.Close()
	s = newSession(t, e)
	for p, k := range map[string]string{"/n": "null", "/e": "empty"} {
		data, _, err := s.Get(ctx, p)
		if err != nil || dataKind(data) != k {
			t.Errorf("after a restart: Get(%s): %s data, %v; want %s", p, dataKind(data), err, k)
		}
	}
}
