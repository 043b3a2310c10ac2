;; Shape: an _initialize that runs the loop-free 64x7 call tree.
;; Expected: invalid_module at upload, or timeout within the call's deadline.
(module
  (memory (export "memory") 1)
  (global $sink (mut i32) (i32.const 0))
  (func (export "_initialize") (call $f1))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (i32.const 0))
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
    (global.set $sink (i32.add (global.get $sink) (i32.const 1))))
)
