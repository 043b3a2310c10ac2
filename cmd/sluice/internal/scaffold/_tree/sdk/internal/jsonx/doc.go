// Package jsonx holds the SDK's allocation-light JSON helpers: a strict
// scanner that finds values in a document without decoding them, string
// unquoting and quoting that match encoding/json byte for byte.
//
// They exist because reflection and allocations cost several times more
// in a wasm guest than natively. Every parser here is a fast path: it
// reports ok == false on anything it does not handle exactly as
// encoding/json would (escaped keys, unusual types, invalid JSON), and
// the caller then falls back to encoding/json, so behaviour and error
// messages stay those of encoding/json.
package jsonx
