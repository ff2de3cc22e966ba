package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/zkclient"
)

// TestAuditHandlerLayout: a record is one line in ZooKeeper's audit
// layout (%d{ISO8601} %p %c{2}: %m); records below Info are dropped.
func TestAuditHandlerLayout(t *testing.T) {
	var b bytes.Buffer
	h := &auditHandler{w: &b}
	at := time.Date(2026, 12, 7, 11, 44, 41, 123456789, time.Local)
	for _, r := range []slog.Record{
		slog.NewRecord(at, slog.LevelInfo, "user=zk\toperation=serverStart\tresult=success", 0),
		slog.NewRecord(at, slog.LevelError, "session=0x1\toperation=multiOperation\tresult=failure", 0),
	} {
		if err := h.Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	slog.New(h).Debug("dropped")
	want := "2026-12-07 11:44:41,123 INFO o.a.z.a.Slf4jAuditLogger: user=zk\toperation=serverStart\tresult=success\n" +
		"2026-12-07 11:44:41,123 ERROR o.a.z.a.Slf4jAuditLogger: session=0x1\toperation=multiOperation\tresult=failure\n"
	if b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
}

// TestJVMFlagsAuditEnable: -Dzookeeper.audit.enable=true turns the audit
// log on as zoo.cfg's audit.enable=true does.
func TestJVMFlagsAuditEnable(t *testing.T) {
	cfg, ignored := cfgWithFlags(t, "SERVER_JVMFLAGS=-Dzookeeper.audit.enable=true", "")
	if !cfg.AuditEnabled || len(ignored) != 0 {
		t.Fatalf("AuditEnabled %v, ignored %v", cfg.AuditEnabled, ignored)
	}
}

// TestAuditLogFile: with audit.enable=true the server writes
// zookeeper_audit.log in $ZOO_LOG_DIR: serverStart, a client's writes
// with its address, its ephemeral deleted as it closes, serverStop.
func TestAuditLogFile(t *testing.T) {
	dir, logs := t.TempDir(), t.TempDir()
	t.Setenv("ZOO_LOG_DIR", logs)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := filepath.Join(dir, "zoo.cfg")
	text := fmt.Sprintf("tickTime=200\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\naudit.enable=true\n",
		dir, addr[strings.LastIndexByte(addr, ':')+1:])
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"start-foreground", "-config", cfg}, &out, &errb, make(chan os.Signal))
	}()
	waitOutput(t, &out, "status of zk peer", 1)
	c, err := zkclient.Connect(ctx, zkclient.Config{Servers: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	id := c.SessionID()
	for _, mode := range []zk.CreateMode{zk.ModePersistent, zk.ModeEphemeral} {
		if _, _, err := c.Create(ctx, fmt.Sprintf("/n%d", mode), nil, zk.OpenACLUnsafe(), mode, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	client := fmt.Sprintf("session=0x%x\tuser=127.0.0.1\tip=127.0.0.1\t", id)
	checkAuditFile(t, filepath.Join(logs, auditFile), []string{
		"INFO o.a.z.a.Slf4jAuditLogger: user=" + me.Username + "\toperation=serverStart\tresult=success",
		"INFO o.a.z.a.Slf4jAuditLogger: " + client + "operation=create\tznode=/n0\tznode_type=persistent\tresult=success",
		"INFO o.a.z.a.Slf4jAuditLogger: " + client + "operation=create\tznode=/n1\tznode_type=ephemeral\tresult=success",
		fmt.Sprintf("INFO o.a.z.a.Slf4jAuditLogger: session=0x%x\tuser=%s\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/n1\tresult=success", id, me.Username),
		"INFO o.a.z.a.Slf4jAuditLogger: user=" + me.Username + "\toperation=serverStop\tresult=invoked",
	})
	if _, err := os.Stat(filepath.Join(dir, auditFile)); err == nil {
		t.Error("the audit log is in dataDir, not in $ZOO_LOG_DIR")
	}
}

// checkAuditFile checks the lines of the audit log at path, their times
// left out.
func checkAuditFile(t *testing.T, path string, want []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} `)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, line := range lines {
		if !stamp.MatchString(line) {
			t.Errorf("line %d has no ISO8601 time: %q", i+1, line)
		}
		lines[i] = stamp.ReplaceAllString(line, "")
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant\n%s", path, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
