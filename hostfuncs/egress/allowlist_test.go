package egress_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

func TestValidateEntry(t *testing.T) {
	valid := []string{
		"203.0.113.7",
		"203.0.113.7:5432",
		"203.0.113.0/24",
		"203.0.113.0/24:5432",
		"2001:db8::1",
		"[2001:db8::1]:5432",
		"2001:db8::/32",
		"[2001:db8::/32]:5432",
		"::ffff:203.0.113.7",
		"::ffff:203.0.113.0/120",
		"db.example.com",
		"DB.Example.COM.",
		"db.example.com:5432",
		"*.example.com",
		"*.example.com:27017",
		"my_db-1.internal",
		"localhost",
		" db.example.com ",
		"0.0.0.0/0",
	}
	for _, s := range valid {
		t.Run("valid "+s, func(t *testing.T) {
			if err := egress.ValidateEntry(s); err != nil {
				t.Fatalf("ValidateEntry(%q) = %v, want nil", s, err)
			}
		})
	}

	invalid := []struct{ entry, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"203.0.113.7/24", "did you mean 203.0.113.0/24"},
		{"203.0.113.0/33", "not a valid network"},
		{"300.1.2.3", "not a valid IP address"},
		{"10.1", "not a valid IP address"},
		{"db.example.com:", "missing port"},
		{"db.example.com:0", "port \"0\""},
		{"db.example.com:65536", "port \"65536\""},
		{"db.example.com:pg", "port \"pg\""},
		{"[2001:db8::1]5432", "after ']'"},
		{"[2001:db8::1", "missing ']'"},
		{"[203.0.113.7]:5432", "only for IPv6"},
		{"2001:db8::1:5432:", "not a valid IP address"},
		{"fe80::1%eth0", "zones"},
		{"*.com", "at least two labels"},
		{"db.*.example.com", "wildcard"},
		{"*", "wildcard"},
		{"-db.example.com", "starts or ends with '-'"},
		{"db..example.com", "empty label"},
		{"db example.com", "invalid character"},
		{"http://db.example.com", "looks like a URL"},
		{"db/example", "not a valid network"},
		{strings.Repeat("a", 64) + ".com", "longer than 63"},
		{"::ffff:203.0.113.0/64", "at least 96"},
	}
	for _, tc := range invalid {
		t.Run("invalid "+tc.entry, func(t *testing.T) {
			err := egress.ValidateEntry(tc.entry)
			var ee *egress.EntryError
			if !errors.As(err, &ee) {
				t.Fatalf("ValidateEntry(%q) = %v, want *EntryError", tc.entry, err)
			}
			if ee.Entry != tc.entry {
				t.Errorf("EntryError.Entry = %q, want %q", ee.Entry, tc.entry)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.entry) {
				t.Errorf("error %q does not name the entry or contain %q", err, tc.want)
			}
		})
	}
}

func TestParseAllowlistReportsEveryBadEntry(t *testing.T) {
	_, err := egress.ParseAllowlist([]string{"db.example.com", "bad entry", "203.0.113.0/24", "10.0.0.1/8"})
	if err == nil {
		t.Fatal("ParseAllowlist accepted bad entries")
	}
	for _, want := range []string{`"bad entry"`, `"10.0.0.1/8"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "db.example.com") {
		t.Errorf("error %q names a valid entry", err)
	}

	a, err := egress.ParseAllowlist([]string{"db.example.com", "203.0.113.0/24:5432"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 2 {
		t.Errorf("Len() = %d, want 2", a.Len())
	}
}
