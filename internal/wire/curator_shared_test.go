package wire_test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/testbuf"
	"github.com/embedzk/zk/recipes"
)

// TestInteropCuratorSharedPaths: a Go process's recipes (package recipes,
// in process on a zk peer) and Curator 5.4's (testdata/curator's
// SharedPaths, over the client port) on the same paths:
//   - a queue a Go consumer emptied is still there after the leader's
//     container sweep, so the put of a Curator producer started before
//     lands, and the Go queue takes its item;
//   - a long in a node created empty (as zkCli's "create /counter" leaves
//     it) counts 1, 2, 3 across the two;
//   - a double barrier of a Go and a Curator member lets both in and out;
//   - a mutex excludes across the two, either one holding;
//   - data compressed by either is read by the other's caches
//     (compressedCache).
func TestInteropCuratorSharedPaths(t *testing.T) {
	cp := compileCurator(t)
	cfg := peerConfig()
	cfg.ContainerCheckInterval = cfg.TickTime // swept at every tick the test drives
	e := startPeer(t, cfg)
	addr := e.ClientAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sess, err := e.NewSession(ctx)
	must(t, err)
	c, err := recipes.NewClient(sess)
	must(t, err)
	defer c.Close(context.Background())

	sp := sharedPaths{cp: cp, e: e, addr: addr, ctx: ctx, sess: sess, c: c}
	t.Run("queue", sp.queue)
	t.Run("atomic-long", sp.atomicLong)
	t.Run("double-barrier", sp.doubleBarrier)
	t.Run("mutex", sp.mutex)
	t.Run("compressed-cache", sp.compressedCache)
}

// sharedPaths is what TestInteropCuratorSharedPaths's steps share: the
// compiled Curator programs, the peer, and the Go side's session and Client.
type sharedPaths struct {
	cp   string
	e    *engine.Ensemble
	addr string
	ctx  context.Context
	sess *zk.Session
	c    *recipes.Client
}

func (sp sharedPaths) queue(t *testing.T) {
	ctx, c := sp.ctx, sp.c
	q, err := recipes.NewDistributedQueue(c, "/app/jobs")
	must(t, err)
	must(t, q.Put(ctx, []byte("go-1")))
	j := startJava(t, sp.cp, "SharedPaths", sp.addr, "queue-put", "/app/jobs", "java-1")
	j.expect("STARTED") // it found the queue's directory
	if got := takeAckQueue(t, ctx, q); got != "go-1" {
		t.Fatalf("took %q, want go-1", got)
	}
	sweep(t, ctx, sp.e, sp.sess)
	_, err = io.WriteString(j.stdin, "put\n")
	must(t, err)
	j.expect("FLUSHED true")
	j.expect("ITEMS 1")
	j.wait()
	if got := takeAckQueue(t, ctx, q); got != "java-1" {
		t.Fatalf("took %q, want Curator's java-1", got)
	}
}

func (sp sharedPaths) atomicLong(t *testing.T) {
	ctx := sp.ctx
	_, err := sp.sess.Create(ctx, "/counter", nil)
	must(t, err)
	a, err := recipes.NewDistributedAtomicLong(sp.c, "/counter")
	must(t, err)
	if v, err := a.Increment(ctx); err != nil || !v.Succeeded || v.PostValue != 1 {
		t.Fatalf("Go's increment of an empty node: %+v %v", v, err)
	}
	lines := runJava(t, true, sp.cp, "SharedPaths", sp.addr, "increment", "/counter")
	if !slices.Contains(lines, "INCREMENT true 1 2") {
		t.Fatalf("Curator's increment:\n%s", strings.Join(lines, "\n"))
	}
	if v, err := a.Increment(ctx); err != nil || !v.Succeeded || v.PreValue != 2 || v.PostValue != 3 {
		t.Fatalf("Go's increment after Curator's: %+v %v", v, err)
	}
}

func (sp sharedPaths) doubleBarrier(t *testing.T) {
	j := startJava(t, sp.cp, "SharedPaths", sp.addr, "double-barrier", "/db", "2")
	b, err := recipes.NewDistributedDoubleBarrier(sp.c, "/db", 2)
	must(t, err)
	must(t, b.Enter(sp.ctx))
	j.expect("ENTERED true")
	must(t, b.Leave(sp.ctx))
	j.expect("LEFT true")
	j.wait()
}

