package hostfuncs

import (
	"github.com/sluice-dev/sluice/hostfuncs/internal/httphost"
	"github.com/sluice-dev/sluice/hostfuncs/internal/mongohost"
	"github.com/sluice-dev/sluice/hostfuncs/internal/sqlhost"
)

// registerKinds installs every kind of host function.
func registerKinds(m *Manager) {
	m.kinds["password"] = passwordKind{}
	m.kinds["mongo"] = mongohost.New()
	m.kinds["http"] = httphost.New()
	m.kinds["sql"] = sqlhost.New()
}
