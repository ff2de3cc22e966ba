package main

// zkServer.sh's start, stop and restart: start runs the peer in the
// background as a process of its own and records its pid in a file; stop
// ends the process that file names.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// readyFDEnv names, in the environment of a peer that start put in the
// background, the file descriptor of the pipe on which it says it has
// started (its storage is open and its ports listen).
const readyFDEnv = "ZK_SERVER_READY_FD"

// startWait bounds how long start waits for the peer to say it started,
// and stopWait how long stop waits for it to end.
const (
	startWait = 60 * time.Second
	stopWait  = 60 * time.Second
)

// readyPipe is the pipe readyFDEnv names in the environment getenv reads,
// or nil when it names none (or a descriptor that is not a pipe: the
// variable leaked from elsewhere).
func readyPipe(getenv func(string) string) io.WriteCloser {
	fd, err := strconv.Atoi(getenv(readyFDEnv))
	if err != nil || fd < 3 || !isPipe(fd) {
		return nil // not ours: left as found
	}
	return os.NewFile(uintptr(fd), "ready")
}

// pidPath is zkServer.sh's pid file: $ZOOPIDFILE, else
// zookeeper_server.pid in dataDir.
func pidPath(getenv func(string) string, dataDir string) string {
	if p := getenv("ZOOPIDFILE"); p != "" {
		return p
	}
	return filepath.Join(dataDir, "zookeeper_server.pid")
}

// outPath is the file that takes a background peer's output, as
// zkServer.sh's: $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out.
func outPath(getenv func(string) string, dataDir string) string {
	host := getenv("HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	return filepath.Join(logDir(getenv, dataDir), fmt.Sprintf("zookeeper-%s-server-%s.out", getenv("USER"), host))
}

// logDir is where the server's log files go: $ZOO_LOG_DIR, default
// dataDir (zkServer.sh's default is the installation's logs directory,
// which a Go program does not have).
func logDir(getenv func(string) string, dataDir string) string {
	if dir := getenv("ZOO_LOG_DIR"); dir != "" {
		return dir
	}
	return dataDir
}

// passFlags are the flags set on fs other than -config, for the peer start
// runs in the background.
func passFlags(fs *flag.FlagSet) []string {
	var args []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "config" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// pidIn is the pid the (locked) pid file f names, if it names one.
func pidIn(f *os.File) (int, bool) {
	text, err := io.ReadAll(io.NewSectionReader(f, 0, 64))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(text)))
	return pid, err == nil && pid > 0
}

// writePid makes the (locked) pid file f name pid.
func writePid(f *os.File, pid int) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(pid)), 0)
	return err
}

