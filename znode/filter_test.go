package znode

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/embedzk/zk/internal/zkerr"
)

// TestKeyFilterNeverHidesAKey: with the value cache off, every lookup of
// a key the cache does not hold goes through the key filter. Nodes are
// created and deleted at random (enough deletes to rebuild the filter
// several times, and new layers as it grows); after each step every node
// the model holds reads back, every deleted one is gone, and a create of
// an existing path fails. Then the same after a reopen and a Restore.
func TestKeyFilterNeverHidesAKey(t *testing.T) {
	fs := vfs.NewMem()
	opts := testOptions(fs)
	opts.ValueCacheSize = -1
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, tree: tr, zxid: 0x100000000, now: 1}
	rng := rand.New(rand.NewSource(7))
	live := map[string]bool{}
	var gone []string
	builds, maxLayers := 0, 0
	waitFilterBuild(tr)
	// Small layers and churn floor, so that the steps below (fewer under
	// the race detector) reach rebuilds and growth; the filter Open built
	// is replaced by one with them.
	tr.filterMinKeys = 64
	tr.startFilterBuild()
	waitFilterBuild(tr)
	for i := 0; i < filterSteps; i++ {
		f := tr.filter.Load()
		p := fmt.Sprintf("/n%d", rng.Intn(filterKeys))
		if live[p] {
			h.ok(Txn{Type: TxnDelete, Path: p, Version: -1})
			delete(live, p)
			gone = append(gone, p)
		} else {
			h.create(p, "v")
			live[p] = true
		}
		waitFilterBuild(tr) // a build the commit started
		if tr.filter.Load() != f {
			builds++
		}
		maxLayers = max(maxLayers, len(*tr.filter.Load().layers.Load()))
		if i%997 == 0 {
			checkNodes(t, tr, live, gone)
		}
	}
	if builds == 0 {
		t.Fatal("the filter was never rebuilt: the test does not cover rebuilds")
	}
	if maxLayers < 2 {
		t.Fatal("the filter never grew a layer: the test does not cover growth")
	}
	for p := range live {
		if r, _ := h.apply(Txn{Type: TxnCreate, Path: p, ACL: OpenACLUnsafe()}); !errors.Is(r.Err, zkerr.ErrNodeExists) {
			t.Fatalf("create of the existing %s: %v", p, r.Err)
		}
	}
	checkNodes(t, tr, live, gone)
	var snap bytes.Buffer
	if _, err := tr.WriteSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if tr, err = Open(opts); err != nil {
		t.Fatal(err)
	}
	checkNodes(t, tr, live, gone) // while the build may run
	waitFilterBuild(tr)
	if tr.filter.Load() == nil {
		t.Fatal("no filter after Open")
	}
	checkNodes(t, tr, live, gone)
	if _, err := tr.Restore(&snap); err != nil {
		t.Fatal(err)
	}
	checkNodes(t, tr, live, gone)
	waitFilterBuild(tr)
	checkNodes(t, tr, live, gone)
	_ = tr.Close()
}

// waitFilterBuild waits for the running filter build, if any.
func waitFilterBuild(tr *Tree) {
	tr.buildMu.Lock()
	b := tr.build
	tr.buildMu.Unlock()
	if b != nil {
		<-b.done
	}
}

// TestKeyFilterBuildRacesCommits: keys committed while a build scans its
// snapshot (which does not hold them) are in the filter the build
// installs. The build is held after its snapshot until 500 creates are
// committed.
func TestKeyFilterBuildRacesCommits(t *testing.T) {
	fs := vfs.NewMem()
	opts := testOptions(fs)
	opts.ValueCacheSize = -1
	tr, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	h := &harness{t: t, tree: tr, zxid: 0x100000000, now: 1}
	for i := range 500 {
		h.create(fmt.Sprintf("/before%d", i), "")
	}
	waitFilterBuild(tr)
	old := tr.filter.Load()
	release := make(chan struct{})
	tr.filterHook = func() { <-release }
	tr.startFilterBuild()
	var during []string
	for i := range 500 {
		p := fmt.Sprintf("/during%d", i)
		h.create(p, "")
		during = append(during, p)
	}
	close(release)
	waitFilterBuild(tr)
	f := tr.filter.Load()
	if f == old || f == nil {
		t.Fatal("the build did not install its filter")
	}
	for _, p := range during {
		if !f.mayHave(nodeKey(p)) {
			t.Fatalf("%s, committed during the build, is not in its filter", p)
		}
		if _, err := tr.Get(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
}

func checkNodes(t *testing.T, tr *Tree, live map[string]bool, gone []string) {
	t.Helper()
	for p := range live {
		if _, err := tr.Get(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	for _, p := range gone {
		if _, err := tr.Get(p); err == nil && !live[p] {
			t.Fatalf("deleted %s reads back", p)
		}
	}
}

// TestKeyFilterAnswersMissingKeys: the filter answers most lookups of
// missing keys itself (at 10 bits a key, about 1% reach Pebble; the bound
// is loose enough never to fail by chance), and none of a present key.
func TestKeyFilterAnswersMissingKeys(t *testing.T) {
	h := newHarness(t)
	for i := range 3000 {
		h.create(fmt.Sprintf("/k%d", i), "")
	}
	waitFilterBuild(h.tree)
	f := h.tree.filter.Load()
	maybe := 0
	for i := range 3000 {
		if !f.mayHave(nodeKey(fmt.Sprintf("/k%d", i))) {
			t.Fatalf("/k%d is hidden", i)
		}
		if f.mayHave(nodeKey(fmt.Sprintf("/missing%d", i))) {
			maybe++
		}
	}
	if maybe > 300 {
		t.Fatalf("%d of 3000 missing keys pass the filter", maybe)
	}
}

// TestKeyFilterStaysTightAsItGrows: a filter that grows by layers from its
// smallest size to 300,000 keys (a tree that only creates) keeps its
// false positives under 0.5% (0.1% expected): each added layer is denser,
// so the layers' false positives, which add up, stay near the first one's.
// The filter before this test, 10 bits a key in layers of one density,
// reached 5% here.
func TestKeyFilterStaysTightAsItGrows(t *testing.T) {
	f := newKeyFilter(0, filterMinKeys)
	for i := range 300_000 {
		f.add(map[string]write{fmt.Sprintf("/create-64/g%d-%d", i%64, i): {}})
	}
	const probes = 50_000
	hits := 0
	for i := range probes {
		if f.mayHave([]byte(fmt.Sprintf("/create-64/absent-%d", i))) {
			hits++
		}
	}
	layers := len(*f.layers.Load())
	if rate := float64(hits) / probes; rate >= 0.005 {
		t.Fatalf("%d layers: %.3f%% of absent keys pass the filter, want under 0.5%%", layers, 100*rate)
	}
	if layers < 4 {
		t.Fatalf("only %d layers: the test no longer grows the filter by layers", layers)
	}
}
