package engine

import (
	"testing"

	"github.com/embedzk/zk/znode"
)

func TestTreeOptionsCarryTheMemoryFields(t *testing.T) {
	c := Config{DataDir: "/d", TreeCacheSize: 1 << 20, TreeMemTableSize: 1 << 20, TreeValueCacheSize: -1}
	if err := c.Validate(); err != nil {
		t.Fatalf("valid memory sizes rejected: %v", err)
	}
	o := c.withDefaults().treeOptions()
	if o.CacheSize != 1<<20 || o.MemTableSize != 1<<20 || o.ValueCacheSize != -1 || o.Dir != "/d/tree" {
		t.Fatalf("tree options: %+v", o)
	}
	// Zero leaves znode's defaults to znode.
	o = Config{DataDir: "/d"}.withDefaults().treeOptions()
	if o.CacheSize != 0 || o.MemTableSize != 0 || o.ValueCacheSize != 0 {
		t.Fatalf("zero sizes must stay zero for znode's defaults: %+v", o)
	}
	if znode.DefaultMemTableSize < minTreeMemTableSize {
		t.Fatalf("znode's default memtable %d is below the smallest accepted %d", znode.DefaultMemTableSize, minTreeMemTableSize)
	}
}
