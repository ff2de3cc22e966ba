package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
)

var (
	fuzzLines = flag.Int("zkcli.lines", 3000, "command lines TestRandomLines feeds the shell")
	fuzzSeed  = flag.Int64("zkcli.seed", 1, "seed of TestRandomLines")
)

// fuzzPeer is an embedded peer with a shell on it and a super-user
// session that reads the whole tree, ACLs notwithstanding.
type fuzzPeer struct {
	backend *embedded
	sh      *Shell
	out     bytes.Buffer
	checker *zk.Session
}

func newFuzzPeer(t *testing.T) *fuzzPeer {
	t.Helper()
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), SuperDigest: zk.DigestAuth("super", "pw"),
		ContainerCheckInterval: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	p := &fuzzPeer{backend: &embedded{ens: ens}}
	t.Cleanup(func() { _ = ens.Close() })
	ctx := context.Background()
	p.checker, err = ens.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.checker.AddAuth(ctx, "digest", []byte("super:pw")); err != nil {
		t.Fatal(err)
	}
	p.newShell(t)
	return p
}

// newShell opens a fresh shell (after quit, which ends one).
func (p *fuzzPeer) newShell(t *testing.T) {
	t.Helper()
	p.sh = NewShell(ShellConfig{Backend: p.backend, Out: &p.out, Err: &p.out,
		CallTimeout: 10 * time.Second, Dial: dialRemote})
	if err := p.sh.Connect(); err != nil {
		t.Fatal(err)
	}
}

// digest lists the whole tree (paths, data, Stat, ACL) and hashes it.
func (p *fuzzPeer) digest(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	queue := []string{"/"}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		data, st, err := p.checker.Get(ctx, path)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			t.Fatalf("digest: get %s: %v", path, err)
		}
		acl, _, err := p.checker.GetACL(ctx, path)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			t.Fatalf("digest: getACL %s: %v", path, err)
		}
		children, _, err := p.checker.Children(ctx, path)
		if err != nil && !errors.Is(err, zk.ErrNoNode) {
			t.Fatalf("digest: children %s: %v", path, err)
		}
		fmt.Fprintf(h, "%s\x00%q\x00%+v\x00%+v\n", path, data, st, acl)
		sort.Strings(children)
		for _, c := range children {
			queue = append(queue, childPath(path, c))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// seedTree makes the nodes the random lines name, if they are gone.
func (p *fuzzPeer) seedTree(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, n := range []struct {
		path string
		acl  []zk.ACL
	}{
		{"/a", nil}, {"/a/b", nil}, {"/a/b/c", nil}, {"/d", nil},
		{"/ro", zk.ReadACLUnsafe()},
		{"/secret", []zk.ACL{zk.DigestACL(zk.PermAll, "bob", "pw")}},
	} {
		opts := []zk.CreateOption{}
		if n.acl != nil {
			opts = append(opts, zk.WithACL(n.acl...))
		}
		_, err := p.checker.Create(ctx, n.path, []byte("seed"), opts...)
		if err != nil && !errors.Is(err, zk.ErrNodeExists) && !errors.Is(err, zk.ErrNoNode) {
			t.Fatalf("seed %s: %v", n.path, err)
		}
	}
}

// TestRandomLines feeds the shell seeded random and malformed command
// lines (-zkcli.lines of them, -zkcli.seed): it must never panic, and a
// line it rejects (a non-zero exit code: bad command, bad arguments, a
// refused call) must leave the tree exactly as it was.
func TestRandomLines(t *testing.T) {
	n := *fuzzLines
	if testing.Short() || raceEnabled {
		n = min(n, 1500) // CI runs with -race, where a line costs ten times more
	}
	p := newFuzzPeer(t)
	rng := rand.New(rand.NewSource(*fuzzSeed))
	p.seedTree(t)
	before := p.digest(t)
	rejected := 0
	for i := 0; i < n; i++ {
		if i%100 == 0 {
			// A fresh tree now and then keeps it small (sequential
			// creates pile up) and brings the named nodes back.
			if err := p.checker.DeleteAll(context.Background(), "/"); err != nil {
				t.Fatal(err)
			}
			p.seedTree(t)
			before = p.digest(t)
		}
		line := randomLine(rng)
		p.out.Reset()
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("line %d %q: panic: %v", i, line, r)
				}
			}()
			p.sh.ExecuteLine(line)
		}()
		after := p.digest(t)
		// quit exits with the previous line's code, as zkCli does: it is
		// not a rejection of its own.
		if p.sh.ExitCode() != 0 && !p.sh.Quit() {
			rejected++
			if after != before {
				t.Fatalf("line %d %q was rejected (exit %d) but changed the tree; output:\n%s",
					i, line, p.sh.ExitCode(), p.out.String())
			}
		}
		before = after
		if p.sh.Quit() {
			p.newShell(t)
			before = p.digest(t)
		} else if !p.sh.alive() {
			p.sh.ExecuteLine("connect") // the old session's ephemerals go
			before = p.digest(t)
		}
	}
	if rejected < n/4 {
		t.Errorf("only %d of %d random lines were rejected: the generator no longer tests rejection", rejected, n)
	}
	t.Logf("%d lines, %d rejected", n, rejected)
}