// daemonStart is zkServer.sh start: unless the pid file names a running
// process, it starts the peer of config (with flags) as a process of its
// own, writes its pid, and prints STARTED once the peer's storage is open
// and its ports listen, or FAILED TO START when the process ends before.
// It holds a lock on the pid file throughout, so that a start or stop run
// meanwhile waits for it. It returns the exit code.
func daemonStart(ctx context.Context, config string, flags []string, stdout, stderr io.Writer) int {
	cfg, _, err := zk.LoadZooCfg(config)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	fmt.Fprint(stdout, "Starting zookeeper ... ")
	pidFile, outFile := pidPath(os.Getenv, cfg.DataDir), outPath(os.Getenv, cfg.DataDir)
	lock, err := lockPidFile(ctx, pidFile, true)
	if err != nil {
		fmt.Fprintln(stdout, "SERVER DID NOT START")
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer lock.Close()
	if pid, ok := pidIn(lock); ok && alive(pid) {
		fmt.Fprintf(stdout, "already running as process %d.\n", pid)
		return 1
	}
	child, ready, err := spawn(config, flags, outFile)
	if err != nil {
		os.Remove(pidFile) // under the lock, as below
		fmt.Fprintln(stdout, "SERVER DID NOT START")
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	pid := child.Process.Pid
	if err := writePid(lock, pid); err != nil {
		child.Process.Kill()
		child.Wait()
		ready.Close()
		os.Remove(pidFile)
		fmt.Fprintln(stdout, "FAILED TO WRITE PID")
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	switch waitStarted(ctx, ready, startWait) {
	case nil:
		fmt.Fprintln(stdout, "STARTED")
	case errEnded:
		child.Wait()
		os.Remove(pidFile) // under the lock: a waiting start finds the file gone
		fmt.Fprintln(stdout, "FAILED TO START")
		fmt.Fprintf(stderr, "server: the peer's output is in %s\n", outFile)
		return 1
	case errNotYet:
		// zkServer.sh says STARTED of a process alive a second later.
		fmt.Fprintln(stdout, "STARTED")
		fmt.Fprintf(stderr, "server: process %d has not said it started after %v; its output is in %s\n", pid, startWait, outFile)
	default:
		fmt.Fprintln(stdout)
		fmt.Fprintf(stderr, "server: interrupted; process %d (in %s) goes on starting\n", pid, pidFile)
		return 1
	}
	return 0
}

// spawn starts this program as start-foreground on config, in a session of
// its own, its output in outFile, and returns the process and the read end
// of the pipe on which it says it has started. It makes the output's
// directory, as zkServer.sh does.
func spawn(config string, flags []string, outFile string) (*exec.Cmd, *os.File, error) {
	if err := os.MkdirAll(filepath.Dir(outFile), 0o755); err != nil {
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	out, err := os.Create(outFile)
	if err != nil {
		return nil, nil, err
	}
	defer out.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer w.Close() // the child holds its own copy
	cmd := exec.Command(self, foregroundArgs(config, flags)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Env = append(os.Environ(), readyFDEnv+"=3")
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		r.Close()
		return nil, nil, err
	}
	return cmd, r, nil
}

// errEnded and errNotYet are how waitStarted reports a process that ended
// before it started, and one still starting when its time was up.
var (
	errEnded  = errors.New("the process ended")
	errNotYet = errors.New("the process has not started yet")
)

// waitStarted waits, for at most d, for the started line on ready, and
// closes it: nil once it came, errEnded when the pipe closed first (as it
// does when the process ends), errNotYet after d, ctx's error when ctx
// ends (SIGINT).
func waitStarted(ctx context.Context, ready *os.File, d time.Duration) error {
	line := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(ready, 64))
		line <- string(b)
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	var err error
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "started") {
			err = errEnded
		}
		ready.Close()
		return err
	case <-timer.C:
		err = errNotYet
	case <-ctx.Done():
		err = ctx.Err()
	}
	ready.Close() // ends the read
	<-line
	return err
}

// daemonStop is zkServer.sh stop: it sends SIGTERM to the process the pid
// file names, waits until it has ended (zkServer.sh waits a second
// instead), removes the file and prints STOPPED. Without a pid file there
// is nothing to stop, which is no failure. It holds the pid file's lock
// throughout. It returns the exit code.
func daemonStop(ctx context.Context, config string, stdout, stderr io.Writer) int {
	cfg, _, err := zk.LoadZooCfg(config)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	fmt.Fprint(stdout, "Stopping zookeeper ... ")
	pidFile := pidPath(os.Getenv, cfg.DataDir)
	lock, err := lockPidFile(ctx, pidFile, false)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stdout, "no zookeeper to stop (could not find file %s)\n", pidFile)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	defer lock.Close()
	pid, ok := pidIn(lock)
	if !ok {
		fmt.Fprintf(stderr, "server: %s names no process\n", pidFile)
	} else if err := stopProcess(ctx, pid); err != nil {
		fmt.Fprintln(stdout)
		fmt.Fprintf(stderr, "server: stopping process %d: %v\n", pid, err)
		return 1
	}
	if err := os.Remove(pidFile); err != nil {
		fmt.Fprintln(stderr, "server:", err)
	}
	fmt.Fprintln(stdout, "STOPPED")
	return 0
}

// stopProcess sends pid SIGTERM and waits until it has ended.
func stopProcess(ctx context.Context, pid int) error {
	running, err := terminate(pid)
	if err != nil || !running {
		return err
	}
	return waitEnded(ctx, pid, stopWait)
}

// waitEnded polls until process pid has ended: nil then, an error when d
// has passed first or ctx ended (SIGINT).
func waitEnded(ctx context.Context, pid int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("it still runs %v after SIGTERM", d)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
