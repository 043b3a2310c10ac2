package main

import (
	"io"
	"sync"
	"time"
)

// logWriter batches the server's log lines: they reach w every interval,
// or as soon as maxBuffered bytes wait, and at Close. One write system
// call per request (the access log) cost about 2% of a lookup's CPU;
// a line waits at most interval. A slow w (a full pipe) holds up the
// flush, not the requests, until maxBuffered bytes wait.
type logWriter struct {
	w           io.Writer
	maxBuffered int
	stop        chan struct{}
	done        chan struct{}
	closeOnce   sync.Once

	mu     sync.Mutex
	buf    []byte // lines not yet written
	spare  []byte // the buffer last written, for reuse
	closed bool   // after Close lines are written at once

	flushMu sync.Mutex // one flush at a time, in order
}

func newLogWriter(w io.Writer, interval time.Duration, maxBuffered int) *logWriter {
	l := &logWriter{w: w, maxBuffered: maxBuffered, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				l.flush()
				return
			case <-t.C:
				l.flush()
			}
		}
	}()
	return l
}

// Write keeps p (slog writes one whole line per call).
func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	full := len(l.buf) >= l.maxBuffered || l.closed
	l.mu.Unlock()
	if full {
		l.flush()
	}
	return len(p), nil
}

// flush writes what waits (also before a message written to the same
// output past the log, so that it comes after the lines before it).
func (l *logWriter) flush() {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	out := l.buf
	l.buf, l.spare = l.spare[:0], nil
	l.mu.Unlock()
	if len(out) == 0 {
		return
	}
	l.w.Write(out)
	if cap(out) <= 4*l.maxBuffered { // a burst's buffer is not kept
		l.mu.Lock()
		l.spare = out[:0]
		l.mu.Unlock()
	}
}

// Close writes what waits and stops the flushing; lines written after
// it go out at once.
func (l *logWriter) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.stop)
	})
	<-l.done
	return nil
}
