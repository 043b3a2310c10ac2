;; Shape: one table.grow by 0xFFFFFFF0 entries with a non-null value: 32 GiB
;; of host memory written at once (table.grow itself has no upper bound
;; besides 2^32).
;; Expected: resource_exhausted. (Tests run it under an address-space
;; limit so that today it kills the test process, not the machine.)
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (elem declare func $leaf)
  (func $leaf)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (if (i32.eq (table.grow $t (ref.func $leaf) (i32.const 0xFFFFFFF0)) (i32.const -1))
      (then unreachable))
    (i32.const 0)))
