// Package sql runs SQL on the connection's PostgreSQL or MySQL/MariaDB
// database through the host (the sql.query, sql.exec and sql.batch host
// calls of ABI.md). The connector never connects itself: the host owns
// the pool, the credentials and the egress gate.
//
// Placeholders are the database's own: $1, $2, ... on PostgreSQL, ? on
// MySQL. Arguments are always bound, never spliced into the SQL text:
//
//	row := sql.QueryRow(ctx, "SELECT id, email, password_hash FROM users WHERE email = $1", email)
//	var id int64
//	var mail, hash string
//	if err := row.Scan(&id, &mail, &hash); errors.Is(err, sql.ErrNoRows) {
//		return nil, sluice.ErrUserNotFound
//	}
//
// Arguments may be nil, bool, any integer type, float32/float64, string,
// []byte, time.Time, json.RawMessage, or a pointer to one of them (a nil
// pointer is NULL). Pass numeric/decimal and UUID values as strings.
//
// Scan destinations: *string, *int64, *int, *int32, *uint64, *float64,
// *bool, *[]byte, *time.Time, *json.RawMessage, *any, and a pointer to a
// pointer to one of them (**string, ...) for a column that may be NULL.
// Integers are exact to 64 bits.
//
// Rows.ScanUser and Row.ScanUser read a row as a user profile, each
// column into the sluice.User field it is named after (snake_case or
// camelCase), the other columns into the destinations given:
//
//	var u sluice.User
//	var hash string
//	err := sql.QueryRow(ctx, "SELECT id, email, email_verified, custom_data, password_hash FROM users WHERE email = $1", email).
//		ScanUser(&u, &hash)
//
// Text read by Scan and ScanUser shares the result's memory, which the
// Rows own and nothing writes to; the SDK decodes results, profiles and
// custom data without reflection (see RATIONALE.md, "The guest path").
//
// A failed statement returns an *sluice.Error with code "db_error"; use
// SQLState, MySQLErrno and IsUniqueViolation to look at it.
package sql
