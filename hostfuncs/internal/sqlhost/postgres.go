package sqlhost

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

// pgDB is a pgx pool of one target.
type pgDB struct {
	pool *pgxpool.Pool
	addr string
}

// postgresConfig parses the target's URI (postgres:// or postgresql://)
// or builds one from the five fields.
func postgresConfig(t *hostconn.Target) (*pgxpool.Config, error) {
	conn := t.URI
	var password string
	if conn != "" {
		u, err := url.Parse(conn)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, errors.New("connection configuration: the uri must be postgres://user:password@host:port/database")
		}
		for name := range u.Query() {
			if hostFileParams[strings.ToLower(name)] {
				return nil, fmt.Errorf("connection configuration: the uri option %s would make Sluice read a file of its own host; certificates and service files are not supported", name)
			}
		}
		if u.Hostname() == "" && u.Query().Get("host") == "" {
			// pgx would pick a unix socket directory, or PGHOST.
			return nil, egress.Refused("", egress.ReasonNoHost)
		}
		password = uriPassword(u)
	} else {
		if t.Host == "" {
			return nil, egress.Refused("", egress.ReasonNoHost)
		}
		port := t.Port
		if port == 0 {
			port = 5432
		}
		u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(t.Host, strconv.Itoa(port)), Path: "/" + t.Database}
		if t.Password != "" {
			u.User = url.UserPassword(t.Username, t.Password)
		} else {
			u.User = url.User(t.Username)
		}
		conn = u.String()
		password = t.Password
	}
	cfg, err := pgxpool.ParseConfig(conn)
	if err != nil {
		// pgconn's parse errors never contain the password.
		return nil, fmt.Errorf("connection configuration: %w", err)
	}
	// Only TCP: a host starting with "/" is a unix socket directory.
	for _, h := range append([]string{cfg.ConnConfig.Host}, fallbackHosts(&cfg.ConnConfig.Config)...) {
		if strings.HasPrefix(h, "/") || strings.HasPrefix(h, "@") {
			return nil, egress.Refused(h, egress.ReasonUnixSocket)
		}
		if h == "" {
			return nil, egress.Refused(h, egress.ReasonNoHost)
		}
	}
	// The password is the configuration's own, never one pgx found in
	// the platform's environment (PGPASSWORD) or a .pgpass file.
	cfg.ConnConfig.Password = password
	cfg.ConnConfig.DialFunc = pgDialFunc(t.Dialer, &cfg.ConnConfig.Config)
	cfg.ConnConfig.LookupFunc = egress.LookupPassthrough
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		// The configuration, not the grant: the tenant's DBA sees it.
		cfg.ConnConfig.RuntimeParams["application_name"] = "sluice:" + t.Prefix + strconv.Itoa(t.ConfigVersion)
	}
	if t.MaxOpenConns > 0 {
		cfg.MaxConns = int32(t.MaxOpenConns)
	}
	cfg.AfterConnect = checkClientConnection
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = time.Minute
	return cfg, nil
}

