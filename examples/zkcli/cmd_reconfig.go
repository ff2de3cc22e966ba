package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/embedzk/zk"
)

// ReconfigConn is implemented by a Conn that can change the ensemble's
// membership, as ZooKeeperAdmin.reconfigure: joining and leaving for an
// incremental change, members for a whole new list, nil for an option not
// given; version is the configuration the change applies to, -1 for any.
// It returns the new configuration's text and /zookeeper/config's Stat.
type ReconfigConn interface {
	Reconfig(ctx context.Context, joining, leaving, members *string, version int64) ([]byte, zk.Stat, error)
}

// config prints the ensemble's configuration node, as zkCli's config; with
// -c, the client connection string ConfigUtils.getClientConfigStr makes of
// it: "version host:port,host:port..." (servers in id order here, a
// Properties table's order in zkCli).
func (sh *Shell) config(tokens []string) error {
	p, err := flags("swc").parse(tokens)
	if err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	data, st, err := sh.conn.Get(ctx, "/zookeeper/config", p.has("w"))
	if err != nil {
		return wrapErr(err, "/zookeeper/config")
	}
	if data == nil {
		data = []byte("null")
	}
	if p.has("c") {
		fmt.Fprintln(sh.out, clientConfigStr(javaString(data)))
	} else {
		fmt.Fprintln(sh.out, javaString(data))
	}
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

// clientConfigStr is ConfigUtils.getClientConfigStr: the version, a space,
// and the servers' client addresses (a bare port as 0.0.0.0:port; a server
// without one adds an empty item).
func clientConfigStr(config string) string {
	version := ""
	var addrs []string
	for _, line := range strings.Split(config, "\n") {
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case !ok:
		case key == "version":
			version = value
		case strings.HasPrefix(key, "server."):
			_, client, _ := strings.Cut(value, ";")
			if client != "" && !strings.Contains(client, ":") {
				client = "0.0.0.0:" + client
			}
			addrs = append(addrs, client)
		}
	}
	return version + " " + strings.Join(addrs, ",")
}

// reconfigSpec is ReconfigCommand's options.
var reconfigSpec = &optionSpec{takesArg: map[string]bool{
	"s": false, "v": true, "file": true, "members": true, "add": true, "remove": true,
}}

// reconfigArgs is what ReconfigCommand.parse makes of its options.
type reconfigArgs struct {
	joining, leaving, members *string
	version                   int64
	stats                     bool
}

// parseReconfig is ReconfigCommand.parse, with its messages.
func parseReconfig(tokens []string) (reconfigArgs, error) {
	a := reconfigArgs{version: -1}
	p, err := reconfigSpec.parse(tokens)
	if err != nil {
		return a, err
	}
	nonIncremental := p.has("file") || p.has("members")
	if !nonIncremental && !p.has("add") && !p.has("remove") {
		return a, usageErr("reconfig")
	}
	if p.has("v") {
		v, err := strconv.ParseInt(p.value("v"), 16, 64)
		if err != nil {
			return a, cliErr("-v must be followed by a long (configuration version)")
		}
		a.version = v
	}
	if nonIncremental && (p.has("add") || p.has("remove")) {
		return a, cliErr("Can't use -file or -members together with -add or -remove (mixing incremental and non-incremental modes is not allowed)")
	}
	if p.has("file") && p.has("members") {
		return a, cliErr("Can't use -file and -members together (conflicting non-incremental modes)")
	}
	lower := func(name string) *string {
		if !p.has(name) {
			return nil
		}
		v := strings.ToLower(p.value(name))
		return &v
	}
	a.joining, a.leaving, a.members = lower("add"), lower("remove"), lower("members")
	if p.has("file") {
		m, err := membersFromFile(p.value("file"))
		if err != nil {
			return a, err
		}
		a.members = &m
	}
	a.stats = p.has("s")
	return a, nil
}

// membersFromFile reads a dynamic configuration file for -file, checked
// on the client as zkCli checks it.
func membersFromFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		why := err.Error()
		if errors.Is(err, os.ErrNotExist) {
			why = path + " (No such file or directory)"
		}
		return "", cliErr("Error processing " + path + why)
	}
	c, err := zk.ParseClusterConfig(b)
	if err != nil {
		return "", cliErr("Error processing " + path + err.Error())
	}
	return c.Text(), nil
}

// reconfig is zkCli's reconfig: it prints the committed configuration.
func (sh *Shell) reconfig(tokens []string) error {
	a, err := parseReconfig(tokens)
	if err != nil {
		return err
	}
	rc, ok := sh.conn.(ReconfigConn)
	if !ok {
		return cliErr("reconfig is not supported by this connection")
	}
	ctx, cancel := sh.call()
	defer cancel()
	data, st, err := rc.Reconfig(ctx, a.joining, a.leaving, a.members, a.version)
	if err != nil {
		return cliErr(reconfigMessage(err))
	}
	fmt.Fprintln(sh.out, "Committed new configuration:\n"+javaString(data))
	if a.stats {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

// reconfigMessage is CliWrapperException's message for a failed
// reconfigure, whose KeeperException has the path "".
func reconfigMessage(err error) string {
	switch {
	case errors.Is(err, zk.ErrReconfigInProgress):
		return "Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)"
	case errors.Is(err, zk.ErrNewConfigNoQuorum):
		return "No quorum of new config is connected and up-to-date with the leader of last commmitted config - " +
			"try invoking reconfiguration after new servers are connected and synced"
	}
	if msg := wrapMessage(err, "", true); !strings.HasSuffix(msg, " for ") {
		return msg
	}
	return keeperMessage(err, "", false)
}
