;; Shape: table.grow by 2^27 - 1 entries, then table.fill of the whole table:
;; 1 GiB of host memory outside the memory cap. Traps if the grow fails.
;; Expected: resource_exhausted.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (elem declare func $leaf)
  (func $leaf)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (if (i32.eq (table.grow $t (ref.func $leaf) (i32.const 134217727)) (i32.const -1))
      (then unreachable))
    (table.fill $t (i32.const 0) (ref.func $leaf) (i32.const 134217728))
    (i32.const 0)))
