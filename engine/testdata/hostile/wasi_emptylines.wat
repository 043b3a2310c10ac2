;; Shape: a log flood through WASI: fd_write of "\n" to stdout in a loop.
;; Every write is an empty log line, which the log byte limit never counts.
;; Expected: timeout, or resource_exhausted if lines are counted.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\01\00\00\00") ;; iovec {buf 16, len 1}
  (data (i32.const 16) "\n")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
      (br $top))
    (i32.const 0)))
