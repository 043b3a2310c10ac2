;; Shape: the plain endless loop (the case loop-header checks were made for).
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $l (br $l))
    (i32.const 0)))
