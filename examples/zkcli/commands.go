package main

import (
	"fmt"
	"sort"
)

// commandUsages holds every command zkCli 3.8 knows, with its options as
// its usage lines print them. The first five are ZooKeeperMain's own; the
// others are its CliCommands.
var commandUsages = map[string]string{
	"connect":              "host:port",
	"history":              "",
	"redo":                 "cmdno",
	"printwatches":         "on|off",
	"quit":                 "",
	"addWatch":             "[-m mode] path # optional mode is one of [PERSISTENT, PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE",
	"addauth":              "scheme auth",
	"close":                "",
	"config":               "[-c] [-w] [-s]",
	"create":               "[-s] [-e] [-c] [-t ttl] path [data] [acl]",
	"delete":               "[-v version] path",
	"deleteall":            "path [-b batch size]",
	"delquota":             "[-n|-b|-N|-B] path",
	"get":                  "[-s] [-w] path",
	"getAcl":               "[-s] path",
	"getAllChildrenNumber": "path",
	"getEphemerals":        "path",
	"listquota":            "path",
	"ls":                   "[-s] [-w] [-R] path",
	"reconfig":             "[-s] [-v version] [[-file path] | [-members serverID=host:port1:port2;port3[,...]*]] | [-add serverId=host:port1:port2;port3[,...]]* [-remove serverId[,...]*]",
	"removewatches":        "path [-c|-d|-a] [-l]",
	"set":                  "[-s] [-v version] path data",
	"setAcl":               "[-s] [-v version] [-R] path acl",
	"setquota":             "-n|-b|-N|-B val path",
	"stat":                 "[-w] path",
	"sync":                 "path",
	"version":              "",
	"whoami":               "",
}

// commandNames returns the commands sorted as Java sorts strings (by
// UTF-16 unit; the names are ASCII, so bytewise).
func commandNames() []string {
	names := make([]string, 0, len(commandUsages))
	for n := range commandUsages {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func commandUsage(name string) string { return commandUsages[name] }

// usageErr is the CliParseException a command throws with its usage.
func usageErr(name string) error { return cliErr(name + " " + commandUsages[name]) }

// runnerFor returns the CliCommand called name (nil for ZooKeeperMain's
// own commands, handled by processZKCmd).
func runnerFor(name string) func(*Shell, []string) error {
	switch name {
	case "ls":
		return (*Shell).ls
	case "create":
		return (*Shell).create
	case "get":
		return (*Shell).get
	case "set":
		return (*Shell).set
	case "stat":
		return (*Shell).stat
	case "delete":
		return (*Shell).delete
	case "deleteall":
		return (*Shell).deleteAll
	case "getAcl":
		return (*Shell).getACL
	case "setAcl":
		return (*Shell).setACL
	case "addauth":
		return (*Shell).addAuth
	case "whoami":
		return (*Shell).whoAmI
	case "sync":
		return (*Shell).sync
	case "addWatch":
		return (*Shell).addWatch
	case "removewatches":
		return (*Shell).removeWatches
	case "getEphemerals":
		return (*Shell).getEphemerals
	case "getAllChildrenNumber":
		return (*Shell).getAllChildrenNumber
	case "setquota":
		return (*Shell).setQuota
	case "listquota":
		return (*Shell).listQuota
	case "delquota":
		return (*Shell).delQuota
	case "close":
		return (*Shell).closeCmd
	case "config":
		return (*Shell).config
	case "reconfig":
		return (*Shell).reconfig
	case "version":
		return (*Shell).version
	}
	return nil
}

// flags builds an optionSpec: a letter followed by ':' takes a value.
func flags(letters string) *optionSpec {
	s := &optionSpec{takesArg: map[string]bool{}}
	for i := 0; i < len(letters); i++ {
		name := letters[i : i+1]
		arg := i+1 < len(letters) && letters[i+1] == ':'
		s.takesArg[name] = arg
		if arg {
			i++
		}
	}
	return s
}

// deprecatedWatchArg is the compatibility rewrite of ls, get and stat:
// given a third argument ("get path watch"), zkCli warns, replaces the
// third token of the line (whatever it is) with -w and parses again.
func deprecatedWatchArg(sh *Shell, spec *optionSpec, tokens []string, p *parsedOptions, warning string) (*parsedOptions, error) {
	if len(p.args) <= 2 {
		return p, nil
	}
	sh.warn(warning)
	rewritten := append([]string(nil), tokens...)
	rewritten[2] = "-w"
	return spec.parse(rewritten)
}

// warn prints a message on the error stream, as zkCli's err.println.
func (sh *Shell) warn(msg string) {
	fmt.Fprintln(sh.errw, msg)
}
