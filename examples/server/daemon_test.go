//go:build unix

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// asMainEnv makes the test binary run as the server program (TestMain),
// so that start's background peer is this binary too.
const asMainEnv = "ZK_SERVER_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// zkServer runs the server program with args in a process of its own and
// returns its exit code and output.
func zkServer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := serverCmd(ctx, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		t.Fatalf("server %v: %v", args, err)
	}
	return 0, out.String(), errb.String()
}

// serverCmd is the server program (this test binary as main) with args,
// in an environment without the variables that would move its files.
func serverCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "ZOOPIDFILE", "ZOO_LOG_DIR", "ZOOCFGDIR", "ZOOCFG", "JVMFLAGS", "SERVER_JVMFLAGS", readyFDEnv:
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, asMainEnv+"=1")
	return cmd
}

// daemonCfg writes a standalone zoo.cfg with its client port at port and
// returns its path; the test kills any peer its pid file names at the end.
func daemonCfg(t *testing.T, port int) (cfg, pidFile string) {
	dir := t.TempDir()
	cfg = filepath.Join(dir, "zoo.cfg")
	text := fmt.Sprintf("tickTime=200\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n", dir, port)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile = filepath.Join(dir, "zookeeper_server.pid")
	t.Cleanup(func() {
		text, _ := os.ReadFile(pidFile)
		if pid, err := strconv.Atoi(string(text)); err == nil && alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			waitEnded(context.Background(), pid, 10*time.Second)
		}
	})
	return cfg, pidFile
}

// readPid is the pid the file names.
func readPid(t *testing.T, path string) int {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(text))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}

