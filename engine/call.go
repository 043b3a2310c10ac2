package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// callState is everything one call owns. Host functions find it in the
// context wazero hands them.
type callState struct { // reused by its instance, one call at a time
	inst     *instance
	ctx      context.Context
	req      *Request
	limits   Limits
	deadline time.Time
	ticket   *ticket // its CPU slot; nil outside the scheduler (released)
	slotLost bool    // released for a host call
	// gosched is when the call last let the Go scheduler run other
	// goroutines, or its first checkpoint (checkpoint).
	gosched time.Time

	output    []byte
	outputSet bool
	// Bytes moved so far in this call (copiesPerCall, randBytesPerCall).
	inputBytes, outputBytes, responseBytes, randBytes int

	logs     []LogEntry
	logBytes int
	partial  [2][]byte // unfinished stdout and stderr lines
	// panicText is the first stderr line of a panic ("panic: ...",
	// "fatal error: ..."), kept even when the logs are not: a call that
	// then traps or exits says what the connector said.
	panicText string

	trace     []HostCall
	traceBuf  []HostCall // reused by quiet calls: their trace is not returned
	hostResp  []byte
	hostCalls int
	hostBytes int // requests and responses of all host calls so far

	// hostErr is the last host call's failure with a host-owned code
	// (IsHostOwned): a generic failure of the connector becomes it.
	hostErr *Error

	// abort is set when the call must end: a limit was hit inside a host
	// function. It decides the call's error.
	abort *Error
}

type callKey struct{}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(callKey{}).(*callState)
	return st
}

// checkpoint runs at every fuel yield and at the start of every host
// function: the call ends there when it is past its deadline, canceled,
// over its tenant's CPU budget or already failing; otherwise it may hand
// its CPU slot to another tenant's call for a while.
func (st *callState) checkpoint() *Error {
	if st.abort != nil {
		return st.abort
	}
	now := time.Now()
	if now.After(st.deadline) {
		return st.timeoutError()
	}
	if st.ctx.Err() != nil {
		return Errorf(CodeConnectorError, "the call was canceled: %v", context.Cause(st.ctx))
	}
	if st.ticket != nil {
		if err := st.inst.e.sched.yield(st.ctx, st.ticket, st.deadline, now); err != nil {
			return err
		}
	}
	switch {
	case st.gosched.IsZero(): // the first checkpoint starts the clock
		st.gosched = now
	case now.Sub(st.gosched) >= goschedEvery:
		st.gosched = now
		r := &st.inst.runnable
		r[0].Name = runnableMetric
		metrics.Read(r[:])
		if r[0].Value.Kind() == metrics.KindUint64 && r[0].Value.Uint64() > 0 {
			runtime.Gosched()
		}
	}
	return nil
}

// goschedEvery is how long guest code runs before checkpoint lets the
// Go scheduler run the goroutines waiting for a core, if any. Go
// preempts a goroutine after 10 ms, and only where Go code runs: under
// guests that keep every core busy, the goroutines answering HTTP (a
// /healthz, a neighbour's request waking from the network) would each
// wait for several such slices. Reading whether any goroutine waits
// costs under 100 ns on two cores (the runtime takes its scheduler lock
// for one pass over the Ps); yielding when none does would have the
// runtime wake an idle core for nothing, which raised a neighbour's p99.
// See RATIONALE.md ("Fair CPU between tenants").
const goschedEvery = time.Millisecond

// runnableMetric counts the goroutines waiting for a P.
const runnableMetric = "/sched/goroutines/runnable:goroutines"

func (st *callState) timeoutError() *Error {
	return Errorf(CodeTimeout, "the call ran past its time limit of %s", st.limits.Timeout)
}

// releaseSlot gives up the CPU slot while the call waits on something
// other than its own code (the network, a sleep).
func (st *callState) releaseSlot() {
	if st.ticket != nil && !st.slotLost {
		st.inst.e.sched.release(st.ticket)
		st.slotLost = true
	}
}

// reacquireSlot takes a slot again before guest code runs on.
func (st *callState) reacquireSlot() *Error {
	if st.ticket == nil || !st.slotLost {
		return nil
	}
	st.slotLost = false
	if err := st.inst.e.sched.reacquire(st.ctx, st.ticket, st.deadline); err != nil {
		st.ticket = nil
		return err
	}
	return nil
}

