package sluice

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
)

// Log writes to the call's log through the host, with levels:
//
//	sluice.Log.Info("user found", "id", u.ID)
//	sluice.Log.Error("query failed", "err", err)
//
// A line is the message followed by key=value pairs. Use
// slog.SetDefault(sluice.Log) in init to send slog's package-level
// functions there too. Writing to stdout or stderr also reaches the log,
// without a level.
var Log = slog.New(&logHandler{})

// logHandler formats records as "msg k=v k2=v2" and hands them to the
// host's log import.
type logHandler struct {
	prefix string // open groups, "g1.g2."
	attrs  []byte // attributes from WithAttrs, already formatted
}

func (h *logHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	buf := make([]byte, 0, len(r.Message)+len(h.attrs)+16*r.NumAttrs())
	buf = append(buf, r.Message...)
	buf = append(buf, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = appendAttr(buf, h.prefix, a)
		return true
	})
	abi.Log(hostLevel(r.Level), buf)
	return nil
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := &logHandler{prefix: h.prefix, attrs: slices.Clip(h.attrs)}
	for _, a := range attrs {
		n.attrs = appendAttr(n.attrs, h.prefix, a)
	}
	return n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{prefix: h.prefix + name + ".", attrs: h.attrs}
}

// hostLevel maps slog levels to the host's 0 debug, 1 info, 2 warn, 3 error.
func hostLevel(l slog.Level) int32 {
	switch {
	case l < slog.LevelInfo:
		return 0
	case l < slog.LevelWarn:
		return 1
	case l < slog.LevelError:
		return 2
	}
	return 3
}

func appendAttr(buf []byte, prefix string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return buf
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			buf = appendAttr(buf, p, g)
		}
		return buf
	}
	buf = append(buf, ' ')
	buf = append(buf, prefix...)
	buf = append(buf, a.Key...)
	buf = append(buf, '=')
	var s string
	switch a.Value.Kind() {
	case slog.KindTime:
		s = a.Value.Time().Format(time.RFC3339Nano)
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			s = err.Error()
		} else {
			s = a.Value.String()
		}
	default:
		s = a.Value.String()
	}
	if needsQuote(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

func needsQuote(s string) bool {
	if s == "" {
		return true
	}
	for _, r := range s {
		if r <= ' ' || r == '=' || r == '"' || r == utf8.RuneError || r == 0x7f {
			return true
		}
	}
	return false
}
