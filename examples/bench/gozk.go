package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

// gozkClient is one go-zookeeper session (to ZooKeeper or to zk's client
// port), pinned to one server.
type gozkClient struct{ c *gozk.Conn }

var openACL = gozk.WorldACL(gozk.PermAll)

type quiet struct{}

func (quiet) Printf(string, ...any) {}

// dialGozk connects to addr and waits for the session.
func dialGozk(addr string) (client, error) {
	conn, events, err := gozk.Connect([]string{addr}, 10*time.Second, gozk.WithLogger(quiet{}))
	if err != nil {
		return nil, err
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.State == gozk.StateHasSession {
				return gozkClient{conn}, nil
			}
		case <-timeout:
			conn.Close()
			return nil, fmt.Errorf("no session from %s within 30s", addr)
		}
	}
}

func (c gozkClient) create(path string, data []byte) error {
	_, err := c.c.Create(path, data, 0, openACL)
	return err
}

func (c gozkClient) set(path string, data []byte) error {
	_, err := c.c.Set(path, data, -1)
	return err
}

func (c gozkClient) sync(path string) error {
	_, err := c.c.Sync(path)
	return err
}

func (c gozkClient) getW(path string) (func(ctx context.Context) error, error) {
	_, _, ch, err := c.c.GetW(path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		select {
		case ev := <-ch:
			return ev.Err
		case <-ctx.Done():
			return ctx.Err()
		}
	}, nil
}

func (c gozkClient) lock(path string) (locker, error) { return newGozkLock(c.c, path), nil }

func (c gozkClient) close() { c.c.Close() }

// gozkLock is Curator's InterProcessMutex written for go-zookeeper, for the
// lock workloads against ZooKeeper and zk's client port: a protected
// ephemeral sequential node under the lock's path (its parents made as
// containers when missing), the lowest sequence holds the lock, every other
// contender watches its predecessor's data and re-checks when it fires.
type gozkLock struct {
	c    *gozk.Conn
	path string
	id   string // the protected prefix, "_c_<random>-lock-"
	node string // held node
}

func newGozkLock(c *gozk.Conn, path string) *gozkLock {
	var b [16]byte
	rand.Read(b[:])
	return &gozkLock{c: c, path: path, id: "_c_" + hex.EncodeToString(b[:]) + "-lock-"}
}

// Lock waits until the lock is held or ctx ends.
func (l *gozkLock) Lock(ctx context.Context) error {
	node, err := l.enqueue()
	if err != nil {
		return err
	}
	if err := l.waitTurn(ctx, node); err != nil {
		_ = l.c.Delete(node, -1)
		return err
	}
	l.node = node
	return nil
}

func (l *gozkLock) enqueue() (string, error) {
	for {
		node, err := l.c.Create(l.path+"/"+l.id, nil, gozk.FlagEphemeralSequential, openACL)
		if !errors.Is(err, gozk.ErrNoNode) {
			return node, err
		}
		// Curator's creatingParentContainersIfNeeded.
		if _, err := l.c.CreateContainer(l.path, nil, gozk.FlagContainer, openACL); err != nil && !errors.Is(err, gozk.ErrNodeExists) {
			return "", err
		}
	}
}

func (l *gozkLock) waitTurn(ctx context.Context, node string) error {
	name := node[len(l.path)+1:]
	for {
		kids, _, err := l.c.Children(l.path)
		if err != nil {
			return err
		}
		sort.Slice(kids, func(i, j int) bool { return sequence(kids[i]) < sequence(kids[j]) })
		i := sort.Search(len(kids), func(i int) bool { return sequence(kids[i]) >= sequence(name) })
		if i == len(kids) || kids[i] != name {
			return fmt.Errorf("lock %s: our node %s is gone", l.path, name)
		}
		if i == 0 {
			return nil
		}
		_, _, ch, err := l.c.GetW(l.path + "/" + kids[i-1])
		if errors.Is(err, gozk.ErrNoNode) {
			continue
		}
		if err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Unlock deletes the held node.
func (l *gozkLock) Unlock(context.Context) error {
	if l.node == "" {
		return errors.New("not locked")
	}
	err := l.c.Delete(l.node, -1)
	l.node = ""
	return err
}

// sequence returns a contender's sequence suffix.
func sequence(name string) string { return name[strings.LastIndexByte(name, '-')+1:] }
