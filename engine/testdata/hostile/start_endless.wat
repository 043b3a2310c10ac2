;; Shape: a wasm start function that loops forever. It runs inside
;; instantiation, before any export can be called.
;; Expected: invalid_module at upload, or timeout within the call's deadline.
(module
  (memory (export "memory") 1)
  (func $start (loop $l (br $l)))
  (start $start)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (i32.const 0)))
