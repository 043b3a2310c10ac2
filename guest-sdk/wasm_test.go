package guestsdk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReactorBuild builds testdata/reactor as a WASI reactor and checks
// its exports and imports against ABI.md.
func TestReactorBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wasm")
	}
	out := filepath.Join(t.TempDir(), "reactor.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/reactor")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	exports, imports, err := wasmFuncs(wasm)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(exports)
	if want := []string{"_initialize", "getUser", "login", "sluice_abi_version"}; !slices.Equal(exports, want) {
		t.Errorf("exported functions %v, want %v", exports, want)
	}
	for _, imp := range imports {
		if !strings.HasPrefix(imp, "wasi_snapshot_preview1.") && !strings.HasPrefix(imp, "sluice.") {
			t.Errorf("imports %s", imp)
		}
	}
	for _, want := range []string{"sluice.input_read", "sluice.output_write", "sluice.log", "sluice.host_call", "sluice.host_response_read"} {
		if !slices.Contains(imports, want) {
			t.Errorf("does not import %s; imports %v", want, imports)
		}
	}
}

// wasmFuncs returns the names of a module's exported functions and its
// imports as "module.name".
func wasmFuncs(wasm []byte) (exports, imports []string, err error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, nil, errors.New("not wasm")
	}
	r := &reader{b: wasm[8:]}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &reader{b: r.bytes(int(r.uleb()))}
		switch id {
		case 2: // imports
			for n := sec.uleb(); n > 0 && sec.err == nil; n-- {
				mod, name := sec.name(), sec.name()
				if kind := sec.byte(); kind != 0 {
					return exports, imports, errors.New("import of a non-function: " + mod + "." + name)
				}
				sec.uleb()
				imports = append(imports, mod+"."+name)
			}
		case 7: // exports
			for n := sec.uleb(); n > 0 && sec.err == nil; n-- {
				name := sec.name()
				if kind := sec.byte(); kind == 0 {
					exports = append(exports, name)
				}
				sec.uleb()
			}
		}
		if sec.err != nil {
			return nil, nil, sec.err
		}
	}
	return exports, imports, r.err
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errors.New("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uleb() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad LEB128")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n > len(r.b) {
		r.err = errors.New("truncated")
		n = len(r.b)
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) name() string { return string(r.bytes(int(r.uleb()))) }
