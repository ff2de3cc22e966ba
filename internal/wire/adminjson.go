package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// jobj is a JSON object whose fields keep their order, as the
// LinkedHashMaps of ZooKeeper's AdminServer keep theirs.
type jobj []jfield

type jfield struct {
	key   string
	value any
}

// put sets key to value: in place when the key is there, else at the end.
func (o *jobj) put(key string, value any) {
	for i := range *o {
		if (*o)[i].key == key {
			(*o)[i].value = value
			return
		}
	}
	*o = append(*o, jfield{key, value})
}

// has reports whether key is there.
func (o jobj) has(key string) bool {
	for _, f := range o {
		if f.key == key {
			return true
		}
	}
	return false
}

// appendJSON appends v as ZooKeeper's AdminServer writes its answers
// (Jackson's default pretty printer): an object's fields one a line,
// indented by two spaces a level, as "key" : value; an array on one line
// as [ a, b ], an object in it indented as its holder's fields; empty ones
// as { } and [ ]. v is nil, a bool, an integer, a
// float64 (written as Java writes a double), a string, a jobj, or a slice
// of strings, int64s or jobjs.
func appendJSON(b []byte, v any, level int) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return appendJSONString(b, javaDouble(v)) // as Jackson quotes them
		}
		return append(b, javaDouble(v)...)
	case string:
		return appendJSONString(b, v)
	case jobj:
		return appendJSONObj(b, v, level)
	case []string:
		return appendJSONArray(b, len(v), func(b []byte, i int) []byte { return appendJSONString(b, v[i]) })
	case []int64:
		return appendJSONArray(b, len(v), func(b []byte, i int) []byte { return strconv.AppendInt(b, v[i], 10) })
	case []jobj:
		return appendJSONArray(b, len(v), func(b []byte, i int) []byte { return appendJSONObj(b, v[i], level) })
	}
	panic("wire: no JSON form for this value") // a programming error: every caller passes the types above
}

func appendJSONObj(b []byte, o jobj, level int) []byte {
	if len(o) == 0 {
		return append(b, "{ }"...)
	}
	b = append(b, '{')
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, strings.Repeat("  ", level+1)...)
		b = appendJSONString(b, f.key)
		b = append(b, " : "...)
		b = appendJSON(b, f.value, level+1)
	}
	b = append(b, '\n')
	b = append(b, strings.Repeat("  ", level)...)
	return append(b, '}')
}

func appendJSONArray(b []byte, n int, elem func(b []byte, i int) []byte) []byte {
	if n == 0 {
		return append(b, "[ ]"...)
	}
	b = append(b, "[ "...)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = elem(b, i)
	}
	return append(b, " ]"...)
}

// appendJSONString appends s quoted, with encoding/json's escapes but
// not its HTML ones (Jackson writes <, > and & as they are).
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
