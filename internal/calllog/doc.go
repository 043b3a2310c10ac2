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
// connection's password, its secret env values and the input's password
// replaced by "[redacted]" before it is written (secrets of 8 bytes or
// more: a shorter one would blank out common words and betray itself by
// where the gaps are).
package calllog
