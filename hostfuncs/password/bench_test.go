package password

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/hostile"
)

func benchmarkVerify(b *testing.B, encoded, password string) {
	b.Helper()
	for b.Loop() {
		if ok, err := Verify(encoded, password); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

// BenchmarkVerifyBcrypt10 verifies the Openwall cost-10 vector.
func BenchmarkVerifyBcrypt10(b *testing.B) {
	benchmarkVerify(b, "$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq", "abcdefghijklmnopqrstuvwxyz")
}

// BenchmarkVerifyArgon2idDefault verifies a hash made with Hash's argon2id
// parameters (m=64 MiB, t=3, p=4).
func BenchmarkVerifyArgon2idDefault(b *testing.B) {
	h, err := Hash(Argon2id, "benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkVerify(b, h, "benchmark password")
}

// BenchmarkBudgetNeighbour: a tenant verifies a cost-10 bcrypt hash in a
// closed loop through a budget of one hash per core, alone and then while
// another tenant keeps 4 argon2id verifications (Hash's parameters, 4
// lanes: the whole budget on 2 cores) going at once. "fifo" gives both
// the same tenant name, which is the order the budget kept before it was
// fair (first come, first served); "fair" names them apart. It reports
// the neighbour's p99 in each phase and their ratio.
func BenchmarkBudgetNeighbour(b *testing.B) {
	const bcryptHash, bcryptPassword = "$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq", "abcdefghijklmnopqrstuvwxyz"
	argon, err := Hash(Argon2id, "attacker")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, attacker string }{{"fifo", "neighbour"}, {"fair", "attacker"}} {
		b.Run(c.name, func(b *testing.B) {
			budget := NewBudget(runtime.GOMAXPROCS(0))
			limits := func(tenant string) Limits {
				l := DefaultLimits()
				l.Budget, l.Tenant = budget, tenant
				return l
			}
			neighbour := func(d time.Duration) []time.Duration {
				return hostile.ClosedLoop(b, d, func() error {
					if ok, err := limits("neighbour").VerifyContext(context.Background(), bcryptHash, bcryptPassword); err != nil || !ok {
						return fmt.Errorf("neighbour: %v %v", ok, err)
					}
					return nil
				})
			}
			for b.Loop() {
				alone := neighbour(2 * time.Second)
				stop := make(chan struct{})
				done := hostile.Repeat(4, stop, func() bool {
					limits(c.attacker).VerifyContext(context.Background(), argon, "attacker")
					return true
				})
				time.Sleep(100 * time.Millisecond)
				under := neighbour(3 * time.Second)
				close(stop)
				<-done
				pa, pu := hostile.Percentile(alone, 99), hostile.Percentile(under, 99)
				b.ReportMetric(float64(pa.Microseconds())/1e3, "p99-alone-ms")
				b.ReportMetric(float64(pu.Microseconds())/1e3, "p99-attack-ms")
				b.ReportMetric(float64(pu)/float64(pa), "p99-ratio")
				b.ReportMetric(float64(len(under))/3, "neighbour-verifies/s")
			}
		})
	}
}