// Call runs req.Function of module m. The returned Result is non-nil
// whenever the function ran, even when it failed; err is then the
// *Error that Result.Error also holds. A call that could not start
// returns a nil Result: ErrClosed, ErrEvicted (Load the module again),
// or the caller's context error.
func (e *Engine) Call(ctx context.Context, m *Module, req Request) (*Result, error) {
	limits := req.Limits.orDefaults(e.cfg.DefaultLimits)
	if limits.MemoryBytes > e.cfg.MaxMemoryBytes {
		limits.MemoryBytes = e.cfg.MaxMemoryBytes
	}
	if !IsFunction(req.Function) {
		return failed(Errorf(CodeInvalidInput, "unknown function %q", req.Function))
	}
	if !m.info.Implements(req.Function) {
		return failed(NotImplemented(req.Function))
	}
	if len(req.Input) > limits.MaxInputBytes {
		return failed(Errorf(CodeResourceExhausted, "input is %d bytes, over the limit of %d", len(req.Input), limits.MaxInputBytes))
	}

	p, err := e.pool(m, &req, limits)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(limits.Timeout)
	m.lastUsed.Store(start.UnixNano())
	inst, err := p.get(ctx, deadline)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return failed(Errorf(CodeTimeout, "the call waited for an instance past its time limit of %s", limits.Timeout))
		}
		return nil, err
	}
	if inst == nil && !e.instRate.wait(ctx, e.stop, req.Tenant, deadline) {
		p.release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		select {
		case <-e.stop:
			return nil, ErrClosed
		default:
		}
		return failed(Errorf(CodeTimeout, "the call waited for a new instance past its time limit of %s: "+
			"the tenant's calls keep losing their instances (traps, exhausted limits, timeouts) faster than %g a second", limits.Timeout, e.cfg.InstanceRate))
	}
	tk, serr := e.sched.acquire(ctx, req.Tenant, limits.CPUPerMinute, deadline)
	if serr != nil {
		if inst != nil {
			p.put(inst, true)
		} else {
			p.release()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return failed(serr)
	}
	if inst == nil {
		if inst, err = p.create(ctx, deadline); err != nil {
			e.sched.release(tk) // create charged the tenant's own failures
			var me *ModuleError
			var mem *memoryError
			var ee *Error
			switch {
			case errors.As(err, &ee):
				return failed(ee)
			case errors.As(err, &mem):
				return failed(Errorf(CodeResourceExhausted, "%s", mem.msg))
			case errors.As(err, &me):
				return failed(Errorf(CodeConnectorError, "connector failed to start: %s", me.Reason))
			}
			return nil, err
		}
	}

	st := &inst.st
	*st = callState{inst: inst, req: &req, limits: limits, deadline: deadline, ticket: tk, output: st.output[:0], traceBuf: st.traceBuf}
	if req.Quiet {
		st.trace = st.traceBuf[:0]
	}
	st.ctx = context.WithValue(ctx, callKey{}, st)
	inst.cur.Store(st)
	var res []uint64
	var callErr error
	started := true
	if !inst.initialized {
		callErr = inst.start(st)
		started = callErr == nil
	}
	if callErr == nil {
		res, callErr = inst.function(req.Function).Call(st.ctx, uint64(len(req.Input)))
	}
	inst.cur.Store(nil)
	if st.ticket != nil {
		e.sched.release(st.ticket)
	}
	st.flushPartial()

	if req.Observe != nil {
		req.Observe(st.trace)
	}
	result := &Result{Logs: st.logs, Trace: st.trace, Duration: time.Since(start)}
	if req.Quiet {
		clear(st.trace) // drop what the entries hold
		st.traceBuf, result.Trace = st.trace[:0], nil
	}
	if result.Logs == nil {
		result.Logs = []LogEntry{}
	}
	if result.Trace == nil {
		result.Trace = []HostCall{}
	}
	healthy := callErr == nil && st.abort == nil
	if healthy {
		result.MemoryBytes = uint64(inst.mod.Memory().Size())
	}

	switch {
	case st.abort != nil:
		result.Error = st.abort
	case callErr != nil && !started && !inst.memHit.Load() && !inst.nodeMemHit.Load():
		result.Error = Errorf(CodeConnectorError, "connector failed to start: %s", firstLine(callErr.Error()))
	case callErr != nil:
		result.Error = classify(callErr, inst, limits, ctx)
		if st.panicText != "" && result.Error.Code == CodeConnectorError {
			result.Error = Errorf(CodeConnectorError, "the connector panicked: %s (%s)", st.panicText, result.Error.Message)
		}
	default:
		result.Output, result.Error = st.decodeOutput(uint32(res[0]))
		// The instance reuses its buffer: the result keeps a copy.
		result.Output = append(json.RawMessage(nil), result.Output...)
	}
	if st.abort == nil && result.Error != nil && ctx.Err() == nil {
		// (A canceled call keeps its own error: the host call failed
		// because of the cancellation.)
		result.Error = hostOwned(result.Error, st.hostErr)
	}
	// Only now may another call take the instance: until here the result
	// was read from the instance's reused call state.
	if !healthy {
		// Charged before the instance's place is given back, so a call
		// waiting for it sees the loss.
		e.instRate.lost(req.Tenant)
	}
	p.put(inst, healthy)
	if result.Error != nil {
		result.Output = nil
		return result, result.Error
	}
	return result, nil
}

