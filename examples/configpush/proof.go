package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// treeNode is a key's node as the ensemble holds it.
type treeNode struct {
	data  string
	stat  zk.Stat
	found bool
}

// readTree reads the configuration back from the ensemble, after a sync,
// on a peer alive.
func (p *push) readTree(ctx context.Context) (map[string]treeNode, []string, error) {
	sess, err := p.cl.NewSession(ctx, p.cl.NextAlive(0))
	if err != nil {
		return nil, nil, err
	}
	defer sess.Close(ctx)
	if err := sess.Sync(ctx, configRoot); err != nil {
		return nil, nil, err
	}
	kids, _, err := sess.Children(ctx, configRoot)
	if err != nil {
		return nil, nil, err
	}
	tree := map[string]treeNode{}
	for _, k := range keys {
		data, st, err := sess.Get(ctx, configRoot+"/"+k)
		if err != nil {
			return nil, nil, err
		}
		tree[configRoot+"/"+k] = treeNode{data: string(data), stat: st, found: true}
	}
	slices.Sort(kids)
	return tree, kids, nil
}

// prove checks every service's history against the writer's and its
// cache's content against the tree.
func (p *push) prove(ctx context.Context) (bool, error) {
	tree, kids, err := p.readTree(ctx)
	if err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Line("Proof, read back from the ensemble (%s) after a sync:", configRoot)
	var failed []string
	for _, s := range p.svcs {
		label := demo.Pad(s.name, 8)
		if why := s.checkHistory(p.wrote); why != "" {
			failed = append(failed, s.name)
			p.out.Line("  %s  FAILED: %s", label, why)
			continue
		}
		if why := s.checkContent(tree, kids); why != "" {
			failed = append(failed, s.name)
			p.out.Line("  %s  FAILED: %s", label, why)
			continue
		}
		p.out.Line("  %s  %s of %s: %d changes heard, each version once and in order", label, s.shape, s.root, s.changes())
		p.out.Line("  %s  %s; the cache holds the tree's content", demo.Pad("", 8), strings.Join(s.keyNames(), ", "))
		p.out.Line("  %s  delays from the writer's send to the listener: %s", demo.Pad("", 8), s.delays())
	}
	if p.o.kill {
		p.out.Line("  %s  the leader crashed half-way; every cache resumed from its zxid, none missed a change", demo.Pad("failover", 8))
	}
	if len(failed) > 0 {
		p.out.Line("\nFAILED: %s", strings.Join(failed, ", "))
		return false, nil
	}
	p.out.Line("\nOK: every service saw every change of its keys, once, in order, and holds what the tree holds.")
	return true, nil
}

// checkHistory checks what s heard against what the writer wrote: for
// each key, versions 0 to the last exactly once, in order, with the values
// written; zxids never going back; no event the demo did not cause.
func (s *service) checkHistory(wrote map[string][]string) string {
	if len(s.odd) > 0 {
		return "unexpected events: " + strings.Join(s.odd, ", ")
	}
	if s.back > 0 {
		return fmt.Sprintf("%d events with a zxid below the previous one's", s.back)
	}
	for _, path := range s.paths {
		seen := s.seen[path]
		if len(seen) != len(wrote[path]) {
			return fmt.Sprintf("%s: %d versions seen, %d written", keyOf(path), len(seen), len(wrote[path]))
		}
		for v, c := range seen {
			if c.version != int32(v) || c.value != wrote[path][v] {
				return fmt.Sprintf("%s: saw v%d %q where v%d %q was written", keyOf(path), c.version, c.value, v, wrote[path][v])
			}
			if v > 0 && c.zxid <= seen[v-1].zxid {
				return fmt.Sprintf("%s v%d: zxid %s not after v%d's", keyOf(path), v, demo.Token(c.zxid), v-1)
			}
		}
	}
	return ""
}

// checkContent compares the cache with the tree.
func (s *service) checkContent(tree map[string]treeNode, kids []string) string {
	for _, path := range s.paths {
		n, ok := s.cache.Get(path)
		t := tree[path]
		if !ok || string(n.Data) != t.data || n.Stat.Mzxid != t.stat.Mzxid || n.Stat.Version != t.stat.Version {
			return fmt.Sprintf("%s: the cache holds %q (v%d), the tree %q (v%d)", keyOf(path), n.Data, n.Stat.Version,
				t.data, t.stat.Version)
		}
	}
	if s.shape != "NodeCache" {
		if got := s.cache.Children(configRoot); !slices.Equal(got, kids) {
			return fmt.Sprintf("children %v in the cache, %v in the tree", got, kids)
		}
	}
	return ""
}

func (s *service) changes() int {
	n := 0
	for _, path := range s.paths {
		n += len(s.seen[path]) - 1
	}
	return n
}

func (s *service) keyNames() []string {
	var out []string
	for _, path := range s.paths {
		out = append(out, fmt.Sprintf("%s v0..v%d", keyOf(path), len(s.seen[path])-1))
	}
	return out
}

// delays summarizes the delays from write to listener.
func (s *service) delays() string {
	var ds []time.Duration
	for _, path := range s.paths {
		for _, c := range s.seen[path] {
			if c.delay >= 0 {
				ds = append(ds, c.delay)
			}
		}
	}
	if len(ds) == 0 {
		return "none measured"
	}
	slices.Sort(ds)
	return fmt.Sprintf("median %s, max %s", delayString(ds[len(ds)/2]), delayString(ds[len(ds)-1]))
}
