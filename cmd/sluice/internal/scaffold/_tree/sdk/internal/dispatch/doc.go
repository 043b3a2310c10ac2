// Package dispatch runs one connector function: it decodes the input JSON
// into the function's typed input, calls the registered handler and
// encodes the result or the error envelope. The fn/* packages are thin
// typed fronts over a Slot; sluicetest finds slots by name in the
// registry.
package dispatch
