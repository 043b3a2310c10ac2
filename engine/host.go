package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// hostModule is the import module name of the guest ABI.
const hostModule = "sluice"

var logLevels = [...]string{"debug", "info", "warn", "error"}

func instantiateHostModule(ctx context.Context, r wazero.Runtime) (api.Module, error) {
	i32 := api.ValueTypeI32
	b := r.NewHostModuleBuilder(hostModule)
	export := func(name string, fn api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).Export(name)
	}
	export("input_read", inputRead, []api.ValueType{i32}, nil)
	export("output_write", outputWrite, []api.ValueType{i32, i32}, nil)
	export("log", logLine, []api.ValueType{i32, i32, i32}, nil)
	export("host_call", hostCall, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	export("host_response_read", hostResponseRead, []api.ValueType{i32}, nil)
	return b.Instantiate(ctx)
}

// instantiateYieldModule provides the function instrumented code calls
// when its fuel runs out (wasmbin.Instrument). Guests cannot import it:
// validation only lets through the ABI's and WASI's functions.
func instantiateYieldModule(ctx context.Context, r wazero.Runtime, fuel int64) (api.Module, error) {
	yield := func(ctx context.Context, mod api.Module, stack []uint64) {
		st := callFrom(ctx, mod)
		if err := st.checkpoint(); err != nil {
			st.fail(ctx, mod, err)
		}
		stack[0] = uint64(fuel)
	}
	return r.NewHostModuleBuilder(wasmbin.YieldModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(yield), nil, []api.ValueType{api.ValueTypeI64}).
		Export(wasmbin.YieldName).
		Instantiate(ctx)
}

// callFrom returns the call a host function serves. Guest code runs only
// within calls; a host function reached outside one ends the instance.
func callFrom(ctx context.Context, mod api.Module) *callState {
	st := stateOf(ctx)
	if st == nil {
		_ = mod.CloseWithExitCode(ctx, exitAborted)
		panic(errors.New("sluice host functions can only be used during a call"))
	}
	return st
}

// checked is callFrom for the ABI's functions, after the call's
// checkpoint: a call past its deadline, canceled or over a limit ends
// here, before the function does any work.
func checked(ctx context.Context, mod api.Module) *callState {
	st := callFrom(ctx, mod)
	if err := st.checkpoint(); err != nil {
		st.fail(ctx, mod, err)
	}
	return st
}

type chargeKey struct{}

// charger charges a call's tenant for CPU work its host calls did.
type charger struct {
	s      *scheduler
	tenant string
	budget time.Duration
}

// ChargeCPU counts d of CPU time that a host function did for the call
// of ctx (the context HostCall was given), a password hash for
// instance, against the call's tenant's CPU budget (Limits.CPUPerMinute),
// as guest time is. It may be called after HostCall returned, by work
// that ran on past the call's deadline; without a budget it does
// nothing.
func ChargeCPU(ctx context.Context, d time.Duration) {
	if c, ok := ctx.Value(chargeKey{}).(charger); ok {
		c.s.charge(c.tenant, c.budget, d)
	}
}

func inputRead(ctx context.Context, mod api.Module, stack []uint64) {
	st := checked(ctx, mod)
	st.copied(ctx, mod, "input_read", &st.inputBytes, len(st.req.Input), copiesPerCall*st.limits.MaxInputBytes)
	if !mod.Memory().Write(api.DecodeU32(stack[0]), st.req.Input) {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "input_read: pointer out of memory bounds"))
	}
}

// copiesPerCall bounds the bytes a call may move through input_read and
// output_write in all, as a multiple of the input and output limits, and
// through host_response_read, of its host-bytes limit: each is a copy of
// up to a MiB or more, and a guest repeating one in a loop would
// otherwise be a memory-bandwidth flood no checkpoint sees.
const copiesPerCall = 4

// copied counts n more bytes moved by fn in this call (in *counter)
// against limit; past it the call ends as resource_exhausted.
func (st *callState) copied(ctx context.Context, mod api.Module, fn string, counter *int, n, limit int) {
	*counter += n
	if *counter > limit {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "%s moved %d bytes in this call, over %d (%d times its limit): a connector reads its input and each answer, and writes its output, once", fn, *counter, limit, copiesPerCall))
	}
}

func outputWrite(ctx context.Context, mod api.Module, stack []uint64) {
	st := checked(ctx, mod)
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if int(n) > st.limits.MaxOutputBytes {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "output is %d bytes, over the limit of %d", n, st.limits.MaxOutputBytes))
	}
	st.copied(ctx, mod, "output_write", &st.outputBytes, int(n), copiesPerCall*st.limits.MaxOutputBytes)
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "output_write: range out of memory bounds"))
	}
	st.output = append(st.output[:0], b...)
	st.outputSet = true
}

