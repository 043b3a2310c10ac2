//go:build !wasip1

package sluice

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
)

func TestLog(t *testing.T) {
	type line struct {
		level int32
		msg   string
	}
	var got []line
	prev := abi.SetHooks(&abi.Hooks{Log: func(level int32, msg []byte) {
		got = append(got, line{level, string(msg)})
	}})
	defer abi.SetHooks(prev)

	tests := []struct {
		name string
		log  func()
		want line
	}{
		{"debug", func() { Log.Debug("hello") }, line{0, "hello"}},
		{"info with attrs", func() { Log.Info("user found", "id", "u1", "n", 3, "ok", true) }, line{1, "user found id=u1 n=3 ok=true"}},
		{"warn quoted", func() { Log.Warn("odd", "name", "Alice Liddell", "empty", "", "eq", "a=b") }, line{2, `odd name="Alice Liddell" empty="" eq="a=b"`}},
		{"error with err", func() { Log.Error("query failed", "err", errors.New("conn refused")) }, line{3, `query failed err="conn refused"`}},
		{"below debug", func() { Log.Log(context.Background(), slog.LevelDebug-4, "trace") }, line{0, "trace"}},
		{"above error", func() { Log.Log(context.Background(), slog.LevelError+4, "fatal") }, line{3, "fatal"}},
		{"with and group", func() {
			Log.With("tenant", "t1").WithGroup("db").Info("query", "rows", 2, slog.Group("q", "ms", 5))
		}, line{1, "query tenant=t1 db.rows=2 db.q.ms=5"}},
		{"time", func() { Log.Info("at", "t", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) }, line{1, "at t=2025-01-02T03:04:05Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			tt.log()
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("logged %+v, want %+v", got, tt.want)
			}
		})
	}
}
