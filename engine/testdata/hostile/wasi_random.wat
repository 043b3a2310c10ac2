;; Shape: a WASI call loop moving bytes: random_get of the whole 16 MiB
;; memory at every iteration (tens of milliseconds each on the host, and
;; no checkpoint inside one). Expected: resource_exhausted, once the call
;; has taken the engine's random bytes a call (1 MiB).
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (memory (export "memory") 256)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32)
    (loop $top
      (drop (call $random_get (i32.const 0) (i32.const 16777216)))
      (br $top))
    (i32.const 0)))
