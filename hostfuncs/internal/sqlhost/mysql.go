package sqlhost

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

// myDB is a database/sql pool of one MySQL or MariaDB target.
type myDB struct {
	db   *sql.DB
	addr string
	max  int // the pool's size

	// ids holds the server's connection id of each driver connection
	// (CONNECTION_ID(), asked once per connection), for KILL QUERY.
	mu  sync.Mutex
	ids map[any]uint64
}

// killTimeout bounds the KILL QUERY sent for an abandoned statement.
const killTimeout = 5 * time.Second

// errDead marks a driver connection closed under its statement.
var errDead = errors.New("connection closed")

// withConn runs f on a connection of the pool. When the context ends
// under a statement, the driver closes the connection at once (the host
// call returns at its deadline; the connection is never pooled again),
// but MySQL and MariaDB go on running the statement until they next
// write to the client: withConn then sends KILL QUERY for the closed
// connection's id, in the background, so that the server stops it. A
// connection that finished in time stays open and gets no KILL, which
// could otherwise hit its next statement.
func (m *myDB) withConn(ctx context.Context, f func(q *sql.Conn) error) error {
	c, err := m.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := m.connID(ctx, c)
	if err != nil {
		return err
	}
	err = f(c)
	if err != nil && ctx.Err() != nil && !alive(c) {
		go m.kill(id)
	}
	return err
}

// connID returns the server's id of c's connection.
func (m *myDB) connID(ctx context.Context, c *sql.Conn) (uint64, error) {
	var key any
	if err := c.Raw(func(dc any) error { key = dc; return nil }); err != nil {
		return 0, err
	}
	m.mu.Lock()
	id, ok := m.ids[key]
	m.mu.Unlock()
	if ok {
		return id, nil
	}
	if err := c.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		return 0, err
	}
	m.mu.Lock()
	if len(m.ids) >= 16*m.max { // closed connections' ids: forget them all now and then
		clear(m.ids)
	}
	m.ids[key] = id
	m.mu.Unlock()
	return id, nil
}

// alive reports whether c's driver connection is still usable.
func alive(c *sql.Conn) bool {
	return c.Raw(func(dc any) error {
		if v, ok := dc.(driver.Validator); ok && !v.IsValid() {
			return errDead
		}
		return nil
	}) == nil
}

// kill asks the server to stop the statement of connection id.
func (m *myDB) kill(id uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	_, _ = m.db.ExecContext(ctx, "KILL QUERY "+strconv.FormatUint(id, 10)) // best effort: it may have ended
}

// mysqlConfig reads the target's URI, either a URL
// mysql://user:password@host:port/database?param=value or a driver DSN
// user:password@tcp(host:port)/database?param=value, or the five fields.
func mysqlConfig(t *hostconn.Target) (*mysql.Config, error) {
	var cfg *mysql.Config
	switch {
	case strings.HasPrefix(t.URI, "mysql://"), strings.HasPrefix(t.URI, "mariadb://"):
		u, err := url.Parse(t.URI)
		if err != nil {
			return nil, errors.New("connection configuration: the uri does not parse as mysql://user:password@host:port/database")
		}
		// Parse the parameters with the driver, credentials kept apart
		// (a password may hold any character).
		dsn := "tcp(" + hostPort(u.Host, 3306) + ")/" + strings.TrimPrefix(u.Path, "/")
		if u.RawQuery != "" {
			dsn += "?" + u.RawQuery
		}
		if cfg, err = mysql.ParseDSN(dsn); err != nil {
			return nil, fmt.Errorf("connection configuration: %w", err)
		}
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	case t.URI != "":
		if dsnHasNoAddr(t.URI) {
			// The driver would dial its default, 127.0.0.1:3306.
			return nil, egress.Refused("", egress.ReasonNoHost)
		}
		var err error
		if cfg, err = mysql.ParseDSN(t.URI); err != nil {
			// The driver's parse errors never repeat the DSN.
			return nil, fmt.Errorf("connection configuration: %w", err)
		}
	default:
		cfg = mysql.NewConfig()
		cfg.Net = "tcp"
		cfg.Addr = hostPort(t.Host, t.Port)
		if t.Port == 0 {
			cfg.Addr = hostPort(t.Host, 3306)
		}
		cfg.User = t.Username
		cfg.Passwd = t.Password
		cfg.DBName = t.Database
	}
	switch {
	case strings.HasPrefix(cfg.Net, "unix"):
		return nil, egress.Refused(cfg.Addr, egress.ReasonUnixSocket)
	case cfg.Net != "tcp" && cfg.Net != "tcp4" && cfg.Net != "tcp6":
		return nil, egress.Refused(cfg.Addr, fmt.Sprintf("uses network %q (only tcp is allowed)", cfg.Net))
	case cfg.Addr == "" || strings.HasPrefix(cfg.Addr, ":"):
		return nil, egress.Refused(cfg.Addr, egress.ReasonNoHost)
	}
	cfg.DialFunc = t.Dialer.DialContext
	// The platform decides these, whatever the DSN says.
	cfg.AllowAllFiles = false // LOAD DATA LOCAL INFILE would read the platform's files
	cfg.MultiStatements = false
	cfg.InterpolateParams = false
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	return cfg, nil
}