// firstLine is s up to its first line break, trimmed.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func failed(err *Error) (*Result, error) {
	return &Result{Error: err, Logs: []LogEntry{}, Trace: []HostCall{}}, err
}

// NotImplemented is the error for a function the module does not export,
// worded as the product's default script.
func NotImplemented(function string) *Error {
	name := function
	if name != "" {
		name = strings.ToUpper(name[:1]) + name[1:]
	}
	return &Error{Code: CodeNotImplemented, Message: "Please implement the " + name + " script for this database connection"}
}

// classify turns what wazero returned into the contract's error.
func classify(err error, inst *instance, limits Limits, parent context.Context) *Error {
	if inst.nodeMemHit.Load() {
		return inst.e.nodeMemoryError()
	}
	if inst.memHit.Load() {
		return Errorf(CodeResourceExhausted, "memory limit of %d MiB reached", limits.MemoryBytes>>20)
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return Errorf(CodeTimeout, "the call ran past its time limit of %s", limits.Timeout)
		case sys.ExitCodeContextCanceled:
			if parent.Err() != nil {
				return Errorf(CodeConnectorError, "the call was canceled: %v", parent.Err())
			}
			return Errorf(CodeTimeout, "the call ran past its time limit of %s", limits.Timeout)
		}
		return Errorf(CodeConnectorError, "the connector exited with code %d", exit.ExitCode())
	}
	if inst.flags != nil && inst.flags.Get()&wasmbin.FlagTableFull != 0 {
		return Errorf(CodeResourceExhausted, "a table grow was refused: tables are capped at their declared maximum, and at %d entries", inst.e.cfg.ModuleLimits.MaxTableEntries)
	}
	msg := err.Error()
	if strings.Contains(msg, "stack overflow") || inst.meter != nil && int32(uint32(inst.meter.Get())) > maxStackBytes {
		return Errorf(CodeResourceExhausted, "the connector exhausted its call stack")
	}
	msg = firstLine(msg)
	return Errorf(CodeConnectorError, "the connector trapped: %s", msg)
}

// hostOwned is the call's error when the connector failed with err after
// a host call failed with host (nil: none did), a host-owned code or one
// standing for it (Error.Owns). A connector that answers
// a contract code of its own (user_not_found, wrong_password,
// user_exists, invalid_input) decided what the failure means and keeps
// it; a generic failure (connector_error: another code, a trap, an exit,
// no output) takes the host call's code and message, the connector's own
// message kept in Details["connectorMessage"].
func hostOwned(err, host *Error) *Error {
	if host == nil || err.Code != CodeConnectorError {
		return err
	}
	out := &Error{Code: host.hostOwnedAs(), Message: host.Message, Details: map[string]string{}}
	for k, v := range host.Details {
		out.Details[k] = v
	}
	// The connector's message, unless it only passed the host's error on.
	if err.Message != "" && err.Message != string(host.Code)+": "+host.Message {
		out.Details["connectorMessage"] = err.Message
	}
	return out
}

// connectorCodes are the error codes a connector may return as they are.
var connectorCodes = map[Code]bool{
	CodeUserNotFound:  true,
	CodeWrongPassword: true,
	CodeUserExists:    true,
	CodeInvalidInput:  true,
}

func (st *callState) decodeOutput(status uint32) (json.RawMessage, *Error) {
	if !st.outputSet {
		return nil, Errorf(CodeConnectorError, "the connector returned without writing output")
	}
	switch status {
	case 0:
		if !json.Valid(st.output) {
			return nil, Errorf(CodeConnectorError, "the connector returned invalid JSON")
		}
		return json.RawMessage(st.output), nil
	case 1:
		var env Error
		if err := json.Unmarshal(st.output, &env); err != nil || env.Code == "" {
			return nil, Errorf(CodeConnectorError, "the connector returned a malformed error envelope")
		}
		if !connectorCodes[env.Code] {
			msg := env.Message
			if env.Code != CodeConnectorError {
				msg = string(env.Code) + ": " + msg
			}
			return nil, &Error{Code: CodeConnectorError, Message: msg, Details: env.Details}
		}
		return nil, &env
	}
	return nil, Errorf(CodeConnectorError, "the connector returned unknown status %d", status)
}

