//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// canDaemon: start can put the peer in the background here.
const canDaemon = true

// detached starts the peer in a session of its own, with no controlling
// terminal: the shell's Ctrl-C and hang-up do not reach it (zkServer.sh
// uses nohup).
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// alive reports whether process pid runs: it exists (kill -0), and is not
// a zombie, which an init that does not reap its orphans leaves behind.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc here: kill -0 says it exists
	}
	// The state follows the command's closing parenthesis: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// terminate sends pid SIGTERM, on which the peer stops gracefully.
func terminate(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
