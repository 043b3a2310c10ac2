;; Shape: a host-call loop of slow SQL on PostgreSQL: sql.query
;; "SELECT pg_sleep(0.05)" at every iteration (the connection is the test
;; PostgreSQL, allowlisted).
;; Expected: timeout.
(module
  (import "sluice" "host_call" (func $host_call (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "sql.query")
  (data (i32.const 64) "{\"sql\":\"SELECT pg_sleep(0.05)\",\"args\":[]}")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (drop (call $host_call (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 41)))
      (br $top))
    (i32.const 0)))
