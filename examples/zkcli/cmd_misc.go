package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/embedzk/zk"
)

func (sh *Shell) sync(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("sync")
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	if err := sh.conn.Sync(ctx, path); err != nil {
		fmt.Fprintf(sh.out, "Sync has failed. rc=%d\n", codeNumber(err))
		return nil
	}
	fmt.Fprintln(sh.out, "Sync is OK")
	return nil
}

// codeNumber is the ZooKeeper error code of err (ZooKeeper's -1 for a
// system error otherwise).
func codeNumber(err error) int {
	for _, c := range []struct {
		err  error
		code int
	}{
		{zk.ErrNoNode, -101}, {zk.ErrNoAuth, -102}, {zk.ErrBadArguments, -8},
		{zk.ErrSessionExpired, -112}, {zk.ErrConnectionLoss, -4}, {zk.ErrNotServing, -4},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return -1
}

func (sh *Shell) addWatch(tokens []string) error {
	p, err := flags("m:").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) != 2 {
		return usageErr("addWatch")
	}
	recursive := true
	if p.has("m") {
		switch strings.ToUpper(p.value("m")) {
		case "PERSISTENT":
			recursive = false
		case "PERSISTENT_RECURSIVE":
		default:
			return usageErr("addWatch")
		}
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err // zkCli dies here with an IllegalArgumentException
	}
	ctx, cancel := sh.call()
	defer cancel()
	if err := sh.conn.AddWatch(ctx, path, recursive); err != nil {
		return wrapErr(err, path)
	}
	return nil
}

func (sh *Shell) removeWatches(tokens []string) error {
	p, err := flags("cdal").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("removewatches")
	}
	path := p.args[1]
	typ := zk.WatcherAny
	switch {
	case p.has("c"):
		typ = zk.WatcherChildren
	case p.has("d"):
		typ = zk.WatcherData
	}
	// -l (remove locally when the server cannot be reached) changes
	// nothing here: the session's watches are removed where they are.
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	if err := sh.conn.RemoveWatches(ctx, path, typ); err != nil {
		return wrapErr(err, path)
	}
	return nil
}

func (sh *Shell) getEphemerals(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	prefix := "/"
	if len(p.args) >= 2 {
		prefix = p.args[1]
		if err := validatePath(prefix); err != nil {
			return err
		}
	}
	ctx, cancel := sh.call()
	defer cancel()
	paths, err := sh.conn.Ephemerals(ctx, prefix)
	if err != nil {
		return wrapErr(err, prefix)
	}
	fmt.Fprintln(sh.out, javaList(paths))
	return nil
}

func (sh *Shell) getAllChildrenNumber(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("getAllChildrenNumber")
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	n, err := sh.conn.AllChildrenNumber(ctx, path)
	if err != nil {
		return wrapErr(err, path)
	}
	fmt.Fprintln(sh.out, n)
	return nil
}

func (sh *Shell) closeCmd([]string) error {
	sh.closeConn()
	return nil
}

func (sh *Shell) version(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) > 1 {
		return usageErr("version")
	}
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	fmt.Fprintln(sh.out, "ZooKeeper CLI version: zk "+v+", the zkCli 3.8 command set")
	return nil
}
