package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/znode"
)

// TestReaperIntervalAndRate states ContainerManager's pacing with
// Config.ContainerCheckInterval and ContainerMaxPerMinute: nothing is
// reaped before the first check, then the deletes go out at the rate, one
// at once and one per minute/maxPerMinute after it.
func TestReaperIntervalAndRate(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1) // TickTime 100ms
	cfg.ContainerCheckInterval = time.Second
	cfg.ContainerMaxPerMinute = 1200 // one per 50ms: two per TickTime
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	s := newSession(t, e)
	for i := range 10 {
		p := fmt.Sprintf("/c%d", i)
		mustCreate(t, s, p, "", WithMode(ModeContainer))
		mustCreate(t, s, p+"/kid", "")
		if err := s.Delete(ctx, p+"/kid", -1); err != nil {
			t.Fatal(err)
		}
	}
	left := func() int {
		if err := s.Sync(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		kids, _, err := s.Children(ctx, "/")
		if err != nil {
			t.Fatal(err)
		}
		return len(kids) - 1 // /zookeeper
	}
	// Session ticks 1..9: no check yet. Tick 10 (1s): one delete at once,
	// then two per TickTime.
	want := []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 9, 7, 5, 3, 1, 0, 0}
	for i, w := range want {
		ticks(t, e, TicksPerTickTime)
		if got := left(); got != w {
			t.Fatalf("after %d TickTimes: %d containers left, want %d", i+1, got, w)
		}
	}
}

// TestReaperZooCfgKeys reads ZooKeeper's reaper properties from zoo.cfg and
// refuses bad values, naming the key.
func TestReaperZooCfgKeys(t *testing.T) {
	cfg, ignored, err := ParseZooCfg(strings.NewReader(
		"dataDir=/d\nznode.container.checkIntervalMs=2500\nznode.container.maxPerMinute=60\nznode.container.maxNeverUsedIntervalMs=5\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ContainerCheckInterval != 2500*time.Millisecond || cfg.ContainerMaxPerMinute != 60 {
		t.Fatalf("parsed %v %d", cfg.ContainerCheckInterval, cfg.ContainerMaxPerMinute)
	}
	if len(ignored) != 1 || ignored[0] != "znode.container.maxNeverUsedIntervalMs" {
		t.Fatalf("ignored %v", ignored)
	}
	for _, bad := range []string{"znode.container.checkIntervalMs=0", "znode.container.checkIntervalMs=x",
		"znode.container.maxPerMinute=-1", "znode.container.maxPerMinute=99999999999"} {
		_, _, err := ParseZooCfg(strings.NewReader(bad+"\n"), nil)
		key, _, _ := strings.Cut(bad, "=")
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	def := Config{DataDir: "/d"}.withDefaults()
	if def.ContainerCheckInterval != time.Minute || def.ContainerMaxPerMinute != 10000 {
		t.Fatalf("defaults %v %d, want ZooKeeper's 1m and 10000", def.ContainerCheckInterval, def.ContainerMaxPerMinute)
	}
	for _, c := range []Config{{DataDir: "/d", ContainerCheckInterval: -time.Second}, {DataDir: "/d", ContainerMaxPerMinute: -1}} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}

// TestSequentialContainerReaped: a sequential container (what ZooKeeper
// makes of a createContainer request with a sequential flag; the client
// port's, not the API's, whose modes are ZooKeeper's CreateMode) takes its
// parent's sequence suffix, and is reaped like any container once it had a
// child and has none.
func TestSequentialContainerReaped(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 1)
	cfg.ContainerCheckInterval = time.Second
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/p", "")
	if _, err := s.Create(ctx, "/p/c-", nil, WithMode(znode.ModeContainerSequential)); !errors.Is(err, ErrBadArguments) {
		t.Fatalf("the API's create of a sequential container: %v, want ErrBadArguments", err)
	}
	res, err := RemoteSession{Session: s}.StartCreateAs(ctx, "/p/c-", nil, znode.ModeContainerSequential, ModePersistentSequential, OpenACLUnsafe(), 0).Wait(ctx)
	p := res.Path
	if err != nil || p != "/p/c-0000000000" {
		t.Fatalf("create: %q, %v; want /p/c-0000000000", p, err)
	}
	mustCreate(t, s, p+"/kid", "")
	if err := s.Delete(ctx, p+"/kid", -1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		ticks(t, e, TicksPerTickTime)
		if err := s.Sync(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := s.Exists(ctx, p); err != nil || !ok {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s was not reaped", p)
}
