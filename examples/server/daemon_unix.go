//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// detached starts the peer in a session of its own, with no controlling
// terminal: the shell's Ctrl-C and hang-up do not reach it (zkServer.sh
// uses nohup).
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// alive reports whether process pid runs and is ours to signal (kill -0
// succeeds, as zkServer.sh asks), and is not a zombie, which an init that
// does not reap its orphans leaves behind.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc here: kill -0 says it runs
	}
	// The state follows the command's closing parenthesis: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// isPipe reports whether descriptor fd is open on a pipe.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// terminate sends pid SIGTERM, on which the peer stops gracefully; running
// is false when there is no such process.
func terminate(pid int) (running bool, err error) {
	err = syscall.Kill(pid, syscall.SIGTERM)
	if errors.Is(err, syscall.ESRCH) {
		return false, nil
	}
	return err == nil, err
}

// lockPidFile opens the pid file at path (creating it and its directory
// with create, as zkServer.sh makes them) and takes an exclusive lock on it
// (flock), waiting while another start or stop holds it, until ctx ends.
// A holder may remove the file before it lets go: the lock taken is then
// on a file no longer at path, and it is taken again on the one there.
func lockPidFile(ctx context.Context, path string, create bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
	}
	for {
		f, err := os.OpenFile(path, flags, 0o644)
		if err != nil {
			return nil, err
		}
		if err := flockWait(ctx, f); err != nil {
			f.Close()
			return nil, err
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return f, nil
		}
		f.Close()
	}
}

// flockWait takes an exclusive flock on f, polling so that ctx (SIGINT)
// can end the wait.
func flockWait(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
