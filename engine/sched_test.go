package engine

import (
	"context"
	"testing"
	"time"
)

func mustAcquire(t *testing.T, s *scheduler, tenant string) *ticket {
	t.Helper()
	tk, err := s.acquire(context.Background(), tenant, 0, time.Now().Add(time.Second))
	if err != nil {
		t.Fatalf("acquire %s: %v", tenant, err)
	}
	return tk
}

// acquireAsync starts an acquire and returns where its outcome arrives.
func acquireAsync(s *scheduler, tenant string, deadline time.Time) chan *Error {
	ch := make(chan *Error, 1)
	go func() {
		tk, err := s.acquire(context.Background(), tenant, 0, deadline)
		if err == nil {
			defer s.release(tk)
		}
		ch <- err
	}()
	return ch
}

func waitForWaiters(t *testing.T, s *scheduler, n int32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.waiters.Load() != n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waiters %d, want %d", s.waiters.Load(), n)
		}
	}
}

func TestSchedulerHandsASlotToATenantWithNone(t *testing.T) {
	s := newScheduler(2, 100, time.Hour) // a slice that never ends
	a1, a2 := mustAcquire(t, s, "a"), mustAcquire(t, s, "a")
	got := acquireAsync(s, "b", time.Now().Add(5*time.Second))
	waitForWaiters(t, s, 1)
	// a holds both slots and b none: a's next yield gives one up at
	// once, whatever the slice, and waits for it back.
	yielded := make(chan *Error, 1)
	go func() { yielded <- s.yield(context.Background(), a1, time.Now().Add(5*time.Second), time.Now()) }()
	if err := <-got; err != nil {
		t.Fatalf("b: %v", err)
	}
	if err := <-yielded; err != nil {
		t.Fatalf("a's yield: %v", err)
	}
	s.release(a1)
	s.release(a2)
	if s.busy != 0 || s.waiters.Load() != 0 {
		t.Fatalf("busy %d waiting %d after all released", s.busy, s.waiters.Load())
	}
}

func TestSchedulerKeepsARecentTenantsShare(t *testing.T) {
	s := newScheduler(2, 100, time.Hour)
	b := mustAcquire(t, s, "b")
	s.release(b) // b ran just now: it keeps one of the two slots
	a1 := mustAcquire(t, s, "a")
	got := acquireAsync(s, "a", time.Now().Add(20*time.Millisecond))
	if err := <-got; err == nil || err.Code != CodeTimeout {
		t.Fatalf("a's second slot while b is recent: %v, want timeout", err)
	}
	// Once b has been idle for longer than recent, a may take both.
	time.Sleep(2 * s.recent)
	a2 := mustAcquire(t, s, "a")
	s.release(a1)
	s.release(a2)
}

func TestSchedulerQueueBounds(t *testing.T) {
	s := newScheduler(1, 3, time.Hour)
	hold := mustAcquire(t, s, "a")
	defer s.release(hold)
	far := time.Now().Add(10 * time.Second)
	var waiting []chan *Error
	for i := 0; i < 3; i++ {
		waiting = append(waiting, acquireAsync(s, "b", far))
	}
	waitForWaiters(t, s, 3)
	if _, err := s.acquire(context.Background(), "c", 0, far); err == nil || err.Code != CodeQuotaExceeded {
		t.Fatalf("over the node's queue: %v, want quota_exceeded", err)
	}
	// Canceling a waiter frees its place.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.acquire(ctx, "c", 0, far); err == nil {
		t.Fatal("acquire on a canceled context succeeded")
	}
	s.release(hold)
	hold = mustAcquire(t, s, "z") // granted after the three waiters
	for _, w := range waiting {
		if err := <-w; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
}

func TestSchedulerPerTenantQueueBound(t *testing.T) {
	s := newScheduler(1, 1000, time.Hour)
	hold := mustAcquire(t, s, "a")
	far := time.Now().Add(10 * time.Second)
	var waiting []chan *Error
	for i := 0; i < maxQueuedPerTenant; i++ {
		waiting = append(waiting, acquireAsync(s, "a", far))
	}
	waitForWaiters(t, s, maxQueuedPerTenant)
	if _, err := s.acquire(context.Background(), "a", 0, far); err == nil || err.Code != CodeQuotaExceeded {
		t.Fatalf("a's call past its queue bound: %v, want quota_exceeded", err)
	}
	neighbour := acquireAsync(s, "b", far) // b still queues
	waitForWaiters(t, s, maxQueuedPerTenant+1)
	s.release(hold)
	if err := <-neighbour; err != nil {
		t.Fatalf("neighbour: %v", err)
	}
	for _, w := range waiting {
		<-w
	}
}

func TestSchedulerCPUBudget(t *testing.T) {
	s := newScheduler(1, 10, time.Hour)
	budget := 20 * time.Millisecond
	tk, err := s.acquire(context.Background(), "a", budget, time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	tk.charged = time.Now().Add(-5 * time.Millisecond) // it ran 5ms
	if err := s.yield(context.Background(), tk, time.Now().Add(time.Second), time.Now()); err != nil {
		t.Fatalf("within the budget: %v", err)
	}
	tk.charged = time.Now().Add(-50 * time.Millisecond)
	if err := s.yield(context.Background(), tk, time.Now().Add(time.Second), time.Now()); err == nil || err.Code != CodeQuotaExceeded {
		t.Fatalf("past the budget: %v, want quota_exceeded", err)
	}
	s.release(tk)
	if _, err := s.acquire(context.Background(), "a", budget, time.Now().Add(time.Second)); err == nil || err.Code != CodeQuotaExceeded {
		t.Fatalf("a new call with the budget used up: %v, want quota_exceeded", err)
	}
	if tk, err := s.acquire(context.Background(), "b", budget, time.Now().Add(time.Second)); err != nil {
		t.Fatalf("another tenant: %v", err)
	} else {
		s.release(tk)
	}
}

// TestSchedulerResumeIsNotRefused: a call taking its slot back after a
// host call waits in a full queue rather than being refused: it was
// admitted, and has done the host call's work.
func TestSchedulerResumeIsNotRefused(t *testing.T) {
	s := newScheduler(1, 2, time.Hour)
	resuming := mustAcquire(t, s, "a")
	s.release(resuming) // as for a host call
	hold := mustAcquire(t, s, "b")
	far := time.Now().Add(10 * time.Second)
	waiting := []chan *Error{acquireAsync(s, "c", far), acquireAsync(s, "c", far)}
	waitForWaiters(t, s, 2)
	if _, err := s.acquire(context.Background(), "d", 0, far); err == nil || err.Code != CodeQuotaExceeded {
		t.Fatalf("a new call over the node's queue: %v, want quota_exceeded", err)
	}
	back := make(chan *Error, 1)
	go func() { back <- s.reacquire(context.Background(), resuming, far) }()
	waitForWaiters(t, s, 3)
	s.release(hold)
	if err := <-back; err != nil {
		t.Fatalf("resuming over a full queue: %v", err)
	}
	s.release(resuming)
	for _, w := range waiting {
		if err := <-w; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	}
}
