;; Shape: short loops inside called functions. Each function runs a loop of
;; 10000 iterations (under the 16384 iterations after which an instrumented
;; loop looks at the interrupt flag) calling the next function; four levels:
;; 10^16 leaf iterations. Each loop's counter starts again at every call, so
;; no check ever fires.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (call $l1)
    (i32.const 0))
  (func $l1 (local $i i32)
    (loop $top
      (call $l2)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 10000)))))
  (func $l2 (local $i i32)
    (loop $top
      (call $l3)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 10000)))))
  (func $l3 (local $i i32)
    (loop $top
      (call $l4)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 10000)))))
  (func $l4 (local $i i32)
    (loop $top
      (global.set $sink (i32.xor (global.get $sink) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 10000))))))
