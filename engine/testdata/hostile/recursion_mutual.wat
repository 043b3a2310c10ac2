;; Shape: mutual recursion with exponential fan-out and no loops: $even(n)
;; calls $odd(n-1) twice and $odd(n) calls $even(n-1) twice, from n = 60:
;; 2^60 calls, never deeper than 60 frames.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (call $even (i32.const 60))
    (i32.const 0))
  (func $even (param $n i32)
    (if (i32.eqz (local.get $n))
      (then (global.set $sink (i32.add (global.get $sink) (i32.const 1))) (return)))
    (call $odd (i32.sub (local.get $n) (i32.const 1)))
    (call $odd (i32.sub (local.get $n) (i32.const 1))))
  (func $odd (param $n i32)
    (if (i32.eqz (local.get $n))
      (then (global.set $sink (i32.add (global.get $sink) (i32.const 3))) (return)))
    (call $even (i32.sub (local.get $n) (i32.const 1)))
    (call $even (i32.sub (local.get $n) (i32.const 1)))))
