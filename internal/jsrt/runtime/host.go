package main

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"log/slog"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// hostCall is the shims' door to the host: it runs op with the JSON
// request and returns the result's JSON text, or throws an Error whose
// sluiceCode, message and details are the host's (and code, for pg and
// mysql, the SQLSTATE or errno the drivers expose).
func (s *script) hostCall(op, req string) string {
	var raw json.RawMessage
	if err := sluice.HostCall(op, []byte(req), &raw); err != nil {
		panic(s.hostError(err))
	}
	if raw == nil {
		return "null"
	}
	return string(raw)
}

// sqlCall is hostCall for sql.query and sql.batch, whose integers may
// pass 2^53: those travel to JavaScript as strings, as pg's int8.
func (s *script) sqlCall(op, req string) string {
	out := s.hostCall(op, req)
	if !longDigits(out) {
		return out // no integer can pass 2^53: JSON.parse keeps every number
	}
	var v any
	if err := decodeJSON([]byte(out), &v); err != nil {
		return out
	}
	b, _ := json.Marshal(exactNumbers(v))
	return string(b)
}

const maxSafe = 1 << 53

// longDigits reports whether s has a run of 16 or more digits (2^53 has
// 16): only then may a number lose precision in JSON.parse.
func longDigits(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			if run++; run >= 16 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func exactNumbers(v any) any {
	switch t := v.(type) {
	case []any:
		for i := range t {
			t[i] = exactNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = exactNumbers(t[k])
		}
	case json.Number:
		if n, err := t.Int64(); err == nil {
			if n > maxSafe || n < -maxSafe {
				return t.String()
			}
			return n
		}
		if f, err := t.Float64(); err == nil && !math.IsInf(f, 0) {
			return f
		}
		return t.String()
	}
	return v
}

func (s *script) hostError(err error) *goja.Object {
	e := &sluice.Error{Code: "host_error", Message: err.Error()}
	var se *sluice.Error
	if errors.As(err, &se) {
		e = se
	}
	obj, _ := s.vm.New(s.vm.Get("Error"), s.vm.ToValue(e.Message))
	_ = obj.Set("sluiceCode", e.Code)
	_ = obj.Set("code", e.Code)
	if e.Details != nil {
		_ = obj.Set("details", s.toJS(marshal(e.Details)))
		if st, ok := e.Details["sqlstate"].(string); ok {
			_ = obj.Set("code", st) // pg's err.code
		}
		if n, ok := e.Details["mysqlErrno"]; ok {
			_ = obj.Set("errno", n)
		}
	}
	return obj
}

// logLine writes one console line to the call's log.
func logLine(level int, msg string) {
	l := slog.LevelInfo
	switch level {
	case 0:
		l = slog.LevelDebug
	case 2:
		l = slog.LevelWarn
	case 3:
		l = slog.LevelError
	}
	sluice.Log.Log(context.Background(), l, msg)
}

// timers is the script's setTimeout queue: a call runs them, in due
// order, until its result is known.
type timers struct {
	seq     int
	pending []timer
}

type timer struct {
	id   int
	due  time.Time
	fn   goja.Callable
	args []goja.Value
}

func (s *script) setTimeout(call goja.FunctionCall) goja.Value {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(s.vm.NewTypeError("setTimeout needs a function"))
	}
	ms := call.Argument(1).ToFloat()
	if math.IsNaN(ms) || ms < 0 {
		ms = 0
	}
	s.timers.seq++
	var args []goja.Value
	if len(call.Arguments) > 2 {
		args = append(args, call.Arguments[2:]...)
	}
	s.timers.pending = append(s.timers.pending, timer{id: s.timers.seq, due: time.Now().Add(time.Duration(ms * float64(time.Millisecond))), fn: fn, args: args})
	return s.vm.ToValue(s.timers.seq)
}

func (t *timers) cancel(id int) {
	for i, p := range t.pending {
		if p.id == id {
			t.pending = append(t.pending[:i], t.pending[i+1:]...)
			return
		}
	}
}

func (t *timers) next() (timer, bool) {
	if len(t.pending) == 0 {
		return timer{}, false
	}
	sort.SliceStable(t.pending, func(i, j int) bool { return t.pending[i].due.Before(t.pending[j].due) })
	n := t.pending[0]
	t.pending = t.pending[1:]
	return n, true
}

// The crypto natives take and return bytes as hex strings.

func hashOf(alg string) func() hash.Hash {
	switch alg {
	case "md5":
		return md5.New
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha384":
		return sha512.New384
	case "sha512":
		return sha512.New
	}
	return nil
}

func randomBytes(n int) string {
	if n < 0 || n > 1<<16 {
		panic("randomBytes: size out of range")
	}
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func digest(alg, dataHex string) string {
	h := hashOf(alg)
	if h == nil {
		panic("crypto: unsupported digest " + alg)
	}
	d, _ := hex.DecodeString(dataHex)
	m := h()
	m.Write(d)
	return hex.EncodeToString(m.Sum(nil))
}

func hmacDigest(alg, keyHex, dataHex string) string {
	h := hashOf(alg)
	if h == nil {
		panic("crypto: unsupported digest " + alg)
	}
	k, _ := hex.DecodeString(keyHex)
	d, _ := hex.DecodeString(dataHex)
	m := hmac.New(h, k)
	m.Write(d)
	return hex.EncodeToString(m.Sum(nil))
}

func pbkdf2Digest(pwHex, saltHex string, iter, keyLen int, alg string) string {
	h := hashOf(alg)
	if h == nil {
		panic("crypto: unsupported digest " + alg)
	}
	if iter < 1 || iter > 2_000_000 || keyLen < 1 || keyLen > 1024 {
		panic("crypto.pbkdf2: iterations must be 1..2000000 and keylen 1..1024")
	}
	p, _ := hex.DecodeString(pwHex)
	sa, _ := hex.DecodeString(saltHex)
	k, err := pbkdf2.Key(h, string(p), sa, iter, keyLen)
	if err != nil {
		panic("crypto.pbkdf2: " + err.Error())
	}
	return hex.EncodeToString(k)
}

// bytesFrom decodes s in encoding enc (utf8, hex, base64, latin1) to hex;
// bytesTo encodes hex bytes in enc.
func bytesFrom(s, enc string) string {
	switch enc {
	case "hex":
		b, err := hex.DecodeString(s)
		if err != nil {
			panic("invalid hex string")
		}
		return hex.EncodeToString(b)
	case "base64", "base64url":
		b, err := decodeBase64(s)
		if err != nil {
			panic("invalid base64 string")
		}
		return hex.EncodeToString(b)
	case "latin1", "binary", "ascii":
		r := []rune(s)
		b := make([]byte, len(r))
		for i, c := range r {
			b[i] = byte(c)
		}
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString([]byte(s))
}

func bytesTo(h, enc string) string {
	b, _ := hex.DecodeString(h)
	switch enc {
	case "hex":
		return h
	case "base64":
		return base64.StdEncoding.EncodeToString(b)
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(b)
	case "latin1", "binary", "ascii":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return string(b)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.NewReplacer("-", "+", "_", "/", "\n", "", "\r", "", " ", "").Replace(s), "=")
	return base64.RawStdEncoding.DecodeString(s)
}

func timingSafeEqual(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
