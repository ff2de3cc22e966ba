package znode

import (
	"errors"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

func TestValidatePath(t *testing.T) {
	valid := []string{
		"/", "/a", "/a/b", "/a.b", "/...", "/a/.b", "/a/b.", "/a/..b", "/zookeeper",
		"/héllo", "/日本", "/a b", "/\u00a0", "/\ufeff", "/\uffef",
	}
	invalid := []string{
		"", "a", "a/b", "/a/", "//", "/a//b", "/.", "/..", "/a/.", "/a/..", "/./a", "/../a",
		"/a\x00b", "/\x01", "/a\x1f", "/\x7f", "/\u0080", "/\u009f", "/\ue000", "/\uf8ff",
		"/\ufff0", "/\uffff", "/\U0001F600", "/\xff", "/a\xc3",
	}
	for _, p := range valid {
		if err := ValidatePath(p); err != nil {
			t.Errorf("ValidatePath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range invalid {
		if err := ValidatePath(p); !errors.Is(err, zkerr.ErrInvalidPath) {
			t.Errorf("ValidatePath(%q) = %v, want ErrInvalidPath", p, err)
		}
	}
}

func TestValidateCreatePath(t *testing.T) {
	for _, c := range []struct {
		path string
		seq  bool
		ok   bool
	}{
		{"/queue/", true, true},
		{"/queue/", false, false},
		{"/", true, true},
		{"/a/.", true, true}, // becomes "/a/.1"
		{"/a//", true, false},
		{"/a/x", false, true},
	} {
		err := ValidateCreatePath(c.path, c.seq)
		if (err == nil) != c.ok {
			t.Errorf("ValidateCreatePath(%q, %v) = %v", c.path, c.seq, err)
		}
	}
}

func TestParentBaseJoin(t *testing.T) {
	for _, c := range []struct{ path, parent, base string }{
		{"/", "", ""},
		{"/a", "/", "a"},
		{"/a/b", "/a", "b"},
		{"/a/b/c", "/a/b", "c"},
	} {
		if got := Parent(c.path); got != c.parent {
			t.Errorf("Parent(%q) = %q, want %q", c.path, got, c.parent)
		}
		if got := Base(c.path); got != c.base {
			t.Errorf("Base(%q) = %q, want %q", c.path, got, c.base)
		}
		if c.path != "/" {
			if got := Join(c.parent, c.base); got != c.path {
				t.Errorf("Join(%q, %q) = %q", c.parent, c.base, got)
			}
		}
	}
	for p, want := range map[string]bool{"/": true, "/zookeeper": true, "/zookeeper/quota": true, "/zookeeper/config": true,
		"/zookeeper/a": false, "/zookeeper/quota/a": false, "/zookeeperx": false, "/a/zookeeper": false} {
		if IsBuiltin(p) != want {
			t.Errorf("IsBuiltin(%q) != %v", p, want)
		}
	}
}

// A valid path is checked without allocating: every request validates its
// path (issue 15's profile: strings.Split was ~0.6 µs of a get).
func TestValidatePathDoesNotAllocate(t *testing.T) {
	for _, p := range []string{"/", "/a", "/zookeeper/quota", "/p/n0000000001", "/a/.b/..c/d."} {
		if n := testing.AllocsPerRun(100, func() { _ = ValidatePath(p) }); n != 0 {
			t.Errorf("ValidatePath(%q): %v allocations, want 0", p, n)
		}
	}
}
