package invoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsrt"
)

// A JavaScript connector is stored like a module (its version's SHA-256
// and bytes are the script's) and runs in the one runtime module of
// package jsrt: the script travels in the instance's environment, so
// each script has its own instance pool, and the runtime compiles it
// once per instance.

// script is a loaded JavaScript connector.
type script struct {
	src  []byte
	info engine.ModuleInfo
}

// jsPoolSuffix keeps the instances of different scripts apart: they
// share the runtime module, and an instance holds its script.
func jsPoolSuffix(sum string) string { return "#js:" + sum[:16] }

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
	info := sc.info
	return &info, nil
}

func (r *Runner) loadScript(ctx context.Context, tenant string, src []byte) (*script, error) {
	if err := jsrt.CheckText(src); err != nil {
		return nil, err
	}
	if len(src) > r.cfg.Engine.Config().MaxModuleBytes {
		return nil, &engine.ModuleError{Reason: fmt.Sprintf("script is %d bytes, over the limit of %d", len(src), r.cfg.Engine.Config().MaxModuleBytes), TooLarge: true}
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
	pool := "inspect" + jsPoolSuffix(hexSum)
	res, err := r.cfg.Engine.Call(ctx, rt, engine.Request{
		Tenant: tenant, Pool: pool, Function: jsrt.InspectFunction, Input: []byte(jsrt.InspectInput),
		Env:    map[string]string{jsrt.EnvSource: string(src), jsrt.EnvInspect: "1"},
		Limits: r.cfg.Limits, Quiet: true,
	})
	r.cfg.Engine.Evict(context.WithoutCancel(ctx), tenant, pool)
	if err != nil {
		if res != nil && res.Error != nil {
			return nil, &engine.ModuleError{Reason: "the JavaScript runtime could not inspect the script: " + res.Error.Message}
		}
		return nil, err
	}
	insp, err := jsrt.ParseInspection(res.Output)
	if err != nil {
		return nil, err
	}
	sc = &script{src: src, info: engine.ModuleInfo{
		SHA256: hexSum, Size: len(src), ABIVersion: engine.ABIVersion,
		Functions: insp.Functions, Imports: []string{},
	}}
	if len(sc.info.Functions) == 0 {
		return nil, &engine.ModuleError{Reason: "the script defines none of the connector functions (login, getUser, searchUser, createUser, updateUser, deleteUser, listUsers, validatePassword; or Auth0's login, getByEmail, create, remove) at its top level"}
	}
	r.mu.Lock()
	if len(r.scripts) > maxVersions {
		clear(r.scripts)
	}
	r.scripts[hexSum] = sc
	r.mu.Unlock()
	return sc, nil
}

// scriptRequest makes req a call of script sc in the runtime; ok is
// false when the script lacks the function (res then answers it).
func scriptRequest(req *engine.Request, sc *script) (res *engine.Result, ok bool) {
	if engine.IsFunction(req.Function) && !slices.Contains(sc.info.Functions, req.Function) {
		e := engine.NotImplemented(req.Function)
		return &engine.Result{Error: e, Logs: []engine.LogEntry{}, Trace: []engine.HostCall{}}, false
	}
	req.Env = jsrt.Env(req.Env, sc.src)
	req.Pool += jsPoolSuffix(sc.info.SHA256)
	return nil, true
}
