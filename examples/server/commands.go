package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/embedzk/zk"
)

// shellCommand runs one of zkServer.sh's commands other than
// start-foreground on the peer of config, and returns the exit code.
func shellCommand(ctx context.Context, cmd, config string, flags []string, stdout, stderr io.Writer) int {
	var err error
	switch cmd {
	case "start":
		return daemonStart(ctx, config, flags, stdout, stderr)
	case "stop":
		return daemonStop(ctx, config, stdout, stderr)
	case "restart":
		if code := daemonStop(ctx, config, stdout, stderr); code != 0 {
			return code
		}
		return daemonStart(ctx, config, flags, stdout, stderr)
	case "version":
		// zkServer.sh's runs VersionInfoMain: "Apache ZooKeeper, version
		// <version>, built on <time> UTC"; zk's is the version the
		// four-letter words report.
		fmt.Fprintf(stdout, "zk, version %s\n", zk.Version())
	case "print-cmd":
		err = printCmd(config, flags, stdout)
	default:
		err = status(config, stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "server:", err)
		return 1
	}
	return 0
}

// printCmd prints the command line start runs for config, as zkServer.sh's
// print-cmd prints its java command: the program as start-foreground, its
// output to the .out file start would use.
func printCmd(config string, flags []string, stdout io.Writer) error {
	cfg, _, err := zk.LoadZooCfg(config)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	words := append([]string{self}, foregroundArgs(config, flags)...)
	for i, w := range words {
		words[i] = shellQuote(w)
	}
	fmt.Fprintf(stdout, "%s > %s 2>&1 < /dev/null\n", strings.Join(words, " "), shellQuote(outPath(os.Getenv, cfg.DataDir)))
	return nil
}

// shellQuote quotes s for a POSIX shell: as it is if it holds only
// characters no shell reads specially, else in single quotes.
func shellQuote(s string) string {
	safe := s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == ""
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// foregroundArgs are the arguments of the process start runs.
func foregroundArgs(config string, flags []string) []string {
	return append([]string{"start-foreground", "-config", config}, flags...)
}
