package engine

import "github.com/embedzk/zk/znode"

// validateMemory checks the memory fields of c.
func (c Config) validateMemory() error {
	switch {
	case c.TreeCacheSize < 0:
		return configErr("TreeCacheSize", "%d is negative", c.TreeCacheSize)
	case c.TreeMemTableSize < 0:
		return configErr("TreeMemTableSize", "%d is negative", c.TreeMemTableSize)
	case c.TreeMemTableSize > 0 && c.TreeMemTableSize < minTreeMemTableSize:
		return configErr("TreeMemTableSize", "%d is below %d", c.TreeMemTableSize, minTreeMemTableSize)
	}
	return nil
}

// minTreeMemTableSize is the smallest memtable accepted: below it, Pebble
// would flush a table for every few writes.
const minTreeMemTableSize = 256 << 10

// treeOptions are the options this peer's tree opens with.
func (c Config) treeOptions() znode.Options {
	return znode.Options{
		FS: c.FS, Dir: c.DataDir + "/tree", MaxDataSize: MaxJuteMaxBuffer, Logger: c.Logger,
		EnforceQuota:   c.EnforceQuota,
		NoDigestACL:    c.NoDigestAuth,
		CacheSize:      c.TreeCacheSize,
		MemTableSize:   uint64(c.TreeMemTableSize),
		ValueCacheSize: c.TreeValueCacheSize,
	}
}