// checkClientConnection asks a PostgreSQL 14 or later server to check,
// every second while a statement runs, that the connection is still
// there, and to stop the statement when it is not. The cancel request
// sent at a call's deadline misses a statement that had not started yet
// when it arrived (PostgreSQL's protocol); without the check the server
// would run such a statement to its end on the closed connection.
// Older servers do not know the setting and go without.
func checkClientConnection(ctx context.Context, c *pgx.Conn) error {
	v := c.PgConn().ParameterStatus("server_version")
	major, _, _ := strings.Cut(v, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 14 {
		return nil
	}
	_, err := c.Exec(ctx, "SET client_connection_check_interval = 1000")
	return err
}

// pgDialFunc dials through the gate. When a statement's context ends,
// pgconn cuts the connection's read at once (the host call returns at
// its deadline), closes the connection rather than pool it, and sends
// the server a cancel request, so that it stops the statement. That
// request goes to the literal address of the connection it cancels:
// when the configuration names its servers by name, the address is
// decided as a dial of those names resolving to it
// (Dialer.DialResolved), so that host-name allowlist entries still
// match; else the gate would refuse the cancel request and the server
// would run the abandoned statement to its end.
func pgDialFunc(d *egress.Dialer, cc *pgconn.Config) pgconn.DialFunc {
	var names []string
	for _, h := range append([]string{cc.Host}, fallbackHosts(cc)...) {
		if _, err := netip.ParseAddr(h); err != nil && h != "" && !strings.HasPrefix(h, "/") {
			names = append(names, h)
		}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || len(names) == 0 {
			return d.DialContext(ctx, network, addr)
		}
		var first error
		for _, name := range names {
			c, err := d.DialResolved(ctx, network, name, ap)
			if err == nil {
				return c, nil
			}
			if first == nil {
				first = err
			}
		}
		return nil, first
	}
}

func fallbackHosts(cc *pgconn.Config) []string {
	var out []string
	for _, f := range cc.Fallbacks {
		out = append(out, f.Host)
	}
	return out
}

// hostFileParams are libpq options that name files on the Sluice host
// (pgx reads them): a tenant's URI must not make the host read, or probe
// for, its own files.
var hostFileParams = map[string]bool{
	"sslrootcert": true, "sslcert": true, "sslkey": true, "sslcrl": true,
	"passfile": true, "service": true, "servicefile": true,
}

// uriPassword returns the password written in a postgres:// URI (in
// its user info or its password parameter), "" when there is none.
func uriPassword(u *url.URL) string {
	if p, ok := u.User.Password(); ok {
		return p
	}
	return u.Query().Get("password")
}

func openPostgres(t *hostconn.Target) (database, error) {
	cfg, err := postgresConfig(t)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres pool: %w", err)
	}
	return &pgDB{pool: pool, addr: net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))}, nil
}

func (p *pgDB) target() string { return p.addr }

func (p *pgDB) Close() error {
	p.pool.Close()
	return nil
}

func pgArgs(args []arg) []any {
	out := make([]any, len(args))
	copy(out, args)
	return out
}

