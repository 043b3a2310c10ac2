package engine

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// WASI errno values (preview 1).
const (
	wasiBadf  = 8
	wasiFault = 21
	wasiInval = 28
	wasiSpipe = 70
)

// wasiPathFunctions take a path from guest memory. A connector has no
// filesystem (no preopened directory), so every one of them fails with
// EBADF; wazero's own copy the path into Go strings, as long as the guest
// says, before looking at the descriptor: a path of the whole memory, in
// a loop, was gigabytes of host heap a second (wasi_path_huge).
var wasiPathFunctions = []string{
	"path_create_directory", "path_filestat_get", "path_filestat_set_times",
	"path_link", "path_open", "path_readlink", "path_remove_directory",
	"path_rename", "path_symlink", "path_unlink_file",
}

// instantiateWASI provides WASI preview 1: wazero's functions, except
// those that would work through a guest-given count or size with no
// checkpoint, which the engine serves itself:
//   - the path functions (wasiPathFunctions) fail at once;
//   - poll_oneoff takes at most maxSubscriptions;
//   - fd_read reads nothing from stdin (its end) and refuses every other
//     descriptor, fd_pread and fd_pwrite refuse every descriptor: wazero
//     steps through every iovec, empty ones too, without calling anything
//     of the engine's, so one fd_read of an iovec for every 8 bytes of a
//     GiB of memory ran for seconds (wasi_read_iovecs).
//
// fd_write stays wazero's: it calls the log writer at every iovec, which
// checks the call (logWriter.Write).
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	sigs, err := wasiSignatures(ctx)
	if err != nil {
		return err
	}
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	override := func(name string, fn api.GoModuleFunc) error {
		sig, ok := sigs[name]
		if !ok {
			return fmt.Errorf("wazero has no WASI function %s", name)
		}
		b.NewFunctionBuilder().WithGoModuleFunction(fn, sig.params, sig.results).Export(name)
		return nil
	}
	for _, name := range wasiPathFunctions {
		if err := override(name, func(ctx context.Context, mod api.Module, stack []uint64) {
			checked(ctx, mod)
			stack[0] = wasiBadf
		}); err != nil {
			return err
		}
	}
	// fd_read(fd, iovs, iovs_len, result_nread)
	err = override("fd_read", func(ctx context.Context, mod api.Module, stack []uint64) {
		checked(ctx, mod)
		if api.DecodeU32(stack[0]) != 0 {
			stack[0] = wasiBadf
			return
		}
		if !mod.Memory().WriteUint32Le(api.DecodeU32(stack[3]), 0) {
			stack[0] = wasiFault
			return
		}
		stack[0] = 0
	})
	if err != nil {
		return err
	}
	// fd_pread and fd_pwrite(fd, iovs, iovs_len, offset, result): stdio
	// cannot seek, and there is nothing else.
	for _, name := range []string{"fd_pread", "fd_pwrite"} {
		if err := override(name, func(ctx context.Context, mod api.Module, stack []uint64) {
			checked(ctx, mod)
			if api.DecodeU32(stack[0]) <= 2 {
				stack[0] = wasiSpipe
			} else {
				stack[0] = wasiBadf
			}
		}); err != nil {
			return err
		}
	}
	// poll_oneoff(in, out, nsubscriptions, result_nevents): wazero's,
	// after a checkpoint, for at most maxSubscriptions (it makes an event
	// in the Go heap for each, and a connector waits on a timer or two).
	poll := sigs["poll_oneoff"].fn
	if poll == nil {
		return fmt.Errorf("wazero's poll_oneoff is not a Go function")
	}
	err = override("poll_oneoff", func(ctx context.Context, mod api.Module, stack []uint64) {
		checked(ctx, mod)
		if api.DecodeU32(stack[2]) > maxSubscriptions {
			stack[0] = wasiInval
			return
		}
		poll.Call(ctx, mod, stack)
	})
	if err != nil {
		return err
	}
	_, err = b.Instantiate(ctx)
	return err
}

// maxSubscriptions bounds one poll_oneoff.
const maxSubscriptions = 1024

type wasiSignature struct {
	params, results []api.ValueType
	fn              api.GoModuleFunction // wazero's implementation
}

// wasiSignatures returns the types of wazero's WASI functions, read from
// an instance of them in a runtime of its own.
func wasiSignatures(ctx context.Context) (map[string]wasiSignature, error) {
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		return nil, err
	}
	m := r.Module(wasi_snapshot_preview1.ModuleName)
	sigs := map[string]wasiSignature{}
	for name, def := range m.ExportedFunctionDefinitions() {
		fn, _ := def.GoFunction().(api.GoModuleFunction)
		sigs[name] = wasiSignature{params: append([]api.ValueType(nil), def.ParamTypes()...), results: append([]api.ValueType(nil), def.ResultTypes()...), fn: fn}
	}
	return sigs, nil
}