// dsnHasNoAddr reports whether a driver DSN
// [user[:password]@][net[(addr)]]/dbname names no address (the driver
// then picks one of its own). It splits as the driver does: at the last
// "/", then the last "@" before it.
func dsnHasNoAddr(dsn string) bool {
	i := strings.LastIndexByte(dsn, '/')
	if i < 0 {
		return false // the driver refuses it
	}
	netAddr := dsn[:i]
	if j := strings.LastIndexByte(netAddr, '@'); j >= 0 {
		netAddr = netAddr[j+1:]
	}
	if netAddr == "" {
		return true
	}
	if k := strings.IndexByte(netAddr, '('); k >= 0 {
		addr := strings.TrimSuffix(netAddr[k+1:], ")")
		return addr == "" || strings.HasPrefix(addr, ":")
	}
	return !strings.HasPrefix(netAddr, "unix") // a bare network: its default address
}

func hostPort(host string, port int) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if port == 0 {
		port = 3306
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}

func openMySQL(t *hostconn.Target) (database, error) {
	cfg, err := mysqlConfig(t)
	if err != nil {
		return nil, err
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connector: %w", err)
	}
	db := sql.OpenDB(conn)
	n := t.MaxOpenConns
	if n <= 0 {
		n = 4
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &myDB{db: db, addr: cfg.Addr, max: n, ids: map[any]uint64{}}, nil
}

func (m *myDB) target() string { return m.addr }

func (m *myDB) Close() error { return m.db.Close() }

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func (m *myDB) query(ctx context.Context, q string, args []arg, lim hostconn.Limits) (res *queryResult, err error) {
	err = m.withConn(ctx, func(c *sql.Conn) error {
		res, err = myQuery(ctx, c, q, args, lim)
		return err
	})
	return res, err
}

func (m *myDB) exec(ctx context.Context, q string, args []arg) (res *execResult, err error) {
	err = m.withConn(ctx, func(c *sql.Conn) error {
		res, err = myExec(ctx, c, q, args)
		return err
	})
	return res, err
}

func (m *myDB) batch(ctx context.Context, stmts []statement, lim hostconn.Limits) (results []any, err error) {
	err = m.withConn(ctx, func(c *sql.Conn) error {
		results, err = myBatch(ctx, c, stmts, lim)
		return err
	})
	return results, err
}

func myBatch(ctx context.Context, c *sql.Conn, stmts []statement, lim hostconn.Limits) ([]any, error) {
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // a no-op after Commit
	results := make([]any, 0, len(stmts))
	for i, st := range stmts {
		var res any
		var err error
		if st.Query {
			res, err = myQuery(ctx, tx, st.SQL, st.Args, lim)
		} else {
			res, err = myExec(ctx, tx, st.SQL, st.Args)
		}
		if err != nil {
			return results, &stmtError{i, err}
		}
		results = append(results, res)
	}
	if err := tx.Commit(); err != nil {
		return results, fmt.Errorf("commit: %w", err)
	}
	return results, nil
}

func myExec(ctx context.Context, db querier, q string, args []arg) (*execResult, error) {
	res, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	return &execResult{RowsAffected: n, LastInsertID: id}, nil
}

func myQuery(ctx context.Context, db querier, q string, args []arg, lim hostconn.Limits) (*queryResult, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &queryResult{Columns: make([]string, len(cts)), Types: make([]string, len(cts)), Rows: [][]any{}}
	for i, ct := range cts {
		res.Columns[i] = ct.Name()
		res.Types[i] = strings.ToLower(ct.DatabaseTypeName())
	}
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	size := 0
	for rows.Next() {
		if lim.MaxRows > 0 && len(res.Rows) >= lim.MaxRows {
			return res, errTooManyRows
		}
		clear(vals)
		if err := rows.Scan(ptrs...); err != nil {
			return res, err
		}
		row := make([]any, len(vals))
		for i, v := range vals {
			c, n, err := myCell(v, res.Types[i])
			if err != nil {
				return res, fmt.Errorf("column %q: %w", res.Columns[i], err)
			}
			row[i] = c
			size += n + 8
		}
		if lim.MaxResponseBytes > 0 && size > lim.MaxResponseBytes {
			return res, errTooLarge
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// myCell maps one scanned MySQL value to its JSON cell by the column's
// type (the text and binary protocols scan the same column differently).
// n is the value's approximate size.
func myCell(v any, typ string) (cell any, n int, err error) {
	if v == nil {
		return nil, 0, nil
	}
	b, isBytes := v.([]byte)
	n = len(b) + 8
	switch {
	case strings.HasSuffix(typ, "int") || typ == "year":
		switch v := v.(type) {
		case int64, uint64:
			return v, n, nil
		case []byte:
			if strings.HasPrefix(typ, "unsigned") {
				u, err := strconv.ParseUint(string(v), 10, 64)
				return u, n, err
			}
			i, err := strconv.ParseInt(string(v), 10, 64)
			return i, n, err
		}
	case typ == "float" || typ == "double":
		bits := 64
		if typ == "float" {
			bits = 32
		}
		switch v := v.(type) {
		case float64:
			return floatCell(v, bits), n, nil
		case float32:
			return floatCell(float64(v), 32), n, nil
		case []byte:
			f, err := strconv.ParseFloat(string(v), bits)
			return floatCell(f, bits), n, err
		}
	case typ == "decimal":
		if isBytes {
			return string(b), n, nil
		}
	case typ == "date" || typ == "datetime" || typ == "timestamp":
		if t, ok := v.(time.Time); ok {
			return timeCell(t, typ == "date"), n, nil
		}
	case typ == "json":
		if isBytes {
			if cell, err := compactJSON(b); err == nil {
				return rawJSON(cell), n, nil
			}
			return textCell(b), n, nil
		}
	case typ == "bit" || typ == "geometry" || strings.HasSuffix(typ, "blob") || strings.HasSuffix(typ, "binary"):
		if isBytes {
			return bytesCell(append([]byte(nil), b...)), n, nil
		}
	}
	switch v := v.(type) {
	case []byte:
		return textCell(v), n, nil
	case time.Time:
		return timeCell(v, false), n, nil
	case float64:
		return floatCell(v, 64), n, nil
	case float32:
		return floatCell(float64(v), 32), n, nil
	case int64, uint64, bool, string:
		return v, n, nil
	}
	return fmt.Sprint(v), n, nil
}
