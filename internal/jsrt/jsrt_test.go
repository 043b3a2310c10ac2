package jsrt_test

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"testing"

	"github.com/sluice-dev/sluice/internal/jsrt"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestModuleMatchesSource rebuilds the runtime from runtime/ (cached by
// its sources, like every test module) and requires the committed module
// to be exactly that build: never a binary that cannot be rebuilt.
func TestModuleMatchesSource(t *testing.T) {
	committed, err := jsrt.Module()
	if err != nil {
		t.Fatal(err)
	}
	built := wasmbuild.Test(t, "runtime")
	if !bytes.Equal(committed, built) {
		t.Fatalf("runtime.wasm.gz (sha256 %x, %d bytes) is not the build of runtime/ with %s (sha256 %x, %d bytes): run `go generate ./internal/jsrt`",
			sha256.Sum256(committed), len(committed), runtime.Version(), sha256.Sum256(built), len(built))
	}
}

func TestIsScript(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"\x00asm\x01\x00\x00\x00", false},
		{"async function login() {}", true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := jsrt.IsScript([]byte(tc.in)); got != tc.want {
				t.Fatalf("IsScript(%q) = %v", tc.in, got)
			}
		})
	}
}

func TestParseInspection(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		wantErr  string
	}{
		{"ok", `{"id":"inspect","customData":{"dialect":"seed","functions":["login"],"supported":["pg"]}}`, ""},
		{"syntax", `{"id":"inspect","customData":{"syntaxError":{"message":"Unexpected token","line":3,"column":7}}}`,
			"the script has a syntax error at line 3, column 7: Unexpected token"},
		{"module", `{"id":"inspect","customData":{"unsupported":["fs"],"supported":["bcrypt","pg"]}}`,
			"the script requires 'fs', which Sluice's JavaScript runtime does not provide; it provides bcrypt, pg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jsrt.ParseInspection([]byte(tc.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
		})
	}
}
