package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/embedzk/zk"
)

// maxTTL is ZooKeeper's largest TTL (EphemeralType.TTL's MAX_VALUE).
const maxTTL = 0x00FFFFFFFFFF

// lsHelp is what Commons CLI's HelpFormatter prints for ls -?.
const lsHelp = "usage: ls [options] path\n -?   help\n -R   recurse\n -s   stat\n -w   watch\n"

func (sh *Shell) ls(tokens []string) error {
	spec := flags("?swR")
	p, err := spec.parse(tokens)
	if err != nil {
		return err
	}
	if p.has("?") {
		fmt.Fprint(sh.out, lsHelp)
	}
	p, err = deprecatedWatchArg(sh, spec, tokens, p,
		"'ls path [watch]' has been deprecated. Please use 'ls [-w] path' instead.")
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return cliErr("ls " + commandUsages["ls"])
	}
	path, watch := p.args[1], p.has("w")
	if err := validatePath(path); err != nil {
		return err
	}
	if p.has("R") {
		return sh.visitDFS(path, watch, func(child string) error {
			fmt.Fprintln(sh.out, child)
			return nil
		})
	}
	ctx, cancel := sh.call()
	defer cancel()
	children, st, err := sh.conn.Children(ctx, path, watch)
	if err != nil {
		return wrapErr(err, path)
	}
	sort.Strings(children)
	fmt.Fprintln(sh.out, javaList(children))
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

// visitDFS is ZKUtil.visitSubTreeDFS: path (read, setting a data watch
// with watch), then each node's sorted children before their own
// children, setting child watches with watch. A node that disappears
// meanwhile is skipped.
func (sh *Shell) visitDFS(path string, watch bool, visit func(string) error) error {
	ctx, cancel := sh.call()
	_, _, err := sh.conn.Get(ctx, path, watch)
	cancel()
	if err != nil {
		return wrapErr(err, path)
	}
	if err := visit(path); err != nil {
		return err
	}
	return sh.visitChildren(path, watch, visit)
}

func (sh *Shell) visitChildren(path string, watch bool, visit func(string) error) error {
	ctx, cancel := sh.call()
	children, _, err := sh.conn.Children(ctx, path, watch)
	cancel()
	if zkIs(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return wrapErr(err, path)
	}
	sort.Strings(children)
	for _, c := range children {
		if err := visit(childPath(path, c)); err != nil {
			return err
		}
	}
	for _, c := range children {
		if err := sh.visitChildren(childPath(path, c), watch, visit); err != nil {
			return err
		}
	}
	return nil
}

func childPath(parent, child string) string {
	if parent == "/" {
		return "/" + child
	}
	return parent + "/" + child
}

// createArgs is what create's options ask for.
type createArgs struct {
	mode zk.CreateMode
	ttl  int64
}

// createMode checks create's options in zkCli's order and picks the mode.
func createMode(p *parsedOptions) (createArgs, error) {
	e, s, c, t := p.has("e"), p.has("s"), p.has("c"), p.has("t")
	if c && (e || s) {
		return createArgs{}, cliErr("-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential.")
	}
	var a createArgs
	if t {
		ttl, ok := javaParseLong(p.value("t"))
		if !ok {
			return a, cliErr("-t argument must be a long value")
		}
		a.ttl = ttl
	}
	if t && e {
		return a, cliErr("TTLs cannot be used with Ephemeral znodes")
	}
	if t && c {
		return a, cliErr("TTLs cannot be used with Container znodes")
	}
	switch {
	case e && s:
		a.mode = zk.ModeEphemeralSequential
	case e:
		a.mode = zk.ModeEphemeral
	case s && t:
		a.mode = zk.ModePersistentSequentialWithTTL
	case s:
		a.mode = zk.ModePersistentSequential
	case c:
		a.mode = zk.ModeContainer
	case t:
		a.mode = zk.ModePersistentWithTTL
	default:
		a.mode = zk.ModePersistent
	}
	if t && (a.ttl > maxTTL || a.ttl <= 0) {
		return a, cliErr(fmt.Sprintf("ttl must be positive and cannot be larger than: %d", int64(maxTTL)))
	}
	return a, nil
}

func (sh *Shell) create(tokens []string) error {
	p, err := flags("esct:").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("create")
	}
	a, err := createMode(p)
	if err != nil {
		return err
	}
	path := p.args[1]
	var data []byte
	if len(p.args) > 2 {
		data = []byte(p.args[2])
	}
	acl := zk.OpenACLUnsafe()
	if len(p.args) > 3 {
		acl = sh.parseACL(p.args[3])
	}
	seq := a.mode == zk.ModePersistentSequential || a.mode == zk.ModeEphemeralSequential ||
		a.mode == zk.ModePersistentSequentialWithTTL
	if err := validateSeqPath(path, seq); err != nil {
		return err
	}
	if len(acl) == 0 {
		sh.warn(keeperMessage(errInvalidACLNoPath, "", false))
		return cliErr(wrapMessage(errInvalidACLNoPath, "", false))
	}
	ctx, cancel := sh.call()
	defer cancel()
	created, err := sh.conn.Create(ctx, path, data, acl, a.mode, time.Duration(a.ttl)*time.Millisecond)
	if err != nil {
		if zkIs(err, zk.ErrInvalidACL) {
			sh.warn(keeperMessage(err, path, true))
		}
		return wrapErr(err, path)
	}
	sh.warn("Created " + created)
	return nil
}

