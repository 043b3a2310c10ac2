package sqlhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
	"github.com/sluice-dev/sluice/hostfuncs/internal/rescache"
)

// The operations a Kind serves.
const (
	OpQuery = "sql.query"
	OpExec  = "sql.exec"
	OpBatch = "sql.batch"
)

// CodeDBError is the code of an error the database (or the way to it)
// returned: a failed statement, a refused login, a dead server.
const CodeDBError engine.Code = "db_error"

// maxStatementTrace bounds the statement text kept in a trace entry.
const maxStatementTrace = 2000

// Kind serves sql.* host calls. The zero value is not usable; use New.
type Kind struct {
	pools rescache.Cache[database]
}

// New returns an empty Kind.
func New() *Kind { return &Kind{} }

// database is one pool of one target.
type database interface {
	io.Closer
	// target is host:port, for the trace.
	target() string
	query(ctx context.Context, q string, args []arg, lim hostconn.Limits) (*queryResult, error)
	exec(ctx context.Context, q string, args []arg) (*execResult, error)
	batch(ctx context.Context, stmts []statement, lim hostconn.Limits) ([]any, error)
}

// statement is one request's SQL and decoded arguments.
type statement struct {
	SQL   string
	Args  []arg
	Query bool
}

type queryResult struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
}

type execResult struct {
	RowsAffected int64 `json:"rowsAffected"`
	LastInsertID int64 `json:"lastInsertId"`
}

type batchResult struct {
	Results []any `json:"results"`
}

// Requests as the guest sends them.
type stmtRequest struct {
	SQL   string            `json:"sql"`
	Args  []json.RawMessage `json:"args"`
	Query bool              `json:"query"`
}

type batchRequest struct {
	Statements []stmtRequest `json:"statements"`
}

// Call runs op for target t.
func (k *Kind) Call(ctx context.Context, t *hostconn.Target, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	var stmts []statement
	switch op {
	case OpQuery, OpExec:
		var in stmtRequest
		if err := hostconn.Unmarshal(op, req, &in); err != nil {
			return nil, err
		}
		st, err := decodeStatement(op, in)
		if err != nil {
			return nil, err
		}
		stmts = []statement{st}
		tr.Statement = traceStatement(in.SQL)
	case OpBatch:
		var in batchRequest
		if err := hostconn.Unmarshal(op, req, &in); err != nil {
			return nil, err
		}
		if len(in.Statements) == 0 {
			return nil, engine.Errorf(engine.CodeInvalidInput, "%s: no statements", op)
		}
		texts := make([]string, len(in.Statements))
		for i, s := range in.Statements {
			st, err := decodeStatement(fmt.Sprintf("%s: statement %d", op, i), s)
			if err != nil {
				return nil, err
			}
			stmts = append(stmts, st)
			texts[i] = s.SQL
		}
		tr.Statement = traceStatement(strings.Join(texts, ";\n"))
	default:
		return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %q", op)
	}

	if t.DBType != "postgres" && t.DBType != "mysql" {
		return nil, engine.Errorf(engine.CodeInvalidInput,
			"%s: this connection's database type is %q; sql host calls need postgres or mysql", op, t.DBType)
	}
	db, err := k.pools.Get(ctx, t.Key, func() (database, error) { return open(t) })
	if err != nil {
		tr.Target = targetOf(t)
		if ctx.Err() != nil {
			return nil, engine.Errorf(engine.CodeTimeout, "%s: the call ended while the connection pool was being made: %v", op, err)
		}
		var denied *egress.DeniedError
		if errors.As(err, &denied) {
			tr.Denied = true
			return nil, denied.EngineError()
		}
		return nil, &engine.Error{Code: CodeDBError, Message: fmt.Sprintf("%s: %v", op, err)}
	}
	tr.Target = db.target()

	qctx, cancel := hostconn.WithQueryTimeout(ctx, t.Limits)
	defer cancel()
	var res any
	switch op {
	case OpQuery:
		var qr *queryResult
		qr, err = db.query(qctx, stmts[0].SQL, stmts[0].Args, t.Limits)
		if qr != nil {
			tr.Rows = len(qr.Rows)
		}
		res = qr
	case OpExec:
		var er *execResult
		er, err = db.exec(qctx, stmts[0].SQL, stmts[0].Args)
		if er != nil {
			tr.Rows = int(er.RowsAffected)
		}
		res = er
	case OpBatch:
		var results []any
		results, err = db.batch(qctx, stmts, t.Limits)
		for _, r := range results {
			switch r := r.(type) {
			case *queryResult:
				tr.Rows += len(r.Rows)
			case *execResult:
				tr.Rows += int(r.RowsAffected)
			}
		}
		res = batchResult{Results: results}
	}
	if err != nil {
		return nil, guestError(op, qctx, t.Limits, err)
	}
	return hostconn.Marshal(op, t.Limits, res)
}

func decodeStatement(what string, in stmtRequest) (statement, error) {
	if strings.TrimSpace(in.SQL) == "" {
		return statement{}, engine.Errorf(engine.CodeInvalidInput, "%s: empty sql", what)
	}
	args := make([]arg, len(in.Args))
	for i, raw := range in.Args {
		a, err := decodeArg(raw)
		if err != nil {
			return statement{}, engine.Errorf(engine.CodeInvalidInput, "%s: argument %d: %v", what, i+1, err)
		}
		args[i] = a
	}
	return statement{SQL: in.SQL, Args: args, Query: in.Query}, nil
}

func traceStatement(s string) string {
	if len(s) > maxStatementTrace {
		return s[:maxStatementTrace] + "…"
	}
	return s
}

// targetOf is the configured host:port, used when no pool could be made.
func targetOf(t *hostconn.Target) string {
	if t.Host == "" {
		return ""
	}
	port := t.Port
	if port == 0 {
		port = map[string]int{"postgres": 5432, "mysql": 3306}[t.DBType]
	}
	return t.Host + ":" + strconv.Itoa(port)
}

func open(t *hostconn.Target) (database, error) {
	switch t.DBType {
	case "postgres":
		return openPostgres(t)
	case "mysql":
		return openMySQL(t)
	}
	return nil, fmt.Errorf("unsupported database type %q", t.DBType)
}

// Evict closes the pools of every target whose key starts with prefix.
func (k *Kind) Evict(prefix string) { k.pools.Evict(prefix) }

// EvictIdle closes the pools unused since cutoff.
func (k *Kind) EvictIdle(cutoff time.Time) { k.pools.EvictIdle(cutoff) }

// Len is the number of open pools.
func (k *Kind) Len() int { return k.pools.Len() }

// Close closes every pool.
func (k *Kind) Close() error { return k.pools.Close() }
