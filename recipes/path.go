package recipes

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/embedzk/zk"
)

// checkPath validates a recipe's path with ZooKeeper's rules (PathUtils):
// absolute, no empty, "." or ".." component, no trailing slash, no
// control or reserved characters. The root itself is refused: a recipe
// needs a node of its own.
func checkPath(what, path string) error {
	if reason := pathProblem(path); reason != "" {
		return fmt.Errorf("recipes: %s %q: %w: %s", what, path, zk.ErrInvalidPath, reason)
	}
	return nil
}

func pathProblem(path string) string {
	switch {
	case path == "":
		return "empty path"
	case path[0] != '/':
		return "path must start with /"
	case path == "/":
		return "a recipe cannot use the root node"
	case path[len(path)-1] == '/':
		return "path must not end with /"
	case !utf8.ValidString(path):
		return "invalid UTF-8"
	}
	for _, r := range path {
		if r == 0 || r <= 0x1f || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || r >= 0xfff0 {
			return fmt.Sprintf("invalid character %U", r)
		}
	}
	for _, part := range strings.Split(path[1:], "/") {
		switch part {
		case "":
			return "empty node name"
		case ".", "..":
			return "relative paths are not allowed"
		}
	}
	return ""
}

// parentPath returns the parent of a valid path ("/" for "/a").
func parentPath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}
