package invoke

import (
	"errors"
	"strconv"
	"time"
)

// Sentinels a *VersionError wraps.
var (
	// ErrNoActiveVersion: the call asked for the active version of a
	// connection that has none (no module uploaded yet).
	ErrNoActiveVersion = errors.New("invoke: no active version")
	// ErrNoSuchVersion: the connection has no version of that number.
	ErrNoSuchVersion = errors.New("invoke: no such version")
)

// VersionError is a call to a version a connection does not have. Its
// Error is a sentence a tenant can be shown.
type VersionError struct {
	Connection string
	// Version is the number asked for; 0 for the active version.
	Version int
	// Err is ErrNoActiveVersion or ErrNoSuchVersion.
	Err error
}

func (e *VersionError) Error() string {
	if errors.Is(e.Err, ErrNoActiveVersion) {
		return "connection " + e.Connection + " has no active version: upload a module first"
	}
	return "connection " + e.Connection + " has no version " + strconv.Itoa(e.Version)
}

func (e *VersionError) Unwrap() error { return e.Err }

// Reason says which quota refused a call (the metric label).
type Reason string

// Reasons of a *QuotaError.
const (
	ReasonConcurrency Reason = "concurrency"
	ReasonRate        Reason = "rate"
	ReasonUploads     Reason = "uploads"
)

// QuotaError is a call refused by the tenant's concurrency or rate
// quota, or an upload by its upload quota. Its Error is a sentence a
// tenant can be shown.
type QuotaError struct {
	Reason Reason
	// Limit is the quota that was reached: MaxConcurrency calls,
	// CallsPerMinute or UploadsPerMinute.
	Limit int
	// RetryAfter is how long to wait before the call may pass.
	RetryAfter time.Duration
}

func (e *QuotaError) Error() string {
	if e.Reason == ReasonUploads {
		return "the tenant's upload quota of " + strconv.Itoa(e.Limit) + " modules per minute is used up"
	}
	if e.Reason == ReasonRate {
		return "the tenant's rate quota of " + strconv.Itoa(e.Limit) + " calls per minute is used up"
	}
	return "the tenant's concurrency quota of " + strconv.Itoa(e.Limit) + " calls is in use"
}
