;; Shape: a log flood of empty lines: log(info, ptr, 0) in a loop. Empty lines
;; never reach the log byte limit, yet each is kept as a log entry.
;; Expected: timeout, or resource_exhausted if lines are counted.
(module
  (import "sluice" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (call $log (i32.const 1) (i32.const 0) (i32.const 0))
      (br $top))
    (i32.const 0)))
