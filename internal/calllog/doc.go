// Package calllog is the production call log: every connector call the
// server makes (user flows, debug, test, migration jobs) recorded per
// connection with its outcome, duration, memory, the connector's logs and
// its host-call trace.
//
// The invoke.Runner hands each call that ran to Log.Record, which never
// blocks: the entry goes to a bounded queue (full: the entry is dropped
// and counted in sluice_call_log_dropped_total) and a writer goroutine
// encodes entries off the request path and appends them to the store in
// batches, where every node reads them. The store trims each
// connection's log to Config.MaxCalls and Config.MaxBytes, oldest first.
//
// A record never holds a call's input, so never the passwords that
// login, validatePassword, createUser and updateUser carry. Whatever
// text is recorded (the error message, the logs, the trace) has the
// connection's secrets (its password, its URI's password and secret
// query parameters, its secret env values) and the input's password
// replaced by "[redacted]" before it is written, in every encoding a
// connector plausibly writes them (quoted, JSON, query, path and percent
// escaped). A form under 8 bytes is replaced only where it stands as a
// value (after '=', ':' or a quote, or the whole text): replacing it
// everywhere would blank out common words and betray it by where the
// gaps are. docs/contract.md states the exact rule.
package calllog
