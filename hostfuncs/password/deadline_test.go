package password

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// done is a context that has already ended: a verifier under it checks
// every parameter and, when they pass, returns ErrCanceled instead of
// starting the hash. So the caps can be tested at their edges without
// the seconds of hashing they allow.
func done() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestCapsAtTheirEdges: a parameter at the cap passes (the hash would
// start), one past it is refused with ErrLimitExceeded naming the
// parameter and the cap.
func TestCapsAtTheirEdges(t *testing.T) {
	const (
		bcryptSum = "CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
		b64       = "c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
		scryptEnd = "aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"
		pbkdf2End = "4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"
		sha512Sum = "svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
		phpassEnd = "IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"
	)
	short := "password"
	tests := []struct {
		name, hash, password string
		over                 string // "" when the cap lets it through; else what the error says
	}{
		{"bcrypt 14", "$2a$14$" + bcryptSum, short, ""},
		{"bcrypt 15", "$2a$15$" + bcryptSum, short, "bcrypt cost 15 is over the host's cap of 14"},
		{"django bcrypt 15", "bcrypt$$2b$15$" + bcryptSum, short, "bcrypt cost 15 is over the host's cap of 14"},
		{"bcrypt 14, 72-byte password", "$2y$14$" + bcryptSum, strings.Repeat("p", 72), ""},

		{"argon2 256 MiB x 3", "$argon2id$v=19$m=262144,t=3,p=1$" + b64, short, ""},
		{"argon2 256 MiB x 4", "$argon2id$v=19$m=262144,t=4,p=1$" + b64, short, "argon2 work m*t (KiB times passes) 1048576 is over the host's cap of 786432"},
		{"argon2 48 MiB x 16", "$argon2i$v=19$m=49152,t=16,p=4$" + b64, short, ""},
		{"argon2 t 17", "$argon2id$v=19$m=8192,t=17,p=1$" + b64, short, "argon2 time 17 is over the host's cap of 16"},
		{"argon2 memory", "$argon2id$v=19$m=262145,t=1,p=1$" + b64, short, "argon2 memory KiB 262145 is over the host's cap of 262144"},
		{"argon2 threads", "$argon2id$v=19$m=65536,t=1,p=17$" + b64, short, "argon2 threads 17 is over the host's cap of 16"},
		{"argon2d libsodium sensitive", "$argon2d$v=19$m=1048576,t=4,p=1$" + b64, short, "argon2 memory KiB 1048576"},

		{"scrypt 256 MiB", "$scrypt$ln=18,r=8,p=1$" + scryptEnd, short, ""},
		{"scrypt 512 MiB", "$scrypt$ln=19,r=8,p=1$" + scryptEnd, short, "scrypt memory bytes 536870912 is over the host's cap of 268435456"},
		{"scrypt 64 MiB x 4", "$scrypt$ln=16,r=8,p=4$" + scryptEnd, short, ""},
		{"scrypt 64 MiB x 5", "$scrypt$ln=16,r=8,p=5$" + scryptEnd, short, "scrypt work 128*N*r*p bytes 335544320 is over the host's cap of 268435456"},

		{"pbkdf2 2,000,000", "$pbkdf2-sha512$2000000$" + pbkdf2End, short, ""},
		{"pbkdf2 2,000,001", "$pbkdf2-sha256$2000001$" + pbkdf2End, short, "pbkdf2 iterations 2000001 is over the host's cap of 2000000"},
		{"django pbkdf2 1,200,000", "pbkdf2_sha256$1200000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=", short, ""},

		{"sha512-crypt 2,000,000", "$6$rounds=2000000$saltstring$" + sha512Sum, short, ""},
		{"sha512-crypt 2,000,001", "$6$rounds=2000001$saltstring$" + sha512Sum, short, "sha-crypt rounds 2000001 is over the host's cap of 2000000"},
		{"sha512-crypt passlib, 100-byte password", "$6$rounds=656000$saltstring$" + sha512Sum, strings.Repeat("p", 100), ""},
		{"sha512-crypt passlib, 1024-byte password", "$6$rounds=656000$saltstring$" + sha512Sum, strings.Repeat("p", 1024),
			"sha-crypt rounds 656000 are over the host's cap of 235294 rounds for a 1024-byte password"},
		{"sha512-crypt 5000, 1024-byte password", "$6$saltstring$" + sha512Sum, strings.Repeat("p", 1024), ""},

		{"phpass 2^20", "$P$I" + phpassEnd, short, ""},
		{"phpass 2^20, 487-byte password", "$P$I" + phpassEnd, strings.Repeat("p", 487), ""},
		{"phpass 2^20, 488-byte password", "$P$I" + phpassEnd, strings.Repeat("p", 488),
			"phpass count 2^20 is over the host's cap of 932067 iterations for a 488-byte password"},
		{"phpass 2^21", "$P$J" + phpassEnd, short, "phpass log2 count 21 is over the host's cap of 20"},

		{"md5-crypt, 1024-byte password", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", strings.Repeat("p", 1024), ""},
		{"1025-byte password", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", strings.Repeat("p", 1025), "the password is 1025 bytes, over the host's cap of 1024"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Through the entry point for the password's length, then the
			// scheme under an ended context.
			if err := DefaultLimits().checkPassword(tc.password); err != nil {
				if tc.over == "" || !errors.Is(err, ErrLimitExceeded) || !strings.Contains(err.Error(), tc.over) {
					t.Fatalf("password check: %v, want %q", err, tc.over)
				}
				return
			}
			_, err := verifier{DefaultLimits(), done()}.verify(tc.hash, tc.password, 0)
			if tc.over == "" {
				if !errors.Is(err, ErrCanceled) {
					t.Fatalf("err = %v, want the caps to pass (ErrCanceled from the ended context)", err)
				}
				return
			}
			if !errors.Is(err, ErrLimitExceeded) || !strings.Contains(err.Error(), tc.over) {
				t.Fatalf("err = %v, want ErrLimitExceeded with %q", err, tc.over)
			}
		})
	}

	// Hash refuses what it cannot do within the caps.
	if _, err := HashContext(done(), SHA512Crypt, strings.Repeat("p", 200)); !errors.Is(err, ErrCanceled) {
		t.Errorf("HashContext(sha512-crypt, 200 bytes) = %v, want the caps to pass", err)
	}
	if _, err := HashContext(context.Background(), SHA512Crypt, strings.Repeat("p", 1000)); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("HashContext(sha512-crypt, 1000 bytes) = %v, want ErrLimitExceeded", err)
	}
	if _, err := HashContext(context.Background(), Argon2id, strings.Repeat("p", 1025)); !errors.Is(err, ErrLimitExceeded) {
		t.Errorf("HashContext(argon2id, 1025 bytes) = %v, want ErrLimitExceeded", err)
	}
}

