package znode

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/embedzk/zk/internal/zkerr"
)

// The nodes every tree starts with, as ZooKeeper's DataTree makes them. They
// cannot be deleted (IsBuiltin); otherwise they and the nodes below them obey
// their ACLs like any other: /zookeeper and /zookeeper/quota are open to all,
// /zookeeper/config is READ_ACL_UNSAFE.
const (
	RootPath   = "/"
	SystemPath = "/zookeeper"
	QuotaPath  = "/zookeeper/quota"
	ConfigPath = "/zookeeper/config"
)

// ValidatePath reports whether path is a valid znode path, by ZooKeeper's
// rules (PathUtils.validatePath): it starts with "/", does not end with "/"
// unless it is "/", has no empty, "." or ".." component, and contains no NUL,
// no control character (U+0001..U+001F, U+007F..U+009F) and nothing in
// U+D800..U+F8FF or U+FFF0..U+FFFF. Characters outside the Basic Multilingual
// Plane are rejected too, because Java sees them as surrogate pairs. The
// error wraps zkerr.ErrInvalidPath and names the reason.
func ValidatePath(path string) error {
	if reason := pathProblem(path); reason != "" {
		return fmt.Errorf("%w: %q: %s", zkerr.ErrInvalidPath, path, reason)
	}
	return nil
}

// ValidateCreatePath validates the path of a create request as ZooKeeper's
// PathUtils.validatePath(path, isSequential) does: a sequential create's path
// is checked as if its suffix were already there, so "/queue/" is a valid
// sequential path (it becomes "/queue/0000000007").
func ValidateCreatePath(path string, sequential bool) error {
	if sequential {
		if reason := pathProblem(path + "1"); reason != "" {
			return fmt.Errorf("%w: %q (sequential): %s", zkerr.ErrInvalidPath, path, reason)
		}
		return nil
	}
	return ValidatePath(path)
}

// pathProblem returns why path is invalid, or "" if it is valid.
func pathProblem(path string) string {
	switch {
	case path == "":
		return "path length must be > 0"
	case path[0] != '/':
		return "path must start with / character"
	case path == "/":
		return ""
	case path[len(path)-1] == '/':
		return "path must not end with / character"
	}
	for i := 1; i < len(path); {
		r, size := utf8.DecodeRuneInString(path[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Sprintf("invalid UTF-8 @%d", i)
		}
		if reason := charProblem(r); reason != "" {
			return fmt.Sprintf("%s @%d", reason, i)
		}
		if r == '/' && path[i-1] == '/' {
			return fmt.Sprintf("empty node name specified @%d", i)
		}
		i += size
	}
	if relative(path) {
		return "relative paths not allowed"
	}
	return ""
}

// relative reports whether a component of path (after its leading "/") is
// "." or "..", without allocating.
func relative(path string) bool {
	for rest := path[1:]; ; {
		c, after, more := strings.Cut(rest, "/")
		if c == "." || c == ".." {
			return true
		}
		if !more {
			return false
		}
		rest = after
	}
}

func charProblem(r rune) string {
	switch {
	case r == 0:
		return "null character not allowed"
	case r <= 0x1f, r >= 0x7f && r <= 0x9f,
		r >= 0xd800 && r <= 0xf8ff, r >= 0xfff0:
		return "invalid character"
	}
	return ""
}

// Parent returns the parent of a valid path: "/" for "/a", "/a" for "/a/b",
// and "" for "/".
func Parent(path string) string {
	if path == "/" || path == "" {
		return ""
	}
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// Base returns the last component of a valid path: "b" for "/a/b" and ""
// for "/".
func Base(path string) string {
	i := strings.LastIndexByte(path, '/')
	return path[i+1:]
}

// Join returns the path of the child name of parent.
func Join(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// IsBuiltin reports whether path is one of the four nodes every tree starts
// with (/, /zookeeper, /zookeeper/quota, /zookeeper/config): the nodes
// ZooKeeper refuses to delete (DataTree.isSpecialPath).
func IsBuiltin(path string) bool {
	switch path {
	case RootPath, SystemPath, QuotaPath, ConfigPath:
		return true
	}
	return false
}

// sequenceSuffix is the suffix ZooKeeper appends to a sequential node's
// name: the parent's cversion before the create, as "%010d". A cversion that
// has wrapped past MaxInt32 is negative and prints with its sign, still ten
// characters wide ("-000000001"), exactly as ZooKeeper's
// String.format("%010d") does.
func sequenceSuffix(parentCversion int32) string {
	return fmt.Sprintf("%010d", parentCversion)
}
