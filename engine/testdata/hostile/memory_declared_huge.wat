;; Shape: a memory whose declared minimum is the whole 4 GiB address space.
;; Expected: invalid_module at upload, or resource_exhausted at the call.
(module
  (memory (export "memory") 65536)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (i32.const 0)))
