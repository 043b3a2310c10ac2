// Package sqlhost serves the sql.* host calls (sql.query, sql.exec,
// sql.batch) on PostgreSQL (pgx v5) and MySQL/MariaDB
// (go-sql-driver/mysql).
//
// A Kind keeps one pool per tenant connection configuration
// (hostconn.Target.Key), opened on first use with at most
// Target.MaxOpenConns connections, every connection dialed through the
// target's egress gate. Pools are closed by Evict (the configuration
// changed), EvictIdle (the Manager's janitor) and Close.
//
// Requests and results are JSON; the value mapping in both directions is
// documented for guest authors in guest-sdk/ABI.md, "SQL host calls":
// integers are exact JSON numbers (64-bit), numeric/decimal values are
// strings, bytes are {"$bytes":"<base64>"}, timestamps RFC 3339 strings,
// JSON columns JSON values, UUIDs strings. Database errors reach the guest
// as db_error with the SQLSTATE or MySQL error number in details.
package sqlhost
