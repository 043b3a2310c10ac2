package egress

import (
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDenyListDocumented keeps the table in doc.go and denyList in step:
// same ranges, same order, same "always" marks.
func TestDenyListDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`^//\t([0-9a-f:.]+/\d+)\s.*?(always)?$`)
	type docRow struct {
		prefix string
		always bool
	}
	var rows []docRow
	for line := range strings.Lines(string(src)) {
		if m := row.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			rows = append(rows, docRow{m[1], m[2] != ""})
		}
	}
	if len(rows) != len(denyList) {
		t.Fatalf("doc.go lists %d ranges, denyList has %d", len(rows), len(denyList))
	}
	for i, r := range denyList {
		p, err := netip.ParsePrefix(rows[i].prefix)
		if err != nil || p != r.prefix || rows[i].always != r.always {
			t.Errorf("row %d: doc.go has %v, denyList has %s always=%v", i, rows[i], r.prefix, r.always)
		}
	}
}

// TestDenyListOrder checks no rule is hidden behind an earlier, wider
// one (the first match gives the reason).
func TestDenyListOrder(t *testing.T) {
	for i, r := range denyList {
		for _, earlier := range denyList[:i] {
			if earlier.prefix.Bits() <= r.prefix.Bits() && earlier.prefix.Contains(r.prefix.Addr()) {
				t.Errorf("%s is shadowed by earlier %s", r.prefix, earlier.prefix)
			}
		}
	}
}