// waitIdle waits until no hash holds any of b (abandoned hashes run to
// their end).
func waitIdle(t *testing.T, b *Budget) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		used, tenants := b.used, len(b.tenants)
		b.mu.Unlock()
		if used == 0 && tenants == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hashing budget stayed busy for 30 s (%d held, %d tenants)", used, tenants)
		}
	}
}

// TestDeadline: VerifyContext and HashContext return ErrCanceled at the
// context's deadline, long before the hash would end.
func TestDeadline(t *testing.T) {
	tests := []struct {
		name   string
		run    func(ctx context.Context) error
		within time.Duration
	}{
		{"verify bcrypt 14", func(ctx context.Context) error {
			_, err := VerifyContext(ctx, "$2a$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "password")
			return err
		}, 100 * time.Millisecond},
		{"verify argon2id 256 MiB x 3", func(ctx context.Context) error {
			_, err := VerifyContext(ctx, "$argon2id$v=19$m=262144,t=3,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password")
			return err
		}, 100 * time.Millisecond},
		{"hash argon2id", func(ctx context.Context) error {
			_, err := HashContext(ctx, Argon2id, "password")
			return err
		}, 20 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.within)
			defer cancel()
			start := time.Now()
			err := tc.run(ctx)
			late := time.Since(start) - tc.within
			if !errors.Is(err, ErrCanceled) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrCanceled wrapping the deadline", err)
			}
			// The deadline plus scheduling: the hash's own threads keep
			// the (shared, 2-core) machine's cores busy meanwhile.
			if late > 100*time.Millisecond {
				t.Errorf("returned %v after the deadline", late)
			}
			t.Logf("returned %v after the deadline", late.Round(time.Millisecond))
		})
	}
	// Past its deadline nothing starts at all.
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := HashContext(ctx, Bcrypt, "password"); !errors.Is(err, ErrCanceled) {
		t.Errorf("HashContext past the deadline = %v", err)
	}
}

// TestBudget: abandoned hashes keep their share of the budget until they
// end, so at most one per core of them run; a hash arriving while they do
// waits, and ends at its own deadline without starting.
func TestBudget(t *testing.T) {
	b := NewBudget(2)
	release := make(chan struct{})
	var running atomic.Int32
	for range b.slots {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			errc <- b.run(ctx, "", 0, nil, func() {
				running.Add(1)
				close(started)
				<-release
				running.Add(-1)
			})
		}()
		<-started
		cancel() // the caller gives up; the "hash" runs on
		if err := <-errc; !errors.Is(err, ErrCanceled) {
			t.Fatalf("abandoned run = %v", err)
		}
	}
	if n := running.Load(); n != int32(b.slots) {
		t.Fatalf("%d abandoned hashes running, want %d", n, b.slots)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var startedLate atomic.Bool
	start := time.Now()
	err := b.run(ctx, "", 0, nil, func() { startedLate.Store(true) })
	if !errors.Is(err, ErrCanceled) || startedLate.Load() {
		t.Fatalf("run with the budget used up = %v (started: %v), want ErrCanceled without starting", err, startedLate.Load())
	}
	// The hashes holding the budget never end on their own (release is
	// still open): returning at all means it returned at its deadline.
	// The bound is only against hanging, not a timing claim.
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %v for a 50 ms deadline", d)
	}
	// A large hash takes more of the budget.
	if big := b.coreShare + 1<<20; b.weight(big) != big || b.weight(0) != b.coreShare {
		t.Errorf("weights: %d bytes %d, none %d", big, b.weight(big), b.weight(0))
	}

	close(release)
	waitIdle(t, b)
	ran := false
	if err := b.run(context.Background(), "", 0, nil, func() { ran = true }); err != nil || !ran {
		t.Fatalf("run after the abandoned hashes ended = %v, ran %v", err, ran)
	}
}

