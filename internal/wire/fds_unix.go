//go:build unix

package wire

import (
	"os"
	"syscall"
)

// fileDescriptors returns the process's open file descriptors and its
// limit, as mntr's zk_open_file_descriptor_count and
// zk_max_file_descriptor_count report them on Unix; false where the
// process's descriptors cannot be listed.
func fileDescriptors() (open, limit int64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, false
	}
	dir := "/proc/self/fd"
	if _, err := os.Stat(dir); err != nil {
		dir = "/dev/fd" // the BSDs and macOS
	}
	f, err := os.Open(dir)
	if err != nil {
		return 0, 0, false
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return 0, 0, false
	}
	// The listing's own descriptor is in it, and closed now.
	return int64(len(names) - 1), int64(rl.Cur), true
}
