package varmap

import (
	"regexp"
	"testing"
)

// FuzzTable adds fuzzed keys (plain and hostnames) and looks fuzzed
// client values up: nothing panics, a value found is one that was added,
// and an exact key is always found again in any case.
func FuzzTable(f *testing.F) {
	f.Add(".example.com", "A.EXAMPLE.com", true)
	f.Add("www.example.*", "www.example.org", true)
	f.Add("*.b.c", "a.b.c", true)
	f.Add("", "", false)
	f.Add("key", "KEY\x00", false)
	f.Fuzz(func(t *testing.T, key, value string, wild bool) {
		tb := NewTable()
		added := tb.Add(key, 0, wild) == nil
		tb.AddRegex(regexp.MustCompile(`^(a)(b)?`), 1)
		m, _ := tb.Find([]byte(value), nil)
		if m.Value != -1 && m.Value != 1 && !(added && m.Value == 0) {
			t.Fatalf("value %d for %q", m.Value, value)
		}
		if m.Regexp != nil && len(m.Index) != 6 {
			t.Fatalf("index %v", m.Index)
		}
		if added && !wild {
			if m, _ := tb.Find([]byte(key), nil); m.Value != 0 {
				t.Fatalf("key %q not found again: %d", key, m.Value)
			}
		}
	})
}
