package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/embedzk/zk"
)

// auditFile is the audit log's file in the log directory (logDir), as
// ZooKeeper's logging configuration names it (zookeeper.auditlog.file).
const auditFile = "zookeeper_audit.log"

// useAuditLog makes cfg's audit events (zoo.cfg audit.enable=true, or
// -Dzookeeper.audit.enable=true) go to dir/zookeeper_audit.log, appended
// to, one line each in the layout ZooKeeper 3.8's logback.xml gives its
// audit appender (%d{ISO8601} %p %c{2}: %m%n):
//
//	2026-12-07 11:44:41,123 INFO o.a.z.a.Slf4jAuditLogger: session=0x1000001	user=127.0.0.1	ip=127.0.0.1	operation=create	znode=/a	znode_type=persistent	result=success
//
// The file rolls over at 10 MB, keeping 10 rolled files, as ZooKeeper's
// appender (auditroll.go). A line that cannot be written (or a rollover
// that fails) is reported on log, at Error, once until a line is written
// again. The returned function closes the file, after the peer's Close.
func useAuditLog(cfg *zk.Config, dir string, log *slog.Logger) (func(), error) {
	path := filepath.Join(dir, auditFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("the audit log: %w", err)
	}
	f, err := openRolling(path, auditRollSize, auditRollKeep)
	if err != nil {
		return nil, fmt.Errorf("the audit log: %w", err)
	}
	h := &auditHandler{w: f, log: log}
	cfg.AuditLogger = slog.New(h)
	log.Info("ZooKeeper audit is enabled", "file", path)
	return func() {
		h.mu.Lock() // a late event's Write may still run
		defer h.mu.Unlock()
		f.Close()
	}, nil
}

// auditHandler writes each record as a line of ZooKeeper's audit log: the
// time (ISO8601, as logback writes it, local time), the level, the
// logger's name as %c{2} abbreviates it, and the message, which is the
// whole event (Config.AuditLogger). Records below Info are dropped, as
// zookeeper.auditlog.threshold=INFO does. A failed write is returned and,
// since slog drops a handler's error, reported on log (if set): once, until
// a write succeeds again.
type auditHandler struct {
	mu     sync.Mutex
	w      io.Writer
	log    *slog.Logger
	failed bool // the last write failed, and was reported
}

func (h *auditHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *auditHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Time.Format("2006-01-02 15:04:05,000") + " " + r.Level.String() + " o.a.z.a.Slf4jAuditLogger: " + r.Message + "\n"
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	if err != nil && !h.failed && h.log != nil {
		h.log.Error("zk: writing the audit log", "err", err)
	}
	h.failed = err != nil
	return err
}

// The events carry no attributes or groups: both are dropped.
func (h *auditHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *auditHandler) WithGroup(string) slog.Handler      { return h }
