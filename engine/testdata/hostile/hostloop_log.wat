;; Shape: a log flood of 100-byte lines.
;; Expected: resource_exhausted (the log limit).
(module
  (import "sluice" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (call $log (i32.const 1) (i32.const 0) (i32.const 100))
      (br $top))
    (i32.const 0)))
