package wire

import (
	"encoding/json"
	"testing"
)

// TestAdminJSONLayout writes the shapes ZooKeeper's AdminServer answers
// with as its Jackson printer lays them out.
func TestAdminJSONLayout(t *testing.T) {
	v := jobj{
		{"a", int64(1)}, {"b", 0.25}, {"c", "x<y>&\"z\""}, {"d", nil}, {"e", true},
		{"f", []string{}}, {"g", jobj{}}, {"h", []int64{1, 2}},
		{"i", jobj{{"j", []jobj{{{"k", 1}}}}}},
	}
	want := `{
  "a" : 1,
  "b" : 0.25,
  "c" : "x<y>&\"z\"",
  "d" : null,
  "e" : true,
  "f" : [ ],
  "g" : { },
  "h" : [ 1, 2 ],
  "i" : {
    "j" : [ {
      "k" : 1
    } ]
  }
}`
	if got := string(appendJSON(nil, v, 0)); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// FuzzAdminJSONString: any string, valid UTF-8 or not, is written as a
// JSON string that reads back as encoding/json reads it.
func FuzzAdminJSONString(f *testing.F) {
	for _, s := range []string{"", "a", "\x00", "\xff\xfe", "<&>", "\u2028", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSON(nil, jobj{{s, s}, {"list", []string{s, s}}}, 0)
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%q: %v in %s", s, err, out)
		}
		var want string // each invalid byte becomes U+FFFD, as encoding/json writes it
		std, _ := json.Marshal(s)
		json.Unmarshal(std, &want)
		if m[want] != want {
			t.Fatalf("%q read back as %v", s, m)
		}
	})
}
