package znode

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// ZooKeeper keeps a quota's limits and its usage as the data of two nodes,
// in the text format of its StatsTrack class: "key=value" pairs separated by
// ',' or ';', where a missing key reads as -1 (no limit, or unknown). The
// keys are count and bytes (the soft limits, or the usage), countHardLimit
// and byteHardLimit. This file reads and writes that format byte for byte
// as ZooKeeper 3.8 does, so that zkCli and a ZooKeeper snapshot see the
// same strings.

// The StatsTrack keys.
const (
	trackCount     = "count"
	trackBytes     = "bytes"
	trackCountHard = "countHardLimit"
	trackBytesHard = "byteHardLimit"
)

// statsTrack is a parsed StatsTrack: every key found, unknown ones too (a
// later write keeps them, as ZooKeeper does).
type statsTrack map[string]int64

// parseStatsTrack parses StatsTrack text as ZooKeeper's StatsTrack(String)
// does: pairs split on runs of ',' and ';', each pair split on '=' with
// trailing empty parts dropped (Java's String.split); the first part is the
// key, the second the value, where an empty value is -1. Empty text has no
// keys. Where Java would throw (a pair without a value, a number that does
// not parse) the error wraps zkerr.ErrBadArguments.
func parseStatsTrack(b []byte) (statsTrack, error) {
	t := statsTrack{}
	s := string(b)
	if s == "" {
		return t, nil
	}
	// Runs of separators are one separator and trailing ones are dropped,
	// as with Java's split on "[,;]+".
	pairs := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
	if len(pairs) > 0 && (s[0] == ',' || s[0] == ';') {
		// Java's split keeps a leading empty part (unless every part is
		// empty), which has no '='.
		return nil, fmt.Errorf("%w: quota text %q: empty pair", zkerr.ErrBadArguments, s)
	}
	for _, p := range pairs {
		kv := dropTrailingEmpty(strings.Split(p, "="))
		if len(kv) < 2 {
			return nil, fmt.Errorf("%w: quota text %q: %q has no value", zkerr.ErrBadArguments, s, p)
		}
		v := int64(-1)
		if kv[1] != "" {
			n, err := strconv.ParseInt(kv[1], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: quota text %q: %q is not a number", zkerr.ErrBadArguments, s, kv[1])
			}
			v = n
		}
		t[kv[0]] = v
	}
	return t, nil
}

func dropTrailingEmpty(parts []string) []string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// get returns the value of key, -1 if it is missing.
func (t statsTrack) get(key string) int64 {
	if v, ok := t[key]; ok {
		return v
	}
	return -1
}

// encode writes t as ZooKeeper's StatsTrack.toString: count and bytes
// first (-1 if missing), then, if there are other keys, a spurious '=' (it
// keeps 3.4's parser from reading them) and each other key, sorted, as
// ";key=value". For example "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=10".
func (t statsTrack) encode() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%d,%s=%d", trackCount, t.get(trackCount), trackBytes, t.get(trackBytes))
	var keys []string
	for k := range t {
		if k != trackCount && k != trackBytes {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		b.WriteByte('=')
		for _, k := range keys {
			fmt.Fprintf(&b, ";%s=%d", k, t[k])
		}
	}
	return []byte(b.String())
}

// QuotaLimits are the limits of a quota as its zookeeper_limits node holds
// them. -1 means no limit.
type QuotaLimits struct {
	Count     int64 // soft limit on the number of nodes (zkCli setquota -n)
	Bytes     int64 // soft limit on the bytes of data (-b)
	CountHard int64 // hard limit on the number of nodes (-N)
	BytesHard int64 // hard limit on the bytes of data (-B)
}

// NoQuotaLimits has no limit at all.
var NoQuotaLimits = QuotaLimits{Count: -1, Bytes: -1, CountHard: -1, BytesHard: -1}

// QuotaUsage is what a quota's zookeeper_stats node counts: the nodes of
// the subtree (its root included) and the bytes of their data.
type QuotaUsage struct {
	Count int64 // nodes in the subtree, its root included
	Bytes int64 // bytes of their data
}

func limitsOf(t statsTrack) QuotaLimits {
	return QuotaLimits{
		Count: t.get(trackCount), Bytes: t.get(trackBytes),
		CountHard: t.get(trackCountHard), BytesHard: t.get(trackBytesHard),
	}
}

// track returns l as a StatsTrack with all four keys, as zkCli's setquota
// writes a new limits node.
func (l QuotaLimits) track() statsTrack {
	return statsTrack{trackCount: l.Count, trackBytes: l.Bytes, trackCountHard: l.CountHard, trackBytesHard: l.BytesHard}
}

// EncodeQuotaLimits returns l in ZooKeeper's text format, with all four
// keys ("count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10").
func EncodeQuotaLimits(l QuotaLimits) []byte { return l.track().encode() }

// ParseQuotaLimits parses the data of a zookeeper_limits node. A key that
// is missing reads as -1. Malformed text is an error wrapping
// zkerr.ErrBadArguments.
func ParseQuotaLimits(b []byte) (QuotaLimits, error) {
	t, err := parseStatsTrack(b)
	if err != nil {
		return QuotaLimits{}, err
	}
	return limitsOf(t), nil
}

// ParseQuotaUsage parses the data of a zookeeper_stats node; a missing key
// reads as -1.
func ParseQuotaUsage(b []byte) (QuotaUsage, error) {
	t, err := parseStatsTrack(b)
	if err != nil {
		return QuotaUsage{}, err
	}
	return QuotaUsage{Count: t.get(trackCount), Bytes: t.get(trackBytes)}, nil
}

// encodeUsage writes u as zkCli and ZooKeeper's server write a stats node:
// "count=N,bytes=M".
func encodeUsage(u QuotaUsage) []byte {
	return statsTrack{trackCount: u.Count, trackBytes: u.Bytes}.encode()
}

// validate checks limits a SetQuota txn sets, with zkCli's rules: a count
// limit is > 0, a byte limit >= 0, and -1 leaves a limit as it is; at least
// one limit is set.
func (l QuotaLimits) validate() error {
	set := false
	for _, f := range []struct {
		name string
		v    int64
		min  int64
	}{{"count", l.Count, 1}, {"bytes", l.Bytes, 0}, {"countHard", l.CountHard, 1}, {"bytesHard", l.BytesHard, 0}} {
		switch {
		case f.v == -1:
		case f.v < f.min:
			return fmt.Errorf("%w: quota %s limit %d must be at least %d", zkerr.ErrBadArguments, f.name, f.v, f.min)
		default:
			set = true
		}
	}
	if !set {
		return fmt.Errorf("%w: quota sets no limit", zkerr.ErrBadArguments)
	}
	return nil
}
