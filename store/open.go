package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// sqliteParams: WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for
// every transaction (writers queue on the busy timeout instead of failing
// on a lock upgrade).
const sqliteParams = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"

// SQLiteFile is the embedded store's file name in the data directory.
const SQLiteFile = "sluice.db"

// Config selects the store: PostgreSQL when URL is set, else SQLite in
// DataDir.
type Config struct {
	URL       string // postgres:// URL of the shared store (--store)
	DataDir   string // directory of the embedded store (--data-dir)
	MasterKey []byte // 32 bytes: ParseMasterKey or LoadOrCreateMasterKey
}

// Open opens the store cfg selects.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if cfg.URL != "" {
		return OpenPostgres(ctx, cfg.URL, cfg.MasterKey)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("store: neither a PostgreSQL URL nor a data directory")
	}
	return OpenSQLite(ctx, filepath.Join(cfg.DataDir, SQLiteFile), cfg.MasterKey)
}

// OpenSQLite opens (creating when missing) the embedded store in the file
// at path, e.g. filepath.Join(dataDir, "sluice.db"), and applies the schema
// migrations. key is the 32-byte master key that encrypts secrets.
func OpenSQLite(ctx context.Context, path string, key []byte) (Store, error) {
	seal, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, errors.New("store: sqlite path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err := sql.Open("sqlite", path+"?"+sqliteParams)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	return start(ctx, db, sqliteDialect, seal)
}

// OpenPostgres opens the shared store at the PostgreSQL URL and applies the
// schema migrations (safe when several nodes start at once). A search_path
// parameter in the URL (e.g. "&search_path=sluice") selects an existing
// schema for the tables. key is the 32-byte master key.
func OpenPostgres(ctx context.Context, url string, key []byte) (Store, error) {
	seal, err := newSealer(key)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: postgres url: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return start(ctx, db, postgresDialect, seal)
}

// ping opens the first connection. SQLite answers "database is locked"
// without waiting on its busy timeout when several processes (or
// connections) switch a new database to WAL at once; that first step is
// retried for a while.
func ping(ctx context.Context, db *sql.DB) error {
	for try := 0; ; try++ {
		err := db.PingContext(ctx)
		if err == nil || try >= 100 || !strings.Contains(err.Error(), "SQLITE_BUSY") {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func start(ctx context.Context, db *sql.DB, d *dialect, seal *sealer) (Store, error) {
	s := &sqlStore{db: db, d: d, seal: seal}
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", d.name, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}
