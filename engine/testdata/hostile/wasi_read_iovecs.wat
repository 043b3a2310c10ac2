;; Shape: WASI fd_read with an iovec for every 8 bytes of a 1 GiB memory,
;; all empty, in a loop. wazero skips empty iovecs without calling
;; anything of the engine's, so one fd_read is a loop of 134 million
;; steps with no checkpoint inside.
;; Expected: timeout.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (drop (memory.grow (i32.const 16383)))
    (loop $top
      (drop (call $fd_read (i32.const 0) (i32.const 16)
        (i32.div_u (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 16)) (i32.const 8))
        (i32.const 0)))
      (br $top))
    (i32.const 0)))
