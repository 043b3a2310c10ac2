;; Shape: an _initialize that ends, but only after seconds of work (a loop
;; of 2e9 iterations). login itself returns at once.
;; Expected: invalid_module at upload, or timeout within the call's deadline.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "_initialize") (local $i i32)
    (loop $top
      (global.set $sink (i32.add (global.get $sink) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 2000000000)))))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (i32.const 0)))