func (p *pgDB) query(ctx context.Context, q string, args []arg, lim hostconn.Limits) (*queryResult, error) {
	rows, err := p.pool.Query(ctx, q, pgArgs(args)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return readPG(rows, lim)
}

func (p *pgDB) exec(ctx context.Context, q string, args []arg) (*execResult, error) {
	tag, err := p.pool.Exec(ctx, q, pgArgs(args)...)
	if err != nil {
		return nil, err
	}
	return &execResult{RowsAffected: tag.RowsAffected()}, nil
}

func (p *pgDB) batch(ctx context.Context, stmts []statement, lim hostconn.Limits) ([]any, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // a no-op after Commit
	results := make([]any, 0, len(stmts))
	for i, st := range stmts {
		var res any
		if st.Query {
			rows, err := tx.Query(ctx, st.SQL, pgArgs(st.Args)...)
			if err != nil {
				return results, &stmtError{i, err}
			}
			qr, err := readPG(rows, lim)
			rows.Close()
			if err != nil {
				return results, &stmtError{i, err}
			}
			res = qr
		} else {
			tag, err := tx.Exec(ctx, st.SQL, pgArgs(st.Args)...)
			if err != nil {
				return results, &stmtError{i, err}
			}
			res = &execResult{RowsAffected: tag.RowsAffected()}
		}
		results = append(results, res)
	}
	if err := tx.Commit(ctx); err != nil {
		return results, fmt.Errorf("commit: %w", err)
	}
	return results, nil
}

// readPG reads every row of rows into a result, within the limits.
func readPG(rows pgx.Rows, lim hostconn.Limits) (*queryResult, error) {
	fds := rows.FieldDescriptions()
	res := &queryResult{Columns: make([]string, len(fds)), Types: make([]string, len(fds)), Rows: [][]any{}}
	tm := rows.Conn().TypeMap()
	// Each column's type, looked up once: cells are decoded one by one
	// as pgx's Values decodes them, except JSON documents, which Values
	// would decode into maps only for pgCell to keep their text.
	types := make([]*pgtype.Type, len(fds))
	for i, fd := range fds {
		res.Columns[i] = fd.Name
		if typ, ok := tm.TypeForOID(fd.DataTypeOID); ok {
			res.Types[i], types[i] = typ.Name, typ
		} else {
			res.Types[i] = "oid:" + strconv.FormatUint(uint64(fd.DataTypeOID), 10)
		}
	}
	size := 0
	for rows.Next() {
		if lim.MaxRows > 0 && len(res.Rows) >= lim.MaxRows {
			return res, errTooManyRows
		}
		raws := rows.RawValues()
		row := make([]any, len(fds))
		for i, fd := range fds {
			size += len(raws[i]) + 8
			v, err := pgDecode(tm, types[i], fd, raws[i])
			if err == nil {
				row[i], err = pgCell(v, fd, raws[i])
			}
			if err != nil {
				return res, fmt.Errorf("column %q: %w", fd.Name, err)
			}
		}
		if lim.MaxResponseBytes > 0 && size > lim.MaxResponseBytes {
			return res, errTooLarge
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// pgDecode decodes one cell as pgx.Rows.Values does; a JSON document is
// left to pgCell, which keeps its text.
func pgDecode(tm *pgtype.Map, typ *pgtype.Type, fd pgconn.FieldDescription, raw []byte) (any, error) {
	switch {
	case raw == nil:
		return nil, nil
	case fd.DataTypeOID == pgtype.JSONOID || fd.DataTypeOID == pgtype.JSONBOID:
		return raw, nil // not nil: pgCell reads raw
	case typ != nil:
		return typ.Codec.DecodeValue(tm, fd.DataTypeOID, fd.Format, raw)
	case fd.Format == pgtype.TextFormatCode:
		return string(raw), nil
	}
	return bytes.Clone(raw), nil
}

// pgCell maps one decoded PostgreSQL value to its JSON cell.
func pgCell(v any, fd pgconn.FieldDescription, raw []byte) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch fd.DataTypeOID {
	case pgtype.JSONOID, pgtype.JSONBOID:
		// Keep the document's own text: decoding it would round big
		// numbers through float64.
		b := raw
		if fd.DataTypeOID == pgtype.JSONBOID && fd.Format == pgtype.BinaryFormatCode {
			if len(b) == 0 || b[0] != 1 {
				return nil, errors.New("unknown jsonb format")
			}
			b = b[1:]
		}
		return json.RawMessage(append([]byte(nil), b...)), nil
	case pgtype.DateOID:
		if t, ok := v.(time.Time); ok {
			return timeCell(t, true), nil
		}
	}
	return pgValue(v)
}

func pgValue(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case bool, string, int64:
		return v, nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float32:
		return floatCell(float64(v), 32), nil
	case float64:
		return floatCell(v, 64), nil
	case []byte:
		return bytesCell(append([]byte(nil), v...)), nil
	case time.Time:
		return timeCell(v, false), nil
	case [16]byte: // uuid
		return pgtype.UUID{Bytes: v, Valid: true}.String(), nil
	case pgtype.Numeric:
		s, err := v.Value()
		return s, err
	case []any: // arrays
		out := make([]any, len(v))
		for i, e := range v {
			c, err := pgValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case driver.Valuer:
		dv, err := v.Value()
		if err != nil {
			return nil, err
		}
		if _, again := dv.(driver.Valuer); again {
			return fmt.Sprint(dv), nil
		}
		return pgValue(dv)
	case fmt.Stringer:
		return v.String(), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v), nil
	}
	return json.RawMessage(b), nil
}
