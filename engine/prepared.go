package engine

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
)

// prepared is a module as the engine runs it: instrumented, and found to
// speak ABI version abiVersion. It is kept in the cache directory
// beside wazero's compiled code, so a restart neither instruments nor
// probes a module again: with wazero's cache, loading a module after a
// restart costs little more than reading it (BenchmarkLoad).
type prepared struct {
	code         []byte
	abiVersion   int
	tableEntries uint64
	hasStart     bool
}

// preparedMagic starts a prepared file; a new layout (or a new
// instrumentation) needs a new magic.
const preparedMagic = "SLUICEP11"

// preparedHeader is the bytes after the magic: start flag, ABI version,
// table entries.
const preparedHeader = 1 + 4 + 8

func (e *Engine) preparedPath(sha string) string {
	return filepath.Join(e.cfg.CacheDir, "sluice-"+sha+".prepared")
}

// readPrepared returns the prepared module of a sha256, if the cache has a
// well-formed one.
func (e *Engine) readPrepared(sha string) (prepared, bool) {
	if e.cfg.CacheDir == "" {
		return prepared{}, false
	}
	b, err := os.ReadFile(e.preparedPath(sha))
	if err != nil || len(b) < len(preparedMagic)+preparedHeader || !bytes.HasPrefix(b, []byte(preparedMagic)) {
		return prepared{}, false
	}
	b = b[len(preparedMagic):]
	p := prepared{hasStart: b[0] == 1, abiVersion: int(int32(binary.LittleEndian.Uint32(b[1:5]))),
		tableEntries: binary.LittleEndian.Uint64(b[5:13]), code: b[preparedHeader:]}
	if p.abiVersion != ABIVersion {
		return prepared{}, false
	}
	return p, true
}

// writePrepared stores p atomically; failing to is harmless.
func (e *Engine) writePrepared(sha string, p prepared) {
	if e.cfg.CacheDir == "" {
		return
	}
	b := make([]byte, 0, len(preparedMagic)+preparedHeader+len(p.code))
	b = append(b, preparedMagic...)
	flag := byte(0)
	if p.hasStart {
		flag = 1
	}
	b = append(b, flag)
	b = binary.LittleEndian.AppendUint32(b, uint32(p.abiVersion))
	b = binary.LittleEndian.AppendUint64(b, p.tableEntries)
	b = append(b, p.code...)
	if err := os.MkdirAll(e.cfg.CacheDir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(e.cfg.CacheDir, ".prepared-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), e.preparedPath(sha)) != nil {
		os.Remove(tmp.Name())
	}
}
