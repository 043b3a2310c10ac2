package invoke

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsrt"
	"github.com/sluice-dev/sluice/store"
)

// versionKey names one version of one incarnation of a connection: a
// version's module never changes, and a connection deleted and created
// again has a new CreatedAt.
type versionKey struct {
	tenant, conn string
	created      int64
	version      int
}

// maxVersions bounds the version cache; past it the cache starts over.
const maxVersions = 100000

// versionSHA returns the module SHA-256 of version (0: the active one) of
// conn, from the store the first time.
func (r *Runner) versionSHA(ctx context.Context, conn store.Connection, version int) (string, error) {
	if version == 0 {
		version = conn.ActiveVersion
	}
	if version == 0 {
		return "", &VersionError{Connection: conn.Name, Err: ErrNoActiveVersion}
	}
	k := versionKey{conn.Tenant, conn.Name, conn.CreatedAt.UnixNano(), version}
	r.mu.Lock()
	sum, ok := r.versions[k]
	r.mu.Unlock()
	if ok {
		return sum, nil
	}
	v, err := r.cfg.Store.GetVersion(ctx, conn.Tenant, conn.Name, version)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", &VersionError{Connection: conn.Name, Version: version, Err: ErrNoSuchVersion}
		}
		return "", fmt.Errorf("invoke: version %d of %s: %w", version, conn.Name, err)
	}
	r.mu.Lock()
	if len(r.versions) > maxVersions {
		clear(r.versions)
	}
	r.versions[k] = v.SHA256
	r.mu.Unlock()
	return v.SHA256, nil
}

// Load compiles wasm (once per content) and keeps the module for the
// calls of every version with this content: an upload loads its module
// before storing it. A module that does not validate is an
// *engine.ModuleError.
func (r *Runner) Load(ctx context.Context, tenant string, wasm []byte) (*engine.ModuleInfo, error) {
	mod, err := r.load(ctx, tenant, wasm)
	if err != nil {
		return nil, err
	}
	return mod.Info(), nil
}

func (r *Runner) load(ctx context.Context, tenant string, wasm []byte) (*engine.Module, error) {
	mod, err := r.cfg.Engine.LoadFor(ctx, tenant, wasm)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.modules[mod.Info().SHA256] = mod
	r.mu.Unlock()
	return mod, nil
}

// forgetModule drops a module the engine released.
func (r *Runner) forgetModule(sum string) {
	r.mu.Lock()
	delete(r.modules, sum)
	r.mu.Unlock()
}

// module returns the compiled module whose SHA-256 is sum, loading its
// bytes from the store the first time, on behalf of tenant. For a
// JavaScript connector it is the runtime module, and sc is the script.
func (r *Runner) module(ctx context.Context, tenant, sum string) (mod *engine.Module, sc *script, err error) {
	r.mu.Lock()
	mod, ok := r.modules[sum]
	if !ok {
		sc = r.scripts[sum]
	}
	r.mu.Unlock()
	if ok {
		return mod, nil, nil
	}
	if sc == nil {
		b, err := r.cfg.Store.ModuleBytes(ctx, sum)
		if err != nil {
			return nil, nil, fmt.Errorf("invoke: module %s: %w", sum, err)
		}
		if !jsrt.IsScript(b) {
			mod, err = r.load(ctx, tenant, b)
			return mod, nil, err
		}
		if sc, err = r.loadScript(ctx, tenant, b); err != nil {
			return nil, nil, err
		}
	}
	mod, err = r.runtimeModule(ctx, tenant)
	return mod, sc, err
}
