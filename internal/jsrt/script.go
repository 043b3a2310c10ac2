package jsrt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/sluice-dev/sluice/engine"
)

// Script is a checked JavaScript connector.
type Script struct {
	Source     []byte
	Info       engine.ModuleInfo // SHA256 and Size are the script's; Functions those it serves
	Inspection *Inspection
	source     string // Source as the instances' environment takes it, made once
}

// Inspect checks src by inspecting it in the runtime module rt of eng on
// behalf of tenant, under limits: text, syntax, required modules and
// functions. It fails with jsrt.ErrNotText, a *SyntaxError, an
// *UnsupportedModuleError or an *engine.ModuleError.
func Inspect(ctx context.Context, eng *engine.Engine, rt *engine.Module, tenant string, src []byte, limits engine.Limits) (*Script, error) {
	if err := CheckText(src); err != nil {
		return nil, err
	}
	if max := eng.Config().MaxModuleBytes; len(src) > max {
		return nil, &engine.ModuleError{Reason: fmt.Sprintf("script is %d bytes, over the limit of %d", len(src), max), TooLarge: true}
	}
	sum := sha256.Sum256(src)
	hexSum := hex.EncodeToString(sum[:])
	pool := "inspect" + poolSuffix(hexSum)
	res, err := eng.Call(ctx, rt, engine.Request{
		Tenant: tenant, Pool: pool, Function: InspectFunction, Input: []byte(InspectInput),
		Env:    map[string]string{EnvSource: string(src), EnvInspect: "1"},
		Limits: limits, Quiet: true,
	})
	eng.Evict(context.WithoutCancel(ctx), tenant, pool)
	if err != nil {
		if res != nil && res.Error != nil {
			return nil, &engine.ModuleError{Reason: "the JavaScript runtime could not inspect the script: " + res.Error.Message}
		}
		return nil, err
	}
	insp, err := ParseInspection(res.Output)
	if err != nil {
		return nil, err
	}
	if len(insp.Functions) == 0 {
		return nil, &engine.ModuleError{Reason: "the script defines none of the connector functions (login, getUser, searchUser, createUser, updateUser, deleteUser, listUsers, validatePassword; or Auth0's login, getByEmail, create, remove) at its top level"}
	}
	return &Script{Source: src, source: string(src), Inspection: insp, Info: engine.ModuleInfo{
		SHA256: hexSum, Size: len(src), ABIVersion: engine.ABIVersion,
		Functions: insp.Functions, Imports: []string{},
	}}, nil
}

// poolSuffix keeps the instances of different scripts apart: they share
// the runtime module, and an instance holds its script.
func poolSuffix(sum string) string { return "#js:" + sum[:16] }

// Prepare makes req a call of the script in the runtime module: its
// environment carries the script and its pool is the script's. ok is
// false when the script lacks req.Function; res then answers the call
// (not_implemented, as for a module without the export).
func (s *Script) Prepare(req *engine.Request) (res *engine.Result, ok bool) {
	if engine.IsFunction(req.Function) && !slices.Contains(s.Info.Functions, req.Function) {
		return &engine.Result{Error: engine.NotImplemented(req.Function), Logs: []engine.LogEntry{}, Trace: []engine.HostCall{}}, false
	}
	src := s.source
	if src == "" {
		src = string(s.Source)
	}
	req.Env = withSource(req.Env, src) // no copy of the script per call
	req.Pool += poolSuffix(s.Info.SHA256)
	return nil, true
}
