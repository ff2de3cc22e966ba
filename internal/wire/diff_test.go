package wire_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

var (
	diffSteps = flag.Int("wire.diffsteps", 400, "steps of the differential test")
	diffSeed  = flag.Uint64("wire.diffseed", 1, "seed of the differential test")
	diffTrace = flag.Bool("wire.difftrace", false, "log every step of the differential test")
)

// system is one server under the differential test: two go-zookeeper
// sessions (c1 acts, c2 watches) and the watch channels c2 holds.
type system struct {
	t        *testing.T
	addr     string
	name     string
	c1, c2   *gozk.Conn
	watches  []<-chan gozk.Event
	base     int64 // counter part of the first zxid the test saw
	sessions map[int64]string
}

func newSystem(t *testing.T, name, addr string) *system {
	c1, _ := dial(t, addr)
	c2, _ := dial(t, addr)
	must(t, c1.AddAuth("digest", []byte("u:p")))
	return &system{t: t, addr: addr, name: name, c1: c1, c2: c2,
		sessions: map[int64]string{c1.SessionID(): "s1", c2.SessionID(): "s2"}}
}

// reopen closes c1's session (its ephemeral nodes go) and opens another.
func (s *system) reopen() {
	s.c1.Close()
	s.c1, _ = dial(s.t, s.addr)
	must(s.t, s.c1.AddAuth("digest", []byte("u:p")))
	s.sessions[s.c1.SessionID()] = fmt.Sprintf("s%d", len(s.sessions)+1)
}

// zx normalizes a zxid: its counter relative to the test's first zxid (the
// two servers start at different epochs and counters).
func (s *system) zx(z int64) int64 {
	if z == 0 {
		return 0
	}
	return z&0xffffffff - s.base
}

func (s *system) stat(st *gozk.Stat) string {
	if st == nil {
		return "nil"
	}
	owner := fmt.Sprintf("%#x", st.EphemeralOwner)
	if name, ok := s.sessions[st.EphemeralOwner]; ok {
		owner = name
	}
	return fmt.Sprintf("{c%d m%d p%d v%d cv%d av%d own=%s len%d kids%d}", s.zx(st.Czxid), s.zx(st.Mzxid), s.zx(st.Pzxid),
		st.Version, st.Cversion, st.Aversion, owner, st.DataLength, st.NumChildren)
}

