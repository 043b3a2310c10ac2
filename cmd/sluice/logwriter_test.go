package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flusher and the test.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLogWriter: lines reach the output whole and in order, batched:
// after the interval, at once when the buffer bound is reached, and at
// Close.
func TestLogWriter(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		var out syncBuffer
		l := newLogWriter(&out, 20*time.Millisecond, 1<<20)
		defer l.Close()
		fmt.Fprintln(l, "one")
		fmt.Fprintln(l, "two")
		deadline := time.Now().Add(5 * time.Second)
		for out.String() == "" && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := out.String(); got != "one\ntwo\n" {
			t.Fatalf("after the interval: %q", got)
		}
	})
	t.Run("bound", func(t *testing.T) {
		var out syncBuffer
		l := newLogWriter(&out, time.Hour, 10)
		defer l.Close()
		fmt.Fprintln(l, "0123456789")
		if got := out.String(); got != "0123456789\n" {
			t.Fatalf("past the bound: %q", got)
		}
	})
	t.Run("after close", func(t *testing.T) {
		var out syncBuffer
		l := newLogWriter(&out, time.Hour, 1<<20)
		fmt.Fprintln(l, "before")
		l.Close()
		fmt.Fprintln(l, "after")
		l.Close() // twice: no panic
		if got := out.String(); got != "before\nafter\n" {
			t.Fatalf("around Close: %q", got)
		}
	})
	t.Run("close", func(t *testing.T) {
		var out syncBuffer
		l := newLogWriter(&out, time.Hour, 1<<20)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 100 {
					fmt.Fprintf(l, "g%d line %d\n", g, i)
				}
			})
		}
		wg.Wait()
		l.Close()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 800 || out.writes != 1 {
			t.Fatalf("%d lines in %d writes, want 800 in 1", len(lines), out.writes)
		}
		next := map[string]int{}
		for _, line := range lines {
			var g, i int
			if _, err := fmt.Sscanf(line, "g%d line %d", &g, &i); err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			if key := fmt.Sprint(g); i != next[key] {
				t.Fatalf("goroutine %d: line %d after %d", g, i, next[key]-1)
			} else {
				next[key]++
			}
		}
	})
}
