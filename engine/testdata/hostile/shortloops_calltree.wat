;; Shape: short loops at the leaves of a loop-free call tree: fan-out 64,
;; depth 4, and every leaf call runs a loop of 16000 iterations (just under
;; the 16384 after which an instrumented loop checks): 64^4 * 16000 = 2.7e11
;; iterations.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (call $f1)
    (i32.const 0))
  (func $f1
    (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2)
    (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2)
    (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2)
    (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2) (call $f2)
  )
  (func $f2
    (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3)
    (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3)
    (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3)
    (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3) (call $f3)
  )
  (func $f3
    (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4)
    (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4)
    (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4)
    (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4) (call $f4)
  )
  (func $f4
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
  )
  (func $leaf (local $i i32)
    (loop $top
      (global.set $sink (i32.add (global.get $sink) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (i32.const 16000))))))
