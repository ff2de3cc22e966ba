package main

import (
	"strconv"
	"unicode/utf16"
)

// validatePath checks a znode path as ZooKeeper's client does before
// sending a request (PathUtils.validatePath), with its messages: zkCli
// prints them as they are. Indexes count UTF-16 code units, as Java's do.
func validatePath(path string) error {
	if path == "" {
		return cliErr("Path length must be > 0")
	}
	if path[0] != '/' {
		return cliErr("Path must start with / character")
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return cliErr("Path must not end with / character")
	}
	if reason := pathFault(utf16.Encode([]rune(path))); reason != "" {
		return cliErr("Invalid path string \"" + path + "\" caused by " + reason)
	}
	return nil
}

// validateSeqPath is validatePath(path, true): a sequential node's path is
// checked with a digit appended, so "/dir/" names a child of /dir.
func validateSeqPath(path string, sequential bool) error {
	if sequential {
		return validatePath(path + "1")
	}
	return validatePath(path)
}

// pathFault returns why the UTF-16 path is invalid, or "".
func pathFault(chars []uint16) string {
	last := uint16('/')
	for i := 1; i < len(chars); i++ {
		c := chars[i]
		at := " @" + strconv.Itoa(i)
		switch {
		case c == 0:
			return "null character not allowed" + at
		case c == '/' && last == '/':
			return "empty node name specified" + at
		case c == '.' && last == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				return "relative paths not allowed" + at
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				return "relative paths not allowed" + at
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			return "invalid character" + at
		}
		last = c
	}
	return ""
}
