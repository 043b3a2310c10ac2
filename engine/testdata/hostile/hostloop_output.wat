;; Shape: a host-call loop moving bytes: output_write of 1 MiB (within the
;; output limit) at every iteration. Each call copies 1 MiB; 16384 of them
;; pass between two loop checks, and host calls did not look at the deadline.
;; Expected: resource_exhausted, at the fifth write (a call may give
;; output_write 4 times the output limit in all).
(module
  (import "sluice" "output_write" (func $output_write (param i32 i32)))
  (memory (export "memory") 17)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (call $output_write (i32.const 0) (i32.const 1048576))
      (br $top))
    (i32.const 0)))