// TestRunPanics: a panic while hashing is an error, not a crash.
func TestRunPanics(t *testing.T) {
	err := NewBudget(1).run(context.Background(), "", 0, nil, func() { panic("boom") })
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

// TestBudgetFairBetweenTenants: a tenant that keeps the budget busy with
// queued hashes does not make another tenant's hash wait behind all of
// them: a free share goes to the waiting tenant holding the least of the
// budget, and between equals to the one served least recently.
func TestBudgetFairBetweenTenants(t *testing.T) {
	b := NewBudget(1)
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	start := func(tenant, name string, f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.run(context.Background(), tenant, 0, nil, func() {
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				if f != nil {
					f()
				}
			}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	running := make(chan struct{})
	start("a", "a1", func() { close(running); <-gate })
	<-running
	for i, name := range []string{"a2", "a3", "a4"} {
		start("a", name, nil)
		waitQueued(t, b, i+1)
	}
	start("b", "b1", nil)
	waitQueued(t, b, 4)
	close(gate)
	wg.Wait()
	if got := strings.Join(order, " "); got != "a1 b1 a2 a3 a4" {
		t.Errorf("hashes ran in the order %s, want a1 b1 a2 a3 a4", got)
	}
	waitIdle(t, b)
}

// waitQueued waits until n hashes wait in b.
func waitQueued(t *testing.T, b *Budget, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); b.queued() != n; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d hashes queued, want %d", b.queued(), n)
		}
	}
}

// TestBudgetNoStarvation: two tenants hashing one at a time, in turns, so
// that one of them always holds a share and the other waits, do not keep
// a third tenant's hash needing the whole budget waiting for ever: a
// tenant met anew ranks after one that has waited since its last hash.
func TestBudgetNoStarvation(t *testing.T) {
	b := NewBudget(2)
	share, whole := b.coreShare, b.memory
	bg := context.Background()
	for _, tenant := range []string{"b", "large"} {
		if err := b.acquire(bg, tenant, share); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	large := make(chan error, 1)
	go func() { large <- b.acquire(ctx, "large", whole) }()
	waitQueued(t, b, 1)
	b.release("large", share) // it holds nothing now, and waits for the whole budget

	running := []string{"b"} // the serial tenants holding a share
	for i := range 100 {
		next := map[string]string{"b": "d", "d": "b"}[running[len(running)-1]]
		got := make(chan error, 1)
		go func() { got <- b.acquire(bg, next, share) }()
		granted := false
		for !granted && b.queued() != 2 { // granted at once, or queued behind the large hash
			select {
			case <-got:
				granted = true
			case <-time.After(100 * time.Microsecond):
			}
		}
		b.release(running[0], share)
		running = running[1:]
		if granted {
			running = append(running, next)
			continue
		}
		select {
		case err := <-large:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("the large hash was granted after %d turns of the others", i)
			b.release("large", whole)
			<-got
			b.release(next, share)
			for _, r := range running {
				b.release(r, share)
			}
			waitIdle(t, b)
			return
		case <-got:
			running = append(running, next)
		case <-time.After(10 * time.Second):
			t.Fatal("no hash was granted")
		}
	}
	t.Fatalf("the large hash still waited after 100 turns of two serial tenants")
}

// TestBudgetReportsWork: every hash run within the budget reports its
// CPU time, its run time times the cores its share of the budget stands
// for, also when its caller gave up before it ended.
func TestBudgetReportsWork(t *testing.T) {
	b := NewBudget(2)
	for _, tc := range []struct {
		name    string
		mem     int64
		abandon bool
		cores   time.Duration
	}{
		{"one core", 0, false, 1},
		{"abandoned", 0, true, 1},
		{"two cores of memory", b.memory, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const ran = 20 * time.Millisecond
			reported := make(chan time.Duration, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				errc <- b.run(ctx, "t", tc.mem, func(d time.Duration) { reported <- d }, func() {
					close(started)
					time.Sleep(ran)
				})
			}()
			<-started
			if tc.abandon {
				cancel()
			}
			err := <-errc
			if tc.abandon != errors.Is(err, ErrCanceled) {
				t.Fatalf("run = %v", err)
			}
			if d := <-reported; d < tc.cores*ran {
				t.Errorf("reported %v of CPU for a %v hash on %d cores", d, ran, tc.cores)
			}
		})
	}
}
