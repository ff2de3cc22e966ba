package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/testbuf"
)

// syncBuffer is written by the server and read by the test.
type syncBuffer = testbuf.Buffer

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeCfg writes a standalone zoo.cfg with the metrics provider on
// metricsPort and the AdminServer on adminPort, and returns its path.
func writeCfg(t *testing.T, metricsPort, adminPort int) string {
	dir := t.TempDir()
	cfg := fmt.Sprintf("tickTime=200\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"+
		"metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=%d\n"+
		"admin.serverAddress=127.0.0.1\nadmin.serverPort=%d\n", dir, freePort(t), metricsPort, adminPort)
	path := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitOutput waits until out holds want n times.
func waitOutput(t *testing.T, out *syncBuffer, want string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(out.String(), want) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q in the output:\n%s", n, want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestMetricsAndStatus: with zoo.cfg's metricsProvider keys the peer's
// metrics are served at /metrics under ZooKeeper's names; the full status
// is printed once the peer serves and again on request; the metrics stop
// with the peer.
func TestMetricsAndStatus(t *testing.T) {
	port, admin := freePort(t), freePort(t)
	cfg := writeCfg(t, port, admin)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	statusReq := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	go func() { exit <- run(ctx, []string{"start-foreground", "-config", cfg}, &out, &errb, statusReq) }()
	waitOutput(t, &out, "status of zk peer 1", 1)
	for _, want := range []string{"mode: standalone", fmt.Sprintf("metrics: http://127.0.0.1:%d/metrics", port),
		fmt.Sprintf("admin server: http://127.0.0.1:%d/commands", admin),
		"Mode:        standalone (serving)", "Znodes:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in the output:\n%s", want, out.String())
		}
	}
	code, body, err := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d, %v", code, err)
	}
	for _, want := range []string{"\nznode_count ", "\nfsynctime", "\ngo_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in /metrics:\n%s", strings.TrimSpace(want), body)
		}
	}
	if code, body, err := get(fmt.Sprintf("http://127.0.0.1:%d/commands/ruok", admin)); err != nil || code != http.StatusOK || !strings.Contains(body, `"command" : "ruok"`) {
		t.Errorf("GET /commands/ruok: %d, %v, %s", code, err, body)
	}
	statusReq <- os.Interrupt // stands for SIGUSR1
	waitOutput(t, &out, "status of zk peer 1", 2)
	cancel()
	if c := <-exit; c != 0 {
		t.Fatalf("exit %d, stderr:\n%s", c, errb.String())
	}
	if !strings.HasSuffix(out.String(), "stopping\n") {
		t.Errorf("no stopping line at the end:\n%s", out.String())
	}
	if _, _, err := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port)); err == nil {
		t.Error("/metrics still served after the peer stopped")
	}
	if _, _, err := get(fmt.Sprintf("http://127.0.0.1:%d/commands/ruok", admin)); err == nil {
		t.Error("the AdminServer still serves after the peer stopped")
	}
}

// TestMetricsPortBusy: a metrics address that cannot be listened on fails
// the start with a clear error, before the peer starts.
func TestMetricsPortBusy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := writeCfg(t, l.Addr().(*net.TCPAddr).Port, freePort(t))
	var out, errb syncBuffer
	code := run(context.Background(), []string{"start-foreground", "-config", cfg}, &out, &errb, nil)
	if code != 1 || !strings.Contains(errb.String(), "metrics (metricsProvider.httpHost, httpPort)") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), "log")); err == nil {
		t.Error("the peer started (its log directory exists)")
	}
}

// TestBadArgs: bad commands and flags exit 2 with a message.
func TestBadArgs(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"-nosuch"}, {"start", "a.cfg", "extra"}, {"start", "-config", "a.cfg", "extra"}, {"status", "-config"}} {
		var out, errb syncBuffer
		if code := run(context.Background(), args, &out, &errb, nil); code != 2 || errb.String() == "" || out.String() != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", args, code, errb.String(), out.String())
		}
	}
}

