;; image.wat: a hand-written (non-Go) connector whose state lives in a
;; data segment, a mutable global and a page _initialize writes, for the
;; tests of memory images (instances_test.go).
(module
  (import "sluice" "input_read" (func $input_read (param i32)))
  (import "sluice" "output_write" (func $output_write (param i32 i32)))
  (memory (export "memory") 2)
  ;; A JSON string, 10 bytes, in the image.
  (data (i32.const 1024) "\"pristine\"")
  ;; Far from the first (the image is mapped from 64 KiB on).
  (data (i32.const 100000) "[")
  (global $calls (mut i32) (i32.const 0))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  ;; _initialize counts into a byte beyond the image: 1 in every instance.
  (func (export "_initialize")
    (i32.store8 (i32.const 120000) (i32.add (i32.load8_u (i32.const 120000)) (i32.const 1))))
  ;; getUser answers the string in the image.
  (func (export "getUser") (param i32) (result i32)
    (call $output_write (i32.const 1024) (i32.const 10))
    (i32.const 0))
  ;; createUser writes its input (a 10-byte JSON string) over it.
  (func (export "createUser") (param $n i32) (result i32)
    (call $input_read (i32.const 1024))
    (call $output_write (i32.const 1024) (local.get $n))
    (i32.const 0))
  ;; login answers [calls, initializations]: the global counts the
  ;; instance's calls, the byte _initialize's runs.
  (func (export "login") (param i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store8 (i32.const 100001) (i32.add (i32.const 48) (global.get $calls)))
    (i32.store8 (i32.const 100002) (i32.const 44))
    (i32.store8 (i32.const 100003) (i32.add (i32.const 48) (i32.load8_u (i32.const 120000))))
    (i32.store8 (i32.const 100004) (i32.const 93))
    (call $output_write (i32.const 100000) (i32.const 5))
    (i32.const 0))
  ;; validatePassword scribbles over the image, then traps.
  (func (export "validatePassword") (param i32) (result i32)
    (i32.store8 (i32.const 1025) (i32.const 88))
    unreachable))