func (sp sharedPaths) mutex(t *testing.T) {
	ctx := sp.ctx
	m, err := recipes.NewMutex(sp.c, "/lock")
	must(t, err)
	j := startJava(t, sp.cp, "SharedPaths", sp.addr, "mutex-hold", "/lock")
	j.expect("HELD")
	got := make(chan error, 1)
	var lease *recipes.Lease
	go func() {
		var err error
		lease, err = m.Acquire(ctx)
		got <- err
	}()
	waitChildren(t, ctx, sp.sess, "/lock", 2) // Go's contender queued behind Curator's holder
	select {
	case err := <-got:
		t.Fatalf("Go's acquire returned while Curator holds the lock: %v", err)
	default:
	}
	must(t, j.stdin.Close()) // Curator releases
	must(t, <-got)
	j.expect("RELEASED")
	j.wait()

	j = startJava(t, sp.cp, "SharedPaths", sp.addr, "mutex-wait", "/lock")
	j.expect("WAITING")
	waitChildren(t, ctx, sp.sess, "/lock", 2) // Curator's contender queued behind Go's holder
	if j.printed() {
		t.Fatal("Curator acquired the lock while Go holds it")
	}
	must(t, lease.Release(ctx))
	j.expect("ACQUIRED")
	j.wait()
}

// takeAckQueue takes one item and acknowledges it.
func takeAckQueue(t *testing.T, ctx context.Context, q *recipes.DistributedQueue) string {
	t.Helper()
	it, err := q.Take(ctx)
	must(t, err)
	must(t, it.Ack(ctx))
	return string(it.Data())
}

// sweep ticks the peer until its leader has swept empty containers once
// after this call: a container made for the purpose, whose child is
// deleted, is gone.
func sweep(t *testing.T, ctx context.Context, e *engine.Ensemble, sess *zk.Session) {
	t.Helper()
	_, err := sess.Create(ctx, "/canary", nil, zk.WithMode(zk.ModeContainer))
	must(t, err)
	_, err = sess.Create(ctx, "/canary/x", nil)
	must(t, err)
	must(t, sess.Delete(ctx, "/canary/x", -1))
	for range 100 {
		must(t, e.Tick(ctx))
		ok, _, err := sess.Exists(ctx, "/canary")
		must(t, err)
		if !ok {
			return
		}
	}
	t.Fatal("no container sweep in 100 ticks")
}

// waitChildren waits until path has n children.
func waitChildren(t *testing.T, ctx context.Context, sess *zk.Session, path string, n int) {
	t.Helper()
	for {
		kids, _, ch, err := sess.ChildrenW(ctx, path)
		must(t, err)
		if len(kids) == n {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s has children %v, want %d", path, kids, n)
		}
	}
}

// javaProc is a Java program running beside the test, read line by line.
type javaProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr testbuf.Buffer // written by exec's goroutine while the test reads it
}

// startJava starts a compiled program; it is killed at cleanup if it is
// still running.
func startJava(t *testing.T, cp, class string, args ...string) *javaProc {
	t.Helper()
	p := &javaProc{t: t, lines: make(chan string, 64)}
	p.cmd = exec.Command("/usr/bin/java", append([]string{"-Xmx256m", "-Dfile.encoding=UTF-8",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, class}, args...)...)
	p.cmd.Stderr = &p.stderr
	var err error
	p.stdin, err = p.cmd.StdinPipe()
	must(t, err)
	out, err := p.cmd.StdoutPipe()
	must(t, err)
	must(t, p.cmd.Start())
	go func() {
		defer close(p.lines)
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.lines <- s.Text()
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// expect reads the program's next line and fails unless it is want.
func (p *javaProc) expect(want string) {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok || l != want {
			p.t.Fatalf("%s printed %q (open %v), want %q\nstderr:\n%s", p.cmd.Args[len(p.cmd.Args)-3], l, ok, want, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		p.t.Fatalf("no %q from Java in 30s\nstderr:\n%s", want, p.stderr.String())
	}
}

// printed reports whether a line is waiting to be read.
func (p *javaProc) printed() bool { return len(p.lines) > 0 }

// wait waits for the program to print nothing more and exit successfully.
func (p *javaProc) wait() {
	p.t.Helper()
	for l := range p.lines {
		p.t.Errorf("unexpected line from Java: %q", l)
	}
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("java: %v\nstderr:\n%s", err, p.stderr.String())
	}
}
