;; Shape: memory.grow to the cap, 1 MiB at a time, touching every new page;
;; it traps when memory.grow fails.
;; Expected: resource_exhausted (the memory limit), or timeout on a machine
;; so starved that the deadline comes first.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $old i32)
    (loop $top
      (local.set $old (memory.grow (i32.const 16)))
      (if (i32.eq (local.get $old) (i32.const -1)) (then unreachable))
      (memory.fill (i32.shl (local.get $old) (i32.const 16)) (i32.const 1) (i32.const 1048576))
      (br $top))
    (i32.const 0)))
