// Command gen builds the JavaScript runtime module from ../runtime and
// writes it gzipped (go generate ./internal/jsrt).
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

func main() {
	out := flag.String("o", "runtime.wasm.gz", "output file")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := os.MkdirTemp("", "jsrt-gen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path, err := wasmbuild.Builder{CacheDir: dir}.Build(context.Background(), "runtime")
	if err != nil {
		return err
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(wasm); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Clean(out), buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("gen: %s: %d bytes (%d uncompressed)\n", out, buf.Len(), len(wasm))
	return nil
}
