//go:build race

package engine

// worstCaseLimit is the limit the worst-case request tests run at. The
// race detector makes a multi of a hundred thousand ops take minutes, so
// under it they run at 128 KiB: the same shapes and code paths (the
// entry's size is linear in the request's); without it, at
// MaxJuteMaxBuffer, the largest limit zk accepts.
const worstCaseLimit = 128 << 10
