package sqlhost

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

// errTooManyRows and errTooLarge stop reading a result over the limits.
var (
	errTooManyRows = errors.New("too many rows")
	errTooLarge    = errors.New("result too large")
)

// stmtError is the failure of one statement of a batch.
type stmtError struct {
	index int
	err   error
}

func (e *stmtError) Error() string { return fmt.Sprintf("statement %d: %v", e.index, e.err) }
func (e *stmtError) Unwrap() error { return e.err }

// guestError maps a query's failure to what the guest sees.
func guestError(op string, qctx context.Context, lim hostconn.Limits, err error) error {
	var details map[string]string
	prefix := op + ": "
	var se *stmtError
	if errors.As(err, &se) {
		details = map[string]string{"statement": strconv.Itoa(se.index)}
		prefix += fmt.Sprintf("statement %d: ", se.index)
	}
	with := func(e *engine.Error) *engine.Error {
		for k, v := range details {
			if e.Details == nil {
				e.Details = map[string]string{}
			}
			e.Details[k] = v
		}
		return e
	}

	switch {
	case errors.Is(err, errTooManyRows):
		return with(engine.Errorf(engine.CodeResourceExhausted,
			"%sthe query returned more than %d rows (the limit); narrow it or add LIMIT", prefix, lim.MaxRows))
	case errors.Is(err, errTooLarge):
		return with(engine.Errorf(engine.CodeResourceExhausted,
			"%sthe result is over the limit of %d bytes", prefix, lim.MaxResponseBytes))
	}
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		return with(denied.EngineError())
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		d := map[string]string{"sqlstate": pgErr.Code}
		for k, v := range map[string]string{
			"constraint": pgErr.ConstraintName, "table": pgErr.TableName,
			"column": pgErr.ColumnName, "detail": pgErr.Detail,
		} {
			if v != "" {
				d[k] = v
			}
		}
		e := &engine.Error{Code: CodeDBError, Message: prefix + pgErr.Error(), Details: d}
		if pgErr.Code == "23505" { // unique_violation
			e.Owns = engine.CodeUserExists
		}
		return with(e)
	}
	var myErr *mysql.MySQLError
	if errors.As(err, &myErr) {
		d := map[string]string{"mysqlErrno": strconv.Itoa(int(myErr.Number))}
		if myErr.SQLState != [5]byte{} {
			d["sqlstate"] = string(myErr.SQLState[:])
		}
		e := &engine.Error{Code: CodeDBError, Message: prefix + myErr.Error(), Details: d}
		if myErr.Number == 1062 { // ER_DUP_ENTRY
			e.Owns = engine.CodeUserExists
		}
		return with(e)
	}
	if qctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		if errors.Is(context.Cause(qctx), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			return with(engine.Errorf(engine.CodeTimeout, "%sthe query ran past its time limit: %v", prefix, err))
		}
		return with(engine.Errorf(engine.CodeTimeout, "%sthe call ended before the query finished: %v", prefix, err))
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee
	}
	return with(&engine.Error{Code: CodeDBError, Message: prefix + err.Error()})
}
