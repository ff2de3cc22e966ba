package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/embedzk/zk"
)

// parseACL is zkCli's AclParser: comma-separated scheme:id:perms entries;
// a malformed entry or an unknown permission letter is reported on the
// error stream and skipped.
func (sh *Shell) parseACL(s string) []zk.ACL {
	var acl []zk.ACL
	for _, a := range javaSplit(s, ",") {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first == -1 || first == last {
			sh.warn(a + " does not have the form scheme:id:perm")
			continue
		}
		acl = append(acl, zk.ACL{Scheme: a[:first], ID: a[first+1 : last], Perms: sh.parsePerms(a[last+1:])})
	}
	return acl
}

func (sh *Shell) parsePerms(s string) zk.Perm {
	var p zk.Perm
	for _, c := range s {
		switch c {
		case 'r':
			p |= zk.PermRead
		case 'w':
			p |= zk.PermWrite
		case 'c':
			p |= zk.PermCreate
		case 'd':
			p |= zk.PermDelete
		case 'a':
			p |= zk.PermAdmin
		default:
			sh.warn("Unknown perm type: " + string(c))
		}
	}
	return p
}

// javaSplit is Java's String.split with a literal separator: trailing
// empty strings are removed (but a string without the separator, even
// empty, is one element).
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

func (sh *Shell) getACL(tokens []string) error {
	p, err := flags("s").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("getAcl")
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	acl, st, err := sh.conn.GetACL(ctx, path)
	if err != nil {
		return wrapErr(err, path)
	}
	for _, a := range acl {
		fmt.Fprintln(sh.out, aclLine(a))
	}
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

func (sh *Shell) setACL(tokens []string) error {
	p, err := flags("sv:R").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 3 {
		return usageErr("setAcl")
	}
	path := p.args[1]
	acl := sh.parseACL(p.args[2])
	version, err := versionArg(p)
	if err != nil {
		return err
	}
	if err := validatePath(path); err != nil {
		return err
	}
	if p.has("R") {
		return sh.setACLRecursive(path, acl, version)
	}
	if len(acl) == 0 {
		return cliErr(wrapMessage(errInvalidACLNoPath, "", false))
	}
	ctx, cancel := sh.call()
	defer cancel()
	st, err := sh.conn.SetACL(ctx, path, acl, version)
	if err != nil {
		return wrapErr(err, path)
	}
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

// setACLRecursive is setAcl -R: every node of the subtree, in zkCli's
// order, gets the ACL; a node refused is reported (zkCli's bare message,
// without a newline) and the others still get it. Unlike zkCli, which
// lists a node's children after changing its ACL (and stops halfway when
// the new ACL takes its own READ away), the subtree is listed first: a
// failure to list it changes nothing.
func (sh *Shell) setACLRecursive(path string, acl []zk.ACL, version int32) error {
	var nodes []string
	if err := sh.visitDFS(path, false, func(node string) error {
		nodes = append(nodes, node)
		return nil
	}); err != nil {
		return err
	}
	for _, node := range nodes {
		if len(acl) == 0 {
			fmt.Fprint(sh.out, keeperMessage(errInvalidACLNoPath, "", false))
			continue
		}
		ctx, cancel := sh.call()
		_, err := sh.conn.SetACL(ctx, node, acl, version)
		cancel()
		if err != nil {
			fmt.Fprint(sh.out, keeperMessage(err, node, true))
		}
	}
	return nil
}

// addAuth is zkCli's addauth. ZooKeeper answers a refused identity by
// failing the connection (state AUTH_FAILED, an AuthFailed event) rather
// than the command; the shell does the same, and keeps the session open
// until connect or quit.
func (sh *Shell) addAuth(tokens []string) error {
	p, err := flags("").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("addauth")
	}
	var auth []byte
	if len(p.args) >= 3 {
		auth = []byte(p.args[2])
	}
	ctx, cancel := sh.call()
	defer cancel()
	if err := sh.conn.AddAuth(ctx, p.args[1], auth); err != nil {
		if !errors.Is(err, zk.ErrAuthFailed) {
			return cliErr(keeperMessage(err, "", false))
		}
		sh.PrintEvents()
		sh.authFailed = true
		sh.printEvent(Event{State: "AuthFailed", Type: "None"})
	}
	return nil
}

func (sh *Shell) whoAmI(tokens []string) error {
	ctx, cancel := sh.call()
	defer cancel()
	ids, err := sh.conn.WhoAmI(ctx)
	if err != nil {
		return cliErr(keeperMessage(err, "", false))
	}
	fmt.Fprintln(sh.out, "Auth scheme: User")
	for _, id := range ids {
		fmt.Fprintln(sh.out, id.Scheme+": "+id.User)
	}
	return nil
}