// TestStartStop: zkServer.sh's start puts the peer in the background with
// its pid in dataDir/zookeeper_server.pid, refuses a second start while it
// runs, and stop ends it gracefully; restart is stop and start; stop with
// nothing running says so.
func TestStartStop(t *testing.T) {
	port := freePort(t)
	cfg, pidFile := daemonCfg(t, port)
	code, out, errs := zkServer(t, "start", cfg)
	if code != 0 || out != "Starting zookeeper ... STARTED\n" || errs != "Using config: "+cfg+"\n" {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	pid := readPid(t, pidFile)
	if !alive(pid) {
		t.Fatalf("process %d from the pid file does not run after start returned", pid)
	}
	waitStatus(t, cfg, "Mode: standalone")
	if code, out, _ := zkServer(t, "start", cfg); code != 1 || out != fmt.Sprintf("Starting zookeeper ... already running as process %d.\n", pid) {
		t.Errorf("second start: exit %d, stdout %q", code, out)
	}
	code, out, errs = zkServer(t, "restart", cfg)
	if code != 0 || out != "Stopping zookeeper ... STOPPED\nStarting zookeeper ... STARTED\n" {
		t.Fatalf("restart: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if alive(pid) {
		t.Errorf("process %d still runs after restart", pid)
	}
	pid2 := readPid(t, pidFile)
	if pid2 == pid || !alive(pid2) {
		t.Fatalf("after restart the pid file names %d (was %d), running %v", pid2, pid, alive(pid2))
	}
	waitStatus(t, cfg, "Mode: standalone")
	if code, out, errs := zkServer(t, "stop", cfg); code != 0 || out != "Stopping zookeeper ... STOPPED\n" {
		t.Fatalf("stop: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if alive(pid2) {
		t.Errorf("process %d still runs after stop", pid2)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("the pid file after stop: %v", err)
	}
	outFile := outPath(func(k string) string { return os.Getenv(k) }, filepath.Dir(cfg))
	if log, err := os.ReadFile(outFile); err != nil || !strings.HasSuffix(string(log), "stopping\n") {
		t.Errorf("the peer's output (%s, %v) does not end with its graceful stop:\n%s", outFile, err, log)
	}
	want := fmt.Sprintf("Stopping zookeeper ... no zookeeper to stop (could not find file %s)\n", pidFile)
	if code, out, _ := zkServer(t, "stop", cfg); code != 0 || out != want {
		t.Errorf("stop with nothing running: exit %d, stdout %q, want %q", code, out, want)
	}
}

// TestStartFails: a peer that ends before it has started (its client port
// is taken) is FAILED TO START, with no pid file left; its error is in the
// output file.
func TestStartFails(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg, pidFile := daemonCfg(t, l.Addr().(*net.TCPAddr).Port)
	code, out, errs := zkServer(t, "start", cfg)
	if code != 1 || out != "Starting zookeeper ... FAILED TO START\n" {
		t.Fatalf("start: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("the pid file after a failed start: %v", err)
	}
	outFile := outPath(func(k string) string { return os.Getenv(k) }, filepath.Dir(cfg))
	if log, err := os.ReadFile(outFile); err != nil || !strings.Contains(string(log), "address already in use") {
		t.Errorf("the peer's output (%s, %v) has no error for the busy port:\n%s", outFile, err, log)
	}
}

// waitStatus waits until status prints want.
func waitStatus(t *testing.T, cfg, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var b strings.Builder
		if err := status(cfg, &b); err == nil && strings.Contains(b.String(), want) {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("status: %v, printed %q; want %q", err, b.String(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPidAndOutPaths(t *testing.T) {
	env := map[string]string{"USER": "zk", "HOSTNAME": "h1"}
	getenv := func(k string) string { return env[k] }
	if got := pidPath(getenv, "/d"); got != "/d/zookeeper_server.pid" {
		t.Errorf("pidPath = %q", got)
	}
	if got := outPath(getenv, "/d"); got != "/d/zookeeper-zk-server-h1.out" {
		t.Errorf("outPath = %q", got)
	}
	env["ZOOPIDFILE"], env["ZOO_LOG_DIR"] = "/run/zk.pid", "/var/log/zk"
	if got := pidPath(getenv, "/d"); got != "/run/zk.pid" {
		t.Errorf("pidPath with ZOOPIDFILE = %q", got)
	}
	if got := outPath(getenv, "/d"); got != "/var/log/zk/zookeeper-zk-server-h1.out" {
		t.Errorf("outPath with ZOO_LOG_DIR = %q", got)
	}
}

// TestStartWaitsForTheLock: a start waits while another start or stop holds
// the pid file's lock, then reads what it left: here the lock's holder
// (this test) writes the pid of a running process (its own) before it lets
// go, so the start finds it running. Without the lock, the start would
// read the empty file and start a peer: two starts at once could both
// start one, and the loser remove the winner's pid file. (The wait below
// gives a start without the lock the time to show it; on a very slow
// machine the test may pass without the lock, never fail with it.)
func TestStartWaitsForTheLock(t *testing.T) {
	cfg, pidFile := daemonCfg(t, freePort(t))
	lock, err := lockPidFile(context.Background(), pidFile, true)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	cmd := serverCmd(context.Background(), "start", cfg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prompt := make([]byte, len("Starting zookeeper ... "))
	if _, err := io.ReadFull(out, prompt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // a start without the lock would be spawning its peer now
	if err := writePid(lock, os.Getpid()); err != nil {
		t.Fatal(err)
	}
	lock.Close()
	rest, _ := io.ReadAll(out)
	cmd.Wait()
	if pid := readPid(t, pidFile); pid != os.Getpid() {
		syscall.Kill(pid, syscall.SIGKILL) // a peer the start should not have started
	}
	os.Remove(pidFile) // it names this test, which the cleanup must not kill
	if want := fmt.Sprintf("already running as process %d.\n", os.Getpid()); string(rest) != want || cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("start: exit %d, %q; want %q", cmd.ProcessState.ExitCode(), rest, want)
	}
}

// TestWaitStarted: start's wait for the peer's word: the started line,
// the pipe closed by a process that ended, the time up, and SIGINT (ctx).
func TestWaitStarted(t *testing.T) {
	pipe := func() (*os.File, *os.File) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return r, w
	}
	r, w := pipe()
	w.WriteString("started\n")
	w.Close()
	if err := waitStarted(context.Background(), r, time.Minute); err != nil {
		t.Errorf("started: %v", err)
	}
	r, w = pipe()
	w.Close()
	if err := waitStarted(context.Background(), r, time.Minute); err != errEnded {
		t.Errorf("closed pipe: %v, want errEnded", err)
	}
	r, _ = pipe()
	if err := waitStarted(context.Background(), r, time.Millisecond); err != errNotYet {
		t.Errorf("time up: %v, want errNotYet", err)
	}
	r, _ = pipe()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := waitStarted(ctx, r, time.Minute); err != context.Canceled {
		t.Errorf("interrupted: %v, want context.Canceled", err)
	}
}
