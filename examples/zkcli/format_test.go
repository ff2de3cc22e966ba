package main

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zone below, whatever the machine has

	"github.com/embedzk/zk"
)

// TestJavaDate holds Date.toString's format in zones with and without an
// abbreviation (Java writes GMT+hh:mm where Go has none).
func TestJavaDate(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ms   int64
		loc  *time.Location
		want string
	}{
		{0, time.UTC, "Thu Jan 01 00:00:00 UTC 1970"},
		{1684495369000, shanghai, "Fri May 19 19:22:49 CST 2023"}, // the seeds' ctime
		{1684495369000, time.FixedZone("", 5*3600+30*60), "Fri May 19 16:52:49 GMT+05:30 2023"},
		{1684495369000, time.FixedZone("", -3*3600), "Fri May 19 08:22:49 GMT-03:00 2023"},
	} {
		if got := javaDate(c.ms, c.loc); got != c.want {
			t.Errorf("javaDate(%d, %v) = %q, want %q", c.ms, c.loc, got, c.want)
		}
	}
}

func TestStatFormat(t *testing.T) {
	var sb strings.Builder
	printStat(&sb, zk.Stat{Czxid: 0x1a, Mzxid: -1, Pzxid: 0, Ctime: 0, Mtime: 0, Version: 2, Cversion: -1,
		Aversion: 3, EphemeralOwner: 0x100000001, DataLength: 5, NumChildren: 7}, time.UTC)
	want := `cZxid = 0x1a
ctime = Thu Jan 01 00:00:00 UTC 1970
mZxid = 0xffffffffffffffff
mtime = Thu Jan 01 00:00:00 UTC 1970
pZxid = 0x0
cversion = -1
dataVersion = 2
aclVersion = 3
ephemeralOwner = 0x100000001
dataLength = 5
numChildren = 7
`
	if sb.String() != want {
		t.Errorf("stat:\n%s\nwant:\n%s", sb.String(), want)
	}
}

func TestACLFormat(t *testing.T) {
	for _, c := range []struct {
		acl  zk.ACL
		want string
	}{
		{zk.ACL{Scheme: "world", ID: "anyone", Perms: zk.PermAll}, "'world,'anyone\n: cdrwa"},
		{zk.ACL{Scheme: "digest", ID: "bob:x", Perms: zk.PermRead}, "'digest,'bob:x\n: r"},
		{zk.ACL{Scheme: "ip", ID: "10.0.0.0/8", Perms: zk.PermWrite | zk.PermAdmin}, "'ip,'10.0.0.0/8\n: wa"},
		{zk.ACL{Scheme: "x", ID: "a,b}c%d\ne", Perms: 0}, "'x,'a%2Cb%7Dc%25d%0Ae\n: "},
	} {
		if got := aclLine(c.acl); got != c.want {
			t.Errorf("aclLine(%+v) = %q, want %q", c.acl, got, c.want)
		}
	}
}

func TestPathMessages(t *testing.T) {
	for _, c := range []struct {
		path, want string
	}{
		{"/", ""}, {"/a/b", ""}, {"/a.b/..c", ""},
		{"", "Path length must be > 0"},
		{"a", "Path must start with / character"},
		{"/a/", "Path must not end with / character"},
		{"/a//b", `Invalid path string "/a//b" caused by empty node name specified @3`},
		{"/a/./b", `Invalid path string "/a/./b" caused by relative paths not allowed @3`},
		{"/a/..", `Invalid path string "/a/.." caused by relative paths not allowed @4`},
		{"/a\x00", `Invalid path string "/a` + "\x00" + `" caused by null character not allowed @2`},
		{"/a\tb", `Invalid path string "/a` + "\t" + `b" caused by invalid character @2`},
		{"/\U0001F600", `Invalid path string "/` + "\U0001F600" + `" caused by invalid character @1`},
		{"/é\ufff5", `Invalid path string "/é` + "\ufff5" + `" caused by invalid character @2`},
	} {
		got := ""
		if err := validatePath(c.path); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("validatePath(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	if err := validateSeqPath("/dir/", true); err != nil {
		t.Errorf("a sequential child of /dir: %v", err)
	}
}

func TestEventOrder(t *testing.T) {
	got := orderEvents([]Event{
		{Type: "PersistentWatchRemoved", Path: "/a"},
		{Type: "NodeDeleted", Path: "/a", Zxid: 7},
		{Type: "DataWatchRemoved", Path: "/a"},
		{Type: "NodeDataChanged", Path: "/a", Zxid: 5},
		{Type: "NodeDeleted", Path: "/a", Zxid: 7},
		{Type: "ChildWatchRemoved", Path: "/a"},
		{Type: "NodeChildrenChanged", Path: "/", Zxid: 9},
		{Type: "NodeCreated", Path: "/b", Zxid: 9},
	})
	var types []string
	for _, e := range got {
		types = append(types, e.Type)
	}
	want := "NodeDataChanged NodeDeleted NodeCreated NodeChildrenChanged " +
		"DataWatchRemoved ChildWatchRemoved PersistentWatchRemoved"
	if strings.Join(types, " ") != want {
		t.Errorf("order %v, want %s", types, want)
	}
}
