;; Shape: a flood of cheap host calls (an operation the host does not know).
;; Expected: resource_exhausted (the host-call limit).
(module
  (import "sluice" "host_call" (func $host_call (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "nope.nothing")
  (data (i32.const 64) "{}")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (drop (call $host_call (i32.const 0) (i32.const 12) (i32.const 64) (i32.const 2)))
      (br $top))
    (i32.const 0)))