var (
	fuzzCommands = append(commandNames(), "rmr", "help", "LS", "", "-s", "create2", "get/", "#")
	fuzzOptions  = []string{"-s", "-w", "-R", "-e", "-c", "-t", "-v", "-b", "-m", "-n", "-N", "-B", "-d", "-a", "-l",
		"-x", "--", "-", "-sR", "-es", "-v5", "-t=3", "-v=", "--foo", "-?", "-sx", "-b-1"}
	fuzzPaths = []string{"/", "/a", "/a/b", "/a/b/c", "/d", "/ro", "/secret", "/new", "/a/new", "/nonexistent/x",
		"/zookeeper", "/zookeeper/quota", "/zookeeper/config", "", "noslash", "/a/", "//", "/a//b", "/.", "/a/..",
		"/a/./b", "/\u00e9t\u00e9", "/\U0001F600", "/tab\there", "/\x00", "/\u0085", "/\ufff5", "/" + strings.Repeat("x", 300)}
	fuzzValues = []string{"0", "-1", "1", "5", "abc", "0x10", "#7", "010", "2147483648", "-2147483649", "1e3", "-5",
		"1.5", "PERSISTENT", "persistent_recursive", "nonsense", "99999999999999999999", "NaN"}
	fuzzACLs = []string{"world:anyone:cdrwa", "world:anyone:r", "world:anyone", "nonsense", "digest:bob:xyz:r",
		"auth::cdrwa", "ip:127.0.0.1:rw", "ip:300.1.1.1:r", "world:anyone:rwz", ",", "x:y:z:w", "world:nobody:r",
		"super:x:r"}
	fuzzData = []string{"data", "\"quoted data\"", "'single'", "\"unterminated", "''", "\"\"", "caf\u00e9", "a,b}c%d"}
	fuzzJunk = []string{"\"", "'", "\"\"\"", "'\"'", "   ", "\t", "\\", "%s%d", "${x}", "\x1b[A", "\x00", "\xff\xfe"}
)

// randomLine makes a command line: mostly a command with random options
// and arguments, sometimes pure junk.
func randomLine(rng *rand.Rand) string {
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	if rng.Intn(12) == 0 {
		var sb strings.Builder
		for k := rng.Intn(6); k >= 0; k-- {
			if rng.Intn(2) == 0 {
				sb.WriteString(pick(fuzzJunk))
			} else {
				sb.WriteByte(byte(rng.Intn(256)))
			}
		}
		return sb.String()
	}
	if rng.Intn(3) == 0 {
		return wellFormedLine(rng)
	}
	words := []string{pick(fuzzCommands)}
	for k := rng.Intn(5); k > 0; k-- {
		switch rng.Intn(6) {
		case 0, 1:
			words = append(words, pick(fuzzPaths))
		case 2:
			words = append(words, pick(fuzzOptions))
		case 3:
			words = append(words, pick(fuzzValues))
		case 4:
			words = append(words, pick(fuzzACLs))
		default:
			words = append(words, pick(fuzzData))
		}
	}
	if rng.Intn(10) == 0 {
		words = append(words, pick(fuzzJunk))
	}
	sep := " "
	if rng.Intn(8) == 0 {
		sep = "  \t"
	}
	return strings.Join(words, sep)
}

// wellFormedLine makes a line zkCli would mostly accept, so that the tree
// changes and later lines meet it changed.
func wellFormedLine(rng *rand.Rand) string {
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	paths := []string{"/a", "/a/b", "/a/b/c", "/d", "/d/e", "/f", "/a/f", "/ro", "/secret"}
	p := pick(paths)
	switch rng.Intn(14) {
	case 0, 1:
		return "create " + pick([]string{"", "-s ", "-e ", "-c ", "-e -s ", "-t 60000 "}) + p + " " + pick(fuzzData)
	case 2:
		return "set " + pick([]string{"", "-s ", "-v 0 ", "-v 1 "}) + p + " " + pick(fuzzData)
	case 3:
		return "delete " + pick([]string{"", "-v 0 "}) + p
	case 4:
		return "deleteall " + pick([]string{"", "-b 1 "}) + p
	case 5:
		return "setAcl " + pick([]string{"", "-R ", "-s "}) + p + " " + pick(fuzzACLs)
	case 6:
		return pick([]string{"get -w ", "ls -w ", "stat -w ", "ls -R -w ", "addWatch ", "addWatch -m PERSISTENT "}) + p
	case 7:
		return "removewatches " + p + pick([]string{"", " -c", " -d", " -a"})
	case 8:
		return pick([]string{"get -s ", "ls -s ", "getAcl -s ", "getAllChildrenNumber ", "getEphemerals ", "sync "}) + p
	case 9:
		return pick([]string{"history", "redo 3", "redo 0", "printwatches off", "printwatches on", "whoami", "config"})
	case 10:
		return "addauth digest " + pick([]string{"bob:pw", "alice:x"})
	case 11:
		return pick([]string{"close", "connect", "quit", "addauth nonsense x"})
	default:
		return pick([]string{"setquota -n 5 ", "listquota ", "delquota "}) + p
	}
}