// TestZkServerArgs: zkServer.sh's spellings: start-foreground is start,
// the file named after the command is the configuration (a bare name in
// $ZOOCFGDIR, a path as it is), and $ZOOCFGDIR/$ZOOCFG the default.
func TestZkServerArgs(t *testing.T) {
	var out, errb syncBuffer
	code := run(context.Background(), []string{"start-foreground", "/nonexistent/my.cfg", "-rejoin"}, &out, &errb, nil)
	if code != 1 || !strings.Contains(errb.String(), "/nonexistent/my.cfg") {
		t.Errorf("start-foreground with a config path, then a flag: exit %d, stderr %q", code, errb.String())
	}
	for _, tc := range []struct{ arg, dir, name, want string }{
		{"", "", "", "zoo.cfg"},
		{"", "/etc/zk", "", "/etc/zk/zoo.cfg"},
		{"", "/etc/zk", "zk1.cfg", "/etc/zk/zk1.cfg"},
		{"zk2.cfg", "/etc/zk", "zk1.cfg", "/etc/zk/zk2.cfg"},
		{"./zk2.cfg", "/etc/zk", "", "./zk2.cfg"},
		{"/tmp/zk3.cfg", "/etc/zk", "", "/tmp/zk3.cfg"},
	} {
		if got := configPath(tc.arg, tc.dir, tc.name); got != tc.want {
			t.Errorf("configPath(%q, %q, %q) = %q, want %q", tc.arg, tc.dir, tc.name, got, tc.want)
		}
	}
}

func TestServerProcs(t *testing.T) {
	if n, ok := serverProcs("", 2); !ok || n != 2+extraProcs {
		t.Errorf("serverProcs(\"\", 2) = %d, %v; want %d, true", n, ok, 2+extraProcs)
	}
	if n, ok := serverProcs("1", 1); ok || n != 1 {
		t.Errorf("serverProcs(\"1\", 1) = %d, %v; want 1, false (the environment chose)", n, ok)
	}
}

// startFromCfg writes text as dir/zoo.cfg, starts the server on it until
// the test ends (a non-zero exit fails the test) and returns the file's
// path once the peer serves.
func startFromCfg(t *testing.T, dir, text string) string {
	t.Helper()
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"start-foreground", "-config", cfg}, &out, &errb, make(chan os.Signal))
	}()
	t.Cleanup(func() {
		cancel()
		if c := <-exit; c != 0 {
			t.Errorf("exit %d, stderr:\n%s", c, errb.String())
		}
	})
	waitOutput(t, &out, "status of zk peer", 1)
	return cfg
}

// TestStatus: status finds the peer on its client port, or on its secure
// client port when zoo.cfg sets only that one (over TLS with the peer's
// own stores), and prints its mode as zkServer.sh status does.
func TestStatus(t *testing.T) {
	stores, err := filepath.Abs("../../internal/keystore/testdata")
	if err != nil {
		t.Fatal(err)
	}
	tlsLines := fmt.Sprintf("ssl.keyStore.location=%[1]s/server.jks\nssl.keyStore.password=zksecret\n"+
		"ssl.trustStore.location=%[1]s/trust.jks\nssl.trustStore.password=zksecret\n", stores)
	for _, tc := range []struct {
		name, lines string
		secure      bool
	}{
		{"plain", "clientPort=%d\nclientPortAddress=127.0.0.1\n", false},
		{"secure only", "secureClientPort=%d\nsecureClientPortAddress=127.0.0.1\n" + tlsLines, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			text := fmt.Sprintf("tickTime=200\ndataDir=%s\nadmin.enableServer=false\n"+tc.lines, dir, port)
			cfg := startFromCfg(t, dir, text)
			var st strings.Builder
			if err := status(cfg, &st); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: %t.\nMode: standalone\n", port, tc.secure)
			if st.String() != want {
				t.Errorf("status printed %q, want %q", st.String(), want)
			}
		})
	}
	cfg := filepath.Join(t.TempDir(), "zoo.cfg")
	if err := os.WriteFile(cfg, []byte("dataDir=/d\nadmin.enableServer=false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := status(cfg, io.Discard); err == nil || !strings.Contains(err.Error(), "no clientPort or secureClientPort") {
		t.Errorf("no port: %v", err)
	}
	port := freePort(t) // nothing listens there
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("dataDir=/d\nclientPort=%d\nclientPortAddress=127.0.0.1\n", port)), 0o644); err != nil {
		t.Fatal(err)
	}
	var st strings.Builder
	want := fmt.Sprintf("Client port found: %d. Client address: 127.0.0.1. Client SSL: false.\n"+
		"Error contacting service. It is probably not running.\n", port)
	if err := status(cfg, &st); err == nil || st.String() != want {
		t.Errorf("status with no peer: %v, printed %q, want %q (zkServer.sh's lines)", err, st.String(), want)
	}
}
