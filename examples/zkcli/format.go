package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// printStat prints a Stat as zkCli's StatPrinter does.
func printStat(w io.Writer, st zk.Stat, loc *time.Location) {
	fmt.Fprintf(w, "cZxid = 0x%s\n", hexLong(st.Czxid))
	fmt.Fprintf(w, "ctime = %s\n", javaDate(st.Ctime, loc))
	fmt.Fprintf(w, "mZxid = 0x%s\n", hexLong(st.Mzxid))
	fmt.Fprintf(w, "mtime = %s\n", javaDate(st.Mtime, loc))
	fmt.Fprintf(w, "pZxid = 0x%s\n", hexLong(st.Pzxid))
	fmt.Fprintf(w, "cversion = %d\n", st.Cversion)
	fmt.Fprintf(w, "dataVersion = %d\n", st.Version)
	fmt.Fprintf(w, "aclVersion = %d\n", st.Aversion)
	fmt.Fprintf(w, "ephemeralOwner = 0x%s\n", hexLong(st.EphemeralOwner))
	fmt.Fprintf(w, "dataLength = %d\n", st.DataLength)
	fmt.Fprintf(w, "numChildren = %d\n", st.NumChildren)
}

// hexLong is Java's Long.toHexString: two's complement, no leading zeros.
func hexLong(v int64) string { return strconv.FormatUint(uint64(v), 16) }

// javaDate formats milliseconds since the epoch as Java's Date.toString
// does ("Thu Jan 01 00:00:00 UTC 1970") in loc, the JVM's default zone.
func javaDate(ms int64, loc *time.Location) string {
	t := time.UnixMilli(ms).In(loc)
	zone, offset := t.Zone()
	if zone == "" || zone[0] == '+' || zone[0] == '-' {
		// No abbreviation: Java writes the offset as GMT+hh:mm.
		sign := '+'
		if offset < 0 {
			sign, offset = '-', -offset
		}
		zone = fmt.Sprintf("GMT%c%02d:%02d", sign, offset/3600, offset/60%60)
	}
	return t.Format("Mon Jan 02 15:04:05 ") + zone + " " + strconv.Itoa(t.Year())
}

// aclLine formats one ACL entry as zkCli's getAcl prints it: the Id record
// as jute's toString writes it (which ends with a newline), then the
// permissions.
func aclLine(a zk.ACL) string {
	return "'" + juteEscape(a.Scheme) + ",'" + juteEscape(a.ID) + "\n: " + a.Perms.Letters()
}

// juteEscape escapes a string as jute's ToStringOutputArchive does.
func juteEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "\x00", "%00", "\n", "%0A", "\r", "%0D", ",", "%2C", "}", "%7D")
	return r.Replace(s)
}

// eventText is WatchedEvent.toString.
func eventText(e Event) string {
	path := e.Path
	if path == "" {
		path = "null"
	}
	return "WatchedEvent state:" + e.State + " type:" + e.Type + " path:" + path
}

// javaList formats strings as Java's List.toString.
func javaList(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// printUsage prints zkCli's usage: its flags, then every command and its
// options, sorted.
func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ZooKeeper -server host:port -client-configuration properties-file cmd args")
	for _, name := range commandNames() {
		fmt.Fprintf(w, "\t%s %s\n", name, commandUsage(name))
	}
}
