;; Shape: one WASI fd_write with millions of iovecs, after a first write
;; that leaves a 65000-byte line unfinished. wazero calls the log writer
;; once an iovec, inside one host call: a writer that copies the pending
;; line at every write, even an empty one, runs for minutes on one
;; fd_write, and nothing in it looks at the deadline.
;; Expected: timeout, or resource_exhausted.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1000)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    ;; iovec {buf 64, len 65000} at 0; the line's bytes at 64
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 65000))
    (memory.fill (i32.const 64) (i32.const 97) (i32.const 65000))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    ;; from 131072 on the memory is zero: empty iovecs {0, 0}, to its end
    (drop (call $fd_write (i32.const 1) (i32.const 131072)
      (i32.div_u (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 131072)) (i32.const 8))
      (i32.const 8)))
    (i32.const 0)))
