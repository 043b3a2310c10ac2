;; Shape: a loop with a costly body: memory.fill over the whole 16 MiB memory
;; at every iteration (milliseconds each), so 16384 iterations between two
;; checks take a minute.
;; Expected: timeout.
(module
  (memory (export "memory") 256)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $i i32)
    (loop $top
      (memory.fill (i32.const 0) (local.get $i) (i32.const 16777216))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $top))
    (i32.const 0)))
