;; Shape: WASI path_open with the whole memory as the path, in a loop.
;; wazero copies the path into a Go string (and cleans it, copying again)
;; before it looks at the directory descriptor: gigabytes of host heap a
;; second, outside every memory budget.
;; Expected: timeout.
(module
  (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1000)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (memory.fill (i32.const 0) (i32.const 97) (i32.shl (memory.size) (i32.const 16)))
    (loop $top
      (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 0)
        (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 8))
        (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
      (br $top))
    (i32.const 0)))
