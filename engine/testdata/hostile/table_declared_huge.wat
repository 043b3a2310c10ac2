;; Shape: a table declared with 2^27 (134 million) entries, filled by login:
;; 1 GiB of host memory that the memory cap does not count.
;; Expected: invalid_module at upload, or resource_exhausted at the call.
(module
  (memory (export "memory") 1)
  (table $t 134217728 funcref)
  (elem declare func $leaf)
  (func $leaf)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (table.fill $t (i32.const 0) (ref.func $leaf) (i32.const 134217728))
    (i32.const 0)))
