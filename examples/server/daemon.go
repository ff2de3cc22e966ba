package main

// zkServer.sh's start, stop and restart: start runs the peer in the
// background as a process of its own and records its pid in a file; stop
// ends the process that file names.

import (
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

// stopWait bounds how long stop waits for the process to end.
const stopWait = 60 * time.Second

// readyPipe is the pipe readyFDEnv names in the environment getenv reads,
// or nil when it names none.
func readyPipe(getenv func(string) string) io.WriteCloser {
	fd, err := strconv.Atoi(getenv(readyFDEnv))
	if err != nil || fd < 3 {
		return nil
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
// zkServer.sh's: $ZOO_LOG_DIR/zookeeper-$USER-server-$HOSTNAME.out, where
// $ZOO_LOG_DIR defaults to dataDir (zkServer.sh's default is the
// installation's logs directory, which a Go program does not have).
func outPath(getenv func(string) string, dataDir string) string {
	dir := getenv("ZOO_LOG_DIR")
	if dir == "" {
		dir = dataDir
	}
	host := getenv("HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	return filepath.Join(dir, fmt.Sprintf("zookeeper-%s-server-%s.out", getenv("USER"), host))
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

// runningPid is the pid the file at path names, if that process runs.
func runningPid(path string) (int, bool) {
	text, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(text)))
	return pid, err == nil && pid > 0 && alive(pid)
}

// daemonStart is zkServer.sh start: unless the pid file names a running
// process, it starts the peer of config (with flags) as a process of its
// own, writes its pid, and prints STARTED once the peer's storage is open
// and its ports listen, or FAILED TO START when the process ends before.
// It returns the exit code.
func daemonStart(config string, flags []string, stdout, stderr io.Writer) int {
	cfg, _, err := zk.LoadZooCfg(config)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	fmt.Fprint(stdout, "Starting zookeeper ... ")
	pidFile := pidPath(os.Getenv, cfg.DataDir)
	if pid, ok := runningPid(pidFile); ok {
		fmt.Fprintf(stdout, "already running as process %d.\n", pid)
		return 1
	}
	outFile := outPath(os.Getenv, cfg.DataDir)
	child, ready, err := spawn(config, flags, pidFile, outFile)
	if err != nil {
		fmt.Fprintln(stdout, "SERVER DID NOT START")
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(child.Process.Pid)), 0o644); err != nil {
		child.Process.Kill()
		child.Wait()
		ready.Close()
		fmt.Fprintln(stdout, "FAILED TO WRITE PID")
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	started := waitStarted(ready)
	if !started {
		child.Wait()
		os.Remove(pidFile)
		fmt.Fprintln(stdout, "FAILED TO START")
		fmt.Fprintf(stderr, "server: the peer's output is in %s\n", outFile)
		return 1
	}
	fmt.Fprintln(stdout, "STARTED")
	return 0
}

// spawn starts this program as start-foreground on config, in a session of
// its own, its output in outFile, and returns the process and the read end
// of the pipe on which it says it has started. It makes the pid file's and
// the output's directories, as zkServer.sh does.
func spawn(config string, flags []string, pidFile, outFile string) (*exec.Cmd, *os.File, error) {
	if !canDaemon {
		return nil, nil, errors.New("start needs a Unix system here; run start-foreground")
	}
	for _, dir := range []string{filepath.Dir(pidFile), filepath.Dir(outFile)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
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
	cmd := exec.Command(self, append([]string{"start-foreground", "-config", config}, flags...)...)
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

// waitStarted reads the started line from ready, and closes it: false when
// the pipe closes first, as it does when the process ends.
func waitStarted(ready *os.File) bool {
	defer ready.Close()
	line, _ := io.ReadAll(io.LimitReader(ready, 64))
	return strings.HasPrefix(string(line), "started")
}

// daemonStop is zkServer.sh stop: it sends SIGTERM to the process the pid
// file names, waits until it has ended (zkServer.sh waits a second
// instead), removes the file and prints STOPPED. Without a pid file there
// is nothing to stop, which is no failure. It returns the exit code.
func daemonStop(config string, stdout, stderr io.Writer) int {
	cfg, _, err := zk.LoadZooCfg(config)
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	fmt.Fprint(stdout, "Stopping zookeeper ... ")
	pidFile := pidPath(os.Getenv, cfg.DataDir)
	text, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(stdout, "no zookeeper to stop (could not find file %s)\n", pidFile)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stdout)
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(text)))
	switch {
	case err != nil || pid <= 0:
		fmt.Fprintf(stderr, "server: %s names no process: %q\n", pidFile, text)
	case !alive(pid):
		fmt.Fprintf(stderr, "server: process %d (from %s) was not running\n", pid, pidFile)
	default:
		if err := terminate(pid); err != nil {
			fmt.Fprintln(stdout)
			fmt.Fprintf(stderr, "server: stopping process %d: %v\n", pid, err)
			return 1
		}
		if !waitEnded(pid, stopWait) {
			fmt.Fprintln(stdout)
			fmt.Fprintf(stderr, "server: process %d still runs %v after SIGTERM\n", pid, stopWait)
			return 1
		}
	}
	if err := os.Remove(pidFile); err != nil {
		fmt.Fprintln(stderr, "server:", err)
	}
	fmt.Fprintln(stdout, "STOPPED")
	return 0
}

// waitEnded polls until process pid has ended or d has passed, and
// reports whether it ended.
func waitEnded(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
