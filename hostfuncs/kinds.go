package hostfuncs

// registerKinds installs every kind of host function.
func registerKinds(m *Manager) {
	m.kinds["password"] = passwordKind{}
}
