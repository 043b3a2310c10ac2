package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// callState is everything one call owns. Host functions find it in the
// context wazero hands them.
type callState struct { // reused by its instance, one call at a time
	inst     *instance
	ctx      context.Context
	req      *Request
	limits   Limits
	deadline time.Time

	output    []byte
	outputSet bool

	logs     []LogEntry
	logBytes int
	partial  [2][]byte // unfinished stdout and stderr lines

	trace     []HostCall
	hostResp  []byte
	hostCalls int
	hostBytes int // requests and responses of all host calls so far

	// abort is set when the call must end: a limit was hit inside a host
	// function. It decides the call's error.
	abort *Error
}

type callKey struct{}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(callKey{}).(*callState)
	return st
}

// run calls fn and stops it at the call's deadline or when ctx ends.
// interrupted reports that it was stopped (the instance must not be reused:
// its interrupt flag may be set); deadlineHit that the deadline did it.
func (inst *instance) run(ctx context.Context, st *callState, fn api.Function, param uint64) (res []uint64, interrupted, deadlineHit bool, err error) {
	if inst.interrupt == nil {
		// wazero's own checks stop the code when this context ends.
		cctx, cancel := context.WithDeadline(st.ctx, st.deadline)
		res, err = fn.Call(cctx, param)
		deadlineHit = errors.Is(cctx.Err(), context.DeadlineExceeded)
		interrupted = cctx.Err() != nil
		cancel()
		return res, interrupted, deadlineHit, err
	}
	// A timer and, when the caller can cancel, a context callback set the
	// interrupt flag: no goroutine, no context per call.
	if inst.timer == nil {
		inst.timer = time.AfterFunc(time.Hour, inst.interruptNow)
	}
	inst.timer.Reset(time.Until(st.deadline))
	timer := inst.timer
	var stopOnCancel func() bool
	if ctx.Done() != nil {
		stopOnCancel = context.AfterFunc(ctx, inst.interruptNow)
	}
	res, err = fn.Call(st.ctx, param)
	deadlineHit = !timer.Stop()
	canceled := stopOnCancel != nil && !stopOnCancel()
	return res, deadlineHit || canceled, deadlineHit, err
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
	m.lastUsed.Store(start.UnixNano())
	inst, err := p.get(ctx)
	if err != nil {
		var me *ModuleError
		if errors.As(err, &me) {
			return failed(Errorf(CodeConnectorError, "connector failed to start: %s", me.Reason))
		}
		return nil, err
	}

	st := &inst.st
	*st = callState{inst: inst, req: &req, limits: limits, deadline: start.Add(limits.Timeout), output: st.output[:0]}
	st.ctx = context.WithValue(ctx, callKey{}, st)
	inst.cur.Store(st)
	res, interrupted, deadlineHit, callErr := inst.run(ctx, st, inst.fns[req.Function], uint64(len(req.Input)))
	inst.cur.Store(nil)
	st.flushPartial()

	result := &Result{Logs: st.logs, Trace: st.trace, Duration: time.Since(start)}
	if result.Logs == nil {
		result.Logs = []LogEntry{}
	}
	if result.Trace == nil {
		result.Trace = []HostCall{}
	}
	healthy := callErr == nil && st.abort == nil && !interrupted
	if healthy {
		result.MemoryBytes = uint64(inst.mod.Memory().Size())
	}

	switch {
	case st.abort != nil:
		result.Error = st.abort
	case callErr != nil && interrupted && !inst.memHit.Load():
		if deadlineHit && ctx.Err() == nil {
			result.Error = Errorf(CodeTimeout, "the call ran past its time limit of %s", limits.Timeout)
		} else {
			result.Error = Errorf(CodeConnectorError, "the call was canceled: %v", context.Cause(ctx))
		}
	case callErr != nil:
		result.Error = classify(callErr, inst, limits, ctx)
	default:
		result.Output, result.Error = st.decodeOutput(uint32(res[0]))
		// The instance reuses its buffer: the result keeps a copy.
		result.Output = append(json.RawMessage(nil), result.Output...)
	}
	// Only now may another call take the instance: until here the result
	// was read from the instance's reused call state.
	p.put(inst, healthy)
	if result.Error != nil {
		result.Output = nil
		return result, result.Error
	}
	return result, nil
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
	msg := err.Error()
	if strings.Contains(msg, "stack overflow") {
		return Errorf(CodeResourceExhausted, "the connector exhausted its call stack")
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return Errorf(CodeConnectorError, "the connector trapped: %s", msg)
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

// stop ends the instance's running code soon, from outside wasm.
func (inst *instance) stop(ctx context.Context) {
	inst.interruptNow()
	_ = inst.mod.CloseWithExitCode(ctx, exitAborted)
}

// fail ends the call from inside a host function.
func (st *callState) fail(ctx context.Context, mod api.Module, err *Error) {
	if st.abort == nil {
		st.abort = err
	}
	_ = mod.CloseWithExitCode(ctx, exitAborted)
	panic(sys.NewExitError(exitAborted))
}

// exitAborted is the exit code of an instance the host ended.
const exitAborted = 0xdead

// log appends one log line, ending the call when the log limit is hit.
func (st *callState) log(stream, level string, msg []byte) bool {
	st.logBytes += len(msg)
	if st.logBytes > st.limits.MaxLogBytes {
		if st.abort == nil {
			st.abort = Errorf(CodeResourceExhausted, "log limit of %d bytes reached", st.limits.MaxLogBytes)
		}
		return false
	}
	st.logs = append(st.logs, LogEntry{Stream: stream, Level: level, Message: string(msg)})
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
// current call. Output outside a call (in _initialize) is dropped.
type logWriter struct {
	inst   *instance
	stream int
}

func (w *logWriter) Write(p []byte) (int, error) {
	st := w.inst.cur.Load()
	if st == nil {
		return len(p), nil
	}
	if st.abort != nil {
		return 0, errLogLimit
	}
	buf := append(st.partial[w.stream], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		if !st.log(streamNames[w.stream], streamLevels[w.stream], buf[:i]) {
			st.partial[w.stream] = nil
			w.inst.stop(st.ctx)
			return 0, errLogLimit
		}
		buf = buf[i+1:]
	}
	if len(buf) > st.limits.MaxLogBytes {
		st.log(streamNames[w.stream], streamLevels[w.stream], buf)
		w.inst.stop(st.ctx)
		return 0, errLogLimit
	}
	st.partial[w.stream] = append([]byte(nil), buf...)
	return len(p), nil
}

var errLogLimit = fmt.Errorf("log limit reached")
