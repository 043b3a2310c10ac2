;; Shape: recursion without end, each frame holding a few locals: it runs
;; into the call stack limit.
;; Expected: resource_exhausted (the connector exhausted its call stack), or
;; timeout when the deadline comes first.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (drop (call $down (i64.const 0) (i64.const 1) (i64.const 2) (i64.const 3)))
    (i32.const 0))
  (func $down (param $a i64) (param $b i64) (param $c i64) (param $d i64) (result i64)
    (local $x i64) (local $y i64)
    (local.set $x (i64.add (local.get $a) (local.get $b)))
    (local.set $y (i64.mul (local.get $c) (local.get $d)))
    (i64.add
      (call $down (local.get $x) (local.get $y) (local.get $a) (local.get $b))
      (local.get $x))))
