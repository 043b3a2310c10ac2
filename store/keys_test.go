package store_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/store"
)

func TestParseMasterKey(t *testing.T) {
	key := bytes.Repeat([]byte{0xfb}, 32)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"std", base64.StdEncoding.EncodeToString(key), true},
		{"raw std", base64.RawStdEncoding.EncodeToString(key), true},
		{"url", base64.URLEncoding.EncodeToString(key), true},
		{"raw url with newline", base64.RawURLEncoding.EncodeToString(key) + "\n", true},
		{"empty", "", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), false},
		{"not base64", "this is not a key!", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := store.ParseMasterKey(tc.in)
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "32 bytes") {
					t.Fatalf("err = %v, want an error naming the expected size", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, key) {
				t.Fatalf("got %x, %v", got, err)
			}
		})
	}
}

func TestLoadOrCreateMasterKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "master.key")
	k1 := must(store.LoadOrCreateMasterKey(path))(t)
	if len(k1) != 32 {
		t.Fatalf("key is %d bytes", len(k1))
	}
	fi := must(os.Stat(path))(t)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
	k2 := must(store.LoadOrCreateMasterKey(path))(t)
	if !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
	content := must(os.ReadFile(path))(t)
	if k := must(store.ParseMasterKey(string(content)))(t); !bytes.Equal(k, k1) {
		t.Fatal("file does not hold the key as base64")
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadOrCreateMasterKey(bad); err == nil {
		t.Fatal("a garbage key file was accepted")
	}
}

func TestNewAPIKey(t *testing.T) {
	k1, h1, err := store.NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, h2, _ := store.NewAPIKey()
	if !strings.HasPrefix(k1, store.APIKeyPrefix) || len(k1) != len(store.APIKeyPrefix)+43 {
		t.Fatalf("key = %q", k1)
	}
	if k1 == k2 || h1 == h2 {
		t.Fatal("two keys are equal")
	}
	if h1 != store.HashAPIKey(k1) || len(h1) != 64 || strings.Contains(h1, k1) {
		t.Fatalf("hash = %q", h1)
	}
}

func TestQuotasValidate(t *testing.T) {
	if err := store.DefaultQuotas().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	tests := []struct {
		field string
		edit  func(*store.Quotas)
	}{
		{"memoryMB", func(q *store.Quotas) { q.MemoryMB = 0 }},
		{"memoryMB", func(q *store.Quotas) { q.MemoryMB = store.MaxMemoryMB + 1 }},
		{"timeoutMs", func(q *store.Quotas) { q.TimeoutMs = -1 }},
		{"maxConcurrency", func(q *store.Quotas) { q.MaxConcurrency = store.MaxConcurrency + 1 }},
		{"callsPerMinute", func(q *store.Quotas) { q.CallsPerMinute = 0 }},
		{"maxModuleBytes", func(q *store.Quotas) { q.MaxModuleBytes = store.MaxModuleBytes + 1 }},
		{"maxHostCalls", func(q *store.Quotas) { q.MaxHostCalls = 0 }},
		{"cpuMsPerMinute", func(q *store.Quotas) { q.CPUMsPerMinute = -1 }},
		{"cpuMsPerMinute", func(q *store.Quotas) { q.CPUMsPerMinute = store.MaxCPUMsPerMinute + 1 }},
		{"privateNetworks", func(q *store.Quotas) { q.PrivateNetworks = []string{"10.0.0.0/8", " "} }},
		{"privateNetworks", func(q *store.Quotas) { q.PrivateNetworks = make([]string, store.MaxPrivateNetworks+1) }},
		{"privateNetworks", func(q *store.Quotas) { q.PrivateNetworks = []string{strings.Repeat("1", 301)} }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			q := store.DefaultQuotas()
			tc.edit(&q)
			var ve *store.ValidationError
			if err := q.Validate(); !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
		})
	}
}

// TestQuotasValidateZeroCPU: 0 is an unlimited CPU quota.
func TestQuotasValidateZeroCPU(t *testing.T) {
	q := store.DefaultQuotas()
	for _, v := range []int{0, 1, store.MaxCPUMsPerMinute} {
		q.CPUMsPerMinute = v
		if err := q.Validate(); err != nil {
			t.Errorf("cpuMsPerMinute %d: %v", v, err)
		}
	}
}

// TestQuotasEqual changes each field in turn: Equal must notice every one.
func TestQuotasEqual(t *testing.T) {
	base := store.DefaultQuotas()
	if !base.Equal(store.DefaultQuotas()) {
		t.Fatal("defaults differ from themselves")
	}
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		q := store.DefaultQuotas()
		f := reflect.ValueOf(&q).Elem().Field(i)
		switch f.Kind() {
		case reflect.Int, reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"10.0.0.0/8"}))
		default:
			t.Fatalf("field %s: kind %s not covered by this test", typ.Field(i).Name, f.Kind())
		}
		if base.Equal(q) {
			t.Errorf("Equal misses a change of %s", typ.Field(i).Name)
		}
	}
}
