package lincheck

import (
	"testing"
	"time"
)

func TestLegalHistory(t *testing.T) {
	ops := []Op{
		{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 10},
		{Client: 1, Kind: Read, Path: "/a", Call: 5, Return: 6, Err: NoNode}, // concurrent with the create
		{Client: 1, Kind: Set, Path: "/a", Data: "y", Version: 0, Call: 11, Return: 12, NewVersion: 1},
		{Client: 0, Kind: Read, Path: "/a", Call: 13, Return: 14, Exists: true, ReadData: "y", NewVersion: 1},
		{Client: 0, Kind: Set, Path: "/a", Data: "z", Version: 0, Call: 15, Return: 16, Err: BadVersion},
		{Client: 2, Kind: Create, Path: "/b", Data: "b", Call: 0, Return: 1},
		{Client: 2, Kind: Delete, Path: "/b", Version: -1, Call: 2, Return: 3},
		{Client: 2, Kind: Delete, Path: "/b", Version: -1, Call: 4, Return: 5, Err: NoNode},
	}
	if r := Check(ops, 10*time.Second); !r.Ok {
		t.Fatalf("a legal history was rejected: %+v", r)
	}
}

func TestIllegalHistories(t *testing.T) {
	cases := map[string][]Op{
		"stale read after a completed write": {
			{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 1},
			{Client: 0, Kind: Set, Path: "/a", Data: "y", Version: -1, Call: 2, Return: 3, NewVersion: 1},
			{Client: 1, Kind: Read, Path: "/a", Call: 4, Return: 5, Exists: true, ReadData: "x"},
		},
		"lost acknowledged create": {
			{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 1},
			{Client: 1, Kind: Read, Path: "/a", Call: 2, Return: 3, Err: NoNode},
		},
		"two creates both succeed": {
			{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 5},
			{Client: 1, Kind: Create, Path: "/a", Data: "y", Call: 0, Return: 5},
		},
		"wrong version after set": {
			{Client: 0, Kind: Create, Path: "/a", Call: 0, Return: 1},
			{Client: 0, Kind: Set, Path: "/a", Version: 0, Call: 2, Return: 3, NewVersion: 2},
		},
	}
	for name, ops := range cases {
		if r := Check(ops, 10*time.Second); r.Ok || r.TimedOut {
			t.Errorf("%s: accepted: %+v", name, r)
		}
	}
}

func TestVersionCheck(t *testing.T) {
	ok := []Op{
		{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 1},
		{Client: 0, Kind: VersionCheck, Path: "/a", Version: 0, Call: 2, Return: 3},
		{Client: 0, Kind: VersionCheck, Path: "/a", Version: -1, Call: 4, Return: 5},
		{Client: 0, Kind: VersionCheck, Path: "/a", Version: 3, Call: 6, Return: 7, Err: BadVersion},
		{Client: 0, Kind: VersionCheck, Path: "/b", Version: -1, Call: 8, Return: 9, Err: NoNode},
	}
	if r := Check(ok, 10*time.Second); !r.Ok {
		t.Fatalf("legal checks rejected: %+v", r)
	}
	bad := []Op{
		{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 1},
		{Client: 1, Kind: VersionCheck, Path: "/a", Version: 1, Call: 2, Return: 3},
	}
	if r := Check(bad, 10*time.Second); r.Ok {
		t.Fatal("a check of a version the node never had was accepted")
	}
}

func TestExplain(t *testing.T) {
	ops := []Op{
		{Client: 0, Kind: Create, Path: "/a", Data: "x", Call: 0, Return: 1},
		{Client: 1, Kind: Read, Path: "/a", Call: 2, Return: 3, Exists: true, ReadData: "x"},
		{Client: 0, Kind: Set, Path: "/a", Data: "y", Version: -1, Call: 4, Return: 5, NewVersion: 1},
		{Client: 1, Kind: Read, Path: "/a", Call: 6, Return: 7, Exists: true, ReadData: "x"}, // stale
		{Client: 0, Kind: Delete, Path: "/a", Version: -1, Call: 8, Return: 9},
	}
	p := Explain(ops, 10*time.Second)
	if len(p) != 4 || p[3].Call != 6 {
		t.Fatalf("Explain should end at the stale read: %+v", p)
	}
	if Explain(ops[:3], 10*time.Second) != nil {
		t.Fatal("Explain of a legal history")
	}
}
