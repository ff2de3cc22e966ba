package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/testbuf"
)

// syncBuffer is an output written by the shell's goroutine and read by the
// test's.
type syncBuffer = testbuf.Buffer

// waitFor waits until out holds want, for 20 s at most.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEventsWhileIdle: a watch event that arrives while the shell waits
// for its next line is printed then, as zkCli's watcher prints it (the
// seeds' walk-through: get -w in one shell, set in another, the event
// shows at once).
func TestEventsWhileIdle(t *testing.T) {
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	in, feed := io.Pipe()
	out := &syncBuffer{}
	code := make(chan int)
	go func() { code <- run([]string{"-server", ens.ClientAddr()}, in, out, out) }()
	if _, err := io.WriteString(feed, "create /w x\nget -w /w\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "Created /w\nx\n")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	other, err := ens.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Set(ctx, "/w", []byte("y"), -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "WatchedEvent state:SyncConnected type:NodeDataChanged path:/w\n") // no line sent since
	feed.Close()
	if c := <-code; c != 0 {
		t.Errorf("exit %d", c)
	}
}

// TestLineEditorIdle: while no key comes, what the editor's idle hook
// returns is printed above the line being edited (raw mode: line feeds
// return the carriage), and the line is drawn again as it was.
func TestLineEditorIdle(t *testing.T) {
	keys, feed := io.Pipe()
	out := &syncBuffer{}
	ed := newLineEditor(-1, keys, out)
	printed := false
	ed.idle = func() string { // on the editor's goroutine
		if printed || string(ed.buf) != "ls" {
			return ""
		}
		printed = true
		return "\nWATCHER::\n"
	}
	ed.idlePoll = time.Millisecond
	got := make(chan string)
	go func() {
		line, _ := ed.readLine("> ")
		got <- line
	}()
	if _, err := io.WriteString(feed, "ls"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "\r\x1b[K\r\nWATCHER::\r\n\r> ls")
	if _, err := io.WriteString(feed, " /\r"); err != nil {
		t.Fatal(err)
	}
	if line := <-got; line != "ls /" {
		t.Errorf("line %q, want %q", line, "ls /")
	}
	feed.Close()
}

// TestServerDownAtStart: the interactive shell whose server does not
// answer at its start stays, as zkCli's: CONNECTING, a command fails with
// ConnectionLoss, and once a server comes up on the address the session
// opens (its SyncConnected event shows) and commands run.
func TestServerDownAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	in, feed := io.Pipe()
	out := &syncBuffer{}
	code := make(chan int)
	go func() { code <- run([]string{"-server", addr.String(), "-echo"}, in, out, out) }()
	if _, err := io.WriteString(feed, "ls /\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "(CONNECTING) 0] ls /\nKeeperErrorCode = ConnectionLoss for /\n")
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: addr.Port, ClientPortAddress: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ens.Close()
	waitFor(t, out, "WatchedEvent state:SyncConnected type:None path:null\n")
	if _, err := io.WriteString(feed, "create /x 1\nquit\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, out, "(CONNECTED) 1] create /x 1\nCreated /x\n")
	if c := <-code; c != 0 {
		t.Errorf("exit %d", c)
	}
	feed.Close()
}

// TestQuitEventsBeforeClosed: on quit, the events the session's close
// brings (its own ephemerals' deletions, seen by its persistent watch)
// print before its Closed event, as zkCli prints them; embedded and over
// the client port.
func TestQuitEventsBeforeClosed(t *testing.T) {
	script := "create /r\naddWatch /r\ncreate -e /r/e1 x\nquit\n"
	for _, args := range [][]string{{"-data", t.TempDir()}, {"-server", startPeer(t)}} {
		var out bytes.Buffer
		if code := run(args, strings.NewReader(script), &out, &out); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, out.String())
		}
		s := out.String()
		del := strings.Index(s, "type:NodeDeleted path:/r/e1")
		closed := strings.Index(s, "state:Closed")
		if del < 0 || closed < del {
			t.Errorf("%v: want the deletion of /r/e1 before Closed:\n%s", args, s)
		}
	}
}
