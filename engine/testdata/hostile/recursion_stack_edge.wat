;; Shape: deep recursion that stays just under the stack: $deep(d) recurses
;; to depth 20000 and, at every level below the top 40, calls itself twice:
;; near the stack limit most of the time, 2^40 calls in all, no loops.
;; Expected: timeout (or resource_exhausted if the engine's stack is smaller
;; than 20000 frames).
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (call $deep (i32.const 20000))
    (i32.const 0))
  (func $deep (param $d i32)
    (if (i32.eqz (local.get $d))
      (then (global.set $sink (i32.add (global.get $sink) (i32.const 1))) (return)))
    (call $deep (i32.sub (local.get $d) (i32.const 1)))
    (if (i32.lt_u (local.get $d) (i32.const 40))
      (then (call $deep (i32.sub (local.get $d) (i32.const 1)))))))
