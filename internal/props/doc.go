// Package props reads files of properties with java.util.Properties'
// rules, as ZooKeeper 3.8 reads its zoo.cfg (QuorumPeerConfig), its dynamic
// configuration files, and a client's configuration file (ZKConfig):
//
//   - a key ends at the first unescaped '=', ':' or blank ("tickTime 2000"
//     and "clientPort:2181" are key and value);
//   - a line whose first non-blank character is '#' or '!' is a comment;
//   - a line ending in an odd number of backslashes goes on with the next
//     one, whose leading blanks are dropped;
//   - the escapes \t \n \r \f and \uXXXX stand for their characters, and
//     any other escaped character for itself; a malformed \uXXXX is an
//     error, as Properties.load throws IllegalArgumentException;
//   - lines end at "\n", "\r\n" or a lone "\r".
//
// As in a Properties map, a key given twice takes its last value.
// ZooKeeper trims keys and values when it reads them, and so does Read.
// Read takes the file as UTF-8 text, where Properties.load(InputStream)
// takes each byte as an ISO-8859-1 character: non-ASCII text means what
// the file says (a deliberate difference, in the README).
package props
