;; Shape: a loop with a costly body: memory.copy of half the 16 MiB memory
;; onto the other half, then back, at every iteration.
;; Expected: timeout.
(module
  (memory (export "memory") 256)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (memory.copy (i32.const 0) (i32.const 8388608) (i32.const 8388608))
      (memory.copy (i32.const 8388608) (i32.const 0) (i32.const 8388608))
      (br $top))
    (i32.const 0)))
