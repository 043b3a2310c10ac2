package hostfuncs

import (
	"runtime"

	"github.com/sluice-dev/sluice/hostfuncs/internal/httphost"
	"github.com/sluice-dev/sluice/hostfuncs/internal/mongohost"
	"github.com/sluice-dev/sluice/hostfuncs/internal/sqlhost"
	"github.com/sluice-dev/sluice/hostfuncs/password"
)

// registerKinds installs every kind of host function.
func registerKinds(m *Manager) {
	m.kinds["password"] = passwordKind{limits: m.passwordLimits()}
	m.kinds["mongo"] = mongohost.New()
	m.kinds["http"] = httphost.New()
	m.kinds["sql"] = sqlhost.New()
}

// passwordLimits are the password host calls' limits, with a hashing
// budget of this Manager's own: one hash per core at once.
func (m *Manager) passwordLimits() password.Limits {
	l := password.DefaultLimits()
	l.Budget = password.NewBudget(runtime.GOMAXPROCS(0))
	return l
}