func logLine(ctx context.Context, mod api.Module, stack []uint64) {
	st := checked(ctx, mod)
	level, ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if int(n) > st.limits.MaxLogBytes {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "log limit of %d bytes reached", st.limits.MaxLogBytes))
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "log: range out of memory bounds"))
	}
	if level >= uint32(len(logLevels)) {
		level = 1
	}
	if !st.log("log", logLevels[level], b) {
		st.fail(ctx, mod, st.abort)
	}
}

func hostCall(ctx context.Context, mod api.Module, stack []uint64) {
	st := checked(ctx, mod)
	opPtr, opLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	reqPtr, reqLen := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
	st.hostCalls++
	if st.hostCalls > st.limits.MaxHostCalls {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "host call limit of %d reached", st.limits.MaxHostCalls))
	}
	if opLen > 64 {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "host_call: operation name too long"))
	}
	if int(reqLen) > st.limits.MaxInputBytes {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "host call request is %d bytes, over the limit of %d", reqLen, st.limits.MaxInputBytes))
	}
	opb, ok1 := mod.Memory().Read(opPtr, opLen)
	reqb, ok2 := mod.Memory().Read(reqPtr, reqLen)
	if !ok1 || !ok2 {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "host_call: range out of memory bounds"))
	}
	op := string(opb)
	req := append([]byte(nil), reqb...) // guest memory may move while the host works

	tr := HostCall{Op: op, Kind: op, BytesIn: len(req)}
	if i := strings.IndexByte(op, '.'); i > 0 {
		tr.Kind = op[:i]
	}
	start := time.Now()
	var result json.RawMessage
	var err error
	if st.req.Host == nil {
		err = Errorf(CodeNotImplemented, "host call %s is not available here", op)
	} else {
		// A host call is not guest code: it waits on a server (SQL,
		// MongoDB, HTTP) or hashes within the password package's own
		// budget of one hash per core. The call gives up its slot
		// meanwhile, so a hash queued behind another tenant's does not
		// hold a core's slot empty (RATIONALE.md, "Fair CPU between
		// tenants").
		st.releaseSlot()
		hctx, cancel := context.WithDeadline(ctx, st.deadline)
		if st.limits.CPUPerMinute > 0 {
			hctx = context.WithValue(hctx, chargeKey{}, charger{st.inst.e.sched, st.req.Tenant, st.limits.CPUPerMinute})
		}
		result, err = st.req.Host.HostCall(hctx, op, req, &tr)
		cancel()
		if serr := st.reacquireSlot(); serr != nil {
			st.trace = append(st.trace, tr)
			st.fail(ctx, mod, serr)
		}
		if time.Now().After(st.deadline) {
			// Whatever the host function said, the call is out of time.
			tr.Error = "the call ran past its time limit"
			st.trace = append(st.trace, tr)
			st.fail(ctx, mod, st.timeoutError())
		}
	}
	tr.DurationMs = float64(time.Since(start).Microseconds()) / 1000
	tr.BytesOut = len(result)
	resp, encErr := hostEnvelope(result, err)
	if encErr != nil {
		resp, _ = hostEnvelope(nil, Errorf(CodeConnectorError, "host call %s returned an invalid result", op))
	}
	if err == nil {
		st.hostErr = nil // a later host call worked: the connector went on
	} else {
		tr.Error = err.Error()
		var e *Error
		if errors.As(err, &e) {
			if e.Code == CodeEgressDenied {
				tr.Denied = true
			}
			if e.hostOwnedAs() != "" {
				st.hostErr = e
			}
		}
	}
	st.trace = append(st.trace, tr)
	st.hostBytes += len(req) + len(resp)
	if st.hostBytes > st.limits.MaxHostBytes {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "host calls moved %d bytes, over the limit of %d", st.hostBytes, st.limits.MaxHostBytes))
	}
	if held := uint64(mod.Memory().Size()) + st.inst.tableBytes + uint64(len(resp)+len(st.output)+st.logBytes); held > st.inst.memLimit {
		st.fail(ctx, mod, Errorf(CodeResourceExhausted, "memory limit of %d MiB reached: linear memory, tables and host buffers hold %d bytes", st.inst.memLimit>>20, held))
	}
	st.hostResp = resp
	stack[0] = api.EncodeU32(uint32(len(resp)))
}

func hostResponseRead(ctx context.Context, mod api.Module, stack []uint64) {
	st := checked(ctx, mod)
	st.copied(ctx, mod, "host_response_read", &st.responseBytes, len(st.hostResp), copiesPerCall*st.limits.MaxHostBytes)
	if !mod.Memory().Write(api.DecodeU32(stack[0]), st.hostResp) {
		st.fail(ctx, mod, Errorf(CodeConnectorError, "host_response_read: pointer out of memory bounds"))
	}
}

type hostResult struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

func hostEnvelope(result json.RawMessage, err error) ([]byte, error) {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = &Error{Code: "host_error", Message: err.Error()}
		}
		return json.Marshal(hostResult{Error: e})
	}
	if result == nil {
		result = json.RawMessage("null")
	}
	return json.Marshal(hostResult{Result: result})
}