// fail ends the call from inside a host function. The panic unwinds the
// guest's stack; the instance is not closed here: the call is then
// unhealthy, and its pool closes it once the caller has its answer
// (pool.put), since unmapping a memory of a GiB takes the kernel a tenth
// of a second.
func (st *callState) fail(ctx context.Context, mod api.Module, err *Error) {
	if st.abort == nil {
		st.abort = err
	}
	panic(sys.NewExitError(exitAborted))
}

// exitAborted is the exit code of an instance the host ended.
const exitAborted = 0xdead

// maxPanicText bounds the panic text a call's error carries.
const maxPanicText = 512

// logLineCost is what a log line costs against MaxLogBytes beside its
// text: what the host keeps for it. Empty lines are not free, and a
// call's log holds at most MaxLogBytes/32 lines.
const logLineCost = 32

// log appends one log line, ending the call when the log limit is hit.
func (st *callState) log(stream, level string, msg []byte) bool {
	if st.panicText == "" && stream == "stderr" && (bytes.HasPrefix(msg, []byte("panic: ")) || bytes.HasPrefix(msg, []byte("fatal error: "))) {
		st.panicText = strings.ToValidUTF8(string(msg[:min(len(msg), maxPanicText)]), "")
		if len(msg) > maxPanicText {
			st.panicText += "…" // marks the cut (the call log drops a secret's start before it)
		}
	}
	st.logBytes += len(msg) + logLineCost
	if st.logBytes > st.limits.MaxLogBytes {
		if st.abort == nil {
			st.abort = Errorf(CodeResourceExhausted, "log limit of %d bytes reached", st.limits.MaxLogBytes)
		}
		return false
	}
	if !st.req.Quiet {
		st.logs = append(st.logs, LogEntry{Stream: stream, Level: level, Message: string(msg)})
	}
	return true
}

func (st *callState) flushPartial() {
	for i, p := range st.partial {
		if len(p) > 0 {
			st.log(streamNames[i], streamLevels[i], p)
			st.partial[i] = nil
		}
	}
}

const (
	streamStdout = 0
	streamStderr = 1
)

var (
	streamNames  = [2]string{"stdout", "stderr"}
	streamLevels = [2]string{"info", "error"}
)

// logWriter turns a guest's stdout or stderr into log lines of the
// current call.
type logWriter struct {
	inst   *instance
	stream int
}

// Write serves fd_write, which wazero calls once an iovec inside one
// host call, so a single fd_write may make millions of writes: each is a
// checkpoint (the deadline, cancellation, the CPU slot) and costs only
// its own bytes (a pending line is
// appended to, never copied again). Copying the pending line at every
// write made one fd_write of empty iovecs after a 65000-byte unfinished
// line run for minutes (wasi_iovecs).
func (w *logWriter) Write(p []byte) (int, error) {
	st := w.inst.cur.Load()
	if st == nil {
		return len(p), nil
	}
	if st.abort != nil {
		return 0, errLogLimit
	}
	if err := st.checkpoint(); err != nil {
		st.abort = err
		return 0, errLogLimit
	}
	n := len(p)
	pend := &st.partial[w.stream]
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		// A line over the log limit is refused whole: a MaxLogBytes+1
		// prefix of it says as much without copying an iovec of the
		// guest's whole memory.
		line := p[:min(i, st.limits.MaxLogBytes+1)]
		if len(*pend) > 0 {
			line = append(*pend, line...)
			*pend = line[:0]
		}
		if !st.log(streamNames[w.stream], streamLevels[w.stream], line) {
			// The call ends at its next yield or host call.
			*pend = nil
			return 0, errLogLimit
		}
		p = p[i+1:]
	}
	if len(*pend)+len(p) > st.limits.MaxLogBytes {
		st.log(streamNames[w.stream], streamLevels[w.stream], append(*pend, p[:min(len(p), st.limits.MaxLogBytes+1)]...))
		*pend = nil
		return 0, errLogLimit
	}
	*pend = append(*pend, p...)
	return n, nil
}

var errLogLimit = fmt.Errorf("log limit reached")
