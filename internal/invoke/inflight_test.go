package invoke

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestInflight: wait returns at once with nothing running, times out
// while something runs, returns when it ends, and the counter works on
// after a wait that timed out (a sync.WaitGroup would panic there).
func TestInflight(t *testing.T) {
	var f inflight
	expired := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	steps := []struct {
		name string
		do   func()
		want error
	}{
		{"idle", func() {}, nil},
		{"one running", f.add, context.DeadlineExceeded},
		{"two running", f.add, context.DeadlineExceeded},
		{"one left", f.done, context.DeadlineExceeded},
		{"none left", f.done, nil},
		{"again after a timed-out wait", func() { f.add(); f.done() }, nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.do()
			if err := f.wait(expired()); !errors.Is(err, s.want) {
				t.Errorf("wait = %v, want %v", err, s.want)
			}
		})
	}

	f.add()
	done := make(chan error)
	go func() { done <- f.wait(context.Background()) }()
	time.Sleep(10 * time.Millisecond)
	f.done()
	if err := <-done; err != nil {
		t.Errorf("wait across done: %v", err)
	}
}
