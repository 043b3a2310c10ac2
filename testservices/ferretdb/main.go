// Command ferretdb is a test-only MongoDB wire-protocol server for Sluice's
// test suite: it embeds FerretDB with its SQLite backend, so tests can talk to
// a real MongoDB-compatible server without a MongoDB installation.
//
// It lives in its own Go module so the main module does not depend on
// FerretDB. scripts/test-services.sh builds and starts it.
//
// Usage:
//
//	ferretdb [-listen 127.0.0.1:27017] [-data DIR] [-log-level warn]
//
// Without -data, data is kept in a fresh temporary directory that is removed
// on exit. The server stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	dataDir := fs.String("data", "", "directory for SQLite data files (default: a temporary directory removed on exit)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("bad -log-level %q: %w", *logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "sluice-ferretdb-")
		if err != nil {
			return fmt.Errorf("create temp data dir: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	// FerretDB wants a "file:" URI naming an existing directory, ending in "/".
	sqliteURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/", OmitHost: true}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI blocks until the listener is up, so this line means "ready".
	fmt.Fprintf(os.Stderr, "ferretdb: serving %s (data in %s)\n", f.MongoDBURI(), abs)

	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("run: %w", err)
	}
	fmt.Fprintln(os.Stderr, "ferretdb: stopped")
	return nil
}
