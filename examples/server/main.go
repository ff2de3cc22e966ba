// Command server runs one zk peer from a ZooKeeper zoo.cfg, as zkServer.sh
// runs a ZooKeeper server: ZooKeeper's clients (zkCli.sh, kazoo, Curator,
// go-zookeeper) connect to its clientPort.
//
//	go run ./examples/server -config zoo.cfg              # start (foreground)
//	go run ./examples/server status -config zoo.cfg       # ask a running peer
//
// A replicated peer (server.N lines) needs the ensemble's shared secret:
// -secret-file names a file holding it (at least 16 bytes), the same on
// every peer. The peer stops gracefully on SIGINT or SIGTERM.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/embedzk/zk"
)

func main() {
	args := os.Args[1:]
	cmd := "start"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("server "+cmd, flag.ExitOnError)
	config := fs.String("config", "zoo.cfg", "the zoo.cfg file")
	secretFile := fs.String("secret-file", "", "file holding the peers' shared secret (replicated ensembles)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	fs.Parse(args)
	var err error
	switch cmd {
	case "start":
		err = profiled(*cpuProfile, func() error { return start(*config, *secretFile) })
	case "status":
		err = status(*config)
	default:
		err = fmt.Errorf("unknown command %q (want start or status)", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// start runs the peer until SIGINT or SIGTERM.
func start(path, secretFile string) error {
	cfg, ignored, err := zk.LoadZooCfg(path)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if len(ignored) > 0 {
		log.Info("zoo.cfg keys zk does not use", "keys", ignored)
	}
	if secretFile != "" {
		if cfg.PeerSecret, err = os.ReadFile(secretFile); err != nil {
			return err
		}
		cfg.PeerSecret = bytes.TrimSpace(cfg.PeerSecret)
	}
	cfg.Logger = log
	if cfg.ClientPort == 0 {
		log.Warn("no clientPort in zoo.cfg: ZooKeeper clients cannot connect")
	}
	e, err := zk.NewEnsemble(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := e.WaitServing(ctx); err == nil {
		st := e.Status()
		fmt.Printf("zk peer %d serving on %s, mode: %s\n", st.ID, e.ClientAddr(), modeName(st.Mode))
	}
	<-ctx.Done()
	fmt.Println("stopping")
	return e.Close()
}

// profiled runs fn, writing a CPU profile of it to path unless path is "".
func profiled(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

// modeName names a mode as zkServer.sh status does.
func modeName(m zk.Mode) string {
	switch m {
	case zk.ModeLeading:
		return "leader"
	case zk.ModeFollowing:
		return "follower"
	case zk.ModeObserving:
		return "observer"
	}
	return m.String()
}

// status asks the peer of path for its mode with the srvr four-letter word,
// as zkServer.sh status does.
func status(path string) error {
	cfg, _, err := zk.LoadZooCfg(path)
	if err != nil {
		return err
	}
	if cfg.ClientPort <= 0 {
		return errors.New("no clientPort in " + path)
	}
	host := cfg.ClientPortAddress
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(cfg.ClientPort))
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("no peer answers at %s: %w", addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write([]byte("srvr")); err != nil {
		return err
	}
	out, err := io.ReadAll(nc)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Mode: ") {
			fmt.Printf("Client port found: %d. Client address: %s.\n%s\n", cfg.ClientPort, host, line)
			return nil
		}
	}
	return fmt.Errorf("the peer at %s answered: %s", addr, strings.TrimSpace(string(out)))
}
