package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsrt"
)

// A JavaScript connector is stored like a module (its version's SHA-256
// and bytes are the script's) and runs in the one runtime module of
// package jsrt: the script travels in the instance's environment, so
// each script has its own instance pool, and the runtime compiles it
// once per instance.

// script is a loaded JavaScript connector.
type script = jsrt.Script

// runtimeModule returns the compiled JavaScript runtime, loading it the
// first time (the engine's disk caches make later starts quick).
func (r *Runner) runtimeModule(ctx context.Context, tenant string) (*engine.Module, error) {
	r.mu.Lock()
	if r.jsRuntime != nil {
		m := r.jsRuntime
		r.mu.Unlock()
		return m, nil
	}
	wasm := r.jsWasm
	r.mu.Unlock()
	if wasm == nil {
		var err error
		if wasm, err = jsrt.Module(); err != nil {
			return nil, err
		}
	}
	m, err := r.cfg.Engine.LoadFor(ctx, tenant, wasm)
	if err != nil {
		return nil, fmt.Errorf("invoke: the JavaScript runtime: %w", err)
	}
	r.mu.Lock()
	r.jsWasm, r.jsRuntime = wasm, m
	r.mu.Unlock()
	return m, nil
}

// WarmJavaScript compiles and loads the JavaScript runtime module now
// (serve does, in the background at start), so the node's first script
// upload finds it ready; an upload meanwhile waits for the same compile.
func (r *Runner) WarmJavaScript(ctx context.Context) error {
	_, err := r.runtimeModule(ctx, "")
	return err
}

// forgetRuntime drops a runtime module the engine released.
func (r *Runner) forgetRuntime() {
	r.mu.Lock()
	r.jsRuntime = nil
	r.mu.Unlock()
}

// LoadScript checks a JavaScript connector (text, syntax, required
// modules, functions) by inspecting it in the runtime under the
// engine's limits, and keeps it for the calls of every version with this
// content. A script that fails is a *jsrt.SyntaxError, a
// *jsrt.UnsupportedModuleError or jsrt.ErrNotText.
func (r *Runner) LoadScript(ctx context.Context, tenant string, src []byte) (*engine.ModuleInfo, error) {
	sc, err := r.loadScript(ctx, tenant, src)
	if err != nil {
		return nil, err
	}
	info := sc.Info
	return &info, nil
}

func (r *Runner) loadScript(ctx context.Context, tenant string, src []byte) (*script, error) {
	if err := jsrt.CheckText(src); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	hexSum := hex.EncodeToString(sum[:])
	r.mu.Lock()
	sc, ok := r.scripts[hexSum]
	r.mu.Unlock()
	if ok {
		return sc, nil
	}
	rt, err := r.runtimeModule(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if sc, err = jsrt.Inspect(ctx, r.cfg.Engine, rt, tenant, src, r.cfg.Limits); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.scripts) > maxVersions {
		clear(r.scripts)
	}
	r.scripts[hexSum] = sc
	r.mu.Unlock()
	return sc, nil
}
