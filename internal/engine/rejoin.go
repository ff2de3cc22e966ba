package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// A member that a committed configuration removes keeps following as a
// non-voting member (Status.RemovedBy), as ZooKeeper's removed server does,
// until a reconfig adds it back. Restarted while removed, it stays removed
// (Status.Removed, serving nothing), unless it restarts with Config.Rejoin:
// then it joins again, as a new server does. A new server that synced as a
// joiner and restarted before a reconfig added it comes back as the joiner
// it was (ZooKeeper's non-voting joiner waits too). Both restart with a
// tree whose configuration does not list them; a mark in the data
// directory, made when the core reports the removal and taken away when a
// reconfig adds the peer back, tells them apart. A removed member whose
// mark was lost in a crash restarts as a joiner: one that counts in no
// quorum until a configuration lists it, as ZooKeeper runs a removed
// server that restarts with its last configuration.

// removedFile marks a data directory whose peer a committed configuration
// removed.
const removedFile = "removed"

// startMembers returns the membership the core starts with and its
// version: the configuration in effect at the tree's applied zxid; or, for
// a joiner restarted before a configuration listed it (the tree's
// configuration does not list it, its own server list does, and it was
// never removed or restarts with Rejoin), a joiner's guess again
// (joining): the members of the tree's configuration, the newest it knows,
// and itself as its own list names it, instead of its own list, which may
// name only servers a reconfig has removed since (it would look for the
// leader among them forever). ZooKeeper's restarted server likewise reads
// its last dynamic configuration, not zoo.cfg's server lines; a joiner
// meant to find another ensemble starts with an empty data directory.
func (e *Ensemble) startMembers() (mc Config, version int64, joining bool, err error) {
	cfg := e.cfg
	cur := e.members.Load()
	if cur == nil || cfg.standalone() {
		return cfg, 0, false, nil
	}
	_, listed := cur.server(cfg.ID)
	own := slices.ContainsFunc(cfg.Servers, func(s Server) bool { return s.ID == cfg.ID })
	if !listed && own && cur.Version > 0 {
		removed, err := wasRemoved(cfg)
		if err != nil {
			return cfg, 0, false, fmt.Errorf("zk: reading %s: %w", removedFile, err)
		}
		if !removed || cfg.Rejoin {
			cfg.Logger.Info("zk: joining again: the configuration does not list this server yet",
				"version", fmt.Sprintf("%x", cur.Version), "removed_before", removed)
			return joinGuess(cfg, cur), 0, true, nil
		}
	}
	mc = cfg
	mc.Servers, mc.Groups, mc.Weights = cur.Servers, cur.Groups, cur.Weights
	return mc, cur.Version, false, nil
}

// wasRemoved reports whether the data directory holds the removal mark.
func wasRemoved(cfg Config) (bool, error) {
	_, err := cfg.FS.Stat(filepath.Join(cfg.DataDir, removedFile))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	}
	return false, err
}

// markRemoved makes the removal mark durable (the file, then the
// directory entry).
func markRemoved(cfg Config, version int64) error {
	f, err := cfg.FS.Create(filepath.Join(cfg.DataDir, removedFile), vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "removed by configuration %x\n", version)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return dirsync.Sync(cfg.FS, cfg.DataDir)
}

// noteRemoved keeps the removal mark in step with the core: made when a
// committed configuration removes this peer (was, now: the version that
// removed it, 0 for none), taken away when one lists it again. A peer that
// cannot make the change durable fails (fail-stop).
func (p *peer) noteRemoved(was, now int64) {
	if now == was || p.failed() {
		return
	}
	var err error
	switch {
	case now != 0:
		err = markRemoved(p.cfg, now)
	default:
		err = unmarkRemoved(p.cfg)
	}
	if err != nil {
		p.failStop(fmt.Errorf("zk: updating the data directory's removal mark: %w", err))
	}
}

// unmarkRemoved takes the removal mark away, durably.
func unmarkRemoved(cfg Config) error {
	err := cfg.FS.Remove(filepath.Join(cfg.DataDir, removedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return dirsync.Sync(cfg.FS, cfg.DataDir)
}

// joinGuess is the membership a joiner restarts with: the servers of cur
// and this one as its own server list names it. With a hierarchical quorum
// it is its own list, as before: its groups place it, cur's do not.
func joinGuess(cfg Config, cur *ClusterConfig) Config {
	if len(cur.Groups) > 0 {
		return cfg
	}
	mc := cfg
	mc.Servers = slices.Clone(cur.Servers)
	for _, s := range cfg.Servers {
		if s.ID == cfg.ID {
			mc.Servers = append(mc.Servers, s)
		}
	}
	mc.Groups, mc.Weights = nil, nil // cur has no groups, hence no weights
	return mc
}
