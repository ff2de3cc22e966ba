package recipes_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/recipes"
)

// exampleSession starts a standalone peer in a temporary directory and
// opens a session; stop undoes both.
func exampleSession() (s *zk.Session, stop func()) {
	dir, err := os.MkdirTemp("", "zk-example-")
	if err != nil {
		log.Fatal(err)
	}
	ens, err := zk.NewEnsemble(zk.Config{DataDir: dir})
	if err != nil {
		log.Fatal(err)
	}
	s, err = ens.NewSession(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return s, func() {
		ens.Close()
		os.RemoveAll(dir)
	}
}

// The seed's NodeCache (§4.8): a listener hears of every change of one
// node, and reads the new data from the cache.
func ExampleNewNodeCache() {
	ctx := context.Background()
	s, stop := exampleSession()
	defer stop()

	cache, err := recipes.NewNodeCache(s, "/app1")
	if err != nil {
		log.Fatal(err)
	}
	changed := make(chan struct{}, 8)
	cache.Listen(func(ev recipes.CacheEvent) {
		if ev.Type == recipes.CacheNodeCreated || ev.Type == recipes.CacheNodeChanged {
			n, _ := cache.Get("/app1") // the cache is at ev.Zxid while the listener runs
			fmt.Printf("node changed: %s\n", n.Data)
			changed <- struct{}{}
		}
	})
	if err := cache.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	if _, err := s.Create(ctx, "/app1", []byte("hello")); err != nil {
		log.Fatal(err)
	}
	<-changed
	if _, err := s.Set(ctx, "/app1", []byte("itcast"), -1); err != nil {
		log.Fatal(err)
	}
	<-changed
	// Output:
	// node changed: hello
	// node changed: itcast
}

// The seed's PathChildrenCache (§4.9): children added, updated (with their
// new data) and removed.
func ExampleNewPathChildrenCache() {
	ctx := context.Background()
	s, stop := exampleSession()
	defer stop()
	if _, err := s.Create(ctx, "/app2", nil); err != nil {
		log.Fatal(err)
	}

	cache, err := recipes.NewPathChildrenCache(s, "/app2")
	if err != nil {
		log.Fatal(err)
	}
	events := make(chan recipes.CacheEvent, 8)
	cache.Listen(func(ev recipes.CacheEvent) { events <- ev })
	if err := cache.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer cache.Close()
	fmt.Println((<-events).Type) // an empty node: initialized at once

	if _, err := s.Create(ctx, "/app2/p1", []byte("1")); err != nil {
		log.Fatal(err)
	}
	if _, err := s.Set(ctx, "/app2/p1", []byte("2"), -1); err != nil {
		log.Fatal(err)
	}
	if err := s.Delete(ctx, "/app2/p1", -1); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ev := <-events
		fmt.Println(ev.Type, ev.Node.Path, string(ev.Node.Data))
	}
	// Output:
	// Initialized
	// NodeCreated /app2/p1 1
	// NodeChanged /app2/p1 2
	// NodeDeleted /app2/p1 2
}

// The seed's TreeCache (§4.10): a node and everything below it, read from
// the cache at one consistent zxid.
func ExampleNewTreeCache() {
	ctx := context.Background()
	s, stop := exampleSession()
	defer stop()
	for _, p := range []string{"/app2", "/app2/a", "/app2/a/b"} {
		if _, err := s.Create(ctx, p, []byte(p)); err != nil {
			log.Fatal(err)
		}
	}

	cache, err := recipes.NewTreeCache(s, "/app2")
	if err != nil {
		log.Fatal(err)
	}
	if err := cache.Start(ctx); err != nil { // returns once loaded
		log.Fatal(err)
	}
	defer cache.Close()
	nodes, _ := cache.Nodes()
	for _, n := range nodes {
		fmt.Printf("%s children=%d\n", n.Path, n.Stat.NumChildren)
	}
	fmt.Println(cache.Children("/app2"))
	// Output:
	// /app2 children=1
	// /app2/a children=1
	// /app2/a/b children=0
	// [a]
}

// Curator's namespace("itheima"): paths in and out are relative to the
// namespace's root, which is made on the first create.
func ExampleNewNamespace() {
	ctx := context.Background()
	s, stop := exampleSession()
	defer stop()

	ns, err := recipes.NewNamespace(s, "/itheima")
	if err != nil {
		log.Fatal(err)
	}
	p, err := ns.Create(ctx, "/app1", []byte("hehe"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", p)
	data, _, err := s.Get(ctx, "/itheima/app1") // the session sees the real path
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("/itheima/app1 = %s\n", data)
	_, _, err = ns.Get(ctx, "/missing")
	fmt.Println(err)
	// Output:
	// created /app1
	// /itheima/app1 = hehe
	// zk: get /missing: node does not exist
}
