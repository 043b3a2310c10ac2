;; Byte bounds of a call (TestBytesPerCall). getUser gives output_write
;; its whole first MiB $n times, then the answer "null"; searchUser asks
;; WASI random_get for 256 KiB $n times, then answers "null"; createUser
;; reads its input $n more times, then answers "null". $n is the input's
;; first byte less '0' (the input is a digit, perhaps padded).
(module
  (import "sluice" "input_read" (func $input_read (param i32)))
  (import "sluice" "output_write" (func $output_write (param i32 i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 64)
  (data (i32.const 2097152) "null")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func $n (result i32)
    (call $input_read (i32.const 2097160))
    (i32.sub (i32.load8_u (i32.const 2097160)) (i32.const 48)))
  (func (export "getUser") (param i32) (result i32)
    (local $i i32)
    (local.set $i (call $n))
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $i)))
        (call $output_write (i32.const 0) (i32.const 1048576))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $top)))
    (call $output_write (i32.const 2097152) (i32.const 4))
    (i32.const 0))
  (func (export "searchUser") (param i32) (result i32)
    (local $i i32)
    (local.set $i (call $n))
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $i)))
        (if (call $random_get (i32.const 0) (i32.const 262144))
          (then (br $done)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $top)))
    (call $output_write (i32.const 2097152) (i32.const 4))
    (i32.const 0))
  (func (export "createUser") (param i32) (result i32)
    (local $i i32)
    (local.set $i (call $n))
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $i)))
        (call $input_read (i32.const 2097160))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $top)))
    (call $output_write (i32.const 2097152) (i32.const 4))
    (i32.const 0)))
