;; Shape: a costly body on a large memory quota (1 GiB): memory.copy of
;; half the memory onto the other half, then back, at every iteration,
;; one instruction each, of a hundred milliseconds or more.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $half i32)
    (drop (memory.grow (i32.const 16383)))
    (local.set $half (i32.shl (memory.size) (i32.const 15)))
    (loop $top
      (memory.copy (i32.const 0) (local.get $half) (local.get $half))
      (memory.copy (local.get $half) (i32.const 0) (local.get $half))
      (br $top))
    (i32.const 0)))
