;; Shape: loop-free call tree, fan-out 64, depth 7 (the issue's 1.1 KB module).
;; login calls $f1; each $fN calls $fN+1 64 times; $f7 calls $leaf 64 times:
;; 64^7 = 4.4e12 leaf calls and not a single loop, so checks placed only at
;; loop headers never run and the call never returns to Go.
;; Expected: timeout, within the deadline plus the bound.
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
    (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5)
    (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5)
    (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5)
    (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5) (call $f5)
  )
  (func $f5
    (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6)
    (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6)
    (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6)
    (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6) (call $f6)
  )
  (func $f6
    (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7)
    (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7)
    (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7)
    (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7) (call $f7)
  )
  (func $f7
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
    (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf) (call $leaf)
  )
  (func $leaf
    (global.set $sink (i32.add (global.get $sink) (i32.const 1)))))
