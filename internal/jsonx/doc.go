// Package jsonx writes the little JSON the request path builds by hand:
// strings escaped as encoding/json escapes them, and a field added to an
// object by splicing bytes instead of decoding and encoding it again.
package jsonx