// parsePathCmd parses get and stat: cmd's flags and a path, with the
// deprecated third argument rewritten to -w (see deprecatedWatchArg).
func (sh *Shell) parsePathCmd(cmd, letters string, tokens []string, warning string) (*parsedOptions, error) {
	spec := flags(letters)
	p, err := spec.parse(tokens)
	if err != nil {
		return nil, err
	}
	if len(p.args) < 2 {
		return nil, usageErr(cmd)
	}
	if p, err = deprecatedWatchArg(sh, spec, tokens, p, warning); err != nil {
		return nil, err
	}
	if len(p.args) < 2 {
		return nil, usageErr(cmd) // the rewrite can leave no path: zkCli would fail here too
	}
	return p, nil
}

func (sh *Shell) get(tokens []string) error {
	p, err := sh.parsePathCmd("get", "sw", tokens,
		"'get path [watch]' has been deprecated. Please use 'get [-s] [-w] path' instead.")
	if err != nil {
		return err
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	data, st, err := sh.conn.Get(ctx, path, p.has("w"))
	if err != nil {
		return wrapErr(err, path)
	}
	fmt.Fprintln(sh.out, dataText(data))
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

// dataText is what zkCli prints for a node's data: "null" for null data
// (a node created without data), an empty line for empty data (created or
// set with ""), as zkCli 3.8 prints them.
func dataText(data []byte) string {
	if data == nil {
		return "null"
	}
	return javaString(data)
}

// versionArg parses a -v value, which zkCli reads with Integer.parseInt
// (and dies on: the shell answers instead).
func versionArg(p *parsedOptions) (int32, error) {
	if !p.has("v") {
		return -1, nil
	}
	v, ok := javaParseInt(p.value("v"))
	if !ok {
		return 0, cliErr("-v argument must be an int value")
	}
	return v, nil
}

func (sh *Shell) set(tokens []string) error {
	p, err := flags("sv:").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 3 {
		return usageErr("set")
	}
	path, data := p.args[1], []byte(p.args[2])
	version, err := versionArg(p)
	if err != nil {
		return err
	}
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	st, err := sh.conn.Set(ctx, path, data, version)
	if err != nil {
		return wrapErr(err, path)
	}
	if p.has("s") {
		printStat(sh.out, st, sh.loc)
	}
	return nil
}

func (sh *Shell) stat(tokens []string) error {
	p, err := sh.parsePathCmd("stat", "w", tokens,
		"'stat path [watch]' has been deprecated. Please use 'stat [-w] path' instead.")
	if err != nil {
		return err
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	ok, st, err := sh.conn.Exists(ctx, path, p.has("w"))
	if err != nil {
		return wrapErr(err, path)
	}
	if !ok {
		return wrapErr(zk.ErrNoNode, path)
	}
	printStat(sh.out, st, sh.loc)
	return nil
}

func (sh *Shell) delete(tokens []string) error {
	spec := flags("v:")
	p, err := spec.parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("delete")
	}
	if len(p.args) > 2 {
		sh.warn("'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.")
	}
	path := p.args[1]
	version, err := versionArg(p)
	if err != nil {
		return err
	}
	if err := validatePath(path); err != nil {
		return err
	}
	ctx, cancel := sh.call()
	defer cancel()
	if err := sh.conn.Delete(ctx, path, version); err != nil {
		return wrapErr(err, path)
	}
	return nil
}

// deleteAll is zkCli's deleteall (ZKUtil.deleteRecursive): the subtree is
// listed breadth first, then deleted from its end in multis of batch size
// deletes; after a multi fails no other is sent.
func (sh *Shell) deleteAll(tokens []string) error {
	p, err := flags("b:").parse(tokens)
	if err != nil {
		return err
	}
	if len(p.args) < 2 {
		return usageErr("deleteall")
	}
	batch := int32(1000)
	if p.has("b") {
		b, ok := javaParseInt(p.value("b"))
		if !ok {
			return cliErr("-b argument must be an int value")
		}
		batch = b
	}
	path := p.args[1]
	if err := validatePath(path); err != nil {
		return err
	}
	tree, err := sh.listBFS(path)
	if err != nil {
		return err
	}
	var ops []string
	for i := len(tree) - 1; i >= 0; i-- {
		ops = append(ops, tree[i])
		if len(ops) == int(batch) || i == 0 {
			ctx, cancel := sh.call()
			err := sh.conn.DeleteBatch(ctx, ops)
			cancel()
			if err != nil {
				sh.warn("Failed to delete some node(s) in the subtree!")
				return nil
			}
			ops = nil
		}
	}
	return nil
}

// listBFS is ZKUtil.listSubTreeBFS.
func (sh *Shell) listBFS(root string) ([]string, error) {
	tree := []string{root}
	for i := 0; i < len(tree); i++ {
		ctx, cancel := sh.call()
		children, _, err := sh.conn.Children(ctx, tree[i], false)
		cancel()
		if err != nil {
			return nil, wrapErr(err, tree[i])
		}
		for _, c := range children {
			tree = append(tree, childPath(tree[i], c))
		}
	}
	return tree, nil
}
