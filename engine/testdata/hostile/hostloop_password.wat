;; Shape: a host-call loop on a costly host operation: password.hash with
;; argon2id (64 MiB, 3 passes on the host) at every iteration. Each call runs
;; to its end whatever the call's deadline; the issue saw 59 s under a 2 s
;; limit.
;; Expected: timeout.
(module
  (import "sluice" "host_call" (func $host_call (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "password.hash")
  (data (i32.const 64) "{\"algorithm\":\"argon2id\",\"password\":\"hunter2\"}")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (drop (call $host_call (i32.const 0) (i32.const 13) (i32.const 64) (i32.const 45)))
      (br $top))
    (i32.const 0)))
