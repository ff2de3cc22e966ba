//go:build !unix

package main

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// errNoDaemon: start and stop need a Unix system; run start-foreground
// under the system's own service manager.
var errNoDaemon = errors.New("start and stop need a Unix system here; run start-foreground")

func detached() *syscall.SysProcAttr { return nil }

func alive(int) bool { return false }

func isPipe(int) bool { return false }

func terminate(int) (bool, error) { return false, errNoDaemon }

func lockPidFile(context.Context, string, bool) (*os.File, error) { return nil, errNoDaemon }