// events drains the watch events c2 has received (a round trip on c2 first,
// so that every event of the last change is in).
func (s *system) events() string {
	s.c2.Exists("/")
	var out []string
	for _, ch := range s.watches {
		for done := false; !done; {
			select {
			case ev, ok := <-ch:
				if !ok {
					done = true
					continue
				}
				out = append(out, fmt.Sprintf("%s %s", ev.Type, ev.Path))
			default:
				done = true
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// diffOp is one step: it runs the same operation on a system and describes
// the outcome.
type diffOp func(s *system) string

func errStr(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

var diffPaths = []string{"/d", "/d/a", "/d/b", "/d/a/x", "/d/a/y", "/d/b/z", "/d/c", "/e"}

// genACLCreate draws a create with an ACL that fixupACL changes (an entry
// twice, an "auth" entry), one it keeps as it is (the same id with other
// permissions) or one it refuses, and reads the ACL back; everyone may read, as in genOp's
// case 13.
func genACLCreate(rng *rand.Rand, p string, data []byte) (string, diffOp) {
	acls := [][]gozk.ACL{
		append(gozk.WorldACL(gozk.PermAll), gozk.WorldACL(gozk.PermAll)...),
		append(gozk.WorldACL(gozk.PermRead), gozk.WorldACL(gozk.PermAll)...),
		append(gozk.AuthACL(gozk.PermAll), gozk.WorldACL(gozk.PermRead)...),
		append(gozk.WorldACL(gozk.PermAll), gozk.AuthACL(gozk.PermRead)...),
		// Refused (INVALIDACL): an unknown scheme, an id its scheme
		// refuses, no entry at all.
		{{Perms: gozk.PermAll, Scheme: "foo", ID: "x"}},
		{{Perms: gozk.PermAll, Scheme: "ip", ID: "1.2.3.4/40"}},
		{},
	}
	i := rng.IntN(len(acls))
	return fmt.Sprintf("create with ACL #%d %s", i, p), func(s *system) string {
		got, err := s.c1.Create(p, data, 0, acls[i])
		if err != nil {
			return errStr(err)
		}
		acl, st, err := s.c1.GetACL(got)
		return got + " " + fmt.Sprint(acl) + " " + s.stat(st) + " " + errStr(err)
	}
}

// genOp draws one random step.
func genOp(rng *rand.Rand) (string, diffOp) {
	p := diffPaths[rng.IntN(len(diffPaths))]
	data := []byte(fmt.Sprint(rng.IntN(1000)))
	version := int32(rng.IntN(4)) - 1
	switch k := rng.IntN(16); k {
	case 15:
		return genACLCreate(rng, p, data)
	case 13:
		// Everyone may read: ZooKeeper 3.8.0 (Debian's) answers exists
		// without READ, zk and later ZooKeepers refuse it (see README).
		return "create digest-owned " + p, func(s *system) string {
			acl := append(gozk.DigestACL(gozk.PermAll, "u", "p"), gozk.WorldACL(gozk.PermRead)...)
			got, err := s.c1.Create(p, data, 0, acl)
			return got + " " + errStr(err)
		}
	case 14:
		return "getACL from c2 " + p, func(s *system) string {
			acl, st, err := s.c2.GetACL(p)
			return fmt.Sprint(acl) + " " + s.stat(st) + " " + errStr(err)
		}
	case 12:
		return "reopen c1", func(s *system) string { s.reopen(); return "ok" }
	case 0, 1:
		flags := []int32{0, 0, gozk.FlagEphemeral, gozk.FlagSequence, gozk.FlagEphemeralSequential}[rng.IntN(5)]
		return fmt.Sprintf("create %s flags=%d", p, flags), func(s *system) string {
			got, err := s.c1.Create(p, data, flags, open)
			return got + " " + errStr(err)
		}
	case 2:
		return "createContainer " + p, func(s *system) string {
			got, err := s.c1.CreateContainer(p, data, gozk.FlagContainer, open)
			return got + " " + errStr(err)
		}
	case 3:
		return "createTTL " + p, func(s *system) string {
			got, err := s.c1.CreateTTL(p, data, gozk.FlagTTL, open, time.Hour)
			return got + " " + errStr(err)
		}
	case 4:
		return fmt.Sprintf("delete %s v=%d", p, version), func(s *system) string { return errStr(s.c1.Delete(p, version)) }
	case 5:
		return fmt.Sprintf("set %s v=%d", p, version), func(s *system) string {
			st, err := s.c1.Set(p, data, version)
			return s.stat(st) + " " + errStr(err)
		}
	case 6:
		return "get+watch " + p, func(s *system) string {
			b, st, ch, err := s.c2.GetW(p)
			if err == nil {
				s.watches = append(s.watches, ch)
			}
			return string(b) + " " + s.stat(st) + " " + errStr(err)
		}
	case 7:
		return "exists+watch " + p, func(s *system) string {
			ok, st, ch, err := s.c2.ExistsW(p)
			if err == nil {
				s.watches = append(s.watches, ch)
			}
			return fmt.Sprint(ok) + " " + s.stat(st) + " " + errStr(err)
		}
	case 8:
		return "children+watch " + p, func(s *system) string {
			kids, st, ch, err := s.c2.ChildrenW(p)
			if err == nil {
				s.watches = append(s.watches, ch)
			}
			slices.Sort(kids)
			return fmt.Sprint(kids) + " " + s.stat(st) + " " + errStr(err)
		}
	case 9:
		// Mostly open; now and then one ZooKeeper refuses (INVALIDACL,
		// before the node and the version are looked at).
		acl := [][]gozk.ACL{gozk.WorldACL(gozk.PermAll), gozk.WorldACL(gozk.PermAll), {{Perms: gozk.PermAll, Scheme: "world", ID: "bob"}}}[rng.IntN(3)]
		return fmt.Sprintf("setACL %s v=%d %v", p, version, acl), func(s *system) string {
			st, err := s.c1.SetACL(p, acl, version)
			return s.stat(st) + " " + errStr(err)
		}
	case 10:
		return "getACL " + p, func(s *system) string {
			acl, st, err := s.c1.GetACL(p)
			return fmt.Sprint(acl) + " " + s.stat(st) + " " + errStr(err)
		}
	}
	return genMulti(rng)
}

// genMulti draws a multi of two or three ops.
func genMulti(rng *rand.Rand) (string, diffOp) {
	var ops []any
	var desc []string
	for i := 0; i < 2+rng.IntN(2); i++ {
		p := diffPaths[rng.IntN(len(diffPaths))]
		v := int32(rng.IntN(3)) - 1
		switch rng.IntN(4) {
		case 0:
			ops = append(ops, &gozk.CreateRequest{Path: p, Data: []byte("m"), Acl: open})
			desc = append(desc, "create "+p)
		case 1:
			ops = append(ops, &gozk.DeleteRequest{Path: p, Version: v})
			desc = append(desc, fmt.Sprintf("delete %s v=%d", p, v))
		case 2:
			ops = append(ops, &gozk.SetDataRequest{Path: p, Data: []byte("s"), Version: v})
			desc = append(desc, fmt.Sprintf("set %s v=%d", p, v))
		default:
			ops = append(ops, &gozk.CheckVersionRequest{Path: p, Version: v})
			desc = append(desc, fmt.Sprintf("check %s v=%d", p, v))
		}
	}
	return "multi[" + strings.Join(desc, "; ") + "]", func(s *system) string {
		res, err := s.c1.Multi(ops...)
		var parts []string
		for _, r := range res {
			parts = append(parts, r.String+" "+s.stat(r.Stat)+" "+errStr(r.Error))
		}
		return strings.Join(parts, " | ") + " => " + errStr(err)
	}
}

// TestDifferentialRealZooKeeper runs the same seeded random operations
// through go-zookeeper against a real ZooKeeper 3.8 and against a zk peer,
// and compares every step: results, errors, Stat fields (zxids relative to
// the first, times left out), sequence names and watch events.
func TestDifferentialRealZooKeeper(t *testing.T) {
	real := newSystem(t, "zookeeper", startRealZK(t))
	cfg := peerConfig()
	cfg.ManualClock = false // real time, as the real server runs
	ours := newSystem(t, "zk", startPeer(t, cfg).ClientAddr())
	for _, s := range []*system{real, ours} {
		p, err := s.c1.Create("/d", nil, 0, open)
		must(t, err)
		_, st, err := s.c1.Exists(p)
		must(t, err)
		s.base = st.Czxid & 0xffffffff
	}
	rng := rand.New(rand.NewPCG(*diffSeed, 7))
	for step := 0; step < *diffSteps; step++ {
		desc, op := genOp(rng)
		a, b := op(real), op(ours)
		ea, eb := real.events(), ours.events()
		if *diffTrace {
			t.Logf("step %d: %s\n  zookeeper: %s [%s]\n  zk:        %s [%s]", step, desc, a, ea, b, eb)
		}
		if a != b || ea != eb {
			t.Fatalf("seed %d step %d: %s\nzookeeper: %s\n  events: %s\nzk:        %s\n  events: %s",
				*diffSeed, step, desc, a, ea, b, eb)
		}
	}
}
