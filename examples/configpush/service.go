package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
	"github.com/embedzk/zk/recipes"
)

var serviceNames = []string{"api", "billing", "search", "mail", "report", "auth"}

// seenChange is one version of a key as a service's listener heard of it.
type seenChange struct {
	version int32
	value   string
	zxid    int64
	delay   time.Duration // since the writer sent it; -1 for the initial load
}

// service is one program that keeps a cache of the configuration. Its
// fields but name, shape, root and paths are guarded by push.mu.
type service struct {
	p     *push
	name  string
	shape string // "TreeCache", "PathChildrenCache" or "NodeCache"
	root  string
	paths []string // the keys' paths the cache holds

	peer     int
	sessions []*zk.Session
	cache    *recipes.Cache
	loaded   bool
	seen     map[string][]seenChange
	lastZxid int64
	back     int      // events whose zxid was below the previous one's
	odd      []string // events the demo never causes (deletes, unknown paths)
}

// newService returns the i-th service: the shapes in turn.
func (p *push) newService(i int) *service {
	s := &service{p: p, name: serviceNames[i], seen: map[string][]seenChange{}}
	s.peer = (max(p.cl.Leader(), 0) + i) % len(p.cl.Peers)
	switch i % 3 {
	case 0:
		s.shape, s.root = "TreeCache", configRoot
	case 1:
		s.shape, s.root = "PathChildrenCache", configRoot
	default:
		s.shape, s.root = "NodeCache", configRoot+"/"+keys[0]
	}
	for _, k := range keys {
		if path := configRoot + "/" + k; s.shape != "NodeCache" || path == s.root {
			s.paths = append(s.paths, path)
		}
	}
	return s
}

// startServices opens each service's session and starts its cache.
func (p *push) startServices(ctx context.Context) error {
	for i := range p.o.watchers {
		s := p.newService(i)
		p.mu.Lock()
		p.svcs = append(p.svcs, s)
		p.mu.Unlock()
		if err := s.start(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

func (s *service) start(ctx context.Context) error {
	sess, err := s.p.cl.NewSession(ctx, s.peer)
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	s.sessions = append(s.sessions, sess)
	s.p.mu.Unlock()
	opt := recipes.WithReconnect(s.reconnect)
	switch s.shape {
	case "TreeCache":
		s.cache, err = recipes.NewTreeCache(sess, s.root, opt)
	case "PathChildrenCache":
		s.cache, err = recipes.NewPathChildrenCache(sess, s.root, opt)
	default:
		s.cache, err = recipes.NewNodeCache(sess, s.root, opt)
	}
	if err != nil {
		return err
	}
	s.cache.Listen(s.listen)
	if err := s.cache.Start(ctx); err != nil {
		return err
	}
	if s.shape == "NodeCache" {
		// A NodeCache tells no CacheInitialized (Curator's tells none):
		// its load is complete once Start returns.
		s.listen(recipes.CacheEvent{Type: recipes.CacheInitialized, Zxid: s.cache.Zxid()})
	}
	return nil
}

// reconnect gives the cache a new session when its own ended (its peer
// crashed, or it expired while the ensemble elected a leader).
func (s *service) reconnect(ctx context.Context) (recipes.CacheSession, error) {
	p := s.p
	p.mu.Lock()
	old, from := s.peer, s.lastZxid
	p.mu.Unlock()
	why := "its session ended"
	if p.cl.Crashed(old) {
		why = "its peer crashed"
	}
	next := p.cl.NextAlive(old)
	sess, err := p.cl.NewSession(ctx, next)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	s.peer = next
	s.sessions = append(s.sessions, sess)
	p.mu.Unlock()
	p.out.Row(s.name, "(resumes)", "", fmt.Sprintf("from zxid %s, with a new session on %s (%s)",
		demo.Token(from), p.cl.Name(next), why))
	return sess, nil
}

func (s *service) peerNow() int {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	return s.peer
}

// listen is the cache's listener: it records and prints each change.
func (s *service) listen(ev recipes.CacheEvent) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if ev.Zxid < s.lastZxid {
		s.back++
	}
	s.lastZxid = max(s.lastZxid, ev.Zxid)
	switch ev.Type {
	case recipes.CacheInitialized:
		s.loaded = true
		p.out.Row(s.name, "(loaded)", "", s.loadedLocked())
		p.notifyLocked()
		return
	case recipes.CacheNodeDeleted:
		s.odd = append(s.odd, fmt.Sprintf("%s deleted", ev.Node.Path))
		return
	}
	path := ev.Node.Path
	if path == configRoot && s.shape == "TreeCache" {
		return // the configuration's own node: no key
	}
	if !s.holds(path) {
		s.odd = append(s.odd, fmt.Sprintf("%s %s", ev.Type, path))
		return
	}
	c := seenChange{version: ev.Node.Stat.Version, value: string(ev.Node.Data), zxid: ev.Zxid, delay: -1}
	if sent := p.sent[path]; s.loaded && int(c.version) < len(sent) {
		c.delay = time.Since(sent[c.version])
	}
	s.seen[path] = append(s.seen[path], c)
	if s.loaded {
		p.out.Row(s.name, keyOf(path), fmt.Sprint("v", c.version), c.value, "+"+delayString(c.delay))
	}
	p.notifyLocked()
}

func (s *service) holds(path string) bool {
	for _, x := range s.paths {
		if x == path {
			return true
		}
	}
	return false
}

// loadedLocked describes the cache's initial load.
func (s *service) loadedLocked() string {
	var parts []string
	for _, path := range s.paths {
		if seen := s.seen[path]; len(seen) > 0 {
			parts = append(parts, fmt.Sprintf("%s v%d", keyOf(path), seen[len(seen)-1].version))
		}
	}
	return fmt.Sprintf("%s of %s: %s", s.shape, s.root, strings.Join(parts, ", "))
}

func keyOf(path string) string { return path[strings.LastIndexByte(path, '/')+1:] }

// delayString formats a delay: milliseconds with a decimal below a second.
func delayString(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// stopServices closes the caches and the services' sessions.
func (p *push) stopServices() {
	p.mu.Lock()
	svcs := p.svcs
	p.mu.Unlock()
	for _, s := range svcs {
		if s.cache != nil {
			s.cache.Close()
		}
		p.mu.Lock()
		sessions := s.sessions
		p.mu.Unlock()
		for _, sess := range sessions {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			sess.Close(ctx)
			cancel()
		}
	}
}
