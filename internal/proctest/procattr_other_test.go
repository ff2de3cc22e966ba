//go:build unix && !linux

package proctest

import "syscall"

// childAttr: without Pdeathsig, a peer process notices the test process's
// death when its stdin ends (unless it is SIGSTOPped at that moment).
func childAttr() *syscall.SysProcAttr { return nil }
